// Runs a KernelSpec on tfjs's cpu backend: inputs are read from the backend's data map, outputs
// are fresh typed arrays handed back through makeTensorInfo.
import type { DataType, KernelConfig, KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import { sizeOf } from '../kernel_spec';
import type { KernelArray, KernelSpec } from '../kernel_spec';
import type { CpuBackendLike } from '../../backend/backend_like';

const allocate = (dtype: DataType, n: number): TypedArray => (dtype === 'int32' ? new Int32Array(n) : new Float32Array(n));

/** A cpu KernelConfig from a spec. */
export function cpuKernel(spec: KernelSpec): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const cpu = backend as unknown as CpuBackendLike;
    const arrays: Record<string, KernelArray> = {};
    for (const [name, t] of Object.entries(inputs)) {
      if (t) arrays[name] = { shape: t.shape, values: cpu.data.get(t.dataId).values as TypedArray };
    }
    const specs = spec.outputs(inputs as Record<string, TensorInfo>, attrs ?? {});
    const outs = specs.map((o) => allocate(o.dtype, sizeOf(o.shape)));
    spec.compute(arrays, outs, attrs ?? {});
    const infos = specs.map((o, i) => cpu.makeTensorInfo(o.shape, o.dtype, outs[i]));
    return infos.length === 1 ? infos[0] : infos;
  };
  return { kernelName: spec.kernelName, backendName: 'cpu', kernelFunc };
}
