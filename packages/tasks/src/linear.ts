import { checkInt, TaskConfigError } from './errors.js';
import { formatFraction } from './fraction.js';
import { r1Completion } from './r1-format.js';
import type { TaskRng } from './rng.js';
import type { CompletionOptions, TaskGenerator, TaskSample } from './sample.js';
import { checkOptionKeys } from './options.js';

/**
 * Options of {@link linearEquationTask}.
 *
 * @example
 * ```ts
 * import type { LinearEquationOptions } from '@r1-ts/tasks';
 * const opts: LinearEquationOptions = { difficulty: 3 };
 * ```
 */
export interface LinearEquationOptions {
  /**
   * 1: `ax+b=c`, small positive numbers, integer x ≥ 0; 2: signed coefficients, integer x;
   * 3: rational x (answer a reduced fraction); 4–5: x on both sides (`ax+b=cx+d`), wider ranges.
   * Default 2.
   */
  difficulty?: number;
}

/** ax + b = cx + d; c = 0 is the one-sided form ax + b = d. */
interface LinearMeta {
  a: number;
  b: number;
  c: number;
  d: number;
}

/**
 * Linear equations in x with an exact answer: an integer (`5`, `-3`) or a reduced fraction
 * (`-7/2`). Compact chain of thought: `3x+5=20` → `<think>3x=20-5=15,x=15/3=5</think><answer>5</answer>`.
 *
 * @param options - `difficulty`: 1–5 (default 2), larger means larger coefficients and fractional answers.
 *
 * @example
 * ```ts
 * import { linearEquationTask, TaskRng } from '@r1-ts/tasks';
 * const gen = linearEquationTask({ difficulty: 3 });
 * const s = gen.sample(new TaskRng(3));
 * console.log(s.prompt, s.answer, gen.completion(s));
 * ```
 */
export function linearEquationTask(options: LinearEquationOptions = {}): TaskGenerator {
  checkOptionKeys('linearEquationTask', options, { difficulty: true });
  const difficulty = checkInt('difficulty', options.difficulty ?? 2, 1, 5);
  return {
    task: 'linear',
    difficulty,
    sample(rng) {
      const meta = draw(rng, difficulty);
      const eq = equation(meta);
      return {
        id: `linear:${eq}`,
        task: 'linear',
        prompt: `Solve for x: ${eq}`,
        answer: formatFraction(meta.d - meta.b, meta.a - meta.c),
        language: 'en',
        difficulty,
        meta: { ...meta },
      };
    },
    key: (sample) => equation(readMeta(sample)),
    completion(sample, opts: CompletionOptions = {}) {
      const m = readMeta(sample);
      const explained = opts.verbosity === 'explained';
      const k = m.a - m.c; // coefficient of x after collecting terms
      const n = m.d - m.b; // constant after collecting terms
      const answer = formatFraction(n, k);
      const steps: string[] = [];
      if (m.c === 0) {
        const eq = `${term(m.a)}=${minus(m.d, m.b)}=${n}`;
        steps.push(explained ? `Move ${m.b} to the right side: ${eq}.` : eq);
      } else {
        const eq = `${term(m.a)}${m.c < 0 ? '+' : '-'}${term(Math.abs(m.c))}=${minus(m.d, m.b)}`;
        steps.push(explained ? `Collect x on the left and numbers on the right: ${eq}.` : eq);
        steps.push(explained ? `Simplify: ${term(k)}=${n}.` : `${term(k)}=${n}`);
      }
      if (k !== 1) {
        const quotient = `${n}/${k < 0 ? `(${k})` : k}`;
        const eq = quotient === answer ? `x=${answer}` : `x=${quotient}=${answer}`;
        steps.push(explained ? `Divide both sides by ${k}: ${eq}.` : eq);
      }
      return r1Completion(explained ? steps.join(' ') : steps.join(','), answer);
    },
  };
}

function draw(rng: TaskRng, difficulty: number): LinearMeta {
  const signed = (lo: number, hi: number): number => rng.int(lo, hi) * (rng.chance(1, 2) ? 1 : -1);
  if (difficulty === 1) {
    const a = rng.int(2, 9);
    const b = rng.int(1, 9);
    return { a, b, c: 0, d: a * rng.int(0, 9) + b };
  }
  if (difficulty === 2) {
    const a = signed(2, 12);
    const b = signed(1, 20);
    return { a, b, c: 0, d: a * rng.int(-12, 12) + b };
  }
  if (difficulty === 3) {
    let d = signed(1, 30);
    const b = signed(1, 30);
    if (d === b) d = -d; // keep the equation non-trivial (x ≠ 0 from equal constants)
    return { a: signed(2, 12), b, c: 0, d };
  }
  const range = difficulty === 4 ? 12 : 30;
  const a = signed(1, range);
  let c = signed(1, range);
  if (c === a) c = -c; // a ≠ c, otherwise no unique solution
  return { a, b: signed(1, 3 * range), c, d: signed(1, 3 * range) };
}

/** `ax` with 1 and −1 written as `x` and `-x`. */
function term(coef: number): string {
  return coef === 1 ? 'x' : coef === -1 ? '-x' : `${coef}x`;
}

/** `p-q` written without a double sign: `20-5`, `20+5` for q = −5. */
function minus(p: number, q: number): string {
  return q < 0 ? `${p}+${-q}` : `${p}-${q}`;
}

function equation({ a, b, c, d }: LinearMeta): string {
  const sb = b < 0 ? `${b}` : `+${b}`;
  const right = c === 0 ? `${d}` : `${term(c)}${d < 0 ? d : `+${d}`}`;
  return `${term(a)}${sb}=${right}`;
}

function readMeta(sample: TaskSample): LinearMeta {
  const m = sample.meta as Partial<LinearMeta> | undefined;
  const ok = m && [m.a, m.b, m.c, m.d].every((v) => Number.isSafeInteger(v)) && m.a !== m.c;
  if (!ok) throw new TaskConfigError(`sample ${sample.id} has no linear-equation meta {a, b, c, d}`, ['meta']);
  return m as LinearMeta;
}
