import type { EvalResult } from './evaluate';

/**
 * One of R1's findings as the demo checks it on a run's held-out evaluation.
 *
 * @example
 * ```ts
 * import type { Finding } from '@r1-ts/pipeline';
 * const f: Finding = { id: 2, claim: 'reasoning RL > cold start by ≥ 10 points', holds: true, detail: 'reasoning-rl 73.9% vs cold-start 36.7% + 10' };
 * ```
 */
export interface Finding {
  id: number;
  /** What R1 reports, in words. */
  claim: string;
  /** Whether this run shows it; null when a stage it needs was not evaluated. */
  holds: boolean | null;
  /** The numbers compared, e.g. `reasoning-rl 43.3% vs cold-start 16.8% + 10`. */
  detail: string;
}

/**
 * Margins of the findings (pass@1 and format rate as fractions).
 *
 * @example
 * ```ts
 * import { FINDING_MARGINS } from '@r1-ts/pipeline';
 * console.log(FINDING_MARGINS.distillOverStudentRl); // 0.2: the distilled student must lead by 20 points
 * ```
 */
export const FINDING_MARGINS = { rlOverColdStart: 0.1, distillOverStudentRl: 0.2, formatAfterRl: 0.95 } as const;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * R1's findings (R1 §2.3–2.4, §4) checked on one run's held-out evaluation (`eval.json`):
 * 1. cold-start SFT beats the base; 2. reasoning RL beats the cold start by ≥ 10 points;
 * 3. the final model (rejection-sampling SFT + RL for all scenarios) is at least as good as reasoning RL;
 * 4. the distilled student beats the same student trained with RL alone by ≥ 20 points;
 * 5. after reasoning RL (stage 2), ≥ 95% of sampled answers are in the `<think>…</think>` format.
 *
 * @param evals - Stage id → its held-out evaluation, as stored in the run's `eval.json`; findings whose stages are missing are reported as not checked.
 *
 * @example
 * ```ts
 * import { recipeFindings } from '@r1-ts/pipeline';
 * const e = (passAt1: number, formatRate = 1) => ({ passAt1, consAtK: 0, formatRate, meanLength: 0, problems: 1, k: 1, examples: [] });
 * const f = recipeFindings({ pretrain: e(0), 'cold-start': e(0.2), 'reasoning-rl': e(0.4), 'rl-all': e(0.5), distill: e(0.4), 'student-rl': e(0) });
 * console.log(f.every((x) => x.holds)); // true
 * ```
 */
export function recipeFindings(evals: Record<string, EvalResult>): Finding[] {
  const p = (s: string) => evals[s]?.passAt1;
  const m = FINDING_MARGINS;
  const cmp = (id: number, claim: string, a: string, b: string, margin: number, ge: boolean): Finding => {
    const x = p(a);
    const y = p(b);
    if (x === undefined || y === undefined) return { id, claim, holds: null, detail: `${x === undefined ? a : b} not evaluated` };
    // pass@1 values are ratios of counts: compare with a little slack for float rounding of y + margin.
    const holds = ge ? x >= y + margin - 1e-9 : x > y + margin + 1e-9;
    return { id, claim, holds, detail: `${a} ${pct(x)} vs ${b} ${pct(y)}${margin ? ` + ${Math.round(100 * margin)}` : ''}` };
  };
  const fmt = evals['reasoning-rl']?.formatRate;
  return [
    cmp(1, 'cold-start SFT > base', 'cold-start', 'pretrain', 0, false),
    cmp(2, `reasoning RL > cold start by ≥ ${Math.round(100 * m.rlOverColdStart)} points`, 'reasoning-rl', 'cold-start', m.rlOverColdStart, true),
    cmp(3, 'final (rejection SFT + RL for all) ≥ reasoning RL', 'rl-all', 'reasoning-rl', 0, true),
    cmp(4, `distilled student > student RL-only by ≥ ${Math.round(100 * m.distillOverStudentRl)} points`, 'distill', 'student-rl', m.distillOverStudentRl, true),
    fmt === undefined
      ? { id: 5, claim: `format ≥ ${m.formatAfterRl} after reasoning RL`, holds: null, detail: 'reasoning-rl not evaluated' }
      : { id: 5, claim: `format ≥ ${pct(m.formatAfterRl)} after reasoning RL`, holds: fmt >= m.formatAfterRl, detail: `reasoning-rl format ${pct(fmt)}` },
  ];
}

/**
 * Mean, sample standard deviation and minimum of a list (sd 0 for one value).
 *
 * @param xs - The values, e.g. one run metric over several seeds; `n` in the result is their count.
 *
 * @example
 * ```ts
 * import { meanSdMin } from '@r1-ts/pipeline';
 * console.log(meanSdMin([0.7, 0.8, 0.9])); // { mean: 0.8, sd: 0.1, min: 0.7, n: 3 } (up to rounding)
 * ```
 */
export function meanSdMin(xs: readonly number[]): { mean: number; sd: number; min: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, min: n ? Math.min(...xs) : NaN, n };
}

/**
 * Standard error of a pass@1 estimate from its per-problem pass rates (between-problem variance
 * over n problems); at most 0.5/√n whatever k is.
 *
 * @param perProblem - Each problem's pass rate over its k samples, in [0, 1]; n = the array's length.
 *
 * @example
 * ```ts
 * import { passAt1StandardError } from '@r1-ts/pipeline';
 * console.log(passAt1StandardError([1, 0, 0.5, 1])); // per-problem pass rates over k samples
 * ```
 */
export function passAt1StandardError(perProblem: readonly number[]): number {
  return meanSdMin(perProblem).sd / Math.sqrt(Math.max(1, perProblem.length));
}
