import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors';

/**
 * YaRN parameters as Hugging Face DeepSeek-V3 configs spell them.
 *
 * @example
 * ```ts
 * import { yarnMscale, type YarnScaling } from '@r1-ts/tensor-kernels';
 * const scaling: YarnScaling = {
 *   type: 'yarn', factor: 40, original_max_position_embeddings: 4096,
 *   beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1,
 * }; // DeepSeek-V3's values
 * console.log(yarnMscale(scaling)); // 0.1·ln 40 + 1 ≈ 1.369
 * ```
 */
export interface YarnScaling {
  type: 'yarn';
  factor: number;
  original_max_position_embeddings: number;
  beta_fast: number;
  beta_slow: number;
  mscale: number;
  mscale_all_dim: number;
}

/**
 * The config fields RoPE reads (Hugging Face names).
 *
 * @example
 * ```ts
 * import { ropeFrequencies, type RopeConfig } from '@r1-ts/tensor-kernels';
 * const config: RopeConfig = { qk_rope_head_dim: 8, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 64 };
 * console.log(ropeFrequencies(config).length); // 4 (one per rotated pair)
 * ```
 */
export interface RopeConfig {
  qk_rope_head_dim: number;
  rope_theta: number;
  rope_scaling: YarnScaling | null;
  max_position_embeddings: number;
}

/**
 * The YaRN correction range [low, high] over pair indices (golden/README §4.2; DeepSeek-V3
 * `find_correction_range`). Note the upper clamp is d − 1.
 *
 * @param d - The rotary head dimension (`qk_rope_head_dim`).
 * @param theta - The RoPE base θ (`rope_theta`).
 * @param s - The YaRN scaling: `original_max_position_embeddings`, `beta_fast`, `beta_slow` set the range.
 *
 * @example
 * ```ts
 * import { yarnRange } from '@r1-ts/tensor-kernels';
 * const scaling = { type: 'yarn', factor: 4, original_max_position_embeddings: 64, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 } as const;
 * console.log(yarnRange(16, 10000, scaling)); // { low: 0, high: ... }
 * ```
 */
export function yarnRange(d: number, theta: number, s: YarnScaling): { low: number; high: number } {
  const c = (r: number) => (d * Math.log(s.original_max_position_embeddings / (2 * Math.PI * r))) / (2 * Math.log(theta));
  const low = Math.max(Math.floor(c(s.beta_fast)), 0);
  const high = Math.min(Math.ceil(c(s.beta_slow)), d - 1);
  return { low, high };
}

function checkRope(config: RopeConfig): void {
  const d = config.qk_rope_head_dim;
  if (!Number.isInteger(d) || d <= 0 || d % 2 !== 0) {
    throw new ConfigError(`config.qk_rope_head_dim must be a positive even integer, got ${d}`, ['qk_rope_head_dim']);
  }
  if (!(config.rope_theta > 1)) {
    throw new ConfigError(`config.rope_theta must be a number > 1, got ${config.rope_theta}`, ['rope_theta']);
  }
  const s = config.rope_scaling;
  if (s !== null && s !== undefined) {
    if (s.type !== 'yarn') throw new ConfigError(`config.rope_scaling.type must be "yarn", got ${JSON.stringify(s.type)}`, ['rope_scaling.type']);
    if (!(s.factor >= 1)) throw new ConfigError(`config.rope_scaling.factor must be >= 1, got ${s.factor}`, ['rope_scaling.factor']);
  }
}

/**
 * Per-pair rotation frequencies f_i, i = 0 … d/2−1, in float64: θ^(−2i/d), blended towards f_i/s by
 * the YaRN ramp when `rope_scaling` is set (golden/README §4.2). YaRN applies whenever
 * `rope_scaling` is present.
 *
 * @param config - The RoPE fields of a model config: `qk_rope_head_dim` d, `rope_theta` θ, `rope_scaling` (YaRN or null), `max_position_embeddings`.
 *
 * @example
 * ```ts
 * import { ropeFrequencies } from '@r1-ts/tensor-kernels';
 * const f = ropeFrequencies({ qk_rope_head_dim: 8, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 64 });
 * console.log(f[0]); // 1
 * ```
 */
export function ropeFrequencies(config: RopeConfig): Float64Array {
  checkRope(config);
  const d = config.qk_rope_head_dim;
  const f = new Float64Array(d / 2);
  for (let i = 0; i < d / 2; i++) f[i] = config.rope_theta ** ((-2 * i) / d);
  const s = config.rope_scaling;
  if (s) {
    const { low, high: h } = yarnRange(d, config.rope_theta, s);
    const high = low === h ? h + 0.001 : h;
    for (let i = 0; i < d / 2; i++) {
      const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
      f[i] = (1 - ramp) * f[i] + (ramp * f[i]) / s.factor;
    }
  }
  return f;
}

/**
 * cos/sin tables [positions.length, d/2] for the given positions, computed in float64 and rounded to
 * float32. Not multiplied by any YaRN attention factor.
 *
 * @param config - The RoPE fields of a model config (see {@link ropeFrequencies}).
 * @param positions - Token positions, one row of the tables each.
 *
 * @example
 * ```ts
 * import { ropeCosSin } from '@r1-ts/tensor-kernels';
 * const { cos, sin } = ropeCosSin({ qk_rope_head_dim: 8, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 64 }, [0, 1, 2]);
 * console.log(cos.shape); // [3, 4]
 * ```
 */
export function ropeCosSin(config: RopeConfig, positions: ArrayLike<number>): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const f = ropeFrequencies(config);
  const half = f.length;
  const cos = new Float32Array(positions.length * half);
  const sin = new Float32Array(positions.length * half);
  for (let p = 0; p < positions.length; p++) {
    for (let i = 0; i < half; i++) {
      const phi = positions[p] * f[i];
      cos[p * half + i] = Math.cos(phi);
      sin[p * half + i] = Math.sin(phi);
    }
  }
  return { cos: tf.tensor2d(cos, [positions.length, half]), sin: tf.tensor2d(sin, [positions.length, half]) };
}

/**
 * YaRN attention magnitude m = 0.1·mscale_all_dim·ln(factor) + 1 (1 without `rope_scaling`, or
 * when factor ≤ 1).
 *
 * @param scaling - The config's `rope_scaling` (YaRN), or null.
 *
 * @example
 * ```ts
 * import { yarnMscale } from '@r1-ts/tensor-kernels';
 * console.log(yarnMscale(null)); // 1
 * ```
 */
export function yarnMscale(scaling: YarnScaling | null): number {
  if (!scaling || scaling.factor <= 1) return 1;
  return 0.1 * scaling.mscale_all_dim * Math.log(scaling.factor) + 1;
}

/**
 * MLA softmax scale (d_nope + d_rope)^−½ · m² (golden/README §4.3).
 *
 * @param config - The MLA head sizes `qk_nope_head_dim`, `qk_rope_head_dim` and the `rope_scaling` (for m).
 *
 * @example
 * ```ts
 * import { softmaxScale } from '@r1-ts/tensor-kernels';
 * console.log(softmaxScale({ qk_nope_head_dim: 16, qk_rope_head_dim: 8, rope_scaling: null })); // 1/sqrt(24)
 * ```
 */
export function softmaxScale(config: { qk_nope_head_dim: number; qk_rope_head_dim: number; rope_scaling: YarnScaling | null }): number {
  const m = yarnMscale(config.rope_scaling);
  return (config.qk_nope_head_dim + config.qk_rope_head_dim) ** -0.5 * m * m;
}
