// RMSNorm forward and fused backward (golden/README §4.1): y = w ⊙ x·r, r = 1/sqrt(mean(x²) + eps).
import { RmsNorm, RmsNormGrad } from '../kernel_names';
import type { RmsNormAttrs } from '../kernel_names';
import { f32 } from './kernel_spec';
import type { KernelSpec } from './kernel_spec';
import { nativeKernels } from '../backend/native_addon';

/** Forward: x [..., D], weight [D] → y [..., D]. */
export const rmsNormSpec: KernelSpec = {
  kernelName: RmsNorm,
  outputs: ({ x }) => [{ shape: x.shape, dtype: 'float32' }],
  compute({ x, weight }, [y], attrs) {
    const { eps } = attrs as unknown as RmsNormAttrs;
    const native = nativeKernels();
    if (native) return native.rmsNorm(f32(x), f32(weight), f32(y), weight.values.length, eps);
    const X = x.values;
    const W = weight.values;
    const D = W.length;
    for (let o = 0; o < X.length; o += D) {
      let ss = 0;
      for (let j = 0; j < D; j++) ss += X[o + j] * X[o + j];
      const r = 1 / Math.sqrt(ss / D + eps);
      for (let j = 0; j < D; j++) y[o + j] = W[j] * X[o + j] * r;
    }
  },
};

/**
 * Backward in one pass per row: with g = w ⊙ dy, dx = r·g − r³·x·(g·x)/D and dw = Σ_rows dy ⊙ x·r
 * (accumulated in float64).
 */
export const rmsNormGradSpec: KernelSpec = {
  kernelName: RmsNormGrad,
  outputs: ({ x, weight }) => [{ shape: x.shape, dtype: 'float32' }, { shape: weight.shape, dtype: 'float32' }],
  compute({ x, weight, dy }, [dx, dw], attrs) {
    const { eps } = attrs as unknown as RmsNormAttrs;
    const native = nativeKernels();
    if (native) return native.rmsNormGrad(f32(x), f32(weight), f32(dy), f32(dx), f32(dw), weight.values.length, eps);
    const X = x.values;
    const W = weight.values;
    const G = dy.values;
    const D = W.length;
    const dwAcc = new Float64Array(D);
    for (let o = 0; o < X.length; o += D) {
      let ss = 0;
      let gx = 0;
      for (let j = 0; j < D; j++) {
        ss += X[o + j] * X[o + j];
        gx += W[j] * G[o + j] * X[o + j];
      }
      const r = 1 / Math.sqrt(ss / D + eps);
      const c = (r * r * r * gx) / D;
      for (let j = 0; j < D; j++) {
        dx[o + j] = r * W[j] * G[o + j] - c * X[o + j];
        dwAcc[j] += G[o + j] * X[o + j] * r;
      }
    }
    dw.set(dwAcc);
  },
};
