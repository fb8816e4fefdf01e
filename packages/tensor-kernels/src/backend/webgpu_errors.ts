/// <reference types="@webgpu/types" />
// WebGPU reports a broken shader or an invalid call to the device's error handler, not to the caller:
// without a handler Dawn prints the message and the op quietly returns zeros. r1-ts records every
// uncaptured error of its device and throws it as a WebGPUError from the next kernel or read.
import { R1Error } from '../errors';

/**
 * A WebGPU device error (shader compilation, validation, out of memory, device lost), thrown by
 * the op that caused it or by the next read of a tensor.
 *
 * @example
 * ```ts
 * import { WebGPUError } from '@r1-ts/tensor-kernels';
 * import * as tf from '@tensorflow/tfjs';
 * try { tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync(); } catch (e) { if (e instanceof WebGPUError) console.error(e.message); }
 * ```
 */
export class WebGPUError extends R1Error {
  /**
   * Code `E_WEBGPU`.
   *
   * @param message - What failed on the WebGPU backend and why.
   */
  constructor(message: string) {
    super('E_WEBGPU', message);
  }
}

/** Errors raised on a device and not yet thrown. */
export class DeviceErrors {
  private readonly pending: string[] = [];

  constructor(device: GPUDevice) {
    // Dawn delivers validation errors synchronously, inside the call that caused them; out-of-memory
    // and device loss arrive later and are thrown by the next check.
    device.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.pending.push(`${error.constructor?.name ?? 'GPUError'}: ${error.message}`);
    });
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.pending.push(`device lost (${info.reason}): ${info.message}`);
    });
  }

  /** Throws the errors recorded since the last check, naming what was running. */
  check(during: string): void {
    if (this.pending.length === 0) return;
    const messages = this.pending.splice(0);
    throw new WebGPUError(`WebGPU error during ${during}: ${messages.join('\n')}`);
  }
}
