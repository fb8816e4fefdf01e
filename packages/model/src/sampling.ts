import { ConfigError } from '@r1-ts/tensor-kernels';
import type { Rng } from '@r1-ts/tensor-kernels';

/**
 * How the next token is chosen.
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { sampleToken, type SamplingOptions } from '@r1-ts/model';
 * const r1Sampling: SamplingOptions = { temperature: 0.6, topP: 0.95 }; // R1's evaluation setting
 * console.log(sampleToken(new Float32Array([1, 2, 3]), r1Sampling, new Rng(0)).id); // 0, 1 or 2
 * ```
 */
export interface SamplingOptions {
  /** 0 = greedy. Default 1. */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP. Default 1. */
  topP?: number;
  /** Keep only the topK most likely tokens (0 = off). Default 0. */
  topK?: number;
}

/**
 * One sampled token and its log-probability under the temperature-scaled distribution.
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { sampleToken, type SampledToken } from '@r1-ts/model';
 * const t: SampledToken = sampleToken(new Float32Array([0, 0]), { temperature: 0 }, new Rng(0));
 * console.log(t.logProb); // log(1/2) ≈ -0.693
 * ```
 */
export interface SampledToken {
  id: number;
  logProb: number;
}

/**
 * Checks sampling options and returns them with defaults filled in.
 *
 * @param options - `temperature` ≥ 0 (default 1), `topP` in (0, 1] (default 1) and `topK` ≥ 0 (default 0 = off).
 *
 * @example
 * ```ts
 * import { resolveSampling } from '@r1-ts/model';
 * console.log(resolveSampling({ temperature: 0.6 })); // { temperature: 0.6, topP: 1, topK: 0 }
 * ```
 */
export function resolveSampling(options: SamplingOptions = {}): Required<SamplingOptions> {
  const { temperature = 1, topP = 1, topK = 0 } = options;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new ConfigError(`temperature must be >= 0, got ${temperature}`, ['temperature']);
  if (!(topP > 0 && topP <= 1)) throw new ConfigError(`topP must be in (0, 1], got ${topP}`, ['topP']);
  if (!Number.isInteger(topK) || topK < 0) throw new ConfigError(`topK must be a non-negative integer, got ${topK}`, ['topK']);
  return { temperature, topP, topK };
}

/**
 * Samples one token from a row of logits. The reported log-probability is that of the chosen token
 * under softmax(logits / temperature) before top-k/top-p truncation (what GRPO's ratio uses);
 * greedy (temperature 0) reports the log-probability under softmax(logits).
 *
 * @param logits - One row of logits over the vocabulary [V].
 * @param options - `temperature` (0 = greedy, default 1), `topK` (0 = off, the default) and `topP` (1 = off, the default); checked with {@link resolveSampling}.
 * @param rng - Seeded generator of the draw.
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { sampleToken } from '@r1-ts/model';
 * const t = sampleToken(new Float32Array([0, 5, 0]), { temperature: 0 }, new Rng(1));
 * console.log(t.id); // 1
 * ```
 */
export function sampleToken(logits: Float32Array, options: Required<SamplingOptions> | SamplingOptions, rng: Rng): SampledToken {
  const { temperature, topP, topK } = resolveSampling(options);
  const V = logits.length;
  const t = temperature === 0 ? 1 : temperature;
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > max) max = logits[i];
  const probs = new Float64Array(V);
  let z = 0;
  for (let i = 0; i < V; i++) z += probs[i] = Math.exp((logits[i] - max) / t);
  const logZ = Math.log(z);
  const logProb = (i: number) => (logits[i] - max) / t - logZ;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return { id: best, logProb: logProb(best) };
  }
  let order: number[] | null = null;
  let keep = V;
  if (topK > 0 && topK < V) {
    order = sortedIndices(probs);
    keep = topK;
  }
  if (topP < 1) {
    order ??= sortedIndices(probs);
    let acc = 0;
    for (let r = 0; r < keep; r++) {
      acc += probs[order[r]] / z;
      if (acc >= topP) {
        keep = r + 1;
        break;
      }
    }
  }
  const candidates = order ? order.slice(0, keep) : null;
  let mass = 0;
  if (candidates) for (const i of candidates) mass += probs[i];
  else mass = z;
  let u = rng.uniform() * mass;
  const pick = (i: number) => {
    u -= probs[i];
    return u <= 0;
  };
  if (candidates) {
    for (const i of candidates) if (pick(i)) return { id: i, logProb: logProb(i) };
    const last = candidates[candidates.length - 1];
    return { id: last, logProb: logProb(last) };
  }
  for (let i = 0; i < V; i++) if (pick(i)) return { id: i, logProb: logProb(i) };
  return { id: V - 1, logProb: logProb(V - 1) };
}

function sortedIndices(p: Float64Array): number[] {
  return Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
}
