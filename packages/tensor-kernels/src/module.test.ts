import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend/init';
import { CheckpointError } from './errors';
import { Module } from './module';
import { Rng } from './rng';

class Linear extends Module {
  readonly weight = this.param('weight', [2, 3], { normal: 1 });
}
class Block extends Module {
  readonly proj = this.child('proj', new Linear(this.rng));
  readonly bias = this.param('bias', [2], { constant: 0 }, false);
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

describe('Module', () => {
  it('names parameters by dotted path and separates buffers from trainables', () => {
    const b = new Block(new Rng(1));
    expect([...b.namedParameters('layers.0.').keys()]).toEqual(['layers.0.bias', 'layers.0.proj.weight']);
    expect(b.trainableVariables()).toHaveLength(1);
    expect(b.parameterCount()).toBe(8);
    b.dispose();
  });

  it('is reproducible from the seed and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const a = new Block(new Rng(7));
    const c = new Block(new Rng(7));
    expect(a.proj.weight.dataSync()).toEqual(c.proj.weight.dataSync());
    a.dispose();
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads state and reports every problem at once', () => {
    const b = new Block(new Rng(1));
    const good = new Map<string, tf.Tensor>([['bias', tf.tensor1d([1, 2])], ['proj.weight', tf.ones([2, 3])]]);
    b.loadState(good);
    expect([...b.bias.dataSync()]).toEqual([1, 2]);
    const bad = new Map<string, tf.Tensor>([['proj.weight', tf.ones([3, 2])], ['extra', tf.ones([1])]]);
    let err: unknown;
    try {
      b.loadState(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/missing tensor "bias"/);
    expect(msg).toMatch(/"proj.weight" has shape \[3,2\], expected \[2,3\]/);
    expect(msg).toMatch(/unexpected tensor "extra"/);
  });
});
