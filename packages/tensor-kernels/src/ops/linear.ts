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
export type LinearAdapter = ((x2: tf.Tensor2D) => tf.Tensor2D) & {
  /**
   * The adapter as low-rank factors of a weight update, ΔW = scale·B·A [out, in] (LoRA), for code
   * that folds W into other matrices (MLA's absorbed decode). Without it,
   * {@link effectiveLinearWeight} runs the adapter on the identity.
   */
  lowRank?: () => LowRankUpdate;
};

/**
 * A low-rank weight update ΔW = scale·B·A [out, in] (LoRA's form, without dropout).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import type { LowRankUpdate } from '@r1-ts/tensor-kernels';
 * const u: LowRankUpdate = { a: tf.ones([2, 4]), b: tf.zeros([3, 2]), scale: 2 }; // ΔW [3, 4] = 0
 * ```
 */
export interface LowRankUpdate {
  /** A [r, in]. */
  a: tf.Tensor2D;
  /** B [out, r]. */
  b: tf.Tensor2D;
  scale: number;
}

// Keyed by the weight tensor itself, so a model's forward needs no change to be adapted and two
// models sharing HF parameter names never see each other's adapters.
const adapters = new WeakMap<tf.Tensor, LinearAdapter>();
let adaptersEnabled = true;

/**
 * Attaches `adapter` to the linear layer whose weight is `weight` (or detaches it with `null`).
 *
 * @param weight - The layer's weight tensor [out, in] (the key: the same object `linear` receives).
 * @param adapter - The adapter to apply, or null to detach.
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
 * @param weight - A linear layer's weight tensor.
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
 * The weight `linear` effectively applies: W, or W + ΔW [out, in] when an adapter is attached (and
 * enabled). For code that folds a projection's weight into other matrices instead of calling
 * {@link linear} (MLA's absorbed decode, DSA's latent form), so adapters still count there.
 * Returns `weight` itself when nothing is attached (do not dispose it then).
 *
 * @param weight - A linear layer's weight W [out, in].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { effectiveLinearWeight, setLinearAdapter } from '@r1-ts/tensor-kernels';
 * const w = tf.variable(tf.eye(2));
 * setLinearAdapter(w, (x2) => tf.mul(x2, 0.5) as tf.Tensor2D);
 * effectiveLinearWeight(w).print(); // [[1.5, 0], [0, 1.5]]
 * ```
 */
export function effectiveLinearWeight(weight: tf.Tensor): tf.Tensor {
  const adapter = linearAdapterOf(weight);
  if (!adapter) return weight;
  return tf.tidy(() => {
    // adapter(I) [in, out] is ΔWᵀ: row i is the update's response to the i-th unit input.
    let delta: tf.Tensor; // [out, in]
    if (adapter.lowRank) {
      const { a, b, scale } = adapter.lowRank();
      delta = tf.mul(tf.matMul(b, a), scale); // [out, r]·[r, in]
    } else delta = tf.transpose(adapter(tf.eye(weight.shape[1]!) as tf.Tensor2D));
    return tf.add(weight, delta);
  });
}

/**
 * The low-rank factors of the adapter attached to `weight` (if enabled and it offers them, as LoRA
 * does): code folding W into other matrices can apply scale·B·A as two thin products instead of a
 * dense ΔW [out, in].
 *
 * @param weight - A linear layer's weight W [out, in] (the tensor the adapter was attached to).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { linearLowRankOf } from '@r1-ts/tensor-kernels';
 * console.log(linearLowRankOf(tf.eye(2))); // undefined: nothing attached
 * ```
 */
export function linearLowRankOf(weight: tf.Tensor): LowRankUpdate | undefined {
  return linearAdapterOf(weight)?.lowRank?.();
}

/** @internal Sets whether adapters apply and returns the previous mode (activation checkpointing replays it). */
export function setLinearAdaptersEnabled(enabled: boolean): boolean {
  const before = adaptersEnabled;
  adaptersEnabled = enabled;
  return before;
}

/**
 * Runs `fn` with every linear adapter switched off (the base model: GRPO's KL reference under
 * LoRA), restoring the previous state afterwards, also when `fn` throws.
 *
 * @param fn - The work to run on the base model; its result is returned.
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
