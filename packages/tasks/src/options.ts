import { z } from 'zod';
import { TaskConfigError } from './errors.js';

/** Every key of an options type, each mapped to `true`: the compiler then insists the list is complete and exact. */
export type OptionKeys<T> = { readonly [K in keyof T]-?: true };

/**
 * Throws a {@link TaskConfigError} when `options` has a key its type does not define — a misspelt option
 * (`digit` for `digits`) would otherwise be ignored and the generator silently use its default. Parsed
 * with a strict zod object; keys whose value is `undefined` are ignored (spreads of optional fields).
 * The message names each unknown key, the accepted key it most likely meant, and all accepted keys.
 */
export function checkOptionKeys<T extends object>(where: string, options: T, keys: OptionKeys<T>): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TaskConfigError(`${where} options must be an object, got ${Array.isArray(options) ? 'an array' : JSON.stringify(options)}`, ['options']);
  }
  const accepted = Object.keys(keys);
  const schema = z.strictObject(Object.fromEntries(accepted.map((k) => [k, z.unknown()])));
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const parsed = schema.safeParse(given);
  if (parsed.success) return;
  const unknown = parsed.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys : []));
  if (!unknown.length) return; // z.unknown() accepts every value, so only unknown keys can fail
  const named = unknown.map((k) => {
    const meant = closest(k, accepted);
    return `"${k}"${meant ? ` (did you mean "${meant}"?)` : ''}`;
  });
  throw new TaskConfigError(
    `${where} options: unknown key${unknown.length > 1 ? 's' : ''} ${named.join(', ')}; accepted: ${accepted.join(', ')}`,
    unknown,
  );
}

/** The accepted key a typo most likely meant: same letters ignoring case, else within edit distance ⌊len/3⌋ (at least 1). */
function closest(key: string, accepted: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  const same = accepted.find((a) => a.toLowerCase() === k);
  if (same) return same;
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(k.length / 3)) + 1;
  for (const a of accepted) {
    const d = levenshtein(k, a.toLowerCase());
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
