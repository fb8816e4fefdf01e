/**
 * One problem found in a dataset file: where it is and what is wrong.
 *
 * @example
 * ```ts
 * import type { DatasetProblem } from '@r1-ts/tasks';
 * const p: DatasetProblem = { line: 4, field: '(json)', message: 'invalid JSON: Unexpected end of JSON input' };
 * ```
 */
export interface DatasetProblem {
  /** 1-based line number in the file (0 when the problem concerns the whole file). */
  line: number;
  /** Dotted path of the offending field (`answer`, `tests.0.fn`), or `(json)` / `(line)` / `(file)`. */
  field: string;
  /** What was wrong and what was expected. */
  message: string;
  /** What `line` counts: lines of a text file (default) or rows of a table (Parquet), 1-based. */
  unit?: 'line' | 'row';
}

/**
 * A dataset file is missing, empty or has malformed lines. `problems` lists every malformed line with
 * its line number and field; the message summarises the first few. Nothing is silently skipped.
 *
 * @example
 * ```ts
 * import { DatasetError } from '@r1-ts/tasks';
 * const err = new DatasetError('data.jsonl', [{ line: 3, field: 'answer', message: 'expected string, got number' }]);
 * console.log(err.problems[0].line); // 3
 * ```
 */
export class DatasetError extends Error {
  /** Stable error code, as in r1-ts's other errors. */
  readonly code = 'E_DATASET';

  /**
   * The message summarises the first five problems.
   *
   * @param path - The file the problems were found in.
   * @param problems - Every problem found, in line order.
   */
  constructor(
    /** The file the problems were found in. */
    readonly path: string,
    /** Every problem found, in line order. */
    readonly problems: DatasetProblem[],
  ) {
    super(summarise(path, problems));
    this.name = 'DatasetError';
  }
}

function summarise(path: string, problems: DatasetProblem[]): string {
  const shown = problems.slice(0, 5).map((p) => `  ${p.unit ?? 'line'} ${p.line}, ${p.field}: ${p.message}`);
  const more = problems.length > 5 ? [`  … and ${problems.length - 5} more`] : [];
  return [`${path}: ${problems.length} problem(s)`, ...shown, ...more].join('\n');
}

/**
 * A generator option is missing, of the wrong type or impossible. The message names the option, the
 * value and what was expected (same contract as `ConfigError` in `@r1-ts/tensor-kernels`, which this
 * tfjs-free package cannot import).
 *
 * @example
 * ```ts
 * import { TaskConfigError, arithmeticTask } from '@r1-ts/tasks';
 * try { arithmeticTask({ digits: 0 }); } catch (e) { if (e instanceof TaskConfigError) console.log(e.fields); } // ['digits']
 * ```
 */
export class TaskConfigError extends Error {
  /** Stable error code, shared with `ConfigError`. */
  readonly code = 'E_CONFIG';

  /**
   * Names the offending options in `fields`.
   *
   * @param message - What is wrong: the option, its value and what was expected.
   * @param fields - Names of the offending options. Default none.
   */
  constructor(
    message: string,
    /** Names of the offending options. */
    readonly fields: string[] = [],
  ) {
    super(message);
    this.name = 'TaskConfigError';
  }
}

/** Throws a {@link TaskConfigError} unless `value` is an integer in [min, max]. */
export function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TaskConfigError(
      `${field} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`,
      [field],
    );
  }
  return value;
}
