// Top-K expert selection (golden §4.5 steps 2–4) on plain arrays: piecewise constant, so it needs no
// tensors, and one pass over [T, E] replaces a dozen small kernels.
import { nativeKernels } from '@r1-ts/tensor-kernels';
import type { MoeConfig } from './config';

const f32 = Math.fround;

/** Whether expert a ranks before expert b: higher score first, the lower index on a tie (as tf.topk). */
const before = (ua: number, a: number, ub: number, b: number) => ua > ub || (ua === ub && a < b);

/**
 * The K experts of each token, ascending per token, row-major [T·K]. u = s (+ bias for `noaux_tc`,
 * added in float32); with `n_group` > 1 only the `topk_group` best groups compete, a group scoring
 * the float32 sum of its two best u (`noaux_tc`; one when a group holds one expert) or its best u.
 */
export function selectExperts(scores: Float32Array, bias: Float32Array | null, T: number, config: MoeConfig): Int32Array {
  const native = nativeKernels();
  if (!native) return selectExpertsJs(scores, bias, T, config);
  const { n_routed_experts: E, num_experts_per_tok: K, n_group: Gn, topk_group: Gk, topk_method } = config;
  const out = new Int32Array(T * K);
  native.moeRoute(scores, bias, out, T, E, K, Gn, Gk, topk_method === 'noaux_tc'); // the same loop in C (~20× faster)
  return out;
}

/** {@link selectExperts} as JS loops (without the native addon). */
export function selectExpertsJs(scores: Float32Array, bias: Float32Array | null, T: number, config: MoeConfig): Int32Array {
  const { n_routed_experts: E, num_experts_per_tok: K, n_group: Gn, topk_group: Gk, topk_method } = config;
  const g = E / Gn;
  const limited = Gn > 1 && Gk < Gn;
  const out = new Int32Array(T * K);
  const u = new Float64Array(E);
  const allowed = new Uint8Array(E);
  const groupScore = new Float64Array(Gn);
  const keptGroup = new Uint8Array(Gn);
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) u[e] = bias ? f32(scores[t * E + e] + bias[e]) : scores[t * E + e];
    allowed.fill(1);
    if (limited) {
      for (let q = 0; q < Gn; q++) {
        let best = -Infinity;
        let second = -Infinity;
        for (let e = q * g; e < (q + 1) * g; e++) {
          if (u[e] > best) {
            second = best;
            best = u[e];
          } else if (u[e] > second) second = u[e];
        }
        groupScore[q] = topk_method === 'noaux_tc' && g >= 2 ? f32(best + second) : best;
      }
      keptGroup.fill(0);
      for (let k = 0; k < Gk; k++) {
        let pick = -1;
        for (let q = 0; q < Gn; q++) if (!keptGroup[q] && (pick < 0 || before(groupScore[q], q, groupScore[pick], pick))) pick = q;
        keptGroup[pick] = 1;
      }
      for (let e = 0; e < E; e++) allowed[e] = keptGroup[Math.floor(e / g)];
    }
    for (let k = 0; k < K; k++) {
      let pick = -1;
      for (let e = 0; e < E; e++) if (allowed[e] && (pick < 0 || before(u[e], e, u[pick], pick))) pick = e;
      allowed[pick] = 0;
      // Insertion into the ascending list of the picks so far.
      let j = k;
      for (; j > 0 && out[t * K + j - 1] > pick; j--) out[t * K + j] = out[t * K + j - 1];
      out[t * K + j] = pick;
    }
  }
  return out;
}
