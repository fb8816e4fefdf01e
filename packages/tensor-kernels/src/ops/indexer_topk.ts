import * as tf from '@tensorflow/tfjs';
import { asAttrs, asInputs } from '../kernel_names';
import { IndexerTopK, chunkTopK } from '../kernels/indexer_topk';
import { currentGemm } from '../backend/native_gemm';
import { nativeKernels } from '../backend/native_addon';
import { readInPlace } from '../backend/read_in_place';
import { expectTensor, fail, hasFusedKernel } from './fused';

/**
 * The lightning indexer's top-k key sets (DeepSeek-V3.2 DSA; golden/README §4.6 steps 4–5) without
 * materialising the score matrix: per query t the `topk` allowed keys s (causal: s ≤ Sk − Sq + t; not
 * padding) with the highest I[t, s] = scale·Σ_h w[t, h]·ReLU(q[t, h]·k[s]), listed ascending and padded
 * with −1. Ties go to the lower index (as tf.topk). Not differentiable.
 *
 * With the native addon, one fused kernel in C. Without it: on the cpu backend with tfjs's own GEMM one
 * fused JS kernel; otherwise (wasm's XNNPACK, or BLAS) the q·k part runs as one GEMM per
 * chunk of queries, [chunk·Hi, Di] × [Di, keys visible to the chunk], and a streaming pass forms
 * Σ_h w_h·ReLU(·) and keeps each query's top-k: O(Sq·Sk·Hi·Di) GEMM work, O(chunk·Hi·Sk) memory, never
 * [Sq, Hi, Sk] at once (the causal upper triangle is skipped chunk-wise).
 *
 * @param q - [B, Sq, Hi, Di] indexer queries
 * @param w - [B, Sq, Hi] head weights
 * @param k - [B, Sk, Di] indexer keys
 * @param opts - `scale`; `keyMask` [B, Sk] (0 = padding); `chunk`: queries per GEMM block (default: as many
 *   as fit 16 MiB of dots)
 * @param topk - How many keys to select per query (`index_topk`); the output width.
 * @returns [B, Sq, topk] int32
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { indexerTopK } from '@r1-ts/tensor-kernels';
 * const idx = indexerTopK(tf.ones([1, 3, 1, 2]), tf.ones([1, 3, 1]), tf.tensor3d([[[1, 1], [2, 2], [3, 3]]]), 2, { scale: 1 });
 * console.log(idx.arraySync()); // [[[0, -1], [0, 1], [1, 2]]]
 * ```
 */
export function indexerTopK(
  q: tf.Tensor, w: tf.Tensor, k: tf.Tensor, topk: number, opts: { scale: number; keyMask?: tf.Tensor; chunk?: number },
): tf.Tensor3D {
  const op = 'indexerTopK';
  expectTensor(op, 'q', q, 'float32');
  expectTensor(op, 'w', w, 'float32');
  expectTensor(op, 'k', k, 'float32');
  if (q.rank !== 4) fail(op, 'q', `must be [B, Sq, Hi, Di], got [${q.shape}]`);
  const [B, Sq, Hi, Di] = q.shape as number[];
  if (!tf.util.arraysEqual(w.shape, [B, Sq, Hi])) fail(op, 'w', `must be [${B}, ${Sq}, ${Hi}] (from q), got [${w.shape}]`);
  if (k.rank !== 3 || k.shape[0] !== B || k.shape[2] !== Di) fail(op, 'k', `must be [${B}, Sk, ${Di}] (B, Di from q), got [${k.shape}]`);
  const Sk = k.shape[1] as number;
  if (!Number.isInteger(topk) || topk < 1) fail(op, 'topk', `must be an integer ≥ 1, got ${topk}`);
  if (typeof opts?.scale !== 'number' || !Number.isFinite(opts.scale)) fail(op, 'scale', `must be a finite number, got ${String(opts?.scale)}`);
  if (opts.chunk !== undefined && (!Number.isInteger(opts.chunk) || opts.chunk < 1)) fail(op, 'chunk', `must be an integer ≥ 1, got ${opts.chunk}`);
  if (opts.keyMask && !tf.util.arraysEqual(opts.keyMask.shape, [B, Sk])) fail(op, 'keyMask', `must be [${B}, ${Sk}], got [${opts.keyMask.shape}]`);
  // The fused kernel in C (BLAS products per query chunk, threaded selection) beats every tfjs route; without
  // the addon, tfjs's own cpu GEMM (~0.4 GFLOP/s) loses to the fused JS loop and every other GEMM wins.
  const native = hasFusedKernel(IndexerTopK) && nativeKernels() !== null && opts.chunk === undefined;
  if (!native && (tf.getBackend() !== 'cpu' || currentGemm().name === 'blas')) return gemmTopK(q, w, k, topk, opts.scale, opts.keyMask, opts.chunk);
  if (hasFusedKernel(IndexerTopK)) {
    return tf.tidy(() => {
      const inputs: Record<string, tf.Tensor> = { q, w, k };
      if (opts.keyMask) inputs.keyMask = tf.cast(opts.keyMask, 'float32');
      return tf.engine().runKernel(IndexerTopK, asInputs(inputs), asAttrs({ topk, scale: opts.scale })) as tf.Tensor3D;
    });
  }
  // Composite: full scores, masked to −inf, tf.topk, then ascending order in JS.
  const kk = Math.min(topk, Sk);
  const { values, indices } = tf.tidy(() => {
    const dots = tf.relu(tf.reshape(tf.matMul(tf.reshape(q, [B, Sq * Hi, Di]) as tf.Tensor3D, k as tf.Tensor3D, false, true), [B, Sq, Hi, Sk]));
    const scores = tf.mul(tf.sum(tf.mul(dots, tf.expandDims(w, -1)), 2), opts.scale); // [B, Sq, Sk]
    const qpos = tf.reshape(tf.add(tf.range(0, Sq, 1, 'int32'), Sk - Sq), [1, Sq, 1]);
    let allowed = tf.lessEqual(tf.reshape(tf.range(0, Sk, 1, 'int32'), [1, 1, Sk]), qpos); // [1, Sq, Sk]
    if (opts.keyMask) allowed = tf.logicalAnd(allowed, tf.reshape(tf.notEqual(opts.keyMask, 0), [B, 1, Sk]));
    return tf.topk(tf.where(tf.broadcastTo(allowed, [B, Sq, Sk]), scores, tf.fill([B, Sq, Sk], -Infinity)), kk);
  });
  const v = values.dataSync();
  const ix = indices.dataSync();
  tf.dispose([values, indices]);
  const out = new Int32Array(B * Sq * topk).fill(-1);
  for (let r = 0; r < B * Sq; r++) {
    const row: number[] = [];
    for (let j = 0; j < kk; j++) if (v[r * kk + j] !== -Infinity) row.push(ix[r * kk + j]);
    row.sort((a, b) => a - b).forEach((x, j) => (out[r * topk + j] = x));
  }
  return tf.tensor3d(out, [B, Sq, topk], 'int32');
}

