// Forward and backward of every tfjs op a DeepSeek model uses, on every available backend, against
// plain float64 references: forward values directly, gradients by central differences of the
// reference (loss = Σ_k Σ w_k ⊙ out_k with fixed random w_k). tfjs never falls back to another
// backend per kernel, so a kernel or gradient missing on one backend shows up here.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './missing_kernels';
import { disposeBackend, initBackend } from './init';
import { nativeBindingPresent } from './native';

/** A float64 n-d array: row-major data and shape. */
interface Nd { shape: number[]; data: Float64Array }

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const strides = (shape: number[]) => shape.map((_, i) => size(shape.slice(i + 1)));

/** Builds an Nd by evaluating `f` at every multi-index. */
function nd(shape: number[], f: (idx: number[]) => number): Nd {
  const data = new Float64Array(size(shape));
  const idx = shape.map(() => 0);
  for (let i = 0; i < data.length; i++) {
    data[i] = f(idx);
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
  return { shape, data };
}
const at = (a: Nd, idx: number[]) => a.data[idx.reduce((o, v, d) => o + v * strides(a.shape)[d], 0)];
/** Reads a with numpy broadcasting to an output index of higher or equal rank. */
const atB = (a: Nd, idx: number[]) => at(a, a.shape.map((s, d) => (s === 1 ? 0 : idx[idx.length - a.shape.length + d])));
const broadcastShape = (a: number[], b: number[]) => {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
};
const unary = (f: (v: number) => number) => ([a]: Nd[]) => nd(a.shape, (i) => f(at(a, i)));
const binary = (f: (u: number, v: number) => number) => ([a, b]: Nd[]) => nd(broadcastShape(a.shape, b.shape), (i) => f(atB(a, i), atB(b, i)));
/** Reduction of a over `axes` (keepDims false). */
function reduce(a: Nd, axes: number[], f: (vals: number[]) => number): Nd {
  const keep = a.shape.map((_, d) => !axes.includes(d));
  const out = a.shape.filter((_, d) => keep[d]);
  return nd(out, (o) => {
    const vals: number[] = [];
    nd(axes.map((d) => a.shape[d]), (r) => {
      let k = 0;
      let j = 0;
      vals.push(at(a, a.shape.map((_, d) => (keep[d] ? o[k++] : r[j++]))));
      return 0;
    });
    return f(vals);
  });
}
const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);
/** softmax along the last axis. */
function softmaxRef(a: Nd, log: boolean): Nd {
  const n = a.shape[a.shape.length - 1];
  return nd(a.shape, (i) => {
    const row = Array.from({ length: n }, (_, j) => at(a, [...i.slice(0, -1), j]));
    const m = Math.max(...row);
    const lse = m + Math.log(sum(row.map((v) => Math.exp(v - m))));
    return log ? at(a, i) - lse : Math.exp(at(a, i) - lse);
  });
}
function matmulRef(a: Nd, b: Nd, ta = false, tb = false): Nd {
  const r = a.shape.length;
  const [m, k] = ta ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]];
  const n = tb ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const get = (x: Nd, bi: number[], i: number, j: number, t: boolean) =>
    atB({ shape: x.shape, data: x.data }, [...bi, ...(t ? [j, i] : [i, j])]);
  return nd([...batch, m, n], (idx) => {
    const bi = idx.slice(0, -2);
    let s = 0;
    for (let p = 0; p < k; p++) s += get(a, bi, idx[idx.length - 2], p, ta) * get(b, bi, p, idx[idx.length - 1], tb);
    return s;
  });
}

/** Distinct values (spacing ≥ 0.05, none near 0, a seed-dependent offset so two inputs never tie) in a fixed pseudo-random order. */
function distinct(shape: number[], seed: number, lo = -1.2, positive = false): Nd {
  const n = size(shape);
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const step = Math.max(0.05, (positive ? 2 : 2.4) / n);
  const shift = (seed % 10) * 0.0037;
  return { shape, data: Float64Array.from(order, (o) => (positive ? 0.3 + shift + o * step : lo + 0.013 + shift + o * step)) };
}
const ints = (shape: number[], v: number[]): Nd => ({ shape, data: Float64Array.from(v) });

