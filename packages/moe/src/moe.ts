import * as tf from '@tensorflow/tfjs';
import { ConfigError, Module } from '@r1-ts/tensor-kernels';
import type { Rng } from '@r1-ts/tensor-kernels';
import { initStd, validateMoeConfig } from './config';
import type { MoeConfig } from './config';
import { groupByExpert, permuteRows } from './dispatch';
import { Expert } from './expert';
import { Gate } from './gate';
import type { Routing } from './gate';
import { fusedExperts, hasMoeKernels } from './fused';

/**
 * γ, the bias update speed of aux-loss-free balancing (V3 §2.1.2), the default of {@link MoE.updateBias}.
 *
 * @example
 * ```ts
 * import { BIAS_UPDATE_GAMMA } from '@r1-ts/moe';
 * console.log(BIAS_UPDATE_GAMMA); // 0.001
 * ```
 */
export const BIAS_UPDATE_GAMMA = 0.001;

/**
 * What {@link MoE.forwardWithRouting} returns. All tensors are new; dispose them (or run inside
 * `tf.tidy`).
 *
 * @example
 * ```ts
 * import type { MoeOutput } from '@r1-ts/moe';
 * const describe = (out: MoeOutput) => `y ${out.y.shape}, load ${Array.from(out.expertLoad)}`;
 * ```
 */
export interface MoeOutput {
  /** The layer output. [B, S, D] */
  y: tf.Tensor3D;
  /** s, the unbiased router scores, differentiable (input of {@link sequenceBalanceLoss}). [B, S, E] */
  scores: tf.Tensor3D;
  /** Selected experts per token, ascending, int32. [B, S, K] */
  topkIdx: tf.Tensor3D;
  /** Their weights (× ρ), same order, differentiable. [B, S, K] */
  topkWeight: tf.Tensor3D;
  /** (token, slot) pairs routed to each expert in this batch: c_i of the bias update. [E] */
  expertLoad: Int32Array;
}

/**
 * A DeepSeekMoE layer (V3 §2.1.2, eq. 12): y = SwiGLU_shared(x) + Σ_k g_k·Expert_{i_k}(x), with the
 * routing of {@link Gate}. Children `gate`, `experts.{e}` and, when `n_shared_experts` > 0,
 * `shared_experts` (one SwiGLU of width ns·Im), so `namedParameters('mlp.')` gives the checkpoint
 * names. On cpu and wasm all experts run in one fused kernel (rows grouped by expert in place, two
 * GEMMs per expert, the weighted combine accumulated into y) with a fused backward: no loop over
 * tokens, no capacity limit, no dropped tokens. Experts carrying a linear adapter (LoRA) run through
 * `linear` instead: adapted shared experts beside the fused routed ones; an adapted routed expert
 * sends the layer down the composite path.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { MoE } from '@r1-ts/moe';
 * const moe = new MoE({ hidden_size: 16, n_routed_experts: 8, num_experts_per_tok: 2, n_group: 4, topk_group: 2,
 *   scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true, routed_scaling_factor: 2.5,
 *   moe_intermediate_size: 32, n_shared_experts: 1 }, new Rng(0));
 * const out = moe.forwardWithRouting(tf.randomNormal([2, 5, 16]));
 * moe.updateBias(out.expertLoad); // aux-loss-free balancing, after the optimizer step
 * ```
 */
export class MoE extends Module {
  readonly config: MoeConfig;
  readonly gate: Gate;
  readonly experts: Expert[];
  /** The fused shared experts; null when `n_shared_experts` is 0. */
  readonly sharedExperts: Expert | null;

  /**
   * @param config - The MoE config (validated here): router and `n_routed_experts` routed experts of width `moe_intermediate_size`, plus `n_shared_experts` always-on experts.
   * @param rng - Seeded generator of all router and expert weights, drawn in a fixed order so a seed reproduces the layer.
   */
  constructor(config: MoeConfig, rng: Rng) {
    super(rng);
    this.config = validateMoeConfig(config);
    const { hidden_size, moe_intermediate_size, n_shared_experts, n_routed_experts } = config;
    const initializer_range = initStd(config);
    this.gate = this.child('gate', new Gate(config, rng));
    this.experts = Array.from({ length: n_routed_experts }, (_, e) =>
      this.child(`experts.${e}`, new Expert({ hidden_size, intermediate_size: moe_intermediate_size, initializer_range }, rng)));
    this.sharedExperts = n_shared_experts > 0
      ? this.child('shared_experts', new Expert({ hidden_size, intermediate_size: n_shared_experts * moe_intermediate_size, initializer_range }, rng))
      : null;
  }

