// silu(gate) ⊙ up, the elementwise core of SwiGLU (golden/README §4.1), and its fused backward.
import { SiluMul, SiluMulGrad } from '../kernel_names';
import { f32 } from './kernel_spec';
import type { KernelSpec } from './kernel_spec';
import { nativeKernels } from '../backend/native_addon';

/** gate, up (same shape) → silu(gate) ⊙ up. */
export const siluMulSpec: KernelSpec = {
  kernelName: SiluMul,
  outputs: ({ gate }) => [{ shape: gate.shape, dtype: 'float32' }],
  compute({ gate, up }, [y]) {
    const native = nativeKernels();
    if (native) return native.siluMul(f32(gate), f32(up), f32(y));
    const G = gate.values;
    const U = up.values;
    for (let i = 0; i < G.length; i++) y[i] = (G[i] / (1 + Math.exp(-G[i]))) * U[i];
  },
};

/** dGate = dy·up·σ(g)·(1 + g·(1 − σ(g))), dUp = dy·g·σ(g). */
export const siluMulGradSpec: KernelSpec = {
  kernelName: SiluMulGrad,
  outputs: ({ gate, up }) => [{ shape: gate.shape, dtype: 'float32' }, { shape: up.shape, dtype: 'float32' }],
  compute({ gate, up, dy }, [dGate, dUp]) {
    const native = nativeKernels();
    if (native) return native.siluMulGrad(f32(gate), f32(up), f32(dy), f32(dGate), f32(dUp));
    const G = gate.values;
    const U = up.values;
    const DY = dy.values;
    for (let i = 0; i < G.length; i++) {
      const g = G[i];
      const sg = 1 / (1 + Math.exp(-g));
      dGate[i] = DY[i] * U[i] * sg * (1 + g * (1 - sg));
      dUp[i] = DY[i] * g * sg;
    }
  },
};
