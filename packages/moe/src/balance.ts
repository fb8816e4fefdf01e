import * as tf from '@tensorflow/tfjs';
import { oneHotFloat } from './one_hot';

/**
 * α, the weight of the sequence-wise balance loss (V3 §2.1.2: "an extremely small value"), the
 * default of {@link sequenceBalanceLoss}.
 *
 * @example
 * ```ts
 * import { SEQ_AUX_ALPHA } from '@r1-ts/moe';
 * console.log(SEQ_AUX_ALPHA); // 0.0001
 * ```
 */
export const SEQ_AUX_ALPHA = 1e-4;

/**
 * Sequence-wise balance loss (V3 eqs. 17–20): per sequence of S tokens,
 * f_i = E/(K·S)·#{t: expert i selected} (a constant), P_i = (1/S)·Σ_t s_{t,i}/Σ_j s_{t,j} from the
 * unbiased scores, L = α·Σ_i f_i·P_i; averaged over the B sequences. Differentiable through the
 * scores, i.e. w.r.t. the gate weight and the input.
 *
 * @param scores - unbiased router scores s, [B, S, E] ({@link MoeOutput.scores})
 * @param topkIdx - selected experts, int32, [B, S, K] ({@link MoeOutput.topkIdx})
 * @param alpha - α (default {@link SEQ_AUX_ALPHA})
 * @returns scalar loss
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { sequenceBalanceLoss } from '@r1-ts/moe';
 * const scores = tf.tensor3d([[[0.9, 0.1], [0.6, 0.4]]]); // B 1, S 2, E 2
 * const idx = tf.tensor3d([[[0], [0]]], undefined, 'int32'); // K 1: both tokens chose expert 0
 * sequenceBalanceLoss(scores, idx).print(); // 1e-4 · (2·0.75 + 0·0.25) = 1.5e-4
 * ```
 */
export function sequenceBalanceLoss(scores: tf.Tensor3D, topkIdx: tf.Tensor3D, alpha = SEQ_AUX_ALPHA): tf.Scalar {
  const [B, S, E] = scores.shape;
  const K = topkIdx.shape[2];
  if (topkIdx.shape[0] !== B || topkIdx.shape[1] !== S) {
    throw new RangeError(`sequenceBalanceLoss: topkIdx [${topkIdx.shape}] does not match scores [${scores.shape}] in B, S`);
  }
  return tf.tidy(() => {
    const picks = tf.sum(oneHotFloat(tf.reshape(topkIdx, [B, S * K]), E), 1); // [B, E] selection counts
    const f = tf.mul(picks, E / (K * S)); // [B, E], V3 eq. 18; integer counts: constant, no gradient
    const normalised = tf.div(scores, tf.sum(scores, -1, true)); // [B, S, E], V3 eq. 19
    const P = tf.mean(normalised, 1); // [B, E], V3 eq. 20
    return tf.mul(tf.mean(tf.sum(tf.mul(f, P), -1)), alpha) as tf.Scalar; // V3 eq. 17, mean over sequences
  });
}

/**
 * Summary of expert loads: `maxOverMean` is the usual imbalance figure (1 = perfectly balanced),
 * `cv` the coefficient of variation.
 *
 * @example
 * ```ts
 * import { expertLoadStats } from '@r1-ts/moe';
 * const s = expertLoadStats([4, 2, 2, 0]);
 * console.log(s.maxOverMean, s.cv); // 2, 0.707…
 * ```
 */
export interface ExpertLoadStats {
  /** Load per expert. */
  loads: number[];
  total: number;
  mean: number;
  max: number;
  min: number;
  /** max / mean (0 when nothing was routed). */
  maxOverMean: number;
  /** min / mean (0 when nothing was routed). */
  minOverMean: number;
  /** Population std / mean (0 when nothing was routed). */
  cv: number;
}

/**
 * Summarises expert loads (see {@link ExpertLoadStats}).
 *
 * @param loads - Tokens routed to each expert, one count per expert (e.g. a step's `expertLoads`); length = number of experts.
 *
 * @example
 * ```ts
 * import { expertLoadStats } from '@r1-ts/moe';
 * console.log(expertLoadStats([3, 3, 3, 3]).maxOverMean); // 1
 * ```
 */
export function expertLoadStats(loads: ArrayLike<number>): ExpertLoadStats {
  const list = Array.from(loads);
  if (list.length === 0) throw new RangeError('expertLoadStats: loads is empty');
  const total = list.reduce((a, b) => a + b, 0);
  const mean = total / list.length;
  const max = Math.max(...list);
  const min = Math.min(...list);
  const variance = list.reduce((a, c) => a + (c - mean) ** 2, 0) / list.length;
  const rel = (v: number) => (mean > 0 ? v / mean : 0);
  return { loads: list, total, mean, max, min, maxOverMean: rel(max), minOverMean: rel(min), cv: rel(Math.sqrt(variance)) };
}

/**
 * Accumulates expert loads over the micro-batches of one optimizer step; the trainer reads them
 * for the bias update and the logs, then resets.
 *
 * @example
 * ```ts
 * import { ExpertLoadTracker } from '@r1-ts/moe';
 * const tracker = new ExpertLoadTracker(4);
 * tracker.add([2, 0, 1, 1]);
 * tracker.add([1, 1, 1, 1]);
 * console.log(tracker.loads, tracker.stats().maxOverMean); // [3, 1, 2, 2], 1.5
 * tracker.reset();
 * ```
 */
export class ExpertLoadTracker {
  private readonly counts: Float64Array;
  /** Batches added since the last reset. */
  batches = 0;

  /**
   * @param numExperts - Number of routed experts whose loads are accumulated (`n_routed_experts`); each `add` must give that many counts.
   */
  constructor(readonly numExperts: number) {
    if (!Number.isInteger(numExperts) || numExperts < 1) throw new RangeError(`numExperts must be a positive integer, got ${numExperts}`);
    this.counts = new Float64Array(numExperts);
  }

  /** Adds one batch's loads ({@link MoeOutput.expertLoad}). */
  add(loads: ArrayLike<number>): void {
    if (loads.length !== this.numExperts) throw new RangeError(`ExpertLoadTracker.add: expected ${this.numExperts} loads, got ${loads.length}`);
    for (let e = 0; e < this.numExperts; e++) this.counts[e] += loads[e];
    this.batches++;
  }

  /** Loads per expert since the last reset. */
  get loads(): number[] {
    return Array.from(this.counts);
  }

  /** {@link expertLoadStats} of the accumulated loads. */
  stats(): ExpertLoadStats {
    return expertLoadStats(this.counts);
  }

  /** Starts a new step. */
  reset(): void {
    this.counts.fill(0);
    this.batches = 0;
  }
}