  /** x [B, S, D] → y [B, S, D]. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.forwardWithRouting(x).y);
  }

  /** x [B, S, D] → y plus the routing (scores for the balance loss, selection, expert load). */
  forwardWithRouting(x: tf.Tensor3D): MoeOutput {
    const [B, S, D] = x.shape;
    const { num_experts_per_tok: K, n_routed_experts: E } = this.config;
    const T = B * S;
    const expertLoad = new Int32Array(E);
    const out = tf.tidy(() => {
      const flat = tf.reshape(x, [T, D]) as tf.Tensor2D; // [T, D]
      const routing = this.gate.route(flat);
      for (const e of routing.indices) expertLoad[e]++;
      const y = hasMoeKernels() && !this.experts.some((e) => e.adapted)
        ? this.expertsFused(flat, routing) // [T, D], V3 eq. 12
        : this.expertsComposite(flat, routing); // [T, D]
      return {
        y: tf.reshape(y, [B, S, D]) as tf.Tensor3D,
        scores: tf.reshape(routing.scores, [B, S, E]) as tf.Tensor3D,
        topkIdx: tf.reshape(routing.topkIdx, [B, S, K]) as tf.Tensor3D,
        topkWeight: tf.reshape(routing.topkWeight, [B, S, K]) as tf.Tensor3D,
      };
    });
    return { ...out, expertLoad };
  }

  /**
   * The routed experts (and the shared ones) in the fused kernel; shared experts carrying a LoRA
   * adapter run beside it through `linear`, so the routed experts keep the fused path.
   */
  private expertsFused(flat: tf.Tensor2D, routing: Routing): tf.Tensor {
    const shared = this.sharedExperts;
    if (!shared?.adapted) return fusedExperts(flat, routing.topkWeight, routing.topkIdx, this.experts, shared); // [T, D]
    return tf.add(fusedExperts(flat, routing.topkWeight, routing.topkIdx, this.experts, null), shared.forward(flat)); // [T, D]
  }

  /**
   * The experts from tfjs ops, for backends without the fused kernels: (token, slot) pairs sorted by
   * expert through one permutation gather, one SwiGLU per expert block, the inverse gather, the
   * weighted sum, plus the shared experts.
   */
  private expertsComposite(flat: tf.Tensor2D, routing: Routing): tf.Tensor {
    const [T, D] = flat.shape;
    const { num_experts_per_tok: K, n_routed_experts: E } = this.config;
    const groups = groupByExpert(routing.indices, E);
    const pairs = tf.reshape(tf.tile(tf.expandDims(flat, 1), [1, K, 1]), [T * K, D]) as tf.Tensor2D; // [T·K, D]
    const sorted = permuteRows(pairs, groups.perm, groups.inverse); // [T·K, D]
    const blocks: tf.Tensor[] = [];
    for (let e = 0; e < E; e++) {
      const n = groups.counts[e];
      if (n === 0) continue;
      blocks.push(this.experts[e].forward(tf.slice(sorted, [groups.offsets[e], 0], [n, D]))); // [n_e, D]
    }
    const expertOut = blocks.length === 1 ? blocks[0] : tf.concat(blocks, 0); // [T·K, D]
    const back = tf.reshape(permuteRows(expertOut as tf.Tensor2D, groups.inverse, groups.perm), [T, K, D]); // [T, K, D]
    const y = tf.sum(tf.mul(back, tf.expandDims(routing.topkWeight, -1)), 1); // [T, D], V3 eq. 12
    return this.sharedExperts ? tf.add(y, this.sharedExperts.forward(flat)) : y; // [T, D]
  }

  /**
   * Aux-loss-free balancing (V3 §2.1.2): b_i ← b_i + γ·sign(mean(c) − c_i), sign(0) = 0, where c
   * are the expert loads of the step. Call after the optimizer step. Only for `noaux_tc`.
   */
  updateBias(loads: ArrayLike<number>, gamma = BIAS_UPDATE_GAMMA): void {
    const bias = this.gate.eScoreCorrectionBias;
    if (!bias) {
      throw new ConfigError(
        `updateBias needs config.topk_method 'noaux_tc' (the only method with e_score_correction_bias), got '${this.config.topk_method}'`,
        ['topk_method'],
      );
    }
    const E = this.config.n_routed_experts;
    if (loads.length !== E) throw new RangeError(`updateBias: loads must have n_routed_experts = ${E} entries, got ${loads.length}`);
    if (!Number.isFinite(gamma)) throw new RangeError(`updateBias: gamma must be finite, got ${gamma}`);
    let total = 0;
    for (let e = 0; e < E; e++) total += loads[e];
    // sign(mean − c_e) = sign(Σc − E·c_e): exact for integer loads, so balanced experts get sign 0.
    const step = new Float32Array(E);
    for (let e = 0; e < E; e++) step[e] = gamma * Math.sign(total - E * loads[e]);
    tf.tidy(() => bias.assign(tf.add(bias, tf.tensor1d(step))));
  }
}
