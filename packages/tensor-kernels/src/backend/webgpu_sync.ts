/// <reference types="@webgpu/types" />
// Synchronous reads of GPU-resident tensors (`dataSync`, `arraySync`) on tfjs's WebGPU backend in
// Node. WebGPU only maps buffers asynchronously and tfjs's own readSync needs a browser's
// OffscreenCanvas, so r1-ts copies the tensor to a staging buffer, asks for the mapping and runs
// Node's event loop (through @se-oss/deasync's runLoopOnce) until Dawn has delivered it. Promise
// callbacks do not run inside a nested loop turn, so the promise's state is read with
// util.inspect rather than awaited.
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { util as tfUtil } from '@tensorflow/tfjs';
import type { BackendValues, DataId, DataType } from '@tensorflow/tfjs';
import { WebGPUError } from './webgpu_errors';

/** The parts of tfjs's WebGPUBackend a synchronous read reaches into (tfjs does not type them publicly). */
export interface WebGPUBackendLike {
  device: GPUDevice;
  tensorMap: { get(dataId: DataId): { values: BackendValues | null; dtype: DataType; resource?: unknown } | undefined };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer; releaseBuffer(buffer: GPUBuffer): void };
  commandEncoder: GPUCommandEncoder | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

let runLoopOnce: (() => void) | null | undefined;

/** @se-oss/deasync's runLoopOnce, or null when the optional package (or its prebuilt binary) is missing. */
export function loopPump(): (() => void) | null {
  if (runLoopOnce === undefined) {
    try {
      runLoopOnce = (createRequire(import.meta.url)('@se-oss/deasync') as { runLoopOnce: () => void }).runLoopOnce;
    } catch {
      runLoopOnce = null;
    }
  }
  return runLoopOnce;
}

/** Runs the event loop until `promise` settles; throws its rejection (message only). */
export function waitSettled(promise: Promise<unknown>, what: string): void {
  const pump = loopPump();
  if (!pump) throw new WebGPUError(`${what} needs a synchronous wait, but the optional package @se-oss/deasync is not installed; use await tensor.data() instead`);
  promise.catch(() => undefined); // the rejection is reported below, not as unhandled
  for (;;) {
    const state = inspect(promise, { depth: 0 });
    if (!state.includes('<pending>')) {
      if (state.includes('<rejected>')) throw new WebGPUError(`${what} failed: ${state}`);
      return;
    }
    pump();
  }
}

/**
 * Reads a tensor's values synchronously: CPU-resident values as they are, GPU buffers through a
 * staging copy that is mapped while the event loop runs. The values are cached on the CPU as tfjs's
 * own async read does.
 */
export function readSyncWebGPU(backend: WebGPUBackendLike, dataId: DataId): BackendValues {
  const data = backend.tensorMap.get(dataId);
  if (!data) throw new WebGPUError(`readSync: tensor ${String(dataId)} is not registered on the webgpu backend`);
  if (data.values != null) return data.values;
  const buffer = data.resource as GPUBuffer | undefined;
  if (!buffer || typeof (buffer as GPUBuffer).size !== 'number') {
    throw new WebGPUError(`readSync: tensor of dtype ${data.dtype} has no GPU buffer (textures are not supported in Node)`);
  }
  const staging = backend.bufferManager.acquireBuffer(buffer.size, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.commandEncoder!.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  backend.submitQueue();
  waitSettled(staging.mapAsync(GPUMapMode.READ), 'reading a GPU tensor synchronously');
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  backend.bufferManager.releaseBuffer(staging);
  const values = tfUtil.convertBackendValuesAndArrayBuffer(bytes, data.dtype);
  data.values = values;
  return values;
}
