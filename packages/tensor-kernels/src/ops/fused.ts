// Shared checks of the public fused ops: input validation with errors that name the argument, the
// value and what was expected, and whether the active backend has the fused kernel.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';

/**
 * Whether the active backend has r1-ts's fused kernel `name` (cpu and wasm do; e.g. tfjs-node
 * does not, and the ops then fall back to their composite tfjs implementation).
 *
 * @param name - a kernel name such as `'R1RmsNorm'` (see kernel_names.ts)
 * @example
 * ```ts
 * import { hasFusedKernel, initBackend } from '@r1-ts/tensor-kernels';
 * await initBackend({ backend: 'cpu', quiet: true });
 * console.log(hasFusedKernel('R1RmsNorm')); // true
 * ```
 */
export function hasFusedKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}

/** Throws a ConfigError `${op}: ${field} ${what}` naming the field. */
export function fail(op: string, field: string, what: string): never {
  throw new ConfigError(`${op}: ${field} ${what}`, [field]);
}

/** Requires a tf.Tensor of the given dtype. */
export function expectTensor(op: string, field: string, t: unknown, dtype: tf.DataType): tf.Tensor {
  if (!(t instanceof tf.Tensor)) fail(op, field, `must be a tf.Tensor, got ${typeof t}`);
  if (t.isDisposed) fail(op, field, 'is disposed');
  if (t.dtype !== dtype) fail(op, field, `must be ${dtype}, got ${t.dtype}`);
  return t;
}

/** Requires exactly `shape`; `why` says where the expected shape comes from. */
export function expectShape(op: string, field: string, t: tf.Tensor, shape: number[], why: string): void {
  if (!tf.util.arraysEqual(t.shape, shape)) {
    fail(op, field, `must have shape [${shape}] (${why}), got [${t.shape}]`);
  }
}

/** Requires a finite non-negative number. */
export function expectEps(op: string, eps: unknown): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    fail(op, 'eps', `must be a finite number ≥ 0, got ${String(eps)}`);
  }
  return eps;
}
