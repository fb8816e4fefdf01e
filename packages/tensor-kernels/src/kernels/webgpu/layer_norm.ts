// LayerNorm and its backward in WGSL: one workgroup per row of x [..., D] (two-pass mean and
// variance), column sums for the weight and bias gradients.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { LayerNorm, LayerNormGrad } from '../../kernel_names';
import type { LayerNormAttrs } from '../../kernel_names';
import { elementwiseProgram, f32, i32, rowProgram, run } from './program';
import type { WebGPURunner } from './program';

/** μ and r = 1/sqrt(σ² + eps) of this row (every lane gets them). */
const ROW_STATS = `
  let o = row * uniforms.D;
  var s = 0.0;
  for (var j = lane; j < uniforms.D; j = j + 64) { s = s + x[o + j]; }
  let mu = wgSum(s, lane) / f32(uniforms.D);
  var q = 0.0;
  for (var j = lane; j < uniforms.D; j = j + 64) { let c = x[o + j] - mu; q = q + c * c; }
  let r = inverseSqrt(wgSum(q, lane) / f32(uniforms.D) + uniforms.eps);`;
const UNIFORMS = 'rows : i32, D : i32, eps : f32,';
const rowsOf = (x: TensorInfo, D: number) => (D === 0 ? 0 : x.shape.reduce((a, b) => a * b, 1) / D);

/** y = w ⊙ (x − μ)·r + b. */
export const layerNormWebGPU: KernelConfig = {
  kernelName: LayerNorm,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, weight, bias } = inputs as Record<'x' | 'weight' | 'bias', TensorInfo>;
    const { eps } = attrs as unknown as LayerNormAttrs;
    const D = weight.shape[0];
    const rows = rowsOf(x, D);
    const program = rowProgram('r1LayerNorm', ['x', 'weight', 'bias'], x.shape, rows, UNIFORMS, `
      ${ROW_STATS}
      if (valid) {
        for (var j = lane; j < uniforms.D; j = j + 64) { setOutputAtIndex(o + j, weight[j] * (x[o + j] - mu) * r + bias[j]); }
      }`);
    return run(backend as unknown as WebGPURunner, program, [x, weight, bias], [i32(rows), i32(D), f32(eps)]);
  },
};

/** dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂)) with g = w ⊙ dy; dw = Σ_rows dy ⊙ x̂; db = Σ_rows dy. */
export const layerNormGradWebGPU: KernelConfig = {
  kernelName: LayerNormGrad,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, weight, dy } = inputs as Record<'x' | 'weight' | 'dy', TensorInfo>;
    const { eps } = attrs as unknown as LayerNormAttrs;
    const gpu = backend as unknown as WebGPURunner;
    const D = weight.shape[0];
    const rows = rowsOf(x, D);
    const u = [i32(rows), i32(D), f32(eps)];
    const dx = run(gpu, rowProgram('r1LayerNormGradX', ['x', 'weight', 'dy'], x.shape, rows, UNIFORMS, `
      ${ROW_STATS}
      var gs = 0.0;
      var gx = 0.0;
      for (var j = lane; j < uniforms.D; j = j + 64) { let g = weight[j] * dy[o + j]; gs = gs + g; gx = gx + g * (x[o + j] - mu) * r; }
      let gMean = wgSum(gs, lane) / f32(uniforms.D);
      let gxMean = wgSum(gx, lane) / f32(uniforms.D);
      if (valid) {
        for (var j = lane; j < uniforms.D; j = j + 64) { setOutputAtIndex(o + j, r * (weight[j] * dy[o + j] - gMean - (x[o + j] - mu) * r * gxMean)); }
      }`), [x, weight, dy], u);
    // Per-row μ and r, packed [rows, 2], for the column sums.
    const stats = run(gpu, rowProgram('r1LayerNormStats', ['x'], [rows, 2], rows, UNIFORMS, `
      ${ROW_STATS}
      if (valid && lane == 0) { setOutputAtIndex(row * 2, mu); setOutputAtIndex(row * 2 + 1, r); }`), [x], u);
    const dw = run(gpu, elementwiseProgram('r1LayerNormGradW', ['x', 'dy', 'stats'], [D], 'rows : i32, D : i32,', `
      var acc = 0.0;
      for (var n = 0; n < uniforms.rows; n = n + 1) { let o = n * uniforms.D + index; acc = acc + dy[o] * (x[o] - stats[2 * n]) * stats[2 * n + 1]; }
      setOutputAtIndex(index, acc);`), [x, dy, stats], [i32(rows), i32(D)]);
    const db = run(gpu, elementwiseProgram('r1LayerNormGradB', ['dy'], [D], 'rows : i32, D : i32,', `
      var acc = 0.0;
      for (var n = 0; n < uniforms.rows; n = n + 1) { acc = acc + dy[n * uniforms.D + index]; }
      setOutputAtIndex(index, acc);`), [dy], [i32(rows), i32(D)]);
    gpu.disposeData(stats.dataId);
    return [dx, dw, db];
  },
};
