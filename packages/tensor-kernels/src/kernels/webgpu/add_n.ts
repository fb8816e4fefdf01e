// A seam fix for tfjs-backend-webgpu 4.22: its AddN binds every input as a storage buffer of one
// shader, so summing more tensors than the device's maxStorageBuffersPerShaderStage allows (8 by
// default; a model's gradient norm sums one scalar per parameter) fails pipeline validation. This
// wrapper sums in groups that fit and then sums the partial results.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface Backend {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): boolean;
}

/** Wraps tfjs's webgpu AddN kernel function. */
export function groupedAddN(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as unknown as Backend;
    const group = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1); // one binding is the output
    let tensors = args.inputs as unknown as TensorInfo[];
    if (tensors.length <= group) return original(args);
    const made: TensorInfo[] = [];
    while (tensors.length > group) {
      const next: TensorInfo[] = [];
      for (let i = 0; i < tensors.length; i += group) {
        const part = tensors.slice(i, i + group);
        if (part.length === 1) {
          next.push(part[0]);
          continue;
        }
        const sum = original({ ...args, inputs: part as unknown as tf.NamedTensorInfoMap }) as TensorInfo;
        made.push(sum);
        next.push(sum);
      }
      tensors = next;
    }
    const out = original({ ...args, inputs: tensors as unknown as tf.NamedTensorInfoMap }) as TensorInfo;
    for (const t of made) backend.disposeData(t.dataId);
    return out;
  };
  return { kernelName: tf.AddN, backendName: 'webgpu', kernelFunc };
}
