// Multi-tensor optimizer kernels: one dispatch updates every parameter (AdamW), one sums the squares of
// every gradient (global norm), one scales them all (clipping). A training step otherwise spends about
// 13 small tfjs kernels per parameter on these (≈ 2,600 dispatches for the `small` preset).
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { f32 } from './kernel_spec';
import type { KernelArray, KernelSpec, OutputSpec } from './kernel_spec';
import { nativeKernels } from '../backend/native_addon';

/** Kernel name: inputs p{i}, g{i}, m{i}, v{i} for i < n → outputs [p'0, m'0, v'0, p'1, …]. */
export const AdamWUpdate = 'R1AdamWUpdate';
/** Kernel name: inputs t{i} for i < n → the scalar Σ_i Σ t_i² (accumulated in float64). */
export const SumOfSquares = 'R1SumOfSquares';
/** Kernel name: inputs t{i} for i < n → outputs t_i · scale. */
export const ScaleAll = 'R1ScaleAll';

/** Attributes of {@link AdamWUpdate} (one step t; c1 = 1 − β1^t, c2 = 1 − β2^t). */
export interface AdamWAttrs {
  n: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  c1: number;
  c2: number;
  /** Decoupled weight decay per parameter (0 = none). */
  decays: number[];
}

const countOf = (attrs: NamedAttrMap) => (attrs as unknown as { n: number }).n;

/**
 * AdamW (Loshchilov & Hutter, Alg. 2): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * p ← p·(1 − lr·λ) − lr·(m/c1)/(sqrt(v/c2) + ε).
 */
export const adamWUpdateSpec: KernelSpec = {
  kernelName: AdamWUpdate,
  outputs: (inputs: Record<string, TensorInfo>, attrs) => {
    const out: OutputSpec[] = [];
    for (let i = 0; i < countOf(attrs); i++) {
      const shape = inputs[`p${i}`].shape;
      out.push({ shape, dtype: 'float32' }, { shape, dtype: 'float32' }, { shape, dtype: 'float32' });
    }
    return out;
  },
  compute(inputs: Record<string, KernelArray>, outs, attrs) {
    const { n, lr, beta1, beta2, eps, c1, c2, decays } = attrs as unknown as AdamWAttrs;
    // Every step rounded to float32 exactly as the equivalent tfjs op sequence rounds it, so a
    // training run is bit-for-bit the one the unfused ops give.
    const f = Math.fround;
    const b1 = f(beta1), omb1 = f(1 - beta1), b2 = f(beta2), omb2 = f(1 - beta2);
    const c1f = f(c1), c2f = f(c2), epsf = f(eps), lrf = f(lr);
    const native = nativeKernels();
    if (native) {
      for (let i = 0; i < n; i++) {
        const [P, G, M, V] = ['p', 'g', 'm', 'v'].map((k) => f32(inputs[`${k}${i}`]));
        native.adamw(P, G, M, V, f32(outs[3 * i]), f32(outs[3 * i + 1]), f32(outs[3 * i + 2]), b1, omb1, b2, omb2, c1f, c2f, epsf, lrf, f(1 - lr * decays[i]), decays[i] !== 0);
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const P = inputs[`p${i}`].values, G = inputs[`g${i}`].values, M = inputs[`m${i}`].values, V = inputs[`v${i}`].values;
      const P2 = outs[3 * i], M2 = outs[3 * i + 1], V2 = outs[3 * i + 2];
      const decay = decays[i];
      const keep = f(1 - lr * decay);
      for (let e = 0; e < P.length; e++) {
        const g = G[e];
        const m = f(f(M[e] * b1) + f(g * omb1));
        const v = f(f(V[e] * b2) + f(f(g * g) * omb2));
        M2[e] = m;
        V2[e] = v;
        const update = f(f(m / c1f) / f(f(Math.sqrt(f(v / c2f))) + epsf));
        P2[e] = f((decay ? f(P[e] * keep) : P[e]) - f(update * lrf));
      }
    }
  },
};

/** Σ over every input of Σ t² → [] float32. */
export const sumOfSquaresSpec: KernelSpec = {
  kernelName: SumOfSquares,
  outputs: () => [{ shape: [], dtype: 'float32' }],
  compute(inputs: Record<string, KernelArray>, [out], attrs) {
    const native = nativeKernels();
    let s = 0;
    if (native) {
      for (let i = 0; i < countOf(attrs); i++) s += native.sumOfSquares(f32(inputs[`t${i}`]));
      out[0] = s;
      return;
    }
    for (let i = 0; i < countOf(attrs); i++) {
      const T = inputs[`t${i}`].values;
      for (let e = 0; e < T.length; e++) s += T[e] * T[e];
    }
    out[0] = s;
  },
};

/** Every input times attrs.scale. */
export const scaleAllSpec: KernelSpec = {
  kernelName: ScaleAll,
  outputs: (inputs: Record<string, TensorInfo>, attrs) =>
    Array.from({ length: countOf(attrs) }, (_, i) => ({ shape: inputs[`t${i}`].shape, dtype: 'float32' as const })),
  compute(inputs: Record<string, KernelArray>, outs, attrs) {
    const scale = Math.fround((attrs as unknown as { scale: number }).scale); // as tf.mul(t, scale) rounds it
    const native = nativeKernels();
    if (native) {
      for (let i = 0; i < outs.length; i++) native.scale(f32(inputs[`t${i}`]), f32(outs[i]), scale);
      return;
    }
    for (let i = 0; i < outs.length; i++) {
      const T = inputs[`t${i}`].values;
      const O = outs[i];
      for (let e = 0; e < T.length; e++) O[e] = T[e] * scale;
    }
  },
};
