import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend, setLinearAdapter } from '@r1-ts/tensor-kernels';
import { refMoe, refSwiglu, relErr } from '../test/reference';
import { paramsOf, randn, randomMoe, tinyConfig } from '../test/util';

// Linear adapters (what @r1-ts/lora attaches) on the dense MLP / shared / routed experts: the fused
// SwiGLU and MoE kernels do not apply them, so adapted experts must go through `linear`.

const deltas: tf.Tensor[] = [];

/** Attaches x ↦ x·ΔWᵀ (a dense update) to w and returns ΔW as plain numbers. */
function attachDelta(w: tf.Variable, seed: number): Float32Array {
  const delta = randn(w.size, seed, 0.3);
  const d = tf.tensor2d(delta, w.shape as [number, number]); // [out, in]
  deltas.push(d);
  setLinearAdapter(w, (x2) => tf.matMul(x2, d, false, true) as tf.Tensor2D);
  return delta;
}

describe.each(['cpu', 'wasm'] as const)('experts with linear adapters on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    tf.dispose(deltas.splice(0));
    await disposeBackend();
  });

  it('an adapted shared or routed expert computes SwiGLU with W + ΔW (float64 reference); detached, the fused path again', () => {
    const c = tinyConfig;
    const T = 10;
    const moe = randomMoe(c, 4);
    const p = paramsOf(moe);
    const adapted = [moe.sharedExperts!.gateProj, moe.sharedExperts!.upProj, moe.sharedExperts!.downProj, moe.experts[3].downProj, moe.experts[5].gateProj];
    const names = ['mlp.shared_experts.gate_proj', 'mlp.shared_experts.up_proj', 'mlp.shared_experts.down_proj', 'mlp.experts.3.down_proj', 'mlp.experts.5.gate_proj'];
    adapted.forEach((w, i) => {
      const delta = attachDelta(w, 50 + i);
      const key = `${names[i]}.weight`;
      p.set(key, p.get(key)!.map((v, j) => v + delta[j]));
    });
    expect(moe.sharedExperts!.adapted).toBe(true);
    expect(moe.experts[3].adapted && !moe.experts[0].adapted).toBe(true);
    const x = randn(T * c.hidden_size, 9);
    const y = tf.tidy(() => moe.forward(tf.tensor3d(x, [1, T, c.hidden_size])).dataSync());
    expect(relErr(y, refMoe(c, p, x, T).y)).toBeLessThan(1e-5);
    // Only the shared experts adapted: the routed ones stay in the fused kernel beside them.
    for (const w of adapted.slice(3)) setLinearAdapter(w, null);
    const p2 = paramsOf(moe);
    for (const n of names.slice(0, 3)) p2.set(`${n}.weight`, p.get(`${n}.weight`)!);
    const y2 = tf.tidy(() => moe.forward(tf.tensor3d(x, [1, T, c.hidden_size])).dataSync());
    expect(relErr(y2, refMoe(c, p2, x, T).y)).toBeLessThan(1e-5);
    for (const w of adapted) setLinearAdapter(w, null);
    expect(moe.sharedExperts!.adapted).toBe(false);
    const y3 = tf.tidy(() => moe.forward(tf.tensor3d(x, [1, T, c.hidden_size])).dataSync());
    expect(relErr(y3, refMoe(c, paramsOf(moe), x, T).y)).toBeLessThan(1e-5);
    moe.dispose();
  });

  it('Expert.forward with an adapter matches the reference and is differentiable w.r.t. the adapter', () => {
    const moe = randomMoe(tinyConfig, 8);
    const expert = moe.sharedExperts!;
    const { hidden_size: D, moe_intermediate_size: I } = tinyConfig;
    const p = paramsOf(moe);
    const scale = tf.variable(tf.scalar(1));
    const d = tf.tensor2d(randn(I * D, 3, 0.3), [I, D]);
    setLinearAdapter(expert.upProj, (x2) => tf.mul(tf.matMul(x2, d, false, true), scale) as tf.Tensor2D);
    const key = 'mlp.shared_experts.up_proj.weight';
    const dd = d.dataSync();
    p.set(key, p.get(key)!.map((v, j) => v + dd[j]));
    const x = randn(3 * D, 11);
    const y = tf.tidy(() => expert.forward(tf.tensor2d(x, [3, D])).dataSync());
    const want = [0, 1, 2].flatMap((t) => refSwiglu(p, 'mlp.shared_experts.', D, I, x, t * D));
    expect(relErr(y, want)).toBeLessThan(1e-5);
    const g = tf.tidy(() => tf.grad((s: tf.Tensor) => {
      setLinearAdapter(expert.upProj, (x2) => tf.mul(tf.matMul(x2, d, false, true), s) as tf.Tensor2D);
      return tf.sum(expert.forward(tf.tensor2d(x, [3, D])));
    })(scale).dataSync()[0]);
    expect(Math.abs(g)).toBeGreaterThan(0);
    setLinearAdapter(expert.upProj, null);
    tf.dispose([scale, d]);
    moe.dispose();
  });
});
