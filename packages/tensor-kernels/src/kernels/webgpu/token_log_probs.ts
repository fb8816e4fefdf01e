// Token log-probabilities log softmax(logits)[target] and their backward in WGSL: one workgroup
// per row of logits [..., V]; a target outside [0, V) gives 0 and no gradient.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { TokenLogProbs, TokenLogProbsGrad } from '../../kernel_names';
import { i32, rowProgram, run } from './program';
import type { WebGPURunner } from './program';

/** Row max and log Σ exp(l − max) + max over the row's V logits (every lane gets lse). */
const LOG_SUM_EXP = `
  let o = row * uniforms.V;
  var m = -3.4e38;
  for (var j = lane; j < uniforms.V; j = j + 64) { m = max(m, logits[o + j]); }
  m = wgMax(m, lane);
  var s = 0.0;
  for (var j = lane; j < uniforms.V; j = j + 64) { s = s + exp(logits[o + j] - m); }
  let lse = m + log(wgSum(s, lane));
  let t = targets[row];
  let hit = t >= 0 && t < uniforms.V;`;

/** logits [..., V], targets [...] int32 → [...]. */
export const tokenLogProbsWebGPU: KernelConfig = {
  kernelName: TokenLogProbs,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const { logits, targets } = inputs as Record<'logits' | 'targets', TensorInfo>;
    const V = logits.shape[logits.shape.length - 1];
    const rows = targets.shape.reduce((a, b) => a * b, 1);
    const program = rowProgram('r1TokenLogProbs', ['logits', 'targets'], targets.shape, rows, 'rows : i32, V : i32,', `
      ${LOG_SUM_EXP}
      if (valid && lane == 0) { setOutputAtIndex(row, select(0.0, logits[o + select(0, t, hit)] - lse, hit)); }`);
    return run(backend as unknown as WebGPURunner, program, [logits, targets], [i32(rows), i32(V)]);
  },
};

/** dLogits = dy·(onehot(target) − softmax(logits)) per row. */
export const tokenLogProbsGradWebGPU: KernelConfig = {
  kernelName: TokenLogProbsGrad,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const { logits, targets, dy } = inputs as Record<'logits' | 'targets' | 'dy', TensorInfo>;
    const V = logits.shape[logits.shape.length - 1];
    const rows = targets.shape.reduce((a, b) => a * b, 1);
    const program = rowProgram('r1TokenLogProbsGrad', ['logits', 'targets', 'dy'], logits.shape, rows, 'rows : i32, V : i32,', `
      ${LOG_SUM_EXP}
      let g = dy[row];
      if (valid) {
        for (var j = lane; j < uniforms.V; j = j + 64) {
          setOutputAtIndex(o + j, select(0.0, g * (select(0.0, 1.0, j == t) - exp(logits[o + j] - lse)), hit));
        }
      }`);
    return run(backend as unknown as WebGPURunner, program, [logits, targets, dy], [i32(rows), i32(V)]);
  },
};
