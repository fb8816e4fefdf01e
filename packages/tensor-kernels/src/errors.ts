/**
 * Base class of every error r1-ts throws on purpose. `code` is stable and machine-readable.
 *
 * @example
 * ```ts
 * import { R1Error } from '@r1-ts/tensor-kernels';
 * try { throw new R1Error('E_DEMO', 'demo'); } catch (e) { if (e instanceof R1Error) console.log(e.code); }
 * ```
 */
export class R1Error extends Error {
  /**
   * Sets `code` and the message; `name` is the subclass's name.
   *
   * @param code - Stable error code, e.g. `E_CONFIG`.
   * @param message - What went wrong: the field or file, the value and what was expected.
   */
  constructor(
    /** Stable error code, e.g. `E_CONFIG`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A configuration value is missing, of the wrong type or impossible. The message names the field,
 * the value and what was expected: `config.kv_lora_rank must be a positive integer, got -3`.
 *
 * @example
 * ```ts
 * import { ConfigError } from '@r1-ts/tensor-kernels';
 * const err = new ConfigError('config.kv_lora_rank must be a positive integer, got -3', ['kv_lora_rank']);
 * console.log(err.fields); // ['kv_lora_rank']
 * ```
 */
export class ConfigError extends R1Error {
  /**
   * Code `E_CONFIG`.
   *
   * @param message - The field, its value and what was expected.
   * @param fields - Paths of the offending fields. Default none.
   */
  constructor(
    message: string,
    /** Paths of the offending fields. */
    readonly fields: string[] = [],
  ) {
    super('E_CONFIG', message);
  }
}

/**
 * A checkpoint or safetensors file is corrupt, hostile, or disagrees with its config.
 *
 * @example
 * ```ts
 * import { CheckpointError } from '@r1-ts/tensor-kernels';
 * const err = new CheckpointError('header length 999999 runs past the end of the file (120 bytes)');
 * console.log(err.code); // 'E_CHECKPOINT'
 * ```
 */
export class CheckpointError extends R1Error {
  /**
   * Code `E_CHECKPOINT`.
   *
   * @param message - The file, what is wrong with it and what was expected.
   */
  constructor(message: string) {
    super('E_CHECKPOINT', message);
  }
}

/**
 * A tensor could not be allocated: the backend's memory is exhausted (on wasm, the one heap of at
 * most 4 GiB that holds every tensor). The message says how much was asked for and how much is in
 * use, and what to change.
 *
 * @example
 * ```ts
 * import { OutOfMemoryError } from '@r1-ts/tensor-kernels';
 * const err = new OutOfMemoryError('wasm heap exhausted: cannot allocate 622.3 MB');
 * console.log(err.code); // 'E_OOM'
 * ```
 */
export class OutOfMemoryError extends R1Error {
  /**
   * Code `E_OOM`.
   *
   * @param message - What could not be allocated, what is in use, and what to change.
   */
  constructor(message: string) {
    super('E_OOM', message);
  }
}
