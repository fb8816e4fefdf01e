// The zero-copy Slice / SplitV / GatherV2 / Tile / PadV2 on wasm against tfjs's cpu backend (an independent
// implementation) over ranks 0–5, every axis, int32 / bool / float32, batchDims, repeated reps and
// empty results; and the thrown error for an out-of-range gather index.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend } from './init';
import { nativeKernels, useNativeKernels } from './native_addon';
import { registerR1Kernels } from '../register_all';

registerR1Kernels();

/** Deterministic values for a shape and dtype. */
function values(shape: number[], dtype: 'float32' | 'int32' | 'bool', seed: number): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => {
    const v = Math.sin((i + 1) * 12.9898 + seed) * 43758.5453;
    const f = v - Math.floor(v);
    return dtype === 'float32' ? f - 0.5 : dtype === 'int32' ? Math.floor(f * 1000) - 500 : f > 0.5 ? 1 : 0;
  });
}

type Case = { name: string; run: () => tf.Tensor | tf.Tensor[] };

const t = (shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32', seed = 1) => tf.tensor(values(shape, dtype, seed), shape, dtype);

const cases: Case[] = [
  { name: 'slice rank 1', run: () => tf.slice(t([17]), [3], [9]) },
  { name: 'slice rank 2 rows', run: () => tf.slice(t([40, 8]), [5, 0], [7, 8]) },
  { name: 'slice rank 2 cols', run: () => tf.slice(t([40, 8]), [5, 3], [7, 4]) },
  { name: 'slice rank 3 middle', run: () => tf.slice(t([4, 6, 5]), [1, 2, 0], [2, 3, 5]) },
  { name: 'slice rank 4 size −1', run: () => tf.slice(t([3, 4, 5, 6]), [1, 0, 2, 1], [-1, 2, -1, 4]) },
  { name: 'slice rank 5', run: () => tf.slice(t([2, 3, 2, 4, 3], 'int32'), [1, 1, 0, 1, 1], [1, 2, 2, 2, 2]) },
  { name: 'slice bool', run: () => tf.slice(t([9, 7], 'bool'), [2, 1], [3, 5]) },
  { name: 'slice empty', run: () => tf.slice(t([5, 4]), [2, 0], [0, 4]) },
  { name: 'slice scalar-shaped', run: () => tf.slice(t([1]), [0], [1]) },
  { name: 'split axis 0 sizes', run: () => tf.split(t([10, 3]), [2, 0, 5, 3], 0) },
  { name: 'split axis 1 even', run: () => tf.split(t([4, 12, 3]), 3, 1) },
  { name: 'split last axis int32', run: () => tf.split(t([4, 3, 10], 'int32'), [1, 4, 5], 2) },
  { name: 'split axis −1 with −1 size', run: () => tf.split(t([2, 9]), [2, -1, 3], -1) },
  { name: 'gather axis 0 rows', run: () => tf.gather(t([12, 6]), tf.tensor1d([3, 0, 11, 3, 7], 'int32')) },
  { name: 'gather axis 1', run: () => tf.gather(t([3, 7, 4]), tf.tensor1d([6, 0, 2], 'int32'), 1) },
  { name: 'gather last axis (slice size 1)', run: () => tf.gather(t([3, 7]), tf.tensor2d([[1, 2], [6, 0]], [2, 2], 'int32'), 1) },
  { name: 'gather 2-D indices', run: () => tf.gather(t([9, 5], 'int32'), tf.tensor2d([[1, 8], [0, 0], [4, 2]], [3, 2], 'int32')) },
  { name: 'gather batchDims 1', run: () => tf.gather(t([3, 6, 4]), tf.tensor2d([[0, 5], [2, 2], [1, 3]], [3, 2], 'int32'), 1, 1) },
  { name: 'gather bool', run: () => tf.gather(t([6, 3], 'bool'), tf.tensor1d([5, 1], 'int32')) },
  { name: 'gather empty indices', run: () => tf.gather(t([6, 3]), tf.tensor1d([], 'int32')) },
  { name: 'tile rank 1', run: () => tf.tile(t([5]), [3]) },
  { name: 'tile rank 2 both', run: () => tf.tile(t([3, 4]), [2, 3]) },
  { name: 'tile rank 3 middle (MoE top-k copy)', run: () => tf.tile(t([7, 1, 5]), [1, 2, 1]) },
  { name: 'tile rank 4 mixed', run: () => tf.tile(t([2, 1, 3, 2], 'int32'), [2, 3, 1, 2]) },
  { name: 'tile bool', run: () => tf.tile(t([2, 3], 'bool'), [3, 1]) },
  { name: 'pad rank 1', run: () => tf.pad(t([5]), [[2, 3]], 1.5) },
  { name: 'pad rank 4 last dim (slice gradient)', run: () => tf.pad(t([2, 3, 2, 4]), [[0, 0], [0, 0], [0, 0], [0, 4]]) },
  { name: 'pad rank 3 every dim int32', run: () => tf.pad(t([2, 3, 4], 'int32'), [[1, 0], [0, 2], [3, 1]], 7) },
  { name: 'pad empty input', run: () => tf.pad(t([0, 3]), [[1, 1], [0, 0]]) },
  { name: 'transpose [B,H,S,D] → [B,S,H,D]', run: () => tf.transpose(t([2, 3, 5, 16]), [0, 2, 1, 3]) },
  { name: 'transpose rank 5 keeping the last axis', run: () => tf.transpose(t([2, 3, 2, 4, 17], 'int32'), [3, 0, 2, 1, 4]) },
  { name: 'transpose moving the last axis (tfjs kernel)', run: () => tf.transpose(t([3, 4, 16]), [2, 0, 1]) },
  { name: 'transpose short rows (tfjs kernel)', run: () => tf.transpose(t([3, 4, 5]), [1, 0, 2]) },
  { name: 'tile zero reps', run: () => tf.tile(t([2, 3]), [0, 2]) },
  { name: 'concat last axis (MLA q = [nope | rope])', run: () => tf.concat([t([2, 5, 3, 4]), t([2, 5, 3, 2], 'float32', 2)], 3) },
  { name: 'concat axis 0 with an empty input', run: () => tf.concat([t([2, 3]), t([0, 3]), t([4, 3], 'float32', 3)], 0) },
  { name: 'concat middle axis int32, three inputs', run: () => tf.concat([t([2, 1, 3], 'int32'), t([2, 4, 3], 'int32', 2), t([2, 2, 3], 'int32', 3)], 1) },
  { name: 'concat bool', run: () => tf.concat([t([3, 2], 'bool'), t([3, 1], 'bool', 2)], 1) },
  { name: 'concat one input', run: () => tf.concat([t([3, 2])], 1) },
];

async function evaluate(backend: 'wasm' | 'cpu'): Promise<Map<string, Array<{ shape: number[]; dtype: string; values: number[] }>>> {
  await initBackend({ backend, quiet: true });
  const out = new Map<string, Array<{ shape: number[]; dtype: string; values: number[] }>>();
  for (const c of cases) {
    const before = tf.memory().numTensors;
    const result = tf.tidy(c.run);
    const list = Array.isArray(result) ? result : [result];
    out.set(c.name, await Promise.all(list.map(async (r) => ({ shape: r.shape, dtype: r.dtype, values: Array.from(await r.data()) }))));
    tf.dispose(list);
    expect(tf.memory().numTensors).toBe(before);
  }
  return out;
}

describe('zero-copy data-movement kernels on wasm', () => {
  afterAll(() => disposeBackend());

  it.each([true, false])('match the cpu backend on every case (native copy loop: %s)', async (native) => {
    const was = nativeKernels() !== null;
    const cpu = await evaluate('cpu');
    if (native && !useNativeKernels(true)) return; // addon not built: the JS walk is the one in use
    useNativeKernels(native);
    try {
      const wasm = await evaluate('wasm');
      expect(tf.getKernel(tf.Slice, 'wasm')?.kernelFunc.name).not.toBe('slice'); // the override is in place
      for (const c of cases) expect(wasm.get(c.name), c.name).toEqual(cpu.get(c.name));
    } finally {
      useNativeKernels(was);
    }
  });

  it('identity shares memory by reference count: a clone outlives its source, and both free the heap', async () => {
    await initBackend({ backend: 'wasm', quiet: true });
    const before = tf.memory();
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    const v = tf.variable(x);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    const next = tf.tensor1d([4, 5, 6]);
    v.assign(next);
    next.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]); // assign swaps memory, never writes into it
    tf.dispose([y, v]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('rejects an out-of-range gather index with tfjs’s message', async () => {
    await initBackend({ backend: 'wasm', quiet: true });
    const x = tf.zeros([4, 2]);
    const idx = tf.tensor1d([1, 4], 'int32');
    expect(() => tf.gather(x, idx)).toThrow(/index value 4 is not in \[0, 3\]/);
    tf.dispose([x, idx]);
  });

  it('gradients through slice, split, gather, tile and pad match cpu', async () => {
    const grads = async (backend: 'wasm' | 'cpu') => {
      await initBackend({ backend, quiet: true });
      const x = t([6, 4, 3]);
      const g = tf.grad((v: tf.Tensor) => {
        const [a, b] = tf.split(v, [2, 4], 0);
        const s = tf.slice(b, [1, 1, 0], [2, 2, 3]);
        const gathered = tf.gather(a, tf.tensor1d([1, 1, 0], 'int32'));
        return tf.sum(tf.mul(tf.pad(tf.tile(s, [1, 2, 1]), [[1, 0], [0, 2], [0, 0]]), tf.sum(gathered)));
      })(x);
      const out = Array.from(await g.data());
      tf.dispose([x, g]);
      return out;
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i], 5));
  });
});
