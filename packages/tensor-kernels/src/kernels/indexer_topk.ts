// Lightning-indexer selection without the [B, Sq, Sk] score matrix (DeepSeek-V3.2; golden/README §4.6
// steps 4–5): per query t, I[t, s] = scale·Σ_h w[t, h]·ReLU(q[t, h]·k[s]) over the allowed keys only
// (causal, not padding), and its top-k kept in a k-entry heap. O(Sq·Sk·Hi·Di) multiply-adds, O(Sq·k)
// memory. Ties go to the lower key index, as tf.topk. Not differentiable (selection is piecewise constant).
// With the native addon both the kernel and chunkTopK run in C (native/dsa.c: each query's scores in
// one fused pass over keys packed in 16-key blocks, then a threshold-filtered selection of the same
// sets); these loops are the fallback.
import type { TensorInfo } from '@tensorflow/tfjs';
import { asF32, f32 } from './kernel_spec';
import type { KernelArray, KernelSpec } from './kernel_spec';
import { nativeKernels } from '../backend/native_addon';

/** Kernel name: inputs q [B, Sq, Hi, Di], w [B, Sq, Hi], k [B, Sk, Di] (+ keyMask [B, Sk]) → indices [B, Sq, topk] int32. */
export const IndexerTopK = 'R1IndexerTopK';

/** Attributes of {@link IndexerTopK}. */
export interface IndexerTopKAttrs {
  /** Keys kept per query (slots beyond the allowed count are −1). */
  topk: number;
  /** Multiplies every score (Di^−½; w already carries Hi^−½). */
  scale: number;
}

/** Heap order: a is worse than b (lower score, or equal score and higher index). */
const worse = (va: number, ia: number, vb: number, ib: number) => va < vb || (va === vb && ia > ib);

/**
 * Offers (score, key s) to a bounded min-heap (worst at the root) holding n of at most topk entries:
 * sifts it in while there is room, else replaces the root when the root is worse. Returns the new n.
 */
function offer(hv: Float64Array, hi: Int32Array, n: number, topk: number, score: number, s: number): number {
  if (n < topk) {
    let i = n;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!worse(score, s, hv[parent], hi[parent])) break;
      hv[i] = hv[parent];
      hi[i] = hi[parent];
      i = parent;
    }
    hv[i] = score;
    hi[i] = s;
    return n + 1;
  }
  if (!worse(hv[0], hi[0], score, s)) return n;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= topk) break;
    const r = l + 1;
    const c = r < topk && worse(hv[r], hi[r], hv[l], hi[l]) ? r : l;
    if (!worse(hv[c], hi[c], score, s)) break;
    hv[i] = hv[c];
    hi[i] = hi[c];
    i = c;
  }
  hv[i] = score;
  hi[i] = s;
  return n;
}

/**
 * Streaming top-k of one chunk of queries from precomputed head dots (the GEMM path of the op):
 * dots [Cq, Hi, width] holds q[t, h]·k[s] for the chunk's queries t and the keys s < width; query r of
 * the chunk sits at key position `firstPos + r` and sees keys s ≤ that (and not masked). Scores
 * Σ_h (scale·w[t, h])·ReLU(dot) are formed on the fly and kept in a k-entry heap: O(Cq·width·Hi) reads,
 * no score matrix. Writes each query's selected keys ascending, −1 padded, at out[outOff + r·topk].
 * Ties go to the lower key index (keys are scanned in ascending order, so a later equal score never
 * displaces an earlier one).
 *
 * @param w - the chunk's head weights [Cq·Hi] (unscaled; `scale` multiplies every score)
 * @param mask - key mask row of this batch element [≥ width] (0 = padding), or null
 * @example
 * ```ts
 * const out = new Int32Array(2);
 * // one query at position 2, one head, keys 0..2 with dots 1, 3, 2: top-2 = keys 1, 2
 * chunkTopK(Float32Array.from([1, 3, 2]), Float32Array.from([1]), 1, 1, 3, 2, 2, 1, null, out, 0);
 * console.log([...out]); // [1, 2]
 * ```
 */
