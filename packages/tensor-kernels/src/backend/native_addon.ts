// The optional native addon (native/*.c, built at install by native/build.mjs): BatchMatMul on the
// system BLAS (native_gemm.ts) and C versions of the fused kernels' loops, all working on typed-array
// views of tfjs's own memory. Without it, or with `R1_NATIVE=off`, everything runs as before: tfjs's
// GEMM and the JS loops of src/kernels/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The native addon's functions (native/*.c), for r1-ts's own kernel packages: each works on typed-array
 * views of tfjs's memory, sizes are element counts, and bad sizes throw a RangeError naming the
 * function and the array. Internal: may change between minor versions.
 *
 * @example
 * ```ts
 * import { nativeKernels, type NativeAddon } from '@r1-ts/tensor-kernels';
 * const native: NativeAddon | null = nativeKernels();
 * console.log(native ? 'C loops' : 'JS loops');
 * ```
 */
export interface NativeAddon {
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, strideA: number, strideB: number): void;
  /** The BLAS library found, or null (then `gemm` throws). */
  library(): string | null;
  /** The CPU kernels OpenBLAS chose (`openblas_get_corename`, e.g. `SkylakeX`), or null for another BLAS. */
  core(): string | null;
  threads(n?: number): number;
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array, b1: number, omb1: number, b2: number, omb2: number, c1: number, c2: number, eps: number, lr: number, keep: number, decay: boolean): void;
  sumOfSquares(t: Float32Array): number;
  scale(t: Float32Array, out: Float32Array, s: number): void;
  rmsNorm(x: Float32Array, w: Float32Array, y: Float32Array, D: number, eps: number): void;
  rmsNormGrad(x: Float32Array, w: Float32Array, dy: Float32Array, dx: Float32Array, dw: Float32Array, D: number, eps: number): void;
  maskedSoftmax(scores: Float32Array, p: Float32Array, allowed: Uint8Array | null, B: number, H: number, Sq: number, Sk: number, scale: number, causal: boolean): void;
  maskedSoftmaxGrad(p: Float32Array, dp: Float32Array, ds: Float32Array, rows: number, Sk: number, scale: number, Sq: number, causal: boolean): void;
  siluMul(gate: Float32Array, up: Float32Array, y: Float32Array): void;
  siluMulGrad(gate: Float32Array, up: Float32Array, dy: Float32Array, dGate: Float32Array, dUp: Float32Array): void;
  tokenLogProbs(logits: Float32Array, targets: Int32Array, y: Float32Array, V: number): void;
  tokenLogProbsGrad(logits: Float32Array, targets: Int32Array, dy: Float32Array, dl: Float32Array, V: number): void;
  /** DSA indexer top-k (kernels/indexer_topk.ts): q [B, Sq, Hi, Di], w [B, Sq, Hi], k [B, Sk, Di], mask [B, Sk] → out [B, Sq, topk]. */
  indexerTopK(q: Float32Array, w: Float32Array, k: Float32Array, mask: Float32Array | null, out: Int32Array, B: number, Sq: number, Sk: number, Hi: number, Di: number, topk: number, scale: number): void;
  /** The streaming top-k over one block of indexer dots [Cq, Hi, width] (chunkTopK of kernels/indexer_topk.ts). */
  chunkTopK(dots: Float32Array, w: Float32Array, mask: Float32Array | null, out: Int32Array, Cq: number, Hi: number, width: number, firstPos: number, topk: number, scale: number, outOff: number): void;
  /** Gathered sparse attention (kernels/sparse_attention.ts); Hk = H or 1 (shared keys); bshd = [B, S, H, D] operands. */
  sparseAttention(q: Float32Array, k: Float32Array, v: Float32Array, indices: Int32Array, mask: Float32Array | null, o: Float32Array, p: Float32Array, B: number, H: number, Hk: number, Sq: number, Sk: number, Dk: number, Dv: number, kSel: number, bshd: boolean, scale: number, causal: boolean): void;
  sparseAttentionGrad(q: Float32Array, k: Float32Array, v: Float32Array, indices: Int32Array, p: Float32Array, dy: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array, B: number, H: number, Hk: number, Sq: number, Sk: number, Dk: number, Dv: number, kSel: number, bshd: boolean, scale: number): void;
  /** desc = [rank, srcOffset, dstOffset, run, dims…, srcStrides…, dstStrides…] (see native/copy.c). */
  stridedCopy(src: ArrayBufferView, dst: ArrayBufferView, elemBytes: number, desc: Float64Array): void;
  /** The MoE top-K expert selection of @r1-ts/moe's select.ts (native/moe.c): scores [T, E], bias [E] or null → out [T, K]. */
  moeRoute(scores: Float32Array, bias: Float32Array | null, out: Int32Array, T: number, E: number, K: number, nGroup: number, topkGroup: number, pairGroupScore: boolean): void;
  /** The MoE experts' forward (native/moe.c; needs BLAS). */
  moeForward(x: Float32Array, y: Float32Array, cache: Float32Array, weights: Float32Array[], tokens: Int32Array, starts: Int32Array, offsets: Float64Array, widths: Int32Array, rowWeights: Float32Array, order: Int32Array, D: number, sharedFirst: boolean): void;
  /** The MoE experts' backward without dx (native/moe.c). */
  moeBackward(dy: Float32Array, x: Float32Array, cache: Float32Array, weights: Float32Array[], tokens: Int32Array, starts: Int32Array, offsets: Float64Array, widths: Int32Array, rowWeights: Float32Array, pairs: Int32Array, dweight: Float32Array, dgu: Float32Array, dW: Float32Array[], D: number): void;
  /** dx of the MoE experts (native/moe.c). */
  moeGradX(dgu: Float32Array, weights: Float32Array[], tokens: Int32Array, starts: Int32Array, offsets: Float64Array, widths: Int32Array, order: Int32Array, dx: Float32Array, D: number, sharedFirst: boolean): void;
}

