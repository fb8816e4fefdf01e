import { ConfigError } from './errors';

/**
 * Rejects keys an options object does not define, so a misspelt or foreign option (`level` for
 * `importanceSampling`, `lr` for `learningRate`) fails loudly instead of being ignored. Throws a
 * {@link ConfigError} naming each unknown key, the key it likely meant (from `hints`, else a
 * case-insensitive match, else the accepted key closest in edit distance when it is close enough to be a
 * typo), and the accepted keys. Keys whose value is `undefined` are ignored (spreads of optional fields).
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
    const meant = hints[k] ?? accepted.find((a) => a.toLowerCase() === k.toLowerCase()) ?? closestKey(k, accepted);
    return `"${k}"${meant ? ` (did you mean "${meant}"?)` : ''}`;
  });
  throw new ConfigError(`${where}: unknown key${unknown.length > 1 ? 's' : ''} ${named.join(', ')}; accepted: ${accepted.join(', ')}`, unknown);
}

/** The accepted key nearest to `key` by case-insensitive edit distance, if it is within a typo's reach (≤ 1/3 of its length, at most 3). */
function closestKey(key: string, accepted: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.min(3, Math.floor(key.length / 3)) + 1;
  for (const a of accepted) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best;
}

/** Edit distance counting insertions, deletions, substitutions and swaps of adjacent letters (`inti` → `init` is 1). */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], before[j - 2] + 1);
    }
    [before, prev] = [prev, row];
  }
  return prev[b.length];
}
