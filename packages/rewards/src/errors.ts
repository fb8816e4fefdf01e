/**
 * Thrown when a reward is configured wrongly (bad option, bad weight, malformed test case). The
 * message names the field, the value and what was expected; the same three are kept as properties.
 *
 * Defined here rather than imported from `@r1-ts/tensor-kernels` so that this package stays free of
 * tfjs.
 *
 * @example
 * ```ts
 * import { RewardConfigError, createRepetitionPenalty } from '@r1-ts/rewards';
 * try {
 *   createRepetitionPenalty({ n: 0 });
 * } catch (e) {
 *   if (e instanceof RewardConfigError) console.log(e.field); // 'n'
 * }
 * ```
 */
export class RewardConfigError extends Error {
  override readonly name = 'RewardConfigError';
  /** The option or field at fault, e.g. `'weights[1]'` or `'sample.tests[0].fn'`. */
  readonly field: string;
  /** The offending value. */
  readonly value: unknown;
  /** What was expected, in words. */
  readonly expected: string;

  /**
   * The message reads `<field> must be <expected>, got <value>`.
   *
   * @param field - Name of the offending option or sample field, e.g. `maxLength` or `sample.language`.
   * @param value - The value that was given (shown in the message).
   * @param expected - What the field must be, e.g. `a finite number <= 0`.
   */
  constructor(field: string, value: unknown, expected: string) {
    super(`${field} must be ${expected}, got ${describe(value)}`);
    this.field = field;
    this.value = value;
    this.expected = expected;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

/** Throws unless `value` is a finite number (optionally with a minimum). Internal helper. */
export function checkNumber(field: string, value: unknown, opts: { min?: number; integer?: boolean; exclusiveMin?: boolean } = {}): number {
  const { min, integer = false, exclusiveMin = false } = opts;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || (exclusiveMin ? value > min : value >= min));
  if (!ok) {
    const kind = integer ? 'an integer' : 'a finite number';
    const bound = min === undefined ? '' : exclusiveMin ? ` > ${min}` : ` >= ${min}`;
    throw new RewardConfigError(field, value, `${kind}${bound}`);
  }
  return value as number;
}