interface OpCase {
  name: string;
  /** Differentiable float inputs. */
  x: Nd[];
  /** tfjs computation; integer or boolean constants are captured. */
  tf: (...x: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  ref: (x: Nd[]) => Nd | Nd[];
  /** Forward-only integer outputs to compare exactly. */
  intOut?: { tf: (...x: tf.Tensor[]) => tf.Tensor; ref: (x: Nd[]) => Nd };
}

const ids = [1, 3, 1, 0];
const cases: OpCase[] = [
  { name: 'gather (embedding, repeated ids)', x: [distinct([5, 3], 1)], tf: (x) => tf.gather(x, tf.tensor1d(ids, 'int32')), ref: ([x]) => nd([4, 3], ([i, j]) => at(x, [ids[i], j])) },
  { name: 'gather axis 1', x: [distinct([2, 4, 3], 2)], tf: (x) => tf.gather(x, tf.tensor1d([3, 0, 3], 'int32'), 1), ref: ([x]) => nd([2, 3, 3], ([a, i, j]) => at(x, [a, [3, 0, 3][i], j])) },
  { name: 'gatherND', x: [distinct([3, 4, 2], 3)], tf: (x) => tf.gatherND(x, tf.tensor2d([0, 1, 2, 3, 0, 1], [3, 2], 'int32')), ref: ([x]) => nd([3, 2], ([i, j]) => at(x, [[0, 2, 0][i], [1, 3, 1][i], j])) },
  { name: 'unsortedSegmentSum', x: [distinct([4, 3], 4)], tf: (x) => tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, -1], 'int32'), 3), ref: ([x]) => nd([3, 3], ([s, j]) => sum([0, 1, 2, 3].filter((i) => [2, 0, 2, -1][i] === s).map((i) => at(x, [i, j])))) },
  { name: 'oneHot', x: [distinct([3, 4], 5)], tf: (x) => tf.mul(tf.oneHot(tf.tensor1d([2, 0, 3], 'int32'), 4), x), ref: ([x]) => nd([3, 4], ([i, j]) => ([2, 0, 3][i] === j ? at(x, [i, j]) : 0)) },
  {
    name: 'topk', x: [distinct([3, 6], 6)], tf: (x) => tf.topk(x, 2).values,
    ref: ([x]) => nd([3, 2], ([i, j]) => [...Array(6).keys()].map((c) => at(x, [i, c])).sort((p, q) => q - p)[j]),
    intOut: { tf: (x) => tf.topk(x, 2).indices, ref: ([x]) => nd([3, 2], ([i, j]) => [...Array(6).keys()].sort((p, q) => at(x, [i, q]) - at(x, [i, p]))[j]) },
  },
  { name: 'softmax', x: [distinct([3, 5], 7)], tf: (x) => tf.softmax(x), ref: ([x]) => softmaxRef(x, false) },
  { name: 'logSoftmax', x: [distinct([3, 5], 8)], tf: (x) => tf.logSoftmax(x), ref: ([x]) => softmaxRef(x, true) },
  { name: 'sigmoid', x: [distinct([2, 5], 9)], tf: (x) => tf.sigmoid(x), ref: unary((v) => 1 / (1 + Math.exp(-v))) },
  { name: 'concat', x: [distinct([2, 3], 10), distinct([2, 2], 11)], tf: (a, b) => tf.concat([a, b], 1), ref: ([a, b]) => nd([2, 5], ([i, j]) => (j < 3 ? at(a, [i, j]) : at(b, [i, j - 3]))) },
  { name: 'split', x: [distinct([2, 6], 12)], tf: (x) => tf.split(x, [2, 4], 1), ref: ([x]) => [nd([2, 2], ([i, j]) => at(x, [i, j])), nd([2, 4], ([i, j]) => at(x, [i, j + 2]))] },
  { name: 'slice', x: [distinct([3, 4], 13)], tf: (x) => tf.slice(x, [1, 1], [2, 2]), ref: ([x]) => nd([2, 2], ([i, j]) => at(x, [i + 1, j + 1])) },
  { name: 'stack + unstack', x: [distinct([2, 3], 14), distinct([2, 3], 15)], tf: (a, b) => [tf.stack([a, b], 1), ...tf.unstack(a, 1)], ref: ([a, b]) => [nd([2, 2, 3], ([i, s, j]) => at(s ? b : a, [i, j])), ...[0, 1, 2].map((c) => nd([2], ([i]) => at(a, [i, c])))] },
  { name: 'transpose', x: [distinct([2, 3, 4], 16)], tf: (x) => tf.transpose(x, [2, 0, 1]), ref: ([x]) => nd([4, 2, 3], ([k, i, j]) => at(x, [i, j, k])) },
  { name: 'reshape', x: [distinct([2, 6], 17)], tf: (x) => tf.reshape(x, [3, 4]), ref: ([x]) => ({ shape: [3, 4], data: x.data }) },
  { name: 'matMul', x: [distinct([3, 4], 18), distinct([4, 2], 19)], tf: (a, b) => tf.matMul(a, b), ref: ([a, b]) => matmulRef(a, b) },
  { name: 'matMul transposeB', x: [distinct([3, 4], 20), distinct([5, 4], 21)], tf: (a, b) => tf.matMul(a, b, false, true), ref: ([a, b]) => matmulRef(a, b, false, true) },
  { name: 'batchMatMul transposeA', x: [distinct([2, 4, 3], 22), distinct([2, 4, 2], 23)], tf: (a, b) => tf.matMul(a, b, true), ref: ([a, b]) => matmulRef(a, b, true) },
  { name: 'batchMatMul broadcast', x: [distinct([2, 3, 4], 24), distinct([1, 4, 2], 25)], tf: (a, b) => tf.matMul(a, b), ref: ([a, b]) => matmulRef(a, b) },
  { name: 'cumsum', x: [distinct([2, 5], 26)], tf: (x) => tf.cumsum(x, 1), ref: ([x]) => nd([2, 5], ([i, j]) => sum([...Array(j + 1).keys()].map((c) => at(x, [i, c])))) },
  { name: 'cumsum exclusive reverse', x: [distinct([2, 4], 27)], tf: (x) => tf.cumsum(x, 1, true, true), ref: ([x]) => nd([2, 4], ([i, j]) => sum([...Array(4).keys()].filter((c) => c > j).map((c) => at(x, [i, c])))) },
  { name: 'scatterND', x: [distinct([2, 3], 28)], tf: (u) => tf.scatterND(tf.tensor2d([3, 1], [2, 1], 'int32'), u, [5, 3]), ref: ([u]) => nd([5, 3], ([r, j]) => (r === 3 ? at(u, [0, j]) : r === 1 ? at(u, [1, j]) : 0)) },
  {
    name: 'max / argMax', x: [distinct([3, 5], 29)], tf: (x) => tf.max(x, 1), ref: ([x]) => reduce(x, [1], (v) => Math.max(...v)),
    intOut: { tf: (x) => tf.argMax(x, 1), ref: ([x]) => nd([3], ([i]) => [...Array(5).keys()].reduce((b, c) => (at(x, [i, c]) > at(x, [i, b]) ? c : b), 0)) },
  },
  {
    name: 'where', x: [distinct([2, 3], 30), distinct([2, 3], 31)],
    tf: (a, b) => tf.where(tf.tensor2d([1, 0, 1, 0, 0, 1], [2, 3], 'bool'), a, b),
    ref: ([a, b]) => nd([2, 3], ([i, j]) => ([1, 0, 1, 0, 0, 1][i * 3 + j] ? at(a, [i, j]) : at(b, [i, j]))),
  },
  { name: 'relu', x: [distinct([3, 4], 32)], tf: (x) => tf.relu(x), ref: unary((v) => Math.max(v, 0)) },
  { name: 'maximum (broadcast)', x: [distinct([2, 3], 33), distinct([3], 34)], tf: (a, b) => tf.maximum(a, b), ref: binary(Math.max) },
  { name: 'minimum (broadcast)', x: [distinct([2, 3], 35), distinct([3], 36)], tf: (a, b) => tf.minimum(a, b), ref: binary(Math.min) },
  { name: 'sqrt', x: [distinct([2, 3], 37, 0, true)], tf: (x) => tf.sqrt(x), ref: unary(Math.sqrt) },
  { name: 'rsqrt', x: [distinct([2, 3], 38, 0, true)], tf: (x) => tf.rsqrt(x), ref: unary((v) => 1 / Math.sqrt(v)) },
  { name: 'exp', x: [distinct([2, 3], 39)], tf: (x) => tf.exp(x), ref: unary(Math.exp) },
  { name: 'log', x: [distinct([2, 3], 40, 0, true)], tf: (x) => tf.log(x), ref: unary(Math.log) },
  { name: 'sum over axes', x: [distinct([2, 3, 4], 41)], tf: (x) => tf.sum(x, [0, 2]), ref: ([x]) => reduce(x, [0, 2], sum) },
  { name: 'mean', x: [distinct([3, 4], 42)], tf: (x) => tf.mean(x, -1), ref: ([x]) => reduce(x, [1], (v) => sum(v) / v.length) },
  { name: 'tile', x: [distinct([2, 3], 43)], tf: (x) => tf.tile(x, [2, 2]), ref: ([x]) => nd([4, 6], ([i, j]) => at(x, [i % 2, j % 3])) },
  { name: 'pad', x: [distinct([2, 3], 44)], tf: (x) => tf.pad(x, [[1, 0], [0, 2]], 0.5), ref: ([x]) => nd([3, 5], ([i, j]) => (i >= 1 && j < 3 ? at(x, [i - 1, j]) : 0.5)) },
  { name: 'mul / div / sub (broadcast)', x: [distinct([2, 3], 45), distinct([3], 46, 0, true)], tf: (a, b) => [tf.mul(a, b), tf.div(a, b), tf.sub(a, b)], ref: (x) => [binary((u, v) => u * v)(x), binary((u, v) => u / v)(x), binary((u, v) => u - v)(x)] },
  { name: 'square / neg / tanh', x: [distinct([2, 3], 47)], tf: (x) => [tf.square(x), tf.neg(x), tf.tanh(x)], ref: (x) => [unary((v) => v * v)(x), unary((v) => -v)(x), unary(Math.tanh)(x)] },
];

