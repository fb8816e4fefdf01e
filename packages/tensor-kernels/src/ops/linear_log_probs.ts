// The output head and the per-token log-probability in one op, over chunks of rows, so the logits
// [N, V] are never whole in memory (the "fused linear cross-entropy" of Liger-Kernel and of
// Wijmans et al. 2024, "Cut Your Losses in Large-Vocabulary Language Models"). At Qwen2.5's
// vocabulary (151,936) a 4 × 256 batch's logits are 622 MB a copy, and the unfused path keeps
// several copies (logits, their slice, the softmax gradient, its padding) alive at once.
//
// lp[i] = log softmax(xᵢ·Wᵀ/τ)[tᵢ]. Each lp[i] depends on row xᵢ only, so its gradient is a row
//   ∂lp[i]/∂xᵢ = (W[tᵢ] − softmax(xᵢ·Wᵀ/τ)·W) / τ = (onehot(tᵢ) − pᵢ)·W / τ,
// and the vector-Jacobian product for any upstream dy is dy[i]·that row. Under a gradient tape the
// forward computes these rows ([N, D], small) with the logits of each chunk still at hand; the
// backward for x is then one multiply, with no second pass over the vocabulary. The gradient for W
// (a trained head or tied embedding) is Σ_chunks (dy·(onehot − p))ᵀ·x / τ and recomputes each
// chunk's logits; tfjs asks for it only when W is among the variables being differentiated.
import * as tf from '@tensorflow/tfjs';
import { engine } from '../engine_internals';
import { rejectUnknownKeys } from '../unknown_keys';
import type { BackwardsFunc } from '../engine_internals';
import { TokenLogProbsGrad, asInputs } from '../kernel_names';
import { tokenLogProbs } from './cross_entropy';
import { linear, linearAdapterOf } from './linear';
import { expectTensor, fail, hasFusedKernel } from './fused';

/**
 * Options of {@link linearTokenLogProbs} and {@link linearEntropy}.
 *
 * @example
 * ```ts
 * import type { LinearHeadOptions } from '@r1-ts/tensor-kernels';
 * const opts: LinearHeadOptions = { temperature: 0.7, chunkRows: 64 };
 * ```
 */
export interface LinearHeadOptions {
  /** τ dividing the logits (GRPO scores tokens at the sampling temperature). Default 1. */
  temperature?: number;
  /**
   * Rows of x per chunk. Default: as many as keep one chunk's logits near 256 MiB (441 rows at
   * V = 151,936; all rows for small vocabularies).
   */
  chunkRows?: number;
}

// Measured on 2 Haswell cores with OpenBLAS at V = 151,936, D = 896: the head's GEMMs run at
// ~120 GFLOP/s with 110-row chunks (64 MiB) and ~180 with 441 rows (256 MiB), against ~190 for the
// layers' [1024, 896]·[896, 4864]: fewer rows re-stream all of W for too little work.
const CHUNK_BYTES = 256 * 2 ** 20;

function checkArgs(op: string, x: tf.Tensor, weight: tf.Tensor, options: LinearHeadOptions): { D: number; V: number; N: number; tau: number; rows: number } {
  expectTensor(op, 'x', x, 'float32');
  expectTensor(op, 'weight', weight, 'float32');
  if (weight.rank !== 2) fail(op, 'weight', `must have shape [V, D], got [${weight.shape}]`);
  const [V, D] = weight.shape as [number, number];
  if (x.rank < 1 || x.shape[x.rank - 1] !== D) fail(op, 'x', `must have shape [..., ${D}] (weight's D), got [${x.shape}]`);
  rejectUnknownKeys(options, ['temperature', 'chunkRows'], `${op} options`);
  const tau = options.temperature ?? 1;
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau <= 0) fail(op, 'temperature', `must be a finite number > 0, got ${String(tau)}`);
  const rows = options.chunkRows ?? Math.max(1, Math.floor(CHUNK_BYTES / 4 / Math.max(V, 1)));
  if (!Number.isInteger(rows) || rows < 1) fail(op, 'chunkRows', `must be an integer ≥ 1, got ${String(rows)}`);
  return { D, V, N: x.size / D, tau, rows };
}

/** The chunks [start, n] of N rows, `rows` at a time (the last one may be short). */
function chunksOf(N: number, rows: number): Array<[number, number]> {
  return Array.from({ length: Math.ceil(N / rows) }, (_, i) => [i * rows, Math.min(rows, N - i * rows)]);
}

