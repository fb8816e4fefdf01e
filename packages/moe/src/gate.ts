import * as tf from '@tensorflow/tfjs';
import { Module } from '@r1-ts/tensor-kernels';
import type { Rng } from '@r1-ts/tensor-kernels';
import { initStd, validateMoeConfig } from './config';
import type { MoeConfig } from './config';
import { topkWeights } from './fused';
import { selectExperts } from './select';

/**
 * The router's decision for T tokens (rows in (b, t) row-major order), from {@link Gate.route}.
 *
 * @example
 * ```ts
 * import type { Routing } from '@r1-ts/moe';
 * const firstChoice = (r: Routing, K: number, t: number) => Array.from(r.indices.subarray(t * K, (t + 1) * K));
 * ```
 */
export interface Routing {
  /** s, the unbiased scores (sigmoid, or softmax over E), differentiable. [T, E] */
  scores: tf.Tensor2D;
  /** The K selected experts of each token, ascending, int32. [T, K] */
  topkIdx: tf.Tensor2D;
  /** Their weights g (V3 eq. 13 × ρ), in the order of `topkIdx`, differentiable. [T, K] */
  topkWeight: tf.Tensor2D;
  /** `topkIdx` read back to JS, row-major. [T·K] */
  indices: Int32Array;
}

/**
 * The DeepSeekMoE router (V3 §2.1.2, eqs. 13–16; golden §4.5). Parameters `weight` [E,D] and, for
 * `topk_method: noaux_tc` only, the non-trainable `e_score_correction_bias` [E] that shifts selection
 * but never the weights.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { Gate } from '@r1-ts/moe';
 * const gate = new Gate({ hidden_size: 16, n_routed_experts: 8, num_experts_per_tok: 2, n_group: 4, topk_group: 2,
 *   scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true, routed_scaling_factor: 2.5,
 *   moe_intermediate_size: 32, n_shared_experts: 1 }, new Rng(0));
 * const r = gate.route(tf.randomNormal([5, 16]));
 * console.log(r.indices); // 10 expert ids, two per token, ascending per token
 * ```
 */
export class Gate extends Module {
  /** W_gate [E, D]. */
  readonly weight: tf.Variable;
  /** b [E], selection only (`noaux_tc`); null for other methods. */
  readonly eScoreCorrectionBias: tf.Variable | null;
  readonly config: MoeConfig;

  /**
   * @param config - The MoE config: the router weight is [n_routed_experts, hidden_size]; scoring function, groups and `routed_scaling_factor` decide the top-k selection.
   * @param rng - Seeded generator of the router weight's initial values (the same seed gives the same weights).
   */
  constructor(config: MoeConfig, rng: Rng) {
    super(rng);
    this.config = validateMoeConfig(config);
    const { n_routed_experts: E, hidden_size: D } = config;
    this.weight = this.param('weight', [E, D], { normal: initStd(config) });
    this.eScoreCorrectionBias = config.topk_method === 'noaux_tc'
      ? this.param('e_score_correction_bias', [E], { constant: 0 }, false)
      : null;
  }

  /** Routes x [T, D]: scores, the selected experts and their weights. Caller disposes the tensors. */
  route(x: tf.Tensor2D): Routing {
    const { scoring_func, norm_topk_prob, routed_scaling_factor, num_experts_per_tok: K } = this.config;
    return tf.tidy(() => {
      const logits = tf.matMul(x, this.weight as tf.Tensor2D, false, true); // [T, E]
      const scores = (scoring_func === 'sigmoid' ? tf.sigmoid(logits) : tf.softmax(logits)) as tf.Tensor2D; // [T, E], V3 eq. 15
      const indices = this.selectIndices(scores);
      // Rebuilt from JS so the tape sees a constant: selection is piecewise constant (golden §4.5).
      const topkIdx = tf.tensor2d(indices, [x.shape[0], K], 'int32'); // [T, K]
      // w = s at the selected experts (V3 eq. 16: the bias never reaches the weights), eq. 13, × ρ.
      const topkWeight = topkWeights(scores, topkIdx, norm_topk_prob, routed_scaling_factor); // [T, K]
      return { scores, topkIdx, topkWeight, indices };
    });
  }

  /**
   * Top-K selection (golden §4.5 steps 2–4) on u = s (+ bias for noaux_tc), limited to the best
   * `topk_group` groups; returns the chosen experts ascending per token. Piecewise constant: no gradient.
   */
  select(scores: tf.Tensor2D): tf.Tensor2D {
    return tf.tensor2d(this.selectIndices(scores), [scores.shape[0], this.config.num_experts_per_tok], 'int32'); // [T, K]
  }

  /** {@link Gate.select} read back to JS, row-major [T·K]. */
  private selectIndices(scores: tf.Tensor2D): Int32Array {
    const bias = this.eScoreCorrectionBias ? (this.eScoreCorrectionBias.dataSync() as Float32Array) : null;
    return selectExperts(scores.dataSync() as Float32Array, bias, scores.shape[0], this.config);
  }
}
