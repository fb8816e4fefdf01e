// Shared by the op tests: the backends to run on, random inputs, a relative error and a
// vector-Jacobian product through tf.grads.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { registerR1Kernels } from '../register_all';

registerR1Kernels();

/**
 * Every backend the fused kernels are registered on (tfjs-node is not installable here); webgpu
 * when R1_TEST_WEBGPU=1 (CI with a Vulkan driver: a missing adapter then fails the tests).
 */
export const BACKENDS: readonly ('cpu' | 'wasm' | 'webgpu')[] = process.env.R1_TEST_WEBGPU === '1' ? ['cpu', 'wasm', 'webgpu'] : ['cpu', 'wasm'];

/** n standard-normal float32 values (× std) from a seeded generator. */
export const randn = (rng: Rng, n: number, std = 1): Float32Array => rng.normalArray(n, std);

/** ‖a − b‖₂ / ‖b‖₂ (golden/README §2), with b the float64 reference. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs reference ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** Forward value and the gradients of Σ f(args) ⊙ dy with respect to args, as arrays. */
export function vjp(f: (...a: tf.Tensor[]) => tf.Tensor, args: tf.Tensor[], dy: tf.Tensor): { y: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const y = f(...args).dataSync() as Float32Array;
    const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), dy)))(args);
    return { y: y.slice(), grads: grads.map((g) => (g.dataSync() as Float32Array).slice()) };
  });
}

/**
 * Gradients of Σ f(inputs) ⊙ dy by float64 central differences — an oracle independent of any
 * hand-derived backward formula.
 */
export function numericGrads(f: (inputs: Float64Array[]) => ArrayLike<number>, inputs: ArrayLike<number>[], dy: ArrayLike<number>, which = inputs.map((_, i) => i)): Float64Array[] {
  const xs = inputs.map((a) => Float64Array.from(a));
  const objective = () => {
    const y = f(xs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * dy[i];
    return s;
  };
  return which.map((w) => {
    const g = new Float64Array(xs[w].length);
    for (let i = 0; i < g.length; i++) {
      const x0 = xs[w][i];
      const h = 1e-6 * Math.max(1, Math.abs(x0));
      xs[w][i] = x0 + h;
      const up = objective();
      xs[w][i] = x0 - h;
      const down = objective();
      xs[w][i] = x0;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  });
}

/** A float32 tensor holding values (rounded to float32, as the reference then sees them). */
export const f32 = (values: ArrayLike<number>, shape: number[]) => tf.tensor(Float32Array.from(values), shape, 'float32');