/** Logits of rows [start, start + n) of x2 [N, D], divided by τ: [n, V]. */
function chunkLogits(x2: tf.Tensor2D, weight: tf.Tensor2D, start: number, n: number, tau: number): tf.Tensor2D {
  const xc = tf.slice(x2, [start, 0], [n, x2.shape[1]]);
  const l = tf.matMul(xc, weight, false, true);
  return (tau === 1 ? l : tf.div(l, tau)) as tf.Tensor2D;
}

/** dy·(onehot(t) − softmax(l)) per row [n, V]; rows whose target is outside [0, V) get zeros. */
function logProbGradRows(l: tf.Tensor2D, t: tf.Tensor1D, dy: tf.Tensor1D): tf.Tensor2D {
  if (hasFusedKernel(TokenLogProbsGrad)) return tf.engine().runKernel(TokenLogProbsGrad, asInputs({ logits: l, targets: t, dy }), {}) as tf.Tensor2D;
  return tf.tidy(() => {
    const V = l.shape[1];
    const valid = tf.logicalAnd(tf.greaterEqual(t, 0), tf.less(t, V));
    const g = tf.sub(tf.oneHot(t, V), tf.softmax(l));
    return tf.mul(g, tf.expandDims(tf.where(valid, dy, tf.zerosLike(dy)), 1)) as tf.Tensor2D;
  });
}

/**
 * log softmax(x·Wᵀ / τ)[target] at every position: the output head and {@link tokenLogProbs} in
 * one differentiable op that never holds the whole logits [N, V], only one chunk of rows at a
 * time. What a language model's training loss (SFT's cross-entropy, GRPO's token log-probs) needs at
 * a large vocabulary: at V = 151,936 the unfused path's logits for a 4 × 256 batch are 622 MB a
 * copy. Under a gradient tape the forward also computes ∂lp/∂x ([N, D]) while each chunk's logits
 * are at hand, so the backward to x needs no second pass over the vocabulary; the gradient to W (a
 * trained head) recomputes the chunks and is computed only when asked for. A target outside [0, V)
 * (padding) gives 0 and no gradient, as in {@link tokenLogProbs}. A linear adapter attached to W
 * (LoRA on `lm_head`, see {@link setLinearAdapter}) is applied, through {@link linear}, unchunked.
 *
 * @param x - Hidden states [..., D] (after the final norm), float32.
 * @param weight - The head W [V, D] (an `lm_head.weight` or a tied embedding), float32.
 * @param targets - Token ids, int32, shaped like x without its last axis.
 * @param options - `temperature` τ dividing the logits (default 1); `chunkRows` rows per chunk (default: ~256 MiB of logits).
 * @returns float32 log-probabilities shaped like `targets`
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { linearTokenLogProbs } from '@r1-ts/tensor-kernels';
 * const lp = linearTokenLogProbs(tf.ones([2, 3, 4]), tf.randomNormal([10, 4]), tf.zeros([2, 3], 'int32')); // [2, 3]
 * ```
 */
