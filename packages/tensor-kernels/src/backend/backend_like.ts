// The parts of tfjs's backend classes r1-ts's own kernels reach into. tfjs exports neither
// BackendWasm nor MathBackendCPU as types, so they are described structurally, once.
import type { DataId, DataType, TensorInfo, TypedArray } from '@tensorflow/tfjs';

/** tfjs-backend-wasm's BackendWasm: tensors live on the WebAssembly heap. */
export interface WasmBackendLike {
  /** A new tensor on the heap (allocating may grow the heap, which detaches earlier views). */
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A view of a tensor's values on the heap, no copy. */
  typedArrayFromHeap(t: TensorInfo): TypedArray;
  incRef(dataId: DataId): void;
  disposeData(dataId: DataId): boolean;
}

/** tfjs-backend-cpu's MathBackendCPU: tensors are JS typed arrays. */
export interface CpuBackendLike {
  data: { get(dataId: DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values: TypedArray): TensorInfo;
}
