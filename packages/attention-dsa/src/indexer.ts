import * as tf from '@tensorflow/tfjs';
import { Module, Rng, applyRope, layerNorm, linear } from '@r1-ts/tensor-kernels';
import { ropeTables } from '@r1-ts/attention-mla';
import type { PositionOptions } from '@r1-ts/attention-mla';
import type { DsaConfig } from './config';
import { validateDsaConfig } from './config';

/** Half-split RoPE on the first dr dims of the last axis, the rest passed through (rope-first, golden §4.6). */
function ropeFirst(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, dr: number): tf.Tensor {
  return tf.tidy(() => {
    const d = x.shape[x.rank - 1];
    const begin = x.shape.map(() => 0);
    const head = tf.slice(x, begin, [...x.shape.slice(0, -1), dr]); // [..., dr]
    const roped = applyRope(head, cos, sin, 'half');
    if (d === dr) return roped;
    return tf.concat([roped, tf.slice(x, [...begin.slice(0, -1), dr], [...x.shape.slice(0, -1), d - dr])], -1); // [..., Di]
  });
}

/**
 * The lightning indexer of DeepSeek-V3.2 (golden/README §4.6). Parameters under `self_attn.indexer.`:
 * `wq_b.weight` [Hi·Di, R], `wk.weight` [Di, D], `k_norm.weight`/`k_norm.bias` [Di],
 * `weights_proj.weight` [Hi, D]. Scores I[t, s] = Σ_h w_h(x_t)·Hi^−½·Di^−½·ReLU(q_h(t)·k(s)).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Indexer } from '@r1-ts/attention-dsa';
 * const indexer = new Indexer({ hidden_size: 16, num_attention_heads: 2, q_lora_rank: 8, kv_lora_rank: 8,
 *   qk_nope_head_dim: 4, qk_rope_head_dim: 4, v_head_dim: 4, rope_theta: 10000, rope_scaling: null,
 *   max_position_embeddings: 64, rms_norm_eps: 1e-6, index_n_heads: 2, index_head_dim: 8, index_topk: 4 });
 * const I = indexer.indexScores(tf.ones([1, 5, 16]), tf.ones([1, 5, 8])); // [1, 5, 5], unmasked
 * ```
 */
export class Indexer extends Module {
  readonly config: DsaConfig;
  /** wq_b [Hi·Di, R] */
  readonly wqB: tf.Variable;
  /** wk [Di, D] */
  readonly wk: tf.Variable;
  /** k_norm.weight [Di] */
  readonly kNormWeight: tf.Variable;
  /** k_norm.bias [Di] */
  readonly kNormBias: tf.Variable;
  /** weights_proj [Hi, D] */
  readonly weightsProj: tf.Variable;
  /** LayerNorm ε of the key (1e-6). */
  readonly kNormEps = 1e-6;

  /**
   * Builds the indexer's projections (`wq_b`, `wk`, `k_norm`, `weights_proj`) from a checked DSA config.
   *
   * @param config - The DSA config (checked by {@link validateDsaConfig}): `q_lora_rank`, the `index_*` sizes, the RoPE fields.
   * @param rng - Source of the initial weights. Default `new Rng(0)`.
   * @param initStd - Standard deviation of the normal initialisation of the projections. Default 0.02.
   */
  constructor(config: DsaConfig, rng: Rng = new Rng(0), initStd = 0.02) {
    super(rng);
    validateDsaConfig(config);
    this.config = config;
    const { hidden_size: D, q_lora_rank: R, index_n_heads: Hi, index_head_dim: Di } = config;
    this.wqB = this.param('wq_b.weight', [Hi * Di, R!], { normal: initStd });
    this.wk = this.param('wk.weight', [Di, D], { normal: initStd });
    this.kNormWeight = this.param('k_norm.weight', [Di], { constant: 1 });
    this.kNormBias = this.param('k_norm.bias', [Di], { constant: 0 });
    this.weightsProj = this.param('weights_proj.weight', [Hi, D], { normal: initStd });
  }

  /** One key per token kI [B, S, Di] = rope-first(LayerNorm(x·W_kᵀ)) (golden §4.6 step 2). */
  keys(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      const k = layerNorm(linear(x, this.wk), this.kNormWeight, this.kNormBias, this.kNormEps); // [B, S, Di]
      return ropeFirst(k, cos, sin, this.config.qk_rope_head_dim) as tf.Tensor3D;
    });
  }

  /**
   * Per-head queries q [B, S, Hi, Di] from MLA's normalised query latent qr [B, S, R] (rope-first) and
   * head weights w [B, S, Hi] = x·W_wᵀ·Hi^−½ (golden §4.6 steps 1, 3).
   */
  queries(qr: tf.Tensor, x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): { q: tf.Tensor4D; w: tf.Tensor3D } {
    const { index_n_heads: Hi, index_head_dim: Di, qk_rope_head_dim: dr } = this.config;
    const [B, S] = qr.shape as number[];
    return tf.tidy(() => {
      const q = tf.reshape(linear(qr, this.wqB), [B, S, Hi, Di]); // [B, S, Hi, Di]
      const w = tf.mul(linear(x, this.weightsProj), Hi ** -0.5) as tf.Tensor3D; // [B, S, Hi]
      return { q: ropeFirst(q, cos, sin, dr) as tf.Tensor4D, w };
    });
  }

  /** Unmasked scores I [B, Sq, Sk] = Σ_h w[b,t,h]·Di^−½·ReLU(q[b,t,h]·k[b,s]) (golden §4.6 step 4). */
  scores(q: tf.Tensor, w: tf.Tensor, k: tf.Tensor): tf.Tensor3D {
    const [B, Sq, Hi, Di] = q.shape as number[];
    return tf.tidy(() => {
      const dots = tf.matMul(tf.reshape(q, [B, Sq * Hi, Di]) as tf.Tensor3D, k as tf.Tensor3D, false, true); // [B, Sq·Hi, Sk]
      const r = tf.relu(tf.reshape(dots, [B, Sq, Hi, -1])); // [B, Sq, Hi, Sk]
      const hw = tf.mul(tf.expandDims(w, -1), Di ** -0.5); // [B, Sq, Hi, 1]
      return tf.sum(tf.mul(r, hw), 2) as tf.Tensor3D; // [B, Sq, Sk]
    });
  }

  /** Unmasked self-scores I [B, S, S] of a sequence x [B, S, D] with query latent qr [B, S, R]. */
  indexScores(x: tf.Tensor, qr: tf.Tensor, opts: PositionOptions = {}): tf.Tensor3D {
    const [B, S] = x.shape as number[];
    return tf.tidy(() => {
      const { cos, sin } = ropeTables(this.config, B, S, opts);
      const { q, w } = this.queries(qr, x, cos, sin);
      return this.scores(q, w, this.keys(x, cos, sin));
    });
  }
}
