// RMSNorm and its backward in WGSL: one workgroup per row of x [..., D].
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { RmsNorm, RmsNormGrad } from '../../kernel_names';
import type { RmsNormAttrs } from '../../kernel_names';
import { elementwiseProgram, f32, i32, rowProgram, run } from './program';
import type { WebGPURunner } from './program';

const rowsOf = (x: TensorInfo, D: number) => (D === 0 ? 0 : x.shape.reduce((a, b) => a * b, 1) / D);

/** Σ x² of this row (every lane gets it). */
const SUM_SQUARES = `
  var ss = 0.0;
  for (var j = lane; j < uniforms.D; j = j + 64) { let v = x[row * uniforms.D + j]; ss = ss + v * v; }
  let r = inverseSqrt(wgSum(ss, lane) / f32(uniforms.D) + uniforms.eps);`;

/** y = w ⊙ x · r, r = 1/sqrt(mean(x²) + eps). */
export const rmsNormWebGPU: KernelConfig = {
  kernelName: RmsNorm,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, weight } = inputs as Record<'x' | 'weight', TensorInfo>;
    const { eps } = attrs as unknown as RmsNormAttrs;
    const D = weight.shape[0];
    const rows = rowsOf(x, D);
    const program = rowProgram('r1RmsNorm', ['x', 'weight'], x.shape, rows, 'rows : i32, D : i32, eps : f32,', `
      ${SUM_SQUARES}
      if (valid) {
        for (var j = lane; j < uniforms.D; j = j + 64) { setOutputAtIndex(row * uniforms.D + j, weight[j] * x[row * uniforms.D + j] * r); }
      }`);
    return run(backend as unknown as WebGPURunner, program, [x, weight], [i32(rows), i32(D), f32(eps)]);
  },
};

/**
 * Backward: with g = w ⊙ dy, dx = r·g − r³·x·(g·x)/D per row (one workgroup per row); dw = Σ_rows
 * dy ⊙ x·r from the per-row r (one invocation per column).
 */
export const rmsNormGradWebGPU: KernelConfig = {
  kernelName: RmsNormGrad,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, weight, dy } = inputs as Record<'x' | 'weight' | 'dy', TensorInfo>;
    const { eps } = attrs as unknown as RmsNormAttrs;
    const gpu = backend as unknown as WebGPURunner;
    const D = weight.shape[0];
    const rows = rowsOf(x, D);
    const u = [i32(rows), i32(D), f32(eps)];
    const dx = run(gpu, rowProgram('r1RmsNormGradX', ['x', 'weight', 'dy'], x.shape, rows, 'rows : i32, D : i32, eps : f32,', `
      ${SUM_SQUARES}
      var gx = 0.0;
      for (var j = lane; j < uniforms.D; j = j + 64) { let o = row * uniforms.D + j; gx = gx + weight[j] * dy[o] * x[o]; }
      let c = r * r * r * wgSum(gx, lane) / f32(uniforms.D);
      if (valid) {
        for (var j = lane; j < uniforms.D; j = j + 64) { let o = row * uniforms.D + j; setOutputAtIndex(o, r * weight[j] * dy[o] - c * x[o]); }
      }`), [x, weight, dy], u);
    const inv = run(gpu, rowProgram('r1RmsNormInv', ['x'], [rows], rows, 'rows : i32, D : i32, eps : f32,', `
      ${SUM_SQUARES}
      if (valid && lane == 0) { setOutputAtIndex(row, r); }`), [x], u);
    const dw = run(gpu, elementwiseProgram('r1RmsNormGradW', ['x', 'dy', 'inv'], [D], 'rows : i32, D : i32,', `
      var acc = 0.0;
      for (var n = 0; n < uniforms.rows; n = n + 1) { let o = n * uniforms.D + index; acc = acc + dy[o] * x[o] * inv[n]; }
      setOutputAtIndex(index, acc);`), [x, dy, inv], [i32(rows), i32(D)]);
    gpu.disposeData(inv.dataId);
    return [dx, dw];
  },
};
