import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { disposeBackend, initBackend, nativeKernels, Rng, useNativeKernels } from '@r1-ts/tensor-kernels';
import { Expert } from './expert';
import { fusedExperts, hasMoeKernels, topkWeights } from './fused';
import { relErr } from '../test/reference';
import { randn } from '../test/util';

const T = 10;
const K = 2;
const D = 6;
const I = 4;
const IS = 8; // shared width
// Expert 0 is popular, expert 3 gets no token, expert 4 one.
const IDX = [0, 1, 0, 2, 0, 4, 1, 2, 0, 1, 0, 2, 1, 2, 0, 1, 0, 2, 0, 1];
const E = 5;

const sig = (z: number) => 1 / (1 + Math.exp(-z));

interface RefGrads { y: Float64Array; dx: Float64Array; dweight: Float64Array; dW: Float64Array[] }

/** Float64 forward and analytic gradients of Σ y ⊙ dy for the experts (plain loops). */
function reference(x: Float32Array, w: Float32Array, idx: number[], W: Float32Array[][], dy: Float32Array, shared: boolean): RefGrads {
  const y = new Float64Array(T * D);
  const dx = new Float64Array(T * D);
  const dweight = new Float64Array(T * K);
  const dW = W.flat().map((m) => new Float64Array(m.length));
  const apply = (t: number, e: number, weight: number, slot: number) => {
    const [wg, wu, wd] = W[e];
    const width = wg.length / D;
    const g = new Float64Array(width);
    const u = new Float64Array(width);
    for (let i = 0; i < width; i++) {
      for (let d = 0; d < D; d++) {
        g[i] += wg[i * D + d] * x[t * D + d];
        u[i] += wu[i * D + d] * x[t * D + d];
      }
    }
    const a = g.map((gi, i) => gi * sig(gi) * u[i]);
    const dA = new Float64Array(width);
    let dot = 0;
    for (let d = 0; d < D; d++) {
      let o = 0;
      for (let i = 0; i < width; i++) o += wd[d * width + i] * a[i];
      y[t * D + d] += weight * o;
      dot += dy[t * D + d] * o;
      const dO = weight * dy[t * D + d];
      for (let i = 0; i < width; i++) {
        dW[3 * e + 2][d * width + i] += dO * a[i];
        dA[i] += wd[d * width + i] * dO;
      }
    }
    if (slot >= 0) dweight[t * K + slot] = dot;
    for (let i = 0; i < width; i++) {
      const s = sig(g[i]);
      const dg = dA[i] * u[i] * s * (1 + g[i] * (1 - s));
      const du = dA[i] * g[i] * s;
      for (let d = 0; d < D; d++) {
        dW[3 * e][i * D + d] += dg * x[t * D + d];
        dW[3 * e + 1][i * D + d] += du * x[t * D + d];
        dx[t * D + d] += wg[i * D + d] * dg + wu[i * D + d] * du;
      }
    }
  };
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < K; k++) apply(t, idx[t * K + k], w[t * K + k], k);
    if (shared) apply(t, E, 1, -1);
  }
  return { y, dx, dweight, dW };
}

