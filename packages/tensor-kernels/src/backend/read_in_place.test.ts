import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend } from './init';
import { readInPlace } from './read_in_place';

describe.each(['wasm', 'cpu'] as const)('readInPlace on %s', (backend) => {
  afterAll(() => disposeBackend());

  it('returns the same values as dataSync for float32, int32 and bool, without a new tensor', async () => {
    await initBackend({ backend, quiet: true });
    const ts = [tf.tensor2d([[1.5, -2], [3, 4.25]]), tf.tensor1d([7, -8, 9], 'int32'), tf.tensor1d([1, 0, 1], 'bool')];
    const before = tf.memory().numTensors;
    for (const t of ts) expect(Array.from(readInPlace(t))).toEqual(Array.from(t.dataSync()));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(ts);
  });

  it('views the result of a kernel (what the DSA indexer reads per chunk)', async () => {
    await initBackend({ backend, quiet: true });
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const c = tf.matMul(a, a, false, true);
    expect(Array.from(readInPlace(c))).toEqual([5, 11, 11, 25]);
    tf.dispose([a, c]);
  });
});
