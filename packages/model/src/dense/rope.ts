import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';
import type { DenseConfig } from './config';

/**
 * RoPE of a dense family: the per-pair frequencies f_i (float64, i < head_dim/2) and the attention
 * factor a that multiplies cos and sin (golden/README §7.3; transformers' `ROPE_INIT_FUNCTIONS`).
 *
 * @example
 * ```ts
 * import { denseRope, parseDenseConfig } from '@r1-ts/model';
 * const c = parseDenseConfig({ model_type: 'llama', vocab_size: 8, hidden_size: 16, intermediate_size: 8, num_hidden_layers: 1,
 *   num_attention_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5 });
 * const { invFreq, attentionFactor } = denseRope(c);
 * console.log(invFreq.length, attentionFactor); // 4 1
 * ```
 */
export interface DenseRope {
  invFreq: Float64Array;
  attentionFactor: number;
}

/**
 * Computes {@link DenseRope} from `rope_theta`, `head_dim` and `rope_scaling` (null, linear, llama3, yarn).
 *
 * @param c - `rope_theta`, `head_dim` and `rope_scaling` of a dense config.
 *
 * @example
 * ```ts
 * import { denseRope } from '@r1-ts/model';
 * const yarn = denseRope({ head_dim: 8, rope_theta: 10000, rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64 } });
 * console.log(yarn.attentionFactor.toFixed(4)); // 1.1386 (0.1·ln 4 + 1)
 * ```
 */
export function denseRope(c: Pick<DenseConfig, 'rope_theta' | 'head_dim' | 'rope_scaling'>): DenseRope {
  const d = c.head_dim;
  const theta = c.rope_theta;
  const f = new Float64Array(d / 2);
  for (let i = 0; i < d / 2; i++) f[i] = theta ** ((-2 * i) / d);
  const s = c.rope_scaling;
  if (!s) return { invFreq: f, attentionFactor: 1 };
  if (s.rope_type === 'linear') return { invFreq: f.map((x) => x / s.factor), attentionFactor: 1 };
  if (s.rope_type === 'llama3') {
    const L = s.original_max_position_embeddings;
    const lo = L / s.low_freq_factor; // wavelengths above this are divided by factor
    const hi = L / s.high_freq_factor; // below this they are kept
    if (s.high_freq_factor === s.low_freq_factor) {
      throw new ConfigError(`config.rope_scaling.high_freq_factor must differ from low_freq_factor (${s.low_freq_factor})`, ['rope_scaling.high_freq_factor']);
    }
    return {
      invFreq: f.map((x) => {
        const wavelen = (2 * Math.PI) / x;
        if (wavelen < hi) return x;
        if (wavelen > lo) return x / s.factor;
        const smooth = (L / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        return ((1 - smooth) * x) / s.factor + smooth * x;
      }),
      attentionFactor: 1,
    };
  }
  // yarn (transformers' _compute_yarn_parameters)
  const L = s.original_max_position_embeddings;
  const betaFast = s.beta_fast ?? 32;
  const betaSlow = s.beta_slow ?? 1;
  const dim = (r: number) => (d * Math.log(L / (2 * Math.PI * r))) / (2 * Math.log(theta));
  const truncate = s.truncate ?? true;
  let low = truncate ? Math.floor(dim(betaFast)) : dim(betaFast);
  let high = truncate ? Math.ceil(dim(betaSlow)) : dim(betaSlow);
  low = Math.max(low, 0);
  high = Math.min(high, d - 1);
  if (low === high) high += 0.001;
  const invFreq = f.map((x, i) => {
    const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
    return (x / s.factor) * ramp + x * (1 - ramp);
  });
  const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  let attentionFactor = s.attention_factor;
  if (attentionFactor === undefined) {
    attentionFactor = s.mscale && s.mscale_all_dim ? mscale(s.factor, s.mscale) / mscale(s.factor, s.mscale_all_dim) : mscale(s.factor);
  }
  return { invFreq, attentionFactor };
}

/**
 * cos/sin tables a·cos(p·f_i), a·sin(p·f_i) for per-row positions [B][S] → [B, S, hd/2] each,
 * computed in float64 and rounded to float32 (for `applyRope(..., 'half')`).
 *
 * @param rope - Inverse frequencies [hd/2] and attention factor a, from {@link denseRope}.
 * @param positions - Position of every token, per row [B][S].
 *
 * @example
 * ```ts
 * import { denseRopeTables } from '@r1-ts/model';
 * const { cos } = denseRopeTables({ invFreq: new Float64Array([1, 0.1]), attentionFactor: 1 }, [[0, 1, 2]]);
 * console.log(cos.shape); // [1, 3, 2]
 * ```
 */
export function denseRopeTables(rope: DenseRope, positions: number[][]): { cos: tf.Tensor3D; sin: tf.Tensor3D } {
  const B = positions.length;
  const S = positions[0]?.length ?? 0;
  const half = rope.invFreq.length;
  const cos = new Float32Array(B * S * half);
  const sin = new Float32Array(B * S * half);
  const a = rope.attentionFactor;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < S; t++) {
      const p = positions[b][t];
      const o = (b * S + t) * half;
      for (let i = 0; i < half; i++) {
        const phi = p * rope.invFreq[i];
        cos[o + i] = a * Math.cos(phi);
        sin[o + i] = a * Math.sin(phi);
      }
    }
  }
  return { cos: tf.tensor3d(cos, [B, S, half]), sin: tf.tensor3d(sin, [B, S, half]) };
}
