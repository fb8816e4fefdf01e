// How a program's standard output is compared with a test's expected output, as the graders of
// the common code datasets do.

/**
 * `'lines'` (default; LiveCodeBench's and open-r1's graders): both outputs stripped, split into
 * lines, the same number of lines, each line equal after stripping surrounding whitespace.
 * `'tokens'` (Codeforces' default checker): the same whitespace-separated tokens.
 * `'exact'`: equal after normalising line endings only.
 *
 * @example
 * ```ts
 * import type { OutputComparison } from '@r1-ts/rewards';
 * const codeforces: OutputComparison = 'tokens';
 * ```
 */
export type OutputComparison = 'lines' | 'tokens' | 'exact';

const normaliseNewlines = (s: string) => s.replace(/\r\n?/g, '\n');

/** Whether `actual` matches `expected` under `mode`. */
export function outputsMatch(actual: string, expected: string, mode: OutputComparison): boolean {
  const a = normaliseNewlines(actual);
  const e = normaliseNewlines(expected);
  if (mode === 'exact') return a === e;
  if (mode === 'tokens') {
    const ta = a.split(/\s+/).filter(Boolean);
    const te = e.split(/\s+/).filter(Boolean);
    return ta.length === te.length && ta.every((t, i) => t === te[i]);
  }
  const la = a.trim().split('\n');
  const le = e.trim().split('\n');
  return la.length === le.length && la.every((line, i) => line.trim() === le[i].trim());
}
