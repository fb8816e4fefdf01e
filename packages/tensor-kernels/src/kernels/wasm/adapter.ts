// Runs a KernelSpec on tfjs's wasm backend with zero copies: outputs are allocated on the wasm
// heap first (allocation may grow the heap and detach older views), then inputs and outputs are
// viewed in place with typedArrayFromHeap.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { KernelArray, KernelSpec } from '../kernel_spec';
import type { WasmBackendLike } from '../../backend/backend_like';

/** A wasm KernelConfig from a spec. */
export function wasmKernel(spec: KernelSpec): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const specs = spec.outputs(inputs as Record<string, TensorInfo>, attrs ?? {});
    const infos = specs.map((o) => wasm.makeOutput(o.shape, o.dtype));
    const arrays: Record<string, KernelArray> = {};
    for (const [name, t] of Object.entries(inputs)) {
      if (t) arrays[name] = { shape: t.shape, values: wasm.typedArrayFromHeap(t) };
    }
    spec.compute(arrays, infos.map((t) => wasm.typedArrayFromHeap(t)), attrs ?? {});
    return infos.length === 1 ? infos[0] : infos;
  };
  return { kernelName: spec.kernelName, backendName: 'wasm', kernelFunc };
}
