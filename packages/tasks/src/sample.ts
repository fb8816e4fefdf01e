import type { TaskRng } from './rng.js';

/**
 * One test case of a function-writing task: calling the function named `fn` with `input` (spread)
 * must return a value deep-equal (JSON semantics) to `expected`. Assignable to `@r1-ts/rewards`'
 * `CodeTest` (its `{ input: unknown[], expected, fn? }` form).
 *
 * @example
 * ```ts
 * import type { CodeTest } from '@r1-ts/tasks';
 * const test: CodeTest = { fn: 'sumArray', input: [[1, 2, 3]], expected: 6 };
 * ```
 */
export interface CodeTest {
  /** Name of the function the completion must define. */
  fn: string;
  /** Positional arguments, JSON values only. */
  input: unknown[];
  /** The expected return value, a JSON value. */
  expected: unknown;
}

/**
 * One problem with its exact reference answer. Compatible with the sample `@r1-ts/rewards` reads
 * (`{ prompt, answer?, tests?, language? }`).
 *
 * @example
 * ```ts
 * import type { TaskSample } from '@r1-ts/tasks';
 * const s: TaskSample = { id: 'arithmetic:347+285', task: 'arithmetic', prompt: 'What is 347+285?', answer: '632', difficulty: 3 };
 * ```
 */
export interface TaskSample {
  /** Stable id, `<task>:<canonical key>` for generated problems. */
  id: string;
  /** The text given to the model. */
  prompt: string;
  /** Exact reference answer (for code tasks: a reference solution; judge those with `tests`). */
  answer: string;
  /** Test cases for code tasks. */
  tests?: CodeTest[];
  /** Target language of the reasoning (`'en'` for every generator here) or of the code (`'javascript'`). */
  language?: string;
  /** Task family: `arithmetic`, `linear`, `countdown`, `code`, `general/…`, `gsm8k`, `math`. */
  task: string;
  /** The generator's difficulty knob value (0 when unknown). */
  difficulty: number;
  /** Structured problem data the chain-of-thought writers read (operands, numbers, …). */
  meta?: Record<string, unknown>;
}

/**
 * `compact`: terse steps for a tiny character-level model (`7+5=12,4+8+1=13,…`);
 * `explained`: the same steps in short English sentences.
 *
 * @example
 * ```ts
 * import type { Verbosity } from '@r1-ts/tasks';
 * const v: Verbosity = 'compact';
 * ```
 */
export type Verbosity = 'compact' | 'explained';

/**
 * Options of {@link TaskGenerator.completion}.
 *
 * @example
 * ```ts
 * import type { CompletionOptions } from '@r1-ts/tasks';
 * const opts: CompletionOptions = { verbosity: 'explained' };
 * ```
 */
export interface CompletionOptions {
  /** Default `'compact'`. */
  verbosity?: Verbosity;
}

/**
 * A seeded problem source: `sample` draws one problem, `key` names it canonically (for dedup and
 * held-out splits: `3+5` and `5+3` share a key), `completion` writes the worked R1-format answer
 * `<think>steps</think><answer>result</answer>` (general tasks: the plain response).
 *
 * @example
 * ```ts
 * import { arithmeticTask, TaskRng } from '@r1-ts/tasks';
 * const gen = arithmeticTask({ digits: 3 });
 * const s = gen.sample(new TaskRng(1));
 * console.log(s.prompt, gen.key(s), gen.completion(s));
 * ```
 */
export interface TaskGenerator {
  /** Task family name, also `TaskSample.task`. */
  readonly task: string;
  /** The difficulty knob this generator was built with. */
  readonly difficulty: number;
  /** Draws one problem. */
  sample(rng: TaskRng): TaskSample;
  /** Canonical problem key: equal keys mean the same problem. */
  key(sample: TaskSample): string;
  /** Worked completion for a sample this generator made; throws `TaskConfigError` on foreign samples. */
  completion(sample: TaskSample, options?: CompletionOptions): string;
}
