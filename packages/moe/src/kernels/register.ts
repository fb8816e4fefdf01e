// Kernel names, cpu/wasm registrations and gradients of the MoE kernels. Registration is lazy (first
// use), because the package is side-effect free.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, NamedAttrMap, NamedTensorInfoMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { MOE_KERNEL_BACKENDS, memoryOf } from './memory';
import { expertsBackward, expertsForward, expertsGradX } from './experts';
import type { ExpertWeights } from './experts';
import { topkWeightBackward, topkWeightForward } from './topk_weight';

/** Routed + shared experts, fused. Inputs (an array): x [T,D], weight [T,K], indices [T,K] int32, cache (scratch, filled), then gate, up, down of each expert. Output: y [T,D]. */
export const MoeExperts = 'R1MoeExperts';
/** An uninitialised float32 buffer [size] (the activation cache MoeExperts fills). No inputs. */
export const MoeScratch = 'R1MoeScratch';
/** Backward of MoeExperts without dx. Inputs: dy, x, weight, indices, cache, weights. Outputs: dweight, d(g|u), dW per weight. */
export const MoeExpertsGrad = 'R1MoeExpertsGrad';
/** dx of MoeExperts. Inputs: d(g|u), indices, weights. Output: dx [T, D]. */
export const MoeExpertsGradX = 'R1MoeExpertsGradX';
/** Routing weights of the selection. Inputs {scores [T,E], indices [T,K]} → w [T,K]. */
export const MoeTopkWeight = 'R1MoeTopkWeight';
/** Backward of MoeTopkWeight. Inputs {dy, scores, indices} → dscores [T,E]. */
export const MoeTopkWeightGrad = 'R1MoeTopkWeightGrad';

/** Attributes of the MoeExperts kernels. */
export interface MoeExpertsAttrs {
  /** The last weight triple is the shared experts (routing weight 1 for every token). */
  shared: boolean;
}
/** Attributes of the MoeTopkWeight kernels. */
export interface MoeTopkWeightAttrs {
  normalize: boolean;
  scale: number;
}

const list = (inputs: NamedTensorInfoMap) => Array.from({ length: Object.keys(inputs).length }, (_, i) => inputs[i] as TensorInfo);
const triples = (ws: TensorInfo[]): ExpertWeights[] => Array.from({ length: ws.length / 3 }, (_, e) => [ws[3 * e], ws[3 * e + 1], ws[3 * e + 2]]);

type Compute = (mem: ReturnType<typeof memoryOf>, inputs: NamedTensorInfoMap, attrs: NamedAttrMap) => TensorInfo | TensorInfo[];

const computes: Record<string, Compute> = {
  [MoeExperts]: (mem, inputs, attrs) => {
    const [x, weight, indices, cache, ...ws] = list(inputs);
    return expertsForward(mem, x, weight, indices, cache, triples(ws), (attrs as unknown as MoeExpertsAttrs).shared);
  },
  [MoeScratch]: (mem, _inputs, attrs) => mem.alloc([(attrs as unknown as { size: number }).size]),
  [MoeExpertsGrad]: (mem, inputs, attrs) => {
    const [dy, x, weight, indices, cache, ...ws] = list(inputs);
    return expertsBackward(mem, dy, x, weight, indices, triples(ws), cache, (attrs as unknown as MoeExpertsAttrs).shared);
  },
  [MoeExpertsGradX]: (mem, inputs, attrs) => {
    const [dgu, indices, ...ws] = list(inputs);
    const [T] = indices.shape;
    const D = ws[0].shape[1];
    return expertsGradX(mem, dgu, indices, triples(ws), (attrs as unknown as MoeExpertsAttrs).shared, T, D);
  },
  [MoeTopkWeight]: (mem, { scores, indices }, attrs) => {
    const { normalize, scale } = attrs as unknown as MoeTopkWeightAttrs;
    return topkWeightForward(mem, scores!, indices!, normalize, scale);
  },
  [MoeTopkWeightGrad]: (mem, { dy, scores, indices }, attrs) => {
    const { normalize, scale } = attrs as unknown as MoeTopkWeightAttrs;
    return topkWeightBackward(mem, dy!, scores!, indices!, normalize, scale);
  },
};

const run = (name: string, inputs: unknown, attrs: object) =>
  tf.engine().runKernel(name, inputs as NamedTensorInfoMap as never, attrs as NamedAttrMap);

/** MoeExperts gradient: one backward kernel; dx only when asked for (a separate kernel). */
function expertsGradient(dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap): Record<string, () => Tensor> {
  const dy = Array.isArray(dys) ? dys[0] : dys;
  const [x, weight, indices, cache, ...ws] = saved;
  const [dweight, dgu, ...dW] = run(MoeExpertsGrad, [dy, x, weight, indices, cache, ...ws], attrs) as Tensor[];
  const grads: Record<string, () => Tensor> = {
    0: () => run(MoeExpertsGradX, [dgu, indices, ...ws], attrs) as Tensor,
    1: () => dweight,
    2: () => tf.zerosLike(indices),
    3: () => tf.zerosLike(cache),
  };
  dW.forEach((g, i) => {
    grads[4 + i] = () => g;
  });
  return grads;
}

let registered = false;

/** Registers the MoE kernels (cpu, wasm) and their gradients once. */
export function registerMoeKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of MOE_KERNEL_BACKENDS) {
    for (const [kernelName, compute] of Object.entries(computes)) {
      if (tf.getKernel(kernelName, backendName)) continue;
      const config: KernelConfig = {
        kernelName,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) => compute(memoryOf(backend as KernelBackend, backendName), inputs, attrs ?? {}),
      };
      tf.registerKernel(config);
    }
  }
  if (!tf.getGradient(MoeExperts)) {
    tf.registerGradient({ kernelName: MoeExperts, saveAllInputs: true, gradFunc: expertsGradient as never });
  }
  if (!tf.getGradient(MoeTopkWeight)) {
    tf.registerGradient({
      kernelName: MoeTopkWeight,
      inputsToSave: ['scores', 'indices'],
      gradFunc: (dy, [scores, indices], attrs) => ({
        scores: () => run(MoeTopkWeightGrad, { dy, scores, indices }, attrs) as Tensor,
        indices: () => tf.zerosLike(indices),
      }),
    });
  }
}
