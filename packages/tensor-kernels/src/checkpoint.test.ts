import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend/init';
import { checkpoint } from './checkpoint';
import { ConfigError } from './errors';
import { linear, setLinearAdapter, withoutLinearAdapters } from './ops/linear';
import { rmsNorm } from './ops/rms_norm';
import { siluMul } from './ops/swiglu';
import { Rng } from './rng';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

const D = 8;
const F = 16;
const E = 4;

/** A pre-norm residual block with a router, LoRA-style adapters and RNG dropout. */
class ToyBlock {
  readonly norm = tf.variable(tf.randomUniform([D], 0.5, 1.5, 'float32', 1));
  readonly up = tf.variable(tf.randomNormal([2 * F, D], 0, 0.3, 'float32', 2));
  readonly down = tf.variable(tf.randomNormal([D, F], 0, 0.3, 'float32', 3));
  readonly router = tf.variable(tf.randomNormal([E, D], 0, 0.3, 'float32', 4));
  readonly frozen = tf.variable(tf.randomNormal([D], 0, 0.1, 'float32', 5), false);
  readonly loraA = tf.variable(tf.randomNormal([2, D], 0, 0.3, 'float32', 6));
  readonly loraB = tf.variable(tf.randomNormal([2 * F, 2], 0, 0.3, 'float32', 7));
  constructor(readonly rng: Rng, withAdapter: boolean) {
    if (withAdapter) {
      this.up.trainable = false;
      this.down.trainable = false;
      setLinearAdapter(this.up, (x2) => {
        // Dropout with a seed drawn from our Rng, as @r1-ts/lora does.
        const keep = tf.step(tf.sub(tf.randomUniform(x2.shape, 0, 1, 'float32', this.rng.int(0, 2 ** 31 - 1)), 0.3));
        return tf.matMul(tf.matMul(tf.mul(x2, keep), this.loraA, false, true), this.loraB, false, true) as tf.Tensor2D;
      });
    } else {
      this.loraA.trainable = false;
      this.loraB.trainable = false;
    }
  }

  /** h [N, D] → [h', scores [N, E], top-1 index [N] int32]. */
  forward(h: tf.Tensor, mask: tf.Tensor): tf.Tensor[] {
    const x = rmsNorm(h, this.norm, 1e-6);
    const [gate, up] = tf.split(linear(x, this.up), 2, -1);
    const y = linear(siluMul(gate, up), this.down);
    const scores = tf.softmax(linear(x, this.router));
    const keep = tf.step(tf.sub(tf.tensor1d(Array.from({ length: D }, () => this.rng.uniform())), 0.2)); // [D] plain dropout
    const out = tf.add(h, tf.mul(tf.mul(tf.mul(y, keep), mask), tf.add(1, this.frozen)));
    return [out, scores, tf.argMax(scores, -1)];
  }

  variables(): tf.Variable[] {
    return [this.norm, this.up, this.down, this.router, this.frozen, this.loraA, this.loraB];
  }
}

/** The loss over a stack of blocks, each checkpointed or not; the balance-like term uses scores and indices. */
function stackLoss(blocks: ToyBlock[], x: tf.Tensor, mask: tf.Tensor, ckpt: boolean): tf.Scalar {
  let h = x;
  const aux: tf.Tensor[] = [];
  for (const b of blocks) {
    const outs = ckpt ? checkpoint(([hh], [m]) => b.forward(hh, m), [h], { constants: [mask] }) : b.forward(h, mask);
    h = outs[0];
    const counts = tf.sum(tf.oneHot(outs[2], E), 0); // [E] int → float
    aux.push(tf.sum(tf.mul(tf.mean(outs[1], 0), counts)));
  }
  return tf.add(tf.mean(tf.square(h)), tf.mul(0.1, tf.addN(aux))) as tf.Scalar;
}

function makeStack(seed: number, withAdapter: boolean, n = 3): ToyBlock[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => new ToyBlock(rng, withAdapter));
}

/** fn inside a tidy, for results that are plain data. */
function scoped<T>(fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => void (out = fn()));
  return out!;
}

