// Masked softmax over the last axis of attention scores [B, H, Sq, Sk] and its backward in WGSL:
// one workgroup per query row. Causal, index-set (indices [B, Sq, k], −1 unused) and key-padding
// (keyMask [B, Sk]) masks are evaluated inline; a row with no allowed key comes out all zeros.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { MaskedSoftmax, MaskedSoftmaxGrad } from '../../kernel_names';
import type { MaskedSoftmaxAttrs } from '../../kernel_names';
import { f32, i32, rowProgram, run } from './program';
import type { WebGPURunner } from './program';

/** WGSL `fn allowed(row, j) -> bool` for the masks present. */
function allowedFn(indices: boolean, keyMask: boolean): string {
  return `
    fn allowed(row : i32, j : i32) -> bool {
      let i = row % uniforms.Sq;
      let b = row / (uniforms.H * uniforms.Sq);
      if (uniforms.causal == 1 && j >= uniforms.Sk - uniforms.Sq + i + 1) { return false; }
      ${keyMask ? 'if (f32(keyMask[b * uniforms.Sk + j]) == 0.0) { return false; }' : ''}
      ${indices ? `
      let base = (b * uniforms.Sq + i) * uniforms.k;
      for (var s = 0; s < uniforms.k; s = s + 1) { if (indices[base + s] == j) { return true; } }
      return false;` : 'return true;'}
    }`;
}

/** p = softmax(scale·scores) over allowed keys, 0 elsewhere. */
export const maskedSoftmaxWebGPU: KernelConfig = {
  kernelName: MaskedSoftmax,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { scores, indices, keyMask } = inputs as { scores: TensorInfo; indices?: TensorInfo; keyMask?: TensorInfo };
    const { scale, causal } = attrs as unknown as MaskedSoftmaxAttrs;
    const [B, H, Sq, Sk] = scores.shape;
    const rows = B * H * Sq;
    const names = ['scores', ...(indices ? ['indices'] : []), ...(keyMask ? ['keyMask'] : [])];
    const key = `r1MaskedSoftmax_${indices ? 'i' : ''}${keyMask ? 'm' : ''}`;
    const program = rowProgram(key, names, scores.shape, rows, 'rows : i32, H : i32, Sq : i32, Sk : i32, k : i32, causal : i32, scale : f32,', `
      let o = row * uniforms.Sk;
      var m = -3.4e38;
      for (var j = lane; j < uniforms.Sk; j = j + 64) { if (allowed(row, j)) { m = max(m, uniforms.scale * scores[o + j]); } }
      m = wgMax(m, lane);
      var s = 0.0;
      for (var j = lane; j < uniforms.Sk; j = j + 64) { if (allowed(row, j)) { s = s + exp(uniforms.scale * scores[o + j] - m); } }
      let total = wgSum(s, lane);
      if (valid) {
        for (var j = lane; j < uniforms.Sk; j = j + 64) {
          var p = 0.0;
          if (total > 0.0 && allowed(row, j)) { p = exp(uniforms.scale * scores[o + j] - m) / total; }
          setOutputAtIndex(o + j, p);
        }
      }`);
    const base = program.getUserCode;
    program.getUserCode = () => `${allowedFn(!!indices, !!keyMask)}\n${base()}`;
    const uniforms = [i32(rows), i32(H), i32(Sq), i32(Sk), i32(indices ? indices.shape[2] : 0), i32(causal ? 1 : 0), f32(scale)];
    return run(backend as unknown as WebGPURunner, program, [scores, ...(indices ? [indices] : []), ...(keyMask ? [keyMask] : [])], uniforms);
  },
};

/** dScores = scale · p ⊙ (dp − Σ p·dp) per row. */
export const maskedSoftmaxGradWebGPU: KernelConfig = {
  kernelName: MaskedSoftmaxGrad,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { p, dp } = inputs as Record<'p' | 'dp', TensorInfo>;
    const { scale } = attrs as unknown as MaskedSoftmaxAttrs;
    const Sk = p.shape[p.shape.length - 1];
    const rows = Sk === 0 ? 0 : p.shape.reduce((a, b) => a * b, 1) / Sk;
    const program = rowProgram('r1MaskedSoftmaxGrad', ['p', 'dp'], p.shape, rows, 'rows : i32, Sk : i32, scale : f32,', `
      let o = row * uniforms.Sk;
      var s = 0.0;
      for (var j = lane; j < uniforms.Sk; j = j + 64) { s = s + p[o + j] * dp[o + j]; }
      let dot = wgSum(s, lane);
      if (valid) {
        for (var j = lane; j < uniforms.Sk; j = j + 64) { setOutputAtIndex(o + j, uniforms.scale * p[o + j] * (dp[o + j] - dot)); }
      }`);
    return run(backend as unknown as WebGPURunner, program, [p, dp], [i32(rows), i32(Sk), f32(scale)]);
  },
};
