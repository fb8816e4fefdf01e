// Lightning-indexer selection without the [B, Sq, Sk] score matrix (DeepSeek-V3.2; golden/README §4.6
// steps 4–5): per query t, I[t, s] = scale·Σ_h w[t, h]·ReLU(q[t, h]·k[s]) over the allowed keys only
// (causal, not padding), and its top-k kept in a k-entry heap. O(Sq·Sk·Hi·Di) multiply-adds, O(Sq·k)
// memory. Ties go to the lower key index, as tf.topk. Not differentiable (selection is piecewise constant).
import type { TensorInfo } from '@tensorflow/tfjs';
import type { KernelArray, KernelSpec } from './kernel_spec';

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

/** Selected keys per query, ascending, −1 padded. */
export const indexerTopKSpec: KernelSpec = {
  kernelName: IndexerTopK,
  outputs: ({ q }: Record<string, TensorInfo>, attrs) => [{ shape: [q.shape[0], q.shape[1], (attrs as unknown as IndexerTopKAttrs).topk], dtype: 'int32' }],
  compute({ q, w, k, keyMask }: Record<string, KernelArray>, [out], attrs) {
    const { topk, scale } = attrs as unknown as IndexerTopKAttrs;
    const [B, Sq, Hi, Di] = q.shape;
    const Sk = k.shape[1];
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
          if (n < topk) {
            // sift up
            let i = n++;
            while (i > 0) {
              const parent = (i - 1) >> 1;
              if (!worse(score, s, hv[parent], hi[parent])) break;
              hv[i] = hv[parent];
              hi[i] = hi[parent];
              i = parent;
            }
            hv[i] = score;
            hi[i] = s;
          } else if (worse(hv[0], hi[0], score, s)) {
            // replace the root, sift down
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
          }
        }
        const chosen = Array.from(hi.subarray(0, n)).sort((x, y) => x - y);
        for (let j = 0; j < n; j++) out[row * topk + j] = chosen[j];
      }
    }
  },
};