/** Floats of one chunk's dot block [chunk·Hi, keys]: 4 Mi (16 MiB). */
const CHUNK_FLOATS = 1 << 22;

/** The GEMM path of {@link indexerTopK}: chunked q·kᵀ, then {@link chunkTopK} on each block. */
function gemmTopK(q: tf.Tensor, w: tf.Tensor, k: tf.Tensor, topk: number, scale: number, keyMask?: tf.Tensor, chunkQueries?: number): tf.Tensor3D {
  const [B, Sq, Hi, Di] = q.shape as number[];
  const Sk = k.shape[1] as number;
  const out = new Int32Array(B * Sq * topk).fill(-1);
  const W = w.dataSync() as Float32Array; // [B, Sq, Hi]
  const M = keyMask ? (keyMask.dataSync() as ArrayLike<number>) : null; // [B, Sk]
  const chunk = chunkQueries ?? Math.max(1, Math.min(Sq, Math.floor(CHUNK_FLOATS / (Hi * Math.max(Sk, 1)))));
  for (let b = 0; b < B; b++) {
    const mask = M ? Array.prototype.slice.call(M, b * Sk, (b + 1) * Sk) as number[] : null;
    for (let t0 = 0; t0 < Sq; t0 += chunk) {
      const cq = Math.min(chunk, Sq - t0);
      const firstPos = Sk - Sq + t0; // key position of the chunk's first query
      const width = Math.min(Sk, firstPos + cq); // keys visible to its last query
      if (width <= 0) continue; // no key at or before these positions: all −1
      const dots = tf.tidy(() => {
        const qc = tf.reshape(tf.slice(q, [b, t0, 0, 0], [1, cq, Hi, Di]), [cq * Hi, Di]); // [cq·Hi, Di]
        const kc = tf.reshape(tf.slice(k, [b, 0, 0], [1, width, Di]), [width, Di]); // [width, Di]
        return tf.matMul(qc as tf.Tensor2D, kc as tf.Tensor2D, false, true); // [cq·Hi, width]
      });
      // Read in place (a dataSync copy of the 16 MiB block cost more than the GEMM); nothing allocates
      // on the backend until chunkTopK is done with the view.
      chunkTopK(readInPlace(dots) as Float32Array, W.subarray((b * Sq + t0) * Hi, (b * Sq + t0 + cq) * Hi), cq, Hi, width, firstPos, topk, scale, mask, out, (b * Sq + t0) * topk);
      dots.dispose();
    }
  }
  return tf.tensor3d(out, [B, Sq, topk], 'int32');
}
