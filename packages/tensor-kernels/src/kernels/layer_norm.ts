// LayerNorm forward and fused backward (golden/README §4.1): y = w ⊙ x̂ + b, x̂ = (x − μ)·r,
// r = 1/sqrt(σ² + eps) with the population variance σ².
import { LayerNorm, LayerNormGrad } from '../kernel_names';
import type { LayerNormAttrs } from '../kernel_names';
import type { KernelSpec } from './kernel_spec';
import type { TypedArray } from '@tensorflow/tfjs';

/** Mean and 1/sqrt(σ² + eps) of the row X[o .. o+D), in float64. */
function rowStats(X: TypedArray, o: number, D: number, eps: number): [number, number] {
  let s = 0;
  for (let j = 0; j < D; j++) s += X[o + j];
  const mu = s / D;
  let v = 0;
  for (let j = 0; j < D; j++) v += (X[o + j] - mu) * (X[o + j] - mu);
  return [mu, 1 / Math.sqrt(v / D + eps)];
}

/** Forward: x [..., D], weight [D], bias [D] → y [..., D]. */
export const layerNormSpec: KernelSpec = {
  kernelName: LayerNorm,
  outputs: ({ x }) => [{ shape: x.shape, dtype: 'float32' }],
  compute({ x, weight, bias }, [y], attrs) {
    const { eps } = attrs as unknown as LayerNormAttrs;
    const X = x.values;
    const W = weight.values;
    const Bv = bias.values;
    const D = W.length;
    for (let o = 0; o < X.length; o += D) {
      const [mu, r] = rowStats(X, o, D, eps);
      for (let j = 0; j < D; j++) y[o + j] = W[j] * (X[o + j] - mu) * r + Bv[j];
    }
  },
};

/**
 * Backward: with g = w ⊙ dy, dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂)), dw = Σ_rows dy ⊙ x̂,
 * db = Σ_rows dy (float64 accumulators).
 */
export const layerNormGradSpec: KernelSpec = {
  kernelName: LayerNormGrad,
  outputs: ({ x, weight }) => [
    { shape: x.shape, dtype: 'float32' },
    { shape: weight.shape, dtype: 'float32' },
    { shape: weight.shape, dtype: 'float32' },
  ],
  compute({ x, weight, dy }, [dx, dw, db], attrs) {
    const { eps } = attrs as unknown as LayerNormAttrs;
    const X = x.values;
    const W = weight.values;
    const G = dy.values;
    const D = W.length;
    const dwAcc = new Float64Array(D);
    const dbAcc = new Float64Array(D);
    for (let o = 0; o < X.length; o += D) {
      const [mu, r] = rowStats(X, o, D, eps);
      let gSum = 0;
      let gxSum = 0;
      for (let j = 0; j < D; j++) {
        const xh = (X[o + j] - mu) * r;
        const g = W[j] * G[o + j];
        gSum += g;
        gxSum += g * xh;
        dwAcc[j] += G[o + j] * xh;
        dbAcc[j] += G[o + j];
      }
      const gMean = gSum / D;
      const gxMean = gxSum / D;
      for (let j = 0; j < D; j++) {
        const xh = (X[o + j] - mu) * r;
        dx[o + j] = r * (W[j] * G[o + j] - gMean - xh * gxMean);
      }
    }
    dw.set(dwAcc);
    db.set(dbAcc);
  },
};
