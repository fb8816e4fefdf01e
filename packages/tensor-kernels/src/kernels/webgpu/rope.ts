// Rotary embedding in WGSL, both layouts, one invocation per output element. Its gradient is the
// same kernel with `inverse` flipped (registered once for every backend in Rope_grad.ts).
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { Rope } from '../../kernel_names';
import type { RopeAttrs } from '../../kernel_names';
import { elementwiseProgram, f32, i32, run } from './program';
import type { WebGPURunner } from './program';

/**
 * x [B, S, H, d] | [B, S, d], cos/sin [S, d/2] | [B, S, d/2]. Pair (a, b) = (2i, 2i+1) interleaved or
 * (i, i + d/2) half: y_a = x_a·c − x_b·s, y_b = x_a·s + x_b·c, with s negated for the inverse.
 */
export const ropeWebGPU: KernelConfig = {
  kernelName: Rope,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, cos, sin } = inputs as Record<'x' | 'cos' | 'sin', TensorInfo>;
    const { layout, inverse } = attrs as unknown as RopeAttrs;
    const d = x.shape[x.shape.length - 1];
    const H = x.shape.length === 4 ? x.shape[2] : 1;
    const S = x.shape[1];
    const half = layout === 'half';
    const program = elementwiseProgram(`r1Rope_${layout}`, ['x', 'cosTab', 'sinTab'], x.shape, 'd : i32, H : i32, S : i32, perRow : i32, sign : f32,', `
      let h = uniforms.d / 2;
      let e = index % uniforms.d;
      let bs = index / uniforms.d / uniforms.H;
      ${half ? `let i = e % h; let isA = e < h; let ia = select(index - h, index, isA); let ib = ia + h;`
             : `let i = e / 2; let isA = (e % 2) == 0; let ia = select(index - 1, index, isA); let ib = ia + 1;`}
      let t = select(bs % uniforms.S, bs, uniforms.perRow == 1) * h + i;
      let c = cosTab[t];
      let s = uniforms.sign * sinTab[t];
      let xa = x[ia];
      let xb = x[ib];
      setOutputAtIndex(index, select(xa * s + xb * c, xa * c - xb * s, isA));`);
    const uniforms = [i32(d), i32(H), i32(S), i32(cos.shape.length === 3 ? 1 : 0), f32(inverse ? -1 : 1)];
    return run(backend as unknown as WebGPURunner, program, [x, cos, sin], uniforms);
  },
};