export function linearTokenLogProbs(x: tf.Tensor, weight: tf.Tensor, targets: tf.Tensor, options: LinearHeadOptions = {}): tf.Tensor {
  const op = 'linearTokenLogProbs';
  const { D, N, tau, rows } = checkArgs(op, x, weight, options);
  expectTensor(op, 'targets', targets, 'int32');
  if (!tf.util.arraysEqual(targets.shape, x.shape.slice(0, -1))) fail(op, 'targets', `must have shape [${x.shape.slice(0, -1)}] (x without its last axis), got [${targets.shape}]`);
  if (linearAdapterOf(weight)) {
    // A head with a LoRA (or other) adapter: through `linear`, which applies it, unchunked.
    return tf.tidy(() => tokenLogProbs(tf.div(linear(x, weight), tau), targets));
  }
  const e = engine();
  const tapeOn = e.isTapeOn();
  const w2 = weight as tf.Tensor2D;
  // The forward, with the tape paused inside: lp [N] and, when a backward may follow, ∂lp/∂x [N, D].
  const run = (): tf.Tensor[] =>
    tf.tidy(() => {
      const x2 = tf.reshape(x, [N, D]) as tf.Tensor2D;
      const t1 = tf.reshape(targets, [N]) as tf.Tensor1D;
      const lps: tf.Tensor[] = [];
      const gxs: tf.Tensor[] = [];
      for (const [start, n] of chunksOf(N, rows)) {
        const [lp, gx] = tf.tidy(() => {
          const l = chunkLogits(x2, w2, start, n, tau);
          const tc = tf.slice(t1, [start], [n]);
          const lpc = tokenLogProbs(l, tc);
          if (!tapeOn) return [lpc];
          const g = tf.matMul(logProbGradRows(l, tc, tf.onesLike(lpc) as tf.Tensor1D), w2); // [n, D]
          return [lpc, tau === 1 ? g : tf.div(g, tau)];
        });
        lps.push(lp);
        if (gx) gxs.push(gx);
      }
      const lp = tf.reshape(tf.concat(lps), targets.shape);
      return tapeOn ? [lp, tf.concat(gxs)] : [lp];
    });
  if (!tapeOn) return run()[0];
  e.state.kernelDepth++; // nothing inside is recorded: this op is one tape node
  let outs: tf.Tensor[];
  try {
    outs = run();
  } finally {
    e.state.kernelDepth--;
  }
  const [lp, gx] = outs;
  const backwardsFunc: BackwardsFunc = (dy, saved) => {
    const [xs, ws, ts, gxs] = saved;
    const d = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor;
    return {
      x: () => tf.tidy(() => tf.reshape(tf.mul(gxs, tf.reshape(d, [N, 1])), xs.shape)),
      weight: () =>
        tf.tidy(() => {
          const x2 = tf.reshape(xs, [N, D]) as tf.Tensor2D;
          const t1 = tf.reshape(ts, [N]) as tf.Tensor1D;
          const d1 = tf.reshape(d, [N]) as tf.Tensor1D;
          let dw: tf.Tensor = tf.zerosLike(ws);
          for (const [start, n] of chunksOf(N, rows)) {
            const next = tf.tidy(() => {
              const g = logProbGradRows(chunkLogits(x2, ws as tf.Tensor2D, start, n, tau), tf.slice(t1, [start], [n]), tf.slice(d1, [start], [n]));
              const part = tf.matMul(g, tf.slice(x2, [start, 0], [n, D]), true, false); // [V, D]
              return tf.add(dw, tau === 1 ? part : tf.div(part, tau));
            });
            dw.dispose();
            dw = next;
          }
          return dw;
        }),
      targets: () => tf.zerosLike(ts),
    };
  };
  const [out] = e.runKernelFunc({
    forwardFunc: (_backend, save) => {
      save([x, weight, targets, gx]);
      return [lp];
    },
    backwardsFunc,
    inputs: { x, weight, targets },
  });
  gx.dispose(); // the tape holds its own reference (save clones)
  return out;
}

/**
 * Entropy of softmax(x·Wᵀ / τ) at every position, chunk by chunk like {@link linearTokenLogProbs}
 * (the logits [N, V] are never whole). Not differentiable: GRPO logs it and masks by it, it does
 * not train on it.
 *
 * @param x - Hidden states [..., D] (after the final norm), float32.
 * @param weight - The head W [V, D], float32.
 * @param options - `temperature` τ dividing the logits (default 1); `chunkRows` rows per chunk.
 * @returns float32 entropies (nats) shaped like x without its last axis
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { linearEntropy } from '@r1-ts/tensor-kernels';
 * linearEntropy(tf.zeros([1, 4]), tf.ones([8, 4])).print(); // [ln 8]
 * ```
 */
export function linearEntropy(x: tf.Tensor, weight: tf.Tensor, options: LinearHeadOptions = {}): tf.Tensor {
  const { D, N, tau, rows } = checkArgs('linearEntropy', x, weight, options);
  if (linearAdapterOf(weight)) {
    return tf.tidy(() => {
      const lsm = tf.logSoftmax(tf.div(linear(x, weight), tau));
      return tf.neg(tf.sum(tf.mul(tf.exp(lsm), lsm), -1));
    });
  }
  const e = engine();
  e.state.kernelDepth++; // off the gradient tape: a tape would keep every chunk's logits for a backward
  try {
    return tf.tidy(() => {
      const x2 = tf.reshape(x, [N, D]) as tf.Tensor2D;
      const parts: tf.Tensor[] = [];
      for (const [start, n] of chunksOf(N, rows)) {
        parts.push(tf.tidy(() => {
          const lsm = tf.logSoftmax(chunkLogits(x2, weight as tf.Tensor2D, start, n, tau));
          return tf.neg(tf.sum(tf.mul(tf.exp(lsm), lsm), -1));
        }));
      }
      return tf.reshape(tf.concat(parts), x.shape.slice(0, -1));
    });
  } finally {
    e.state.kernelDepth--;
  }
}
