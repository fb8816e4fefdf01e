// Gathered sparse attention (DeepSeek-V3.2 DSA; golden/README §4.6): each query attends only to its
// own key set indices[b, i, :] (shared by the heads), so work and memory are O(Sq·k), never O(Sq·Sk).
// Forward: o = Σ_s p_s·v_{j_s} with p = softmax over the valid slots of scale·q·k_{j_s}; it also returns
// p [B, H, Sq, k] (0 in invalid slots) for the backward. Backward: ds = scale·p⊙(dp − Σp·dp).
import type { NamedAttrMap, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import type { KernelArray, KernelSpec } from './kernel_spec';

/** Kernel name: inputs q, k, v, indices (+ keyMask) → [o, p]. */
export const SparseAttention = 'R1SparseAttention';
/** Kernel name of the backward: inputs q, k, v, indices, p, dy → [dq, dk, dv]. */
export const SparseAttentionGrad = 'R1SparseAttentionGrad';

/** Attributes of {@link SparseAttention} and {@link SparseAttentionGrad}. */
export interface SparseAttentionAttrs {
  /** Softmax scale applied to q·k. */
  scale: number;
  /** Query i of Sq sits at key position Sk − Sq + i and sees keys ≤ that. */
  causal: boolean;
}

const attrsOf = (attrs: NamedAttrMap) => attrs as unknown as SparseAttentionAttrs;

/**
 * The valid slots of one query row: in range, causal, not padding, first occurrence. Writes their
 * slot numbers into `slots` and returns how many. `seen`/`stamp` deduplicate without clearing.
 */
function validSlots(
  I: TypedArray, rowOff: number, kSel: number, Sk: number, maxKey: number,
  mask: TypedArray | null, maskOff: number, seen: Int32Array, stamp: number, slots: Int32Array,
): number {
  let n = 0;
  for (let s = 0; s < kSel; s++) {
    const j = I[rowOff + s];
    if (j < 0 || j >= Sk || j > maxKey || seen[j] === stamp) continue;
    if (mask && mask[maskOff + j] === 0) continue;
    seen[j] = stamp;
    slots[n++] = s;
  }
  return n;
}

/** q [B, H, Sq, Dk], k [B, H, Sk, Dk], v [B, H, Sk, Dv], indices [B, Sq, kSel] → o [B, H, Sq, Dv], p [B, H, Sq, kSel]. */
export const sparseAttentionSpec: KernelSpec = {
  kernelName: SparseAttention,
  outputs: ({ q, v, indices }: Record<string, TensorInfo>) => {
    const [B, H, Sq] = q.shape;
    return [
      { shape: [B, H, Sq, v.shape[3]], dtype: 'float32' },
      { shape: [B, H, Sq, indices.shape[2]], dtype: 'float32' },
    ];
  },
  compute({ q, k, v, indices, keyMask }: Record<string, KernelArray>, [o, p], attrs) {
    const { scale, causal } = attrsOf(attrs);
    const [B, H, Sq, Dk] = q.shape;
    const Sk = k.shape[2];
    const Dv = v.shape[3];
    const kSel = indices.shape[2];
    const Q = q.values, K = k.values, V = v.values, I = indices.values;
    const M = keyMask ? keyMask.values : null;
    const seen = new Int32Array(Sk).fill(-1);
    const slots = new Int32Array(kSel);
    const keys = new Int32Array(kSel);
    const w = new Float64Array(kSel);
    p.fill(0);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < Sq; i++) {
        const row = b * Sq + i;
        const maxKey = causal ? Sk - Sq + i : Sk - 1;
        const n = validSlots(I, row * kSel, kSel, Sk, maxKey, M, b * Sk, seen, row, slots);
        for (let t = 0; t < n; t++) keys[t] = I[row * kSel + slots[t]];
        for (let h = 0; h < H; h++) {
          const bh = b * H + h;
          const qo = (bh * Sq + i) * Dk;
          const po = (bh * Sq + i) * kSel;
          const oo = (bh * Sq + i) * Dv;
          o.fill(0, oo, oo + Dv);
          if (n === 0) continue; // no allowed key: zeros
          let max = -Infinity;
          for (let t = 0; t < n; t++) {
            const ko = (bh * Sk + keys[t]) * Dk;
            let dot = 0;
            for (let c = 0; c < Dk; c++) dot += Q[qo + c] * K[ko + c];
            const sc = scale * dot;
            w[t] = sc;
            if (sc > max) max = sc;
          }
          let sum = 0;
          for (let t = 0; t < n; t++) {
            const e = Math.exp(w[t] - max);
            w[t] = e;
            sum += e;
          }
          const inv = 1 / sum;
          for (let t = 0; t < n; t++) {
            const pt = w[t] * inv;
            p[po + slots[t]] = pt;
            const vo = (bh * Sk + keys[t]) * Dv;
            for (let c = 0; c < Dv; c++) o[oo + c] += pt * V[vo + c];
          }
        }
      }
    }
  },
};

/** Backward: q, k, v, indices, p (saved), dy [B, H, Sq, Dv] → dq, dk, dv. Slots with p = 0 contribute nothing. */
export const sparseAttentionGradSpec: KernelSpec = {
  kernelName: SparseAttentionGrad,
  outputs: ({ q, k, v }: Record<string, TensorInfo>) => [
    { shape: q.shape, dtype: 'float32' },
    { shape: k.shape, dtype: 'float32' },
    { shape: v.shape, dtype: 'float32' },
  ],
  compute({ q, k, v, indices, p, dy }: Record<string, KernelArray>, [dq, dk, dv], attrs) {
    const { scale } = attrsOf(attrs);
    const [B, H, Sq, Dk] = q.shape;
    const Sk = k.shape[2];
    const Dv = v.shape[3];
    const kSel = indices.shape[2];
    const Q = q.values, K = k.values, V = v.values, I = indices.values, P = p.values, G = dy.values;
    const dp = new Float64Array(kSel);
    dq.fill(0);
    dk.fill(0);
    dv.fill(0);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const bh = b * H + h;
        for (let i = 0; i < Sq; i++) {
          const ro = (b * Sq + i) * kSel;
          const po = (bh * Sq + i) * kSel;
          const qo = (bh * Sq + i) * Dk;
          const go = (bh * Sq + i) * Dv;
          let dot = 0;
          for (let s = 0; s < kSel; s++) {
            const ps = P[po + s];
            if (ps === 0) continue;
            const vo = (bh * Sk + I[ro + s]) * Dv;
            let d = 0;
            for (let c = 0; c < Dv; c++) d += G[go + c] * V[vo + c];
            dp[s] = d;
            dot += ps * d;
          }
          for (let s = 0; s < kSel; s++) {
            const ps = P[po + s];
            if (ps === 0) continue;
            const j = I[ro + s];
            const ds = scale * ps * (dp[s] - dot);
            const ko = (bh * Sk + j) * Dk;
            for (let c = 0; c < Dk; c++) {
              dq[qo + c] += ds * K[ko + c];
              dk[ko + c] += ds * Q[qo + c];
            }
            const vo = (bh * Sk + j) * Dv;
            for (let c = 0; c < Dv; c++) dv[vo + c] += ps * G[go + c];
          }
        }
      }
    }
  },
};
