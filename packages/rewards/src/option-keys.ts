import { RewardConfigError } from './errors.js';

/** Every key of an options type, each mapped to `true`: the compiler then insists the list is complete and exact. */
export type OptionKeys<T> = { readonly [K in keyof T]-?: true };

/**
 * Throws a {@link RewardConfigError} for the first key of `options` that its type does not define, so a
 * misspelt option (`maxLenght`) fails at construction instead of the reward silently using its default.
 * The error's `field` is the unknown key; the message lists the accepted keys and, for a likely typo,
 * the one it probably meant. Keys whose value is `undefined` are ignored (spreads of optional fields).
 * Internal helper (this package stays free of `@r1-ts/tensor-kernels`, which has the shared one).
 */
export function checkOptionKeys<T extends object>(where: string, options: T, keys: OptionKeys<T>): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new RewardConfigError(`${where} options`, options, 'an object');
  }
  const accepted = Object.keys(keys);
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || accepted.includes(key)) continue;
    const meant = closest(key, accepted);
    throw new RewardConfigError(key, value, `an option of ${where} (${meant ? `did you mean "${meant}"? ` : ''}accepted: ${accepted.join(', ')})`);
  }
}

/** The accepted key a typo most likely meant: same letters ignoring case, else within edit distance ⌊len/3⌋ (at least 1). */
function closest(key: string, accepted: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  let best = accepted.find((a) => a.toLowerCase() === k);
  let bestD = best ? 0 : Math.max(1, Math.floor(k.length / 3)) + 1;
  for (const a of accepted) {
    const b = a.toLowerCase();
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= k.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (k[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    if (prev[b.length] < bestD) [best, bestD] = [a, prev[b.length]];
  }
  return best;
}
