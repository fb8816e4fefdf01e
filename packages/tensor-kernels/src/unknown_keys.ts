import { ConfigError } from './errors';

/**
 * Rejects keys an options object does not define, so a misspelt or foreign option (`level` for
 * `importanceSampling`, `lr` for `learningRate`) fails loudly instead of being ignored. Throws a
 * {@link ConfigError} naming each unknown key, a likely meant one where `hints` or a case-insensitive
 * match gives it, and the accepted keys. Keys whose value is `undefined` are ignored (spreads of optional fields).
 *
 * @param options - The object the caller passed.
 * @param known - Every key the options type defines.
 * @param where - How the message names the object, e.g. `GrpoTrainer options`.
 * @param hints - Known aliases: unknown key → the key it probably meant.
 *
 * @example
 * ```ts
 * import { ConfigError, rejectUnknownKeys } from '@r1-ts/tensor-kernels';
 * try {
 *   rejectUnknownKeys({ lr: 1e-3 }, ['learningRate', 'steps'], 'SftTrainer options', { lr: 'learningRate' });
 * } catch (e) {
 *   console.log((e as ConfigError).message);
 *   // SftTrainer options: unknown key "lr" (did you mean "learningRate"?); accepted: learningRate, steps
 * }
 * ```
 */
export function rejectUnknownKeys(
  options: object,
  known: Iterable<string>,
  where: string,
  hints: Readonly<Record<string, string>> = {},
): void {
  const accepted = [...known];
  const set = new Set(accepted);
  const unknown = Object.entries(options).filter(([k, v]) => !set.has(k) && v !== undefined).map(([k]) => k);
  if (!unknown.length) return;
  const named = unknown.map((k) => {
    const meant = hints[k] ?? accepted.find((a) => a.toLowerCase() === k.toLowerCase());
    return `"${k}"${meant ? ` (did you mean "${meant}"?)` : ''}`;
  });
  throw new ConfigError(`${where}: unknown key${unknown.length > 1 ? 's' : ''} ${named.join(', ')}; accepted: ${accepted.join(', ')}`, unknown);
}
