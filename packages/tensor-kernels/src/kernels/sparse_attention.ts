// Gathered sparse attention (DeepSeek-V3.2 DSA; golden/README §4.6): each query attends only to its
// own key set indices[b, i, :] (shared by the heads), so work and memory are O(Sq·k), never O(Sq·Sk).
// Forward: o = Σ_s p_s·v_{j_s} with p = softmax over the valid slots of scale·q·k_{j_s}; it also returns
// p [B, H, Sq, k] (0 in invalid slots) for the backward. Backward: ds = scale·p⊙(dp − Σp·dp).
// Keys and values may have one head shared by all query heads (MQA: the absorbed MLA form), and every
// operand may be [B, S, H, D] instead of [B, H, S, D] (attr `layout`). With the native addon the same
// math runs in C (native/dsa.c: vectorised, threaded, cache-aware); these loops are the fallback.
import type { NamedAttrMap, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import { asF32, asI32, f32 } from './kernel_spec';
import type { KernelArray, KernelSpec } from './kernel_spec';
import { nativeKernels } from '../backend/native_addon';

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
  /**
   * Axis order of q, k, v, o (and p): 'bhsd' = [B, H, S, D] (default), 'bshd' = [B, S, H, D] (the
   * projections' own order: no transposes, and one selected key's heads sit together in memory).
   */
  layout?: 'bhsd' | 'bshd';
}

const attrsOf = (attrs: NamedAttrMap) => attrs as unknown as SparseAttentionAttrs;

/** Element strides of one [B, H, S, D]-like operand: batch, head (0 when one head is shared), position. */
interface Strides { b: number; h: number; s: number }

/** Strides of a tensor of the given shape in `layout`; its head count must be 1 (shared) or H. */
function stridesOf(shape: number[], layout: 'bhsd' | 'bshd'): Strides {
  const [, a1, a2, d] = shape;
  if (layout === 'bshd') return { b: a1 * a2 * d, s: a2 * d, h: a2 === 1 ? 0 : d }; // [B, S, H, D]
  return { b: a1 * a2 * d, h: a1 === 1 ? 0 : a2 * d, s: d }; // [B, H, S, D]
}

/** (B, H, S) of a [B, H, S, D]-like shape in `layout`. */
const dimsOf = (shape: number[], layout: 'bhsd' | 'bshd') => (layout === 'bshd' ? [shape[0], shape[2], shape[1]] : [shape[0], shape[1], shape[2]]);

/** The shape of a [B, H, S, D]-like operand in `layout`. */
const shapeOf = (B: number, H: number, S: number, D: number, layout: 'bhsd' | 'bshd') => (layout === 'bshd' ? [B, S, H, D] : [B, H, S, D]);

/** Σ_c a[ao + c]·b[bo + c] with four independent partial sums (a single chain is add-latency bound). */
function dotAt(a: TypedArray, ao: number, b: TypedArray, bo: number, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let c = 0;
  for (; c + 3 < n; c += 4) {
    s0 += a[ao + c] * b[bo + c];
    s1 += a[ao + c + 1] * b[bo + c + 1];
    s2 += a[ao + c + 2] * b[bo + c + 2];
    s3 += a[ao + c + 3] * b[bo + c + 3];
  }
  for (; c < n; c++) s0 += a[ao + c] * b[bo + c];
  return s0 + s1 + (s2 + s3);
}

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

/**
 * q [B, H, Sq, Dk], k [B, Hk, Sk, Dk], v [B, Hk, Sk, Dv] (Hk = H, or 1 = keys shared by the heads, MQA),
 * indices [B, Sq, kSel] → o [B, H, Sq, Dv], p [B, H, Sq, kSel]; with layout 'bshd' every operand is
 * [B, S, H, ·] instead.
 */
