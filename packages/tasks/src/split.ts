import { checkInt, TaskConfigError } from './errors.js';
import { TaskRng } from './rng.js';
import type { TaskGenerator, TaskSample } from './sample.js';
import { checkOptionKeys } from './options.js';

/**
 * Options of {@link makeSplit}.
 *
 * @example
 * ```ts
 * import type { SplitOptions } from '@r1-ts/tasks';
 * const opts: SplitOptions = { seed: 0, train: 1000, eval: 200, exclude: ['347+285'] };
 * ```
 */
export interface SplitOptions {
  seed: number;
  /** Distinct training problems. */
  train: number;
  /** Distinct held-out problems. */
  eval: number;
  /** Canonical keys never to use in either split (e.g. another benchmark's problems). */
  exclude?: Iterable<string>;
  /** Draws allowed before giving up (default 50 × (train + eval) + 1000). */
  maxDraws?: number;
}

/**
 * A train/eval split: `train` and `eval` never share a canonical problem key (R1 §3 evaluates on
 * held-out problems), and neither contains duplicates.
 *
 * @example
 * ```ts
 * import type { Split } from '@r1-ts/tasks';
 * const empty: Split = { train: [], eval: [] };
 * ```
 */
export interface Split {
  train: TaskSample[];
  eval: TaskSample[];
}

/**
 * Draws distinct problems (dedup by `generator.key`, so `3+5` and `5+3` count as one) and splits
 * them: the first `eval` distinct problems are held out, the next `train` are for training. The
 * eval set therefore does not change when only `train` changes. Throws `TaskConfigError` when the
 * generator's problem space is too small for the sizes asked.
 *
 * @param generator - The task to draw distinct problems from.
 * @param options - `seed`; `train` and `eval` sizes; `exclude`: keys that must not appear (e.g. another split's eval set); `maxDraws` before giving up.
 *
 * @example
 * ```ts
 * import { arithmeticTask, makeSplit } from '@r1-ts/tasks';
 * const gen = arithmeticTask({ digits: 3 });
 * const { train, eval: held } = makeSplit(gen, { seed: 0, train: 500, eval: 100 });
 * console.log(train.length, held.length); // 500 100
 * ```
 */
export function makeSplit(generator: TaskGenerator, options: SplitOptions): Split {
  checkOptionKeys('makeSplit', options, { seed: true, train: true, eval: true, exclude: true, maxDraws: true });
  const nTrain = checkInt('train', options.train, 0, 100_000_000);
  const nEval = checkInt('eval', options.eval, 0, 100_000_000);
  const maxDraws = checkInt('maxDraws', options.maxDraws ?? 50 * (nTrain + nEval) + 1000, 1, Number.MAX_SAFE_INTEGER);
  const rng = new TaskRng(options.seed);
  const seen = new Set<string>(options.exclude ?? []);
  const distinct: TaskSample[] = [];
  for (let draws = 0; distinct.length < nTrain + nEval; draws++) {
    if (draws >= maxDraws) {
      throw new TaskConfigError(
        `train + eval = ${nTrain + nEval} distinct ${generator.task} problems asked, only ${distinct.length} found in ` +
          `${maxDraws} draws; lower train/eval or raise the difficulty`,
        ['train', 'eval'],
      );
    }
    const sample = generator.sample(rng);
    const key = generator.key(sample);
    if (seen.has(key)) continue;
    seen.add(key);
    distinct.push(sample);
  }
  return { eval: distinct.slice(0, nEval), train: distinct.slice(nEval) };
}
