import { existsSync, readFileSync } from 'node:fs';
import { CheckpointError } from '@r1-ts/tensor-kernels';

/**
 * Reads a checkpoint's JSON object file (config.json, tokenizer.json, generation_config.json, …):
 * null when the file is absent; a CheckpointError naming the file when it is not valid JSON or not an
 * object.
 *
 * @param path - the file
 * @returns the object, or null when `path` does not exist
 * @example
 * ```ts
 * import { readJsonObject } from '@r1-ts/model';
 * console.log(readJsonObject('no/such/generation_config.json')); // null
 * ```
 */
export function readJsonObject(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CheckpointError(`${path}: expected a JSON object`);
  return value as Record<string, unknown>;
}
