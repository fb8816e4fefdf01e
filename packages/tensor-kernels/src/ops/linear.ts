import * as tf from '@tensorflow/tfjs';
import { fail } from './fused';

/**
 * A low-rank (or any) update added to one linear layer's output: given the layer's input rows
 * `x2` [N, in], returns [N, out] to add to x2·Wᵀ. `@r1-ts/lora` attaches these to the weight
 * variables of a model; the model code does not know about them.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import type { LinearAdapter } from '@r1-ts/tensor-kernels';
 * const a = tf.randomNormal([2, 4]); // [r, in]
 * const b = tf.zeros([3, 2]); // [out, r]
 * const lowRank: LinearAdapter = (x2) => tf.matMul(tf.matMul(x2, a, false, true), b, false, true) as tf.Tensor2D; // [N, out]
 * ```
 */
export type LinearAdapter = (x2: tf.Tensor2D) => tf.Tensor2D;

// Keyed by the weight tensor itself, so a model's forward needs no change to be adapted and two
// models sharing HF parameter names never see each other's adapters.
const adapters = new WeakMap<tf.Tensor, LinearAdapter>();
let adaptersEnabled = true;

/**
 * Attaches `adapter` to the linear layer whose weight is `weight` (or detaches it with `null`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { linear, setLinearAdapter } from '@r1-ts/tensor-kernels';
 * const w = tf.variable(tf.eye(2));
 * setLinearAdapter(w, (x2) => tf.mul(x2, 0.5) as tf.Tensor2D);
 * linear(tf.tensor2d([[1, 2]]), w).print(); // [[1.5, 3]]
 * setLinearAdapter(w, null);
 * ```
 */
export function setLinearAdapter(weight: tf.Tensor, adapter: LinearAdapter | null): void {
  if (adapter) adapters.set(weight, adapter);
  else adapters.delete(weight);
}

/**
 * The adapter attached to `weight`, if adapters are enabled and one is attached.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { linearAdapterOf } from '@r1-ts/tensor-kernels';
 * console.log(linearAdapterOf(tf.eye(2))); // undefined: nothing attached
 * ```
 */
export function linearAdapterOf(weight: tf.Tensor): LinearAdapter | undefined {
  return adaptersEnabled ? adapters.get(weight) : undefined;
}

/**
 * Runs `fn` with every linear adapter switched off (the base model: GRPO's KL reference under
 * LoRA), restoring the previous state afterwards, also when `fn` throws.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { linear, withoutLinearAdapters } from '@r1-ts/tensor-kernels';
 * const y = withoutLinearAdapters(() => linear(tf.ones([1, 2]), tf.eye(2)));
 * ```
 */
export function withoutLinearAdapters<T>(fn: () => T): T {
  const before = adaptersEnabled;
  adaptersEnabled = false;
  try {
    return fn();
  } finally {
    adaptersEnabled = before;
  }
}

/**
 * y = x·Wᵀ (+ b) over the last axis, W `[out, in]` as in Hugging Face checkpoints (nn.Linear), plus
 * the output of an adapter attached to W ({@link setLinearAdapter}). Every projection of a model
 * that LoRA may target goes through here.
 *
 * @param x - [..., in]
 * @param weight - [out, in]
 * @param bias - [out], optional
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { linear } from '@r1-ts/tensor-kernels';
 * const y = linear(tf.ones([2, 3, 4]), tf.ones([5, 4]), tf.zeros([5])); // [2, 3, 5]
 * ```
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor | null): tf.Tensor {
  if (weight.rank !== 2) fail('linear', 'weight', `must have shape [out, in], got [${weight.shape}]`);
  const [out, inp] = weight.shape as [number, number];
  if (x.shape[x.rank - 1] !== inp) fail('linear', 'x', `last axis must be ${inp} (weight's in), got [${x.shape}]`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== out)) fail('linear', 'bias', `must have shape [${out}], got [${bias.shape}]`);
  const adapter = linearAdapterOf(weight);
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [-1, inp]) as tf.Tensor2D; // [N, in]
    let y = tf.matMul(x2, weight as tf.Tensor2D, false, true); // [N, out]
    if (bias) y = tf.add(y, bias);
    if (adapter) y = tf.add(y, adapter(x2));
    return tf.reshape(y, [...x.shape.slice(0, -1), out]);
  });
}