export function chunkTopK(
  dots: Float32Array, w: ArrayLike<number>, Cq: number, Hi: number, width: number, firstPos: number,
  topk: number, scale: number, mask: ArrayLike<number> | null, out: Int32Array, outOff: number,
): void {
  const native = nativeKernels();
  if (native) return native.chunkTopK(dots, asF32(w), mask && asF32(mask), out, Cq, Hi, width, firstPos, topk, scale, outOff);
  const hv = new Float64Array(topk); // min-heap of (value, index), worst at the root
  const hi = new Int32Array(topk);
  const row = new Float64Array(width); // the scores of one query
  const chosen = new Int32Array(topk);
  for (let r = 0; r < Cq; r++) {
    const last = Math.min(width - 1, firstPos + r);
    if (Hi === 0) row.fill(0);
    // Head-outer, branch-free: w·ReLU(d) = (w/2)·(d + |d|) (a data-dependent branch mispredicts half the time).
    for (let h = 0; h < Hi; h++) {
      const wh = 0.5 * scale * w[r * Hi + h];
      const base = (r * Hi + h) * width;
      if (h === 0) {
        for (let s = 0; s <= last; s++) {
          const d = dots[base + s];
          row[s] = wh * (d + Math.abs(d));
        }
      } else {
        for (let s = 0; s <= last; s++) {
          const d = dots[base + s];
          row[s] += wh * (d + Math.abs(d));
        }
      }
    }
    let n = 0;
    let thr = -Infinity; // the root's score once the heap is full
    for (let s = 0; s <= last; s++) {
      const score = row[s];
      if (n === topk && !(score > thr)) continue; // equal scores: the earlier (lower) key stays
      if (mask !== null && mask[s] === 0) continue;
      n = offer(hv, hi, n, topk, score, s);
      if (n === topk) thr = hv[0];
    }
    for (let j = 0; j < n; j++) chosen[j] = hi[j];
    const sel = chosen.subarray(0, n).sort();
    const o = outOff + r * topk;
    for (let j = 0; j < topk; j++) out[o + j] = j < n ? sel[j] : -1;
  }
}

/** Selected keys per query, ascending, −1 padded. */
export const indexerTopKSpec: KernelSpec = {
  kernelName: IndexerTopK,
  outputs: ({ q }: Record<string, TensorInfo>, attrs) => [{ shape: [q.shape[0], q.shape[1], (attrs as unknown as IndexerTopKAttrs).topk], dtype: 'int32' }],
  compute({ q, w, k, keyMask }: Record<string, KernelArray>, [out], attrs) {
    const { topk, scale } = attrs as unknown as IndexerTopKAttrs;
    const [B, Sq, Hi, Di] = q.shape;
    const Sk = k.shape[1];
    const native = nativeKernels();
    if (native) return native.indexerTopK(f32(q), f32(w), f32(k), keyMask ? asF32(keyMask.values) : null, out as Int32Array, B, Sq, Sk, Hi, Di, topk, scale);
    const Q = q.values, W = w.values, K = k.values;
    const M = keyMask ? keyMask.values : null;
    const hv = new Float64Array(topk); // min-heap of (value, index), worst at the root
    const hi = new Int32Array(topk);
    const qh = new Float64Array(Hi * Di);
    const wh = new Float64Array(Hi);
    out.fill(-1);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < Sq; t++) {
        const row = b * Sq + t;
        for (let e = 0; e < Hi * Di; e++) qh[e] = Q[row * Hi * Di + e];
        for (let h = 0; h < Hi; h++) wh[h] = W[row * Hi + h];
        const last = Math.min(Sk - 1, Sk - Sq + t); // causal: query t sits at Sk − Sq + t
        let n = 0;
        for (let s = 0; s <= last; s++) {
          if (M && M[b * Sk + s] === 0) continue;
          const ko = (b * Sk + s) * Di;
          let score = 0;
          for (let h = 0; h < Hi; h++) {
            let dot = 0;
            const qo = h * Di;
            for (let c = 0; c < Di; c++) dot += qh[qo + c] * K[ko + c];
            if (dot > 0) score += wh[h] * dot;
          }
          score *= scale;
          n = offer(hv, hi, n, topk, score, s);
        }
        const chosen = Array.from(hi.subarray(0, n)).sort((x, y) => x - y);
        for (let j = 0; j < n; j++) out[row * topk + j] = chosen[j];
      }
    }
  },
};
