// The attention probabilities p = softmax(scale·scores + mask) with causal, sparse index-set and
// key-padding masks (V3.2 DSA sparse attention; golden/README §4.6), and the softmax backward.
import { MaskedSoftmax, MaskedSoftmaxGrad } from '../kernel_names';
import type { MaskedSoftmaxAttrs } from '../kernel_names';
import type { TypedArray } from '@tensorflow/tfjs';
import { f32 } from './kernel_spec';
import type { KernelArray, KernelSpec } from './kernel_spec';
import { nativeKernels } from '../backend/native_addon';

/**
 * allowed[b, i, j] = 1 when key j is in query i's index set (if indices are given) and is a real
 * key (if keyMask is given); the causal test is done inline. Duplicate or out-of-range indices
 * select nothing extra.
 */
function allowedKeys(B: number, Sq: number, Sk: number, indices?: KernelArray, keyMask?: KernelArray): Uint8Array | null {
  if (!indices && !keyMask) return null;
  const allowed = new Uint8Array(B * Sq * Sk);
  if (indices) {
    const I = indices.values;
    const k = indices.shape[2];
    for (let row = 0; row < B * Sq; row++) {
      for (let s = 0; s < k; s++) {
        const j = I[row * k + s];
        if (j >= 0 && j < Sk) allowed[row * Sk + j] = 1;
      }
    }
  } else {
    allowed.fill(1);
  }
  if (keyMask) {
    const M = keyMask.values;
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < Sk; j++) {
        if (M[b * Sk + j] === 0) for (let i = 0; i < Sq; i++) allowed[(b * Sq + i) * Sk + j] = 0;
      }
    }
  }
  return allowed;
}

/** Value written for a masked key by {@link maskScores}: exp(MASKED − max) is exactly 0. */
export const MASKED = -1e30;

/**
 * out = scale·scores where the key is allowed, {@link MASKED} where not. Returns, per row of
 * [B, H, Sq], whether it has no allowed key (such rows must come out all zeros).
 */
export function maskScores(inputs: Record<string, KernelArray>, out: TypedArray, attrs: MaskedSoftmaxAttrs): Uint8Array {
  const { scores, indices, keyMask } = inputs;
  const { scale, causal } = attrs;
  const [B, H, Sq, Sk] = scores.shape;
  const X = scores.values;
  const allowed = allowedKeys(B, Sq, Sk, indices, keyMask);
  const empty = new Uint8Array(B * H * Sq);
  for (let b = 0; b < B; b++) {
    for (let hh = 0; hh < H; hh++) {
      for (let i = 0; i < Sq; i++) {
        const row = (b * H + hh) * Sq + i;
        const o = row * Sk;
        const a = (b * Sq + i) * Sk; // row of `allowed`
        // Query i sits at key position Sk − Sq + i and sees keys ≤ that.
        const end = causal ? Math.min(Sk, Math.max(0, Sk - Sq + i + 1)) : Sk;
        let any = false;
        for (let j = 0; j < end; j++) {
          const ok = !allowed || allowed[a + j] === 1;
          out[o + j] = ok ? scale * X[o + j] : MASKED;
          any ||= ok;
        }
        out.fill(MASKED, o + end, o + Sk);
        if (!any) empty[row] = 1;
      }
    }
  }
  return empty;
}

/** scores [B, H, Sq, Sk] (+ indices [B, Sq, k] int32, keyMask [B, Sk]) → p [B, H, Sq, Sk]. */
export const maskedSoftmaxSpec: KernelSpec = {
  kernelName: MaskedSoftmax,
  outputs: ({ scores }) => [{ shape: scores.shape, dtype: 'float32' }],
  compute(inputs, [p], attrs) {
    const Sk = inputs.scores.shape[3];
    const native = nativeKernels();
    if (native) {
      const { scale, causal } = attrs as unknown as MaskedSoftmaxAttrs;
      const [B, H, Sq] = inputs.scores.shape;
      const allowed = allowedKeys(B, Sq, Sk, inputs.indices, inputs.keyMask);
      return native.maskedSoftmax(f32(inputs.scores), f32(p), allowed, B, H, Sq, Sk, scale, causal);
    }
    const empty = maskScores(inputs, p, attrs as unknown as MaskedSoftmaxAttrs);
    for (let row = 0, o = 0; o < p.length; row++, o += Sk) {
      if (empty[row]) {
        p.fill(0, o, o + Sk);
        continue;
      }
      let m = -Infinity;
      for (let j = 0; j < Sk; j++) if (p[o + j] > m) m = p[o + j];
      let sum = 0;
      for (let j = 0; j < Sk; j++) {
        const e = Math.exp(p[o + j] - m);
        p[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < Sk; j++) p[o + j] *= inv;
    }
  },
};

/** p, dp → dScores = scale · p ⊙ (dp − Σ p·dp) per row. */
export const maskedSoftmaxGradSpec: KernelSpec = {
  kernelName: MaskedSoftmaxGrad,
  outputs: ({ p }) => [{ shape: p.shape, dtype: 'float32' }],
  compute({ p, dp }, [ds], attrs) {
    const { scale, causal } = attrs as unknown as MaskedSoftmaxAttrs;
    const P = p.values;
    const G = dp.values;
    const Sk = p.shape[p.shape.length - 1];
    const native = nativeKernels();
    if (native) return native.maskedSoftmaxGrad(f32(P), f32(G), f32(ds), P.length / Sk, Sk, scale, p.shape[p.shape.length - 2] ?? 1, causal);
    for (let o = 0; o < P.length; o += Sk) {
      let dot = 0;
      for (let j = 0; j < Sk; j++) dot += P[o + j] * G[o + j];
      for (let j = 0; j < Sk; j++) ds[o + j] = scale * P[o + j] * (G[o + j] - dot);
    }
  },
};