function gradsOf(blocks: ToyBlock[], x: tf.Tensor, ckpt: boolean): { loss: number; grads: Map<string, Float32Array>; dx: Float32Array } {
  return scoped(() => {
    const mask = tf.tensor2d([[1], [1], [0], [1], [1]]);
    const vars = blocks.flatMap((b) => b.variables()).filter((v) => v.trainable);
    const xv = tf.variable(x.clone(), true, `x_${ckpt}_${Math.random()}`);
    const { value, grads } = tf.variableGrads(() => stackLoss(blocks, xv, mask, ckpt), [...vars, xv]);
    const out = new Map<string, Float32Array>();
    blocks.forEach((b, i) => b.variables().forEach((v, j) => {
      if (grads[v.name]) out.set(`${i}.${j}`, grads[v.name].dataSync() as Float32Array);
    }));
    const dx = grads[xv.name].dataSync() as Float32Array;
    const loss = value.dataSync()[0];
    xv.dispose();
    return { loss, grads: out, dx };
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('checkpoint', () => {
  const x = tf.randomNormal([5, D], 0, 1, 'float32', 11);
  afterAll(() => x.dispose());

  it.each([false, true])('gives the gradients of the plain forward (adapter: %s), RNG draws replayed', (withAdapter) => {
    const off = gradsOf(makeStack(3, withAdapter), x, false);
    const on = gradsOf(makeStack(3, withAdapter), x, true);
    expect(on.loss).toBe(off.loss);
    expect([...on.grads.keys()]).toEqual([...off.grads.keys()]);
    // Only trainable variables have gradients: norm, router and A, B with the adapter; else norm, up, down, router.
    expect([...on.grads.keys()].filter((k) => k.startsWith('0.'))).toEqual(withAdapter ? ['0.0', '0.3', '0.5', '0.6'] : ['0.0', '0.1', '0.2', '0.3']);
    for (const [k, g] of off.grads) expect(maxDiff(on.grads.get(k)!, g), k).toBeLessThan(1e-6);
    expect(maxDiff(on.dx, off.dx)).toBeLessThan(1e-6);
  });

  it('without the RNG replay the gradients would differ (the test can fail)', () => {
    // Same stack, but the recompute sees a different dropout: shift the generator in between.
    const blocks = makeStack(3, true);
    const ref = gradsOf(makeStack(3, true), x, false);
    const observer = Rng.drawObserver;
    const shifted = scoped(() => {
      const mask = tf.tensor2d([[1], [1], [0], [1], [1]]);
      const vars = blocks.flatMap((b) => b.variables()).filter((v) => v.trainable);
      // Disable the recording so checkpoint cannot learn which generator to replay.
      const { grads } = tf.variableGrads(() => {
        Object.defineProperty(Rng, 'drawObserver', { configurable: true, get: () => null, set: () => {} });
        try {
          return stackLoss(blocks, x, mask, true);
        } finally {
          Object.defineProperty(Rng, 'drawObserver', { configurable: true, writable: true, value: observer });
        }
      }, vars);
      return blocks[0].variables().filter((v) => v.trainable).map((v) => grads[v.name].dataSync() as Float32Array);
    });
    const refFirst = [...ref.grads.entries()].filter(([k]) => k.startsWith('0.')).map(([, g]) => g);
    expect(Math.max(...shifted.map((g, i) => maxDiff(g, refFirst[i])))).toBeGreaterThan(1e-4);
  });

  it('replays the adapter mode of the forward', () => {
    const blocks = makeStack(5, true, 2);
    const plain = scoped(() => {
      const mask = tf.ones([5, 1]);
      const vars = blocks.flatMap((b) => b.variables()).filter((v) => v.trainable);
      const { grads } = withoutLinearAdapters(() => tf.variableGrads(() => stackLoss(blocks, x, mask, false), vars));
      return blocks[0].norm.name in grads ? grads[blocks[0].norm.name].dataSync() : null;
    });
    const blocks2 = makeStack(5, true, 2);
    const ckpt = scoped(() => {
      const mask = tf.ones([5, 1]);
      const vars = blocks2.flatMap((b) => b.variables()).filter((v) => v.trainable);
      // Forward with adapters off, backward (outside the scope) must recompute with them off too.
      const f = () => withoutLinearAdapters(() => stackLoss(blocks2, x, mask, true));
      const { grads } = tf.variableGrads(f, vars);
      return grads[blocks2[0].norm.name].dataSync();
    });
    expect(maxDiff(ckpt as Float32Array, plain as Float32Array)).toBeLessThan(1e-6);
  });

  it('without a tape runs fn as is (same values, same draws)', () => {
    const [a, b] = [makeStack(4, true, 1)[0], makeStack(4, true, 1)[0]];
    tf.tidy(() => {
      const mask = tf.ones([5, 1]);
      const direct = a.forward(x, mask);
      const viaCkpt = checkpoint(([h], [m]) => b.forward(h, m), [x], { constants: [mask] });
      direct.forEach((t, i) => expect(Array.from(viaCkpt[i].dataSync())).toEqual(Array.from(t.dataSync())));
      expect(b.rng.uniform()).toBe(a.rng.uniform());
    });
  });

  it('leaks no tensors over training steps', () => {
    const blocks = makeStack(7, true);
    const opt = tf.train.sgd(0.01);
    const mask = tf.ones([5, 1]);
    const vars = blocks.flatMap((b) => b.variables()).filter((v) => v.trainable);
    const step = () => tf.tidy(() => void opt.minimize(() => stackLoss(blocks, x, mask, true), false, vars));
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    mask.dispose();
    opt.dispose();
  });

  it('lowers the peak bytes of a backward', async () => {
    const blocks = makeStack(9, false, 6);
    const big = tf.randomNormal([256, D], 0, 1, 'float32', 12);
    const mask = tf.ones([256, 1]);
    const vars = blocks.flatMap((b) => b.variables()).filter((v) => v.trainable);
    const peak = async (ckpt: boolean) => (await tf.profile(() => tf.tidy(() => {
      const { grads } = tf.variableGrads(() => stackLoss(blocks, big, mask, ckpt), vars);
      tf.dispose(grads);
    }))).peakBytes;
    const off = await peak(false);
    const on = await peak(true);
    expect(on).toBeLessThan(off);
    tf.dispose([big, mask]);
  });

  it('names a tensor read from outside that died before the backward', () => {
    const b = makeStack(1, false, 1)[0];
    const vars = b.variables().filter((v) => v.trainable);
    expect(() => tf.tidy(() => tf.variableGrads(() => {
      const mask = tf.ones([5, 1]); // created inside the taped function, disposed with its scope
      return tf.sum(checkpoint(([h]) => b.forward(h, mask), [x])[0]) as tf.Scalar;
    }, vars))).toThrow(ConfigError);
  });
});