const toArray = <T>(v: T | T[]) => (Array.isArray(v) ? v : [v]);

/** Σ_k Σ w_k ⊙ ref_k(x) for the loss weights w (float64). */
function refLoss(c: OpCase, x: Nd[], w: Float64Array[]): number {
  return toArray(c.ref(x)).reduce((s, o, k) => s + o.data.reduce((t, v, i) => t + v * w[k][i], 0), 0);
}

/** Central-difference gradient of refLoss in float64. */
function numericGrads(c: OpCase, w: Float64Array[]): Float64Array[] {
  const h = 1e-5;
  return c.x.map((xi, n) =>
    xi.data.map((_, i) => {
      const shifted = (d: number) => c.x.map((xj, m) => (m === n ? { shape: xj.shape, data: xj.data.map((v, j) => (j === i ? v + d : v)) } : xj));
      return (refLoss(c, shifted(h), w) - refLoss(c, shifted(-h), w)) / (2 * h);
    }),
  );
}

function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): void {
  expect(actual.length, name).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  }
  expect(bad, name).toEqual([]);
}

const backends = ['cpu', 'wasm'];
if (['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((p) => nativeBindingPresent(p).ok)) backends.push('tensorflow');

describe.each(backends)('tfjs ops forward + backward on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend: backend as 'cpu', quiet: true });
  });
  afterAll(async () => {
    if (backend === backends[backends.length - 1]) await disposeBackend();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(tf.getBackend()).toBe(backend);
    const outs = toArray(c.ref(c.x));
    const w = outs.map((o, k) => distinct(o.shape, 100 + k).data);
    const before = tf.memory().numTensors;
    let values: tf.TypedArray[] = [];
    let grads: tf.TypedArray[] = [];
    let ints: tf.TypedArray | null = null;
    tf.tidy(() => {
      const xs = c.x.map((x) => tf.tensor(Float32Array.from(x.data), x.shape, 'float32'));
      const ws = outs.map((o, k) => tf.tensor(Float32Array.from(w[k]), o.shape, 'float32'));
      const loss = (...args: tf.Tensor[]) => toArray(c.tf(...args)).reduce((s: tf.Tensor, o, k) => tf.add(s, tf.sum(tf.mul(o, ws[k]))), tf.scalar(0));
      const fwd = toArray(c.tf(...xs));
      fwd.forEach((o, k) => expect(o.shape, `${c.name} output ${k} shape`).toEqual(outs[k].shape));
      values = fwd.map((o) => o.dataSync());
      grads = tf.grads(loss)(xs).map((g) => g.dataSync());
      ints = c.intOut ? c.intOut.tf(...xs).dataSync() : null;
    });
    expect(tf.memory().numTensors, 'no tensor leaks').toBe(before);
    values.forEach((v, k) => expectClose(`${c.name} forward ${k}`, v, outs[k].data, 1e-5, 1e-6));
    numericGrads(c, w).forEach((g, n) => expectClose(`${c.name} d/dx${n}`, grads[n], g, 1e-3, 1e-4));
    if (c.intOut) expect(Array.from(ints ?? []), `${c.name} integer output`).toEqual(Array.from(c.intOut.ref(c.x).data));
  });
});
