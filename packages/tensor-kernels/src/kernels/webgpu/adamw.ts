// AdamW for many parameters in WGSL: per parameter, one elementwise pass each for p', m' and v'
// (tfjs programs have one output; recomputing m' and v' inside the p' pass is cheaper than reading
// them back). The composite path needs about ten dispatches per parameter.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { AdamWUpdate } from '../adamw';
import type { AdamWAttrs } from '../adamw';
import { elementwiseProgram, f32, run } from './program';
import type { WebGPURunner } from './program';

const M2 = 'uniforms.beta1 * m[index] + (1.0 - uniforms.beta1) * g[index]';
const V2 = 'uniforms.beta2 * v[index] + (1.0 - uniforms.beta2) * g[index] * g[index]';
const UNIFORMS = 'lr : f32, beta1 : f32, beta2 : f32, eps : f32, c1 : f32, c2 : f32, decay : f32,';

/** Inputs p{i}, g{i}, m{i}, v{i} → [p'0, m'0, v'0, p'1, …]. */
export const adamWUpdateWebGPU: KernelConfig = {
  kernelName: AdamWUpdate,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const h = attrs as unknown as AdamWAttrs;
    const gpu = backend as unknown as WebGPURunner;
    const ins = inputs as Record<string, TensorInfo>;
    const outs: TensorInfo[] = [];
    for (let i = 0; i < h.n; i++) {
      const args = [ins[`p${i}`], ins[`g${i}`], ins[`m${i}`], ins[`v${i}`]];
      const shape = args[0].shape;
      const uniforms = [h.lr, h.beta1, h.beta2, h.eps, h.c1, h.c2, h.decays[i]].map(f32);
      // Dawn's automatic layouts drop unused bindings: each pass binds only what it reads.
      const [p, g, m, v] = args;
      outs.push(
        run(gpu, elementwiseProgram('r1AdamWP', ['p', 'g', 'm', 'v'], shape, UNIFORMS, `
          let m2 = ${M2};
          let v2 = ${V2};
          setOutputAtIndex(index, p[index] * (1.0 - uniforms.lr * uniforms.decay) - uniforms.lr * (m2 / uniforms.c1) / (sqrt(v2 / uniforms.c2) + uniforms.eps));`), args, uniforms),
        run(gpu, elementwiseProgram('r1AdamWM', ['g', 'm'], shape, UNIFORMS, `setOutputAtIndex(index, ${M2});`), [g, m], uniforms),
        run(gpu, elementwiseProgram('r1AdamWV', ['g', 'v'], shape, UNIFORMS, `setOutputAtIndex(index, ${V2});`), [g, v], uniforms),
      );
    }
    return outs;
  },
};
