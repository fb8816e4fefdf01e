import * as tf from '@tensorflow/tfjs';
import { asAttrs, asInputs } from '../kernel_names';
import { AdamWUpdate, ScaleAll, SumOfSquares } from '../kernels/adamw';
import { expectTensor, fail, hasFusedKernel } from './fused';

/**
 * Hyper-parameters of one {@link adamwUpdate} step.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { adamwUpdate, type AdamWStep } from '@r1-ts/tensor-kernels';
 * const h: AdamWStep = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, step: 1, decays: [0.1, 0] }; // no decay for the norm
 * const params = [tf.ones([2, 2]), tf.ones([2])];
 * const zeros = params.map((p) => tf.zerosLike(p));
 * const [w, norm] = adamwUpdate(params, params.map((p) => tf.onesLike(p)), zeros, zeros, h);
 * console.log(norm.p.dataSync()); // ≈ [0.999, 0.999]
 * ```
 */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step number t (bias corrections 1 − β^t). */
  step: number;
  /** Decoupled weight decay λ per parameter (0 = none), same order as `params`. */
  decays: number[];
}

/** Named inputs t0, t1, … of a multi-tensor kernel. */
const named = (prefix: string, ts: tf.Tensor[]) => Object.fromEntries(ts.map((t, i) => [`${prefix}${i}`, t]));

/**
 * One AdamW step (Loshchilov & Hutter, Alg. 2) for many parameters at once:
 *
 * $$
 * m' = \beta_1 m + (1-\beta_1)\,g, \qquad v' = \beta_2 v + (1-\beta_2)\,g^2, \qquad
 * p' = p\,(1 - \eta\lambda) - \eta\,\frac{m'/c_1}{\sqrt{v'/c_2} + \varepsilon}, \qquad c_i = 1 - \beta_i^{\,t}
 * $$
 *
 * with learning rate η (`lr`) and weight decay λ. One fused kernel dispatch for every parameter on
 * cpu/wasm (tfjs ops elsewhere). Returns new tensors; the caller assigns them (nothing is updated in place).
 *
 * @param params - The parameters p (float32), read only: the new values are returned.
 * @param grads - Their gradients g, one per parameter, same shapes.
 * @param m - First moments, one per parameter.
 * @param v - Second moments, one per parameter.
 * @param h - Hyperparameters: `lr`, `beta1`, `beta2`, `eps`, the 1-based `step` t, and the weight decay λ of each parameter (`decays`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { adamwUpdate } from '@r1-ts/tensor-kernels';
 * const [r] = adamwUpdate([tf.ones([2])], [tf.ones([2])], [tf.zeros([2])], [tf.zeros([2])],
 *   { lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, step: 1, decays: [0] });
 * r.p.print(); // [0.9, 0.9]
 * ```
 */
export function adamwUpdate(params: tf.Tensor[], grads: tf.Tensor[], m: tf.Tensor[], v: tf.Tensor[], h: AdamWStep): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor }[] {
  const n = params.length;
  for (const [field, list] of [['grads', grads], ['m', m], ['v', v]] as const) {
    if (list.length !== n) fail('adamwUpdate', field, `must have one tensor per parameter (${n}), got ${list.length}`);
  }
  if (h.decays.length !== n) fail('adamwUpdate', 'decays', `must have one entry per parameter (${n}), got ${h.decays.length}`);
  if (!Number.isInteger(h.step) || h.step < 1) fail('adamwUpdate', 'step', `must be an integer ≥ 1, got ${h.step}`);
  params.forEach((p, i) => {
    for (const [field, t] of [['params', p], ['grads', grads[i]], ['m', m[i]], ['v', v[i]]] as const) {
      expectTensor('adamwUpdate', `${field}[${i}]`, t, 'float32');
      if (!tf.util.arraysEqual(t.shape, p.shape)) fail('adamwUpdate', `${field}[${i}]`, `must have the parameter's shape [${p.shape}], got [${t.shape}]`);
    }
  });
  const c1 = 1 - h.beta1 ** h.step;
  const c2 = 1 - h.beta2 ** h.step;
  if (n === 0) return [];
  if (!hasFusedKernel(AdamWUpdate)) {
    return params.map((p, i) =>
      tf.tidy(() => {
        const m2 = tf.add(tf.mul(m[i], h.beta1), tf.mul(grads[i], 1 - h.beta1));
        const v2 = tf.add(tf.mul(v[i], h.beta2), tf.mul(tf.square(grads[i]), 1 - h.beta2));
        const update = tf.div(tf.div(m2, c1), tf.add(tf.sqrt(tf.div(v2, c2)), h.eps));
        return { p: tf.sub(tf.mul(p, 1 - h.lr * h.decays[i]), tf.mul(update, h.lr)), m: m2, v: v2 };
      }));
  }
  const inputs = { ...named('p', params), ...named('g', grads), ...named('m', m), ...named('v', v) };
  const attrs = { n, lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, c1, c2, decays: h.decays };
  const outs = tf.engine().runKernel(AdamWUpdate, asInputs(inputs), asAttrs(attrs)) as tf.Tensor[];
  return params.map((_, i) => ({ p: outs[3 * i], m: outs[3 * i + 1], v: outs[3 * i + 2] }));
}

/**
 * Σ_i Σ t_i² over many tensors as a float32 scalar (float64 accumulation in the fused kernel): the
 * squared global gradient norm in one dispatch.
 *
 * @param tensors - float32 tensors of any shapes (the gradients).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { sumOfSquares } from '@r1-ts/tensor-kernels';
 * sumOfSquares([tf.tensor1d([3]), tf.tensor1d([4])]).print(); // 25
 * ```
 */
export function sumOfSquares(tensors: tf.Tensor[]): tf.Scalar {
  tensors.forEach((t, i) => expectTensor('sumOfSquares', `tensors[${i}]`, t, 'float32'));
  if (tensors.length === 0) return tf.scalar(0);
  if (!hasFusedKernel(SumOfSquares)) return tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.square(t)))) as tf.Scalar);
  return tf.engine().runKernel(SumOfSquares, asInputs(named('t', tensors)), asAttrs({ n: tensors.length })) as tf.Scalar;
}

/**
 * Every tensor times `scale`, in one dispatch (gradient clipping).
 *
 * @param tensors - float32 tensors (the gradients); new tensors are returned.
 * @param scale - The finite factor, e.g. maxNorm / norm.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { scaleAll } from '@r1-ts/tensor-kernels';
 * const [a, b] = scaleAll([tf.tensor1d([1, 2]), tf.tensor1d([3])], 0.5); // [0.5, 1], [1.5]
 * ```
 */
export function scaleAll(tensors: tf.Tensor[], scale: number): tf.Tensor[] {
  tensors.forEach((t, i) => expectTensor('scaleAll', `tensors[${i}]`, t, 'float32'));
  if (!Number.isFinite(scale)) fail('scaleAll', 'scale', `must be finite, got ${scale}`);
  if (tensors.length === 0) return [];
  if (!hasFusedKernel(ScaleAll)) return tensors.map((t) => tf.mul(t, scale));
  const out = tf.engine().runKernel(ScaleAll, asInputs(named('t', tensors)), asAttrs({ n: tensors.length, scale }));
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
}