describe.each(['cpu', 'wasm'] as const)('fused MoE kernels on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });

  it('runs on this backend', () => {
    expect(hasMoeKernels()).toBe(true);
  });

  describe.each([true, false])('shared experts: %s', (withShared) => {
    it.each([true, false])('output and every gradient match a float64 reference, including an expert with no token (native loops: %s)', (native) => {
      const was = nativeKernels() !== null;
      useNativeKernels(native);
      onTestFinished(() => void useNativeKernels(was));
      const rng = new Rng(5);
      const experts = Array.from({ length: E }, () => new Expert({ hidden_size: D, intermediate_size: I, initializer_range: 0.5 }, rng));
      const shared = withShared ? new Expert({ hidden_size: D, intermediate_size: IS, initializer_range: 0.5 }, rng) : null;
      const all = [...experts, ...(shared ? [shared] : [])];
      const xData = randn(T * D, 1);
      const wData = Float32Array.from(randn(T * K, 2), Math.abs);
      const dyData = randn(T * D, 3);
      const W = all.map((e) => [e.gateProj, e.upProj, e.downProj].map((v) => v.dataSync() as Float32Array));
      const ref = reference(xData, wData, IDX, W, dyData, withShared);

      const x = tf.variable(tf.tensor2d(xData, [T, D]));
      const w = tf.variable(tf.tensor2d(wData, [T, K]));
      const idx = tf.tensor2d(IDX, [T, K], 'int32');
      const dy = tf.tensor2d(dyData, [T, D]);
      const params = all.flatMap((e) => [e.gateProj, e.upProj, e.downProj]);
      const { value, grads } = tf.variableGrads(() => {
        const y = fusedExperts(x as tf.Tensor2D, w as tf.Tensor2D, idx, experts, shared);
        expect(relErr(y.dataSync(), ref.y)).toBeLessThan(1e-5);
        return tf.sum(tf.mul(y, dy)) as tf.Scalar;
      }, [x, w, ...params]);
      expect(relErr(grads[x.name].dataSync(), ref.dx)).toBeLessThan(1e-5);
      expect(relErr(grads[w.name].dataSync(), ref.dweight)).toBeLessThan(1e-5);
      params.forEach((p, i) => {
        const g = grads[p.name].dataSync();
        if (i >= 9 && i < 12) expect(Array.from(g).every((v) => v === 0), 'expert 3 has no token').toBe(true);
        else expect(relErr(g, ref.dW[i]), p.name).toBeLessThan(1e-5);
      });
      tf.dispose([value, ...Object.values(grads), x, w, idx, dy]);
      all.forEach((e) => e.dispose());
    });
  });

  it('threaded native experts (a batch big enough for worker threads) agree with the JS loops, and with one thread bit for bit', () => {
    const [Tb, Db, Ib, Eb] = [512, 64, 64, 4];
    const rng = new Rng(9);
    const experts = Array.from({ length: Eb }, () => new Expert({ hidden_size: Db, intermediate_size: Ib, initializer_range: 0.2 }, rng));
    const shared = new Expert({ hidden_size: Db, intermediate_size: Ib, initializer_range: 0.2 }, rng);
    const x = tf.variable(tf.tensor2d(randn(Tb * Db, 11), [Tb, Db]));
    const w = tf.variable(tf.tensor2d(Float32Array.from(randn(Tb * K, 12), Math.abs), [Tb, K]));
    // Two distinct experts per token, unevenly loaded: slot 0 cycles, slot 1 is another one.
    const idxData = Array.from({ length: Tb * K }, (_, j) => {
      const t = j >> 1;
      const first = t % Eb;
      const second = (t * 3 + 1) % Eb;
      return j % K === 0 ? first : second === first ? (first + 1) % Eb : second;
    });
    const idx = tf.tensor2d(idxData, [Tb, K], 'int32');
    const dy = tf.tensor2d(randn(Tb * Db, 13), [Tb, Db]);
    const params = [...experts, shared].flatMap((e) => [e.gateProj, e.upProj, e.downProj]);
    const run = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(fusedExperts(x as tf.Tensor2D, w as tf.Tensor2D, idx, experts, shared), dy)) as tf.Scalar, [x, w, ...params]);
      const out = [value, ...[x, w, ...params].map((v) => grads[v.name])].map((t) => t.dataSync().slice());
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const was = nativeKernels() !== null;
    onTestFinished(() => {
      useNativeKernels(was);
      delete process.env.R1_NATIVE_THREADS;
    });
    useNativeKernels(true);
    const threaded = run();
    process.env.R1_NATIVE_THREADS = '1';
    const single = run();
    delete process.env.R1_NATIVE_THREADS;
    useNativeKernels(false);
    const js = run();
    threaded.forEach((t, i) => {
      expect(Array.from(t), `output ${i}`).toEqual(Array.from(single[i]));
      expect(relErr(t, Float64Array.from(js[i])), `output ${i}`).toBeLessThan(1e-5);
    });
    tf.dispose([x, w, idx, dy]);
    [...experts, shared].forEach((e) => e.dispose());
  });

  it('leaves no tensor and no backend buffer behind, with and without a gradient', () => {
    const rng = new Rng(6);
    const experts = Array.from({ length: E }, () => new Expert({ hidden_size: D, intermediate_size: I }, rng));
    const shared = new Expert({ hidden_size: D, intermediate_size: IS }, rng);
    const x = tf.tensor2d(randn(T * D, 4), [T, D]);
    const w = tf.variable(tf.ones([T, K]));
    const idx = tf.tensor2d(IDX, [T, K], 'int32');
    const vars = [x, w, ...[...experts, shared].flatMap((e) => [e.gateProj, e.upProj, e.downProj])];
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(fusedExperts(x, w as tf.Tensor2D, idx, experts, shared)) as tf.Scalar, vars.filter((v) => v instanceof tf.Variable) as tf.Variable[]);
      tf.dispose([value, ...Object.values(grads)]);
      const dx = tf.grad((a: tf.Tensor) => tf.sum(fusedExperts(a as tf.Tensor2D, w as tf.Tensor2D, idx, experts, shared)))(x);
      dx.dispose();
      fusedExperts(x, w as tf.Tensor2D, idx, experts, shared).dispose();
    };
    step();
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([x, w, idx]);
    [...experts, shared].forEach((e) => e.dispose());
  });

  describe.each([true, false])('topkWeights, normalize %s', (normalize) => {
    it('matches a float64 reference, forward and gradient', () => {
      const En = 7;
      const scores = Float32Array.from(randn(T * En, 8), (v) => sig(v));
      const idx = Array.from({ length: T * K }, (_, j) => ((j % K) * 3 + Math.floor(j / K)) % En);
      const dw = randn(T * K, 9);
      const rho = 2.5;
      const wRef = new Float64Array(T * K);
      const dRef = new Float64Array(T * En);
      for (let t = 0; t < T; t++) {
        const sel = [0, 1].map((k) => scores[t * En + idx[t * K + k]]);
        const z = normalize ? sel[0] + sel[1] : 1;
        sel.forEach((s, k) => (wRef[t * K + k] = (rho * s) / z));
        // ∂(ρ s_k / z)/∂s_m = ρ (δ_km / z − s_k / z²) when normalising.
        for (let m = 0; m < K; m++) {
          let g = 0;
          for (let k = 0; k < K; k++) g += dw[t * K + k] * rho * ((k === m ? 1 / z : 0) - (normalize ? sel[k] / (z * z) : 0));
          dRef[t * En + idx[t * K + m]] = g;
        }
      }
      const s = tf.tensor2d(scores, [T, En]);
      const i = tf.tensor2d(idx, [T, K], 'int32');
      const dwT = tf.tensor2d(dw, [T, K]);
      const w = topkWeights(s, i, normalize, rho);
      expect(relErr(w.dataSync(), wRef)).toBeLessThan(1e-6);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(topkWeights(a as tf.Tensor2D, i, normalize, rho), dwT)))(s);
      expect(relErr(g.dataSync(), dRef)).toBeLessThan(1e-5);
      tf.dispose([s, i, dwT, w, g]);
    });
  });
});
