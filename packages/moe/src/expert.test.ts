import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend, Rng } from '@r1-ts/tensor-kernels';
import { DenseMlp } from './expert';
import { refSwiglu, relErr } from '../test/reference';
import { randn } from '../test/util';

describe.each(['cpu', 'wasm'] as const)('DenseMlp on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it('has checkpoint names and computes SwiGLU like the float64 reference', () => {
    const D = 6;
    const I = 10;
    const mlp = new DenseMlp({ hidden_size: D, intermediate_size: I, initializer_range: 0.5 }, new Rng(2));
    const params = mlp.namedParameters('mlp.');
    expect([...params.keys()]).toEqual(['mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight']);
    expect(params.get('mlp.down_proj.weight')!.shape).toEqual([D, I]);
    const p = new Map([...params].map(([k, v]) => [k, Float64Array.from(v.dataSync())]));
    const x = randn(3 * 4 * D, 9);
    const expected = Array.from({ length: 12 }, (_, t) => refSwiglu(p, 'mlp.', D, I, x, t * D)).flat();
    const y = tf.tidy(() => mlp.forward(tf.tensor3d(x, [3, 4, D])).dataSync());
    expect(relErr(y, expected)).toBeLessThan(1e-6);
    mlp.dispose();
  });
});
