// silu(gate) ⊙ up and its backward in WGSL, one invocation per element (gate and up share a shape).
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { SiluMul, SiluMulGrad } from '../../kernel_names';
import { elementwiseProgram, run } from './program';
import type { WebGPURunner } from './program';

/** y = gate·σ(gate)·up. */
export const siluMulWebGPU: KernelConfig = {
  kernelName: SiluMul,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const { gate, up } = inputs as Record<'gate' | 'up', TensorInfo>;
    const program = elementwiseProgram('r1SiluMul', ['gate', 'up'], gate.shape, '', `
      let g = gate[index];
      setOutputAtIndex(index, g / (1.0 + exp(-g)) * up[index]);`);
    return run(backend as unknown as WebGPURunner, program, [gate, up]);
  },
};

/** dGate = dy·up·σ(g)·(1 + g·(1 − σ(g))), dUp = dy·g·σ(g). */
export const siluMulGradWebGPU: KernelConfig = {
  kernelName: SiluMulGrad,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const { gate, up, dy } = inputs as Record<'gate' | 'up' | 'dy', TensorInfo>;
    const gpu = backend as unknown as WebGPURunner;
    const dGate = run(gpu, elementwiseProgram('r1SiluMulGradGate', ['gate', 'up', 'dy'], gate.shape, '', `
      let g = gate[index];
      let s = 1.0 / (1.0 + exp(-g));
      setOutputAtIndex(index, dy[index] * up[index] * s * (1.0 + g * (1.0 - s)));`), [gate, up, dy]);
    const dUp = run(gpu, elementwiseProgram('r1SiluMulGradUp', ['gate', 'dy'], up.shape, '', `
      let g = gate[index];
      setOutputAtIndex(index, dy[index] * g / (1.0 + exp(-g)));`), [gate, dy]);
    return [dGate, dUp];
  },
};