export const sparseAttentionSpec: KernelSpec = {
  kernelName: SparseAttention,
  outputs: ({ q, v, indices }: Record<string, TensorInfo>, attrs) => {
    const layout = attrsOf(attrs).layout ?? 'bhsd';
    const [B, H, Sq] = dimsOf(q.shape, layout);
    return [
      { shape: shapeOf(B, H, Sq, v.shape[3], layout), dtype: 'float32' },
      { shape: shapeOf(B, H, Sq, indices.shape[2], layout), dtype: 'float32' },
    ];
  },
  compute({ q, k, v, indices, keyMask }: Record<string, KernelArray>, [o, p], attrs) {
    const { scale, causal } = attrsOf(attrs);
    const layout = attrsOf(attrs).layout ?? 'bhsd';
    const [B, H, Sq] = dimsOf(q.shape, layout);
    const Sk = dimsOf(k.shape, layout)[2];
    const Dk = q.shape[3];
    const Dv = v.shape[3];
    const kSel = indices.shape[2];
    const native = nativeKernels();
    if (native) {
      const mask = keyMask ? asF32(keyMask.values) : null;
      const Hk = dimsOf(k.shape, layout)[1];
      return native.sparseAttention(f32(q), f32(k), f32(v), asI32(indices.values), mask, f32(o), f32(p), B, H, Hk, Sq, Sk, Dk, Dv, kSel, layout === 'bshd', scale, causal);
    }
    const sq = stridesOf(q.shape, layout), sk = stridesOf(k.shape, layout), sv = stridesOf(v.shape, layout);
    const so = stridesOf(shapeOf(B, H, Sq, Dv, layout), layout);
    const sp = stridesOf(shapeOf(B, H, Sq, kSel, layout), layout);
    const Q = q.values, K = k.values, V = v.values, I = indices.values;
    const M = keyMask ? keyMask.values : null;
    const seen = new Int32Array(Sk).fill(-1);
    const slots = new Int32Array(kSel);
    const kOff = new Int32Array(kSel); // the selected keys' offsets in K (head 0)
    const vOff = new Int32Array(kSel);
    const w = new Float64Array(kSel);
    const acc = new Float64Array(Dv);
    p.fill(0);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < Sq; i++) {
        const row = b * Sq + i;
        const maxKey = causal ? Sk - Sq + i : Sk - 1;
        const n = validSlots(I, row * kSel, kSel, Sk, maxKey, M, b * Sk, seen, row, slots);
        for (let t = 0; t < n; t++) {
          const j = I[row * kSel + slots[t]];
          kOff[t] = b * sk.b + j * sk.s;
          vOff[t] = b * sv.b + j * sv.s;
        }
        for (let h = 0; h < H; h++) {
          const qo = b * sq.b + h * sq.h + i * sq.s;
          const po = b * sp.b + h * sp.h + i * sp.s;
          const oo = b * so.b + h * so.h + i * so.s;
          if (n === 0) {
            o.fill(0, oo, oo + Dv); // no allowed key: zeros
            continue;
          }
          const kh = h * sk.h;
          let max = -Infinity;
          for (let t = 0; t < n; t++) {
            const sc = scale * dotAt(Q, qo, K, kOff[t] + kh, Dk);
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
          acc.fill(0);
          const vh = h * sv.h;
          for (let t = 0; t < n; t++) {
            const pt = w[t] * inv;
            p[po + slots[t]] = pt;
            const vo = vOff[t] + vh;
            for (let c = 0; c < Dv; c++) acc[c] += pt * V[vo + c];
          }
          for (let c = 0; c < Dv; c++) o[oo + c] = acc[c];
        }
      }
    }
  },
};

/**
 * Backward: q, k, v, indices, p (saved), dy (o's shape) → dq, dk, dv (shared-head k/v sum over the
 * heads). Slots with p = 0 contribute nothing.
 */
export const sparseAttentionGradSpec: KernelSpec = {
  kernelName: SparseAttentionGrad,
  outputs: ({ q, k, v }: Record<string, TensorInfo>) => [
    { shape: q.shape, dtype: 'float32' },
    { shape: k.shape, dtype: 'float32' },
    { shape: v.shape, dtype: 'float32' },
  ],
  compute({ q, k, v, indices, p, dy }: Record<string, KernelArray>, [dq, dk, dv], attrs) {
    const { scale } = attrsOf(attrs);
    const layout = attrsOf(attrs).layout ?? 'bhsd';
    const [B, H, Sq] = dimsOf(q.shape, layout);
    const Dk = q.shape[3];
    const Dv = v.shape[3];
    const kSel = indices.shape[2];
    const native = nativeKernels();
    if (native) {
      const [, Hk, Sk] = dimsOf(k.shape, layout);
      return native.sparseAttentionGrad(f32(q), f32(k), f32(v), asI32(indices.values), f32(p), f32(dy), f32(dq), f32(dk), f32(dv), B, H, Hk, Sq, Sk, Dk, Dv, kSel, layout === 'bshd', scale);
    }
    const sq = stridesOf(q.shape, layout), sk = stridesOf(k.shape, layout), sv = stridesOf(v.shape, layout);
    const sg = stridesOf(dy.shape, layout), sp = stridesOf(p.shape, layout);
    const Q = q.values, K = k.values, V = v.values, I = indices.values, P = p.values, G = dy.values;
    const dp = new Float64Array(kSel);
    const gq = new Float64Array(Dk);
    dq.fill(0);
    dk.fill(0);
    dv.fill(0);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < Sq; i++) {
        const ro = (b * Sq + i) * kSel;
        for (let h = 0; h < H; h++) {
          const po = b * sp.b + h * sp.h + i * sp.s;
          const qo = b * sq.b + h * sq.h + i * sq.s;
          const go = b * sg.b + h * sg.h + i * sg.s;
          let dot = 0;
          for (let s = 0; s < kSel; s++) {
            const ps = P[po + s];
            if (ps === 0) continue;
            const d = dotAt(G, go, V, b * sv.b + h * sv.h + I[ro + s] * sv.s, Dv);
            dp[s] = d;
            dot += ps * d;
          }
          gq.fill(0);
          for (let s = 0; s < kSel; s++) {
            const ps = P[po + s];
            if (ps === 0) continue;
            const j = I[ro + s];
            const ds = scale * ps * (dp[s] - dot);
            const ko = b * sk.b + h * sk.h + j * sk.s;
            for (let c = 0; c < Dk; c++) {
              gq[c] += ds * K[ko + c];
              dk[ko + c] += ds * Q[qo + c];
            }
            const vo = b * sv.b + h * sv.h + j * sv.s;
            for (let c = 0; c < Dv; c++) dv[vo + c] += ps * G[go + c];
          }
          for (let c = 0; c < Dk; c++) dq[qo + c] = gq[c];
        }
      }
    }
  },
};