let addon: NativeAddon | null | undefined;
let why = '';

/** The addon, loaded once; null (see {@link nativeAddonMissing}) when it is not built or fails to load. */
export function loadNativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('@r1-ts/tensor-kernels/package.json'));
    const file = join(root, 'native', 'build', 'Release', 'r1_native.node');
    if (!existsSync(file)) {
      why = 'native addon not built (needs a C compiler and Node headers at install)';
      return null;
    }
    addon = require(file) as NativeAddon;
  } catch (e) {
    why = `native addon failed to load (${String((e as Error).message ?? e).split('\n')[0]})`;
  }
  return addon;
}

/** Why {@link loadNativeAddon} returned null ('' when it did not). */
export function nativeAddonMissing(): string {
  return why;
}

let kernelsOn = process.env.R1_NATIVE !== 'off';

/**
 * Turns the native loops of r1-ts's fused kernels (RMSNorm, masked softmax, SwiGLU, token
 * log-probs, AdamW, DSA's indexer and gathered attention) on or off; `R1_NATIVE=off` in the
 * environment starts a process with them off. They compute what the JS loops compute (AdamW bit for
 * bit, the rest to float32 rounding), several times faster. Returns whether they are now in use:
 * false when asked for but the addon is not built.
 *
 * @param on - true to use the native loops when the addon is loaded, false for the JS/wasm ones.
 *
 * @example
 * ```ts
 * import { useNativeKernels } from '@r1-ts/tensor-kernels';
 * const on = useNativeKernels(true);
 * console.log(on ? 'C kernels' : 'JS kernels (addon not built)');
 * ```
 */
export function useNativeKernels(on: boolean): boolean {
  kernelsOn = on;
  return nativeKernels() !== null;
}

/**
 * The native addon when the fused kernels should use it, else null (the JS loops run): off with
 * {@link useNativeKernels}(false) or `R1_NATIVE=off`, or when the addon is not built.
 *
 * @example
 * ```ts
 * import { nativeKernels } from '@r1-ts/tensor-kernels';
 * const native = nativeKernels();
 * const y = new Float32Array(4);
 * if (native) native.siluMul(new Float32Array([1, 2, 3, 4]), new Float32Array(4).fill(1), y);
 * ```
 */
export function nativeKernels(): NativeAddon | null {
  return kernelsOn ? loadNativeAddon() : null;
}
