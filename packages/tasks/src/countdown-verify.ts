import { checkOptionKeys } from './options.js';
/** A parsed Countdown expression: a number or a binary operation. */
export type CountdownNode = { kind: 'num'; value: number } | { kind: 'op'; op: '+' | '-' | '*' | '/'; left: CountdownNode; right: CountdownNode };

/**
 * Options of {@link verifyCountdown}.
 *
 * @example
 * ```ts
 * import type { CountdownVerifyOptions } from '@r1-ts/tasks';
 * const opts: CountdownVerifyOptions = { integerIntermediates: false, useAll: true };
 * ```
 */
export interface CountdownVerifyOptions {
  /** Every intermediate value must be an integer, as in the game (default true). */
  integerIntermediates?: boolean;
  /** Every given number must be used (default false: each at most once). */
  useAll?: boolean;
  /** Longest expression accepted, in characters (default 1000). */
  maxLength?: number;
}

/**
 * Result of {@link verifyCountdown}: `valid`, the exact value reached (`'97'`, `'7/2'`) when the
 * expression could be evaluated, and the reason when it is not valid.
 *
 * @example
 * ```ts
 * import type { CountdownVerdict } from '@r1-ts/tasks';
 * const v: CountdownVerdict = { valid: false, value: '96', reason: 'value 96 is not the target 97' };
 * ```
 */
export interface CountdownVerdict {
  valid: boolean;
  value?: string;
  reason?: string;
}

const MAX_DEPTH = 64;
const OPS: Record<string, '+' | '-' | '*' | '/'> = { '+': '+', '-': '-', '*': '*', '/': '/', '×': '*', x: '*', '÷': '/' };

class ParseError extends Error {}

/**
 * Parses `+ - * /` (also `× ÷`), parentheses and non-negative integers into a tree, with usual
 * precedence and left associativity; no unary minus, no decimals. Never evaluates code. An optional
 * trailing `=N` is returned separately. Throws on malformed input (message says where).
 */
export function parseCountdown(text: string): { tree: CountdownNode; claimed: number | null } {
  const tokens = text.match(/\d+|[+\-*/×x÷()=]|\S/g) ?? [];
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const num = (): number => {
    const t = tokens[pos];
    if (t === undefined || !/^\d+$/.test(t)) throw new ParseError(`expected a number at token ${pos + 1}, got ${t ?? 'end of input'}`);
    pos++;
    return Number(t);
  };
  const factor = (depth: number): CountdownNode => {
    if (depth > MAX_DEPTH) throw new ParseError(`parentheses nested deeper than ${MAX_DEPTH}`);
    if (peek() === '(') {
      pos++;
      const inner = expr(depth + 1);
      if (peek() !== ')') throw new ParseError(`expected ')' at token ${pos + 1}, got ${peek() ?? 'end of input'}`);
      pos++;
      return inner;
    }
    return { kind: 'num', value: num() };
  };
  const term = (depth: number): CountdownNode => {
    let left = factor(depth);
    while (peek() !== undefined && ['*', '/'].includes(OPS[peek()!] ?? '')) {
      const op = OPS[tokens[pos++]];
      left = { kind: 'op', op, left, right: factor(depth) };
    }
    return left;
  };
  const expr = (depth: number): CountdownNode => {
    let left = term(depth);
    while (peek() === '+' || peek() === '-') {
      const op = OPS[tokens[pos++]];
      left = { kind: 'op', op, left, right: term(depth) };
    }
    return left;
  };
  const tree = expr(0);
  let claimed: number | null = null;
  if (peek() === '=') {
    pos++;
    claimed = num();
  }
  if (pos < tokens.length) throw new ParseError(`unexpected '${tokens[pos]}' at token ${pos + 1}`);
  return { tree, claimed };
}

/** Exact rational n/d with d > 0, in lowest terms. */
interface Rational {
  n: bigint;
  d: bigint;
}

function rational(n: bigint, d: bigint): Rational {
  if (d < 0n) [n, d] = [-n, -d];
  let a = n < 0n ? -n : n;
  let b = d;
  while (b) [a, b] = [b, a % b];
  return a > 1n ? { n: n / a, d: d / a } : { n, d };
}

const show = (r: Rational): string => (r.d === 1n ? `${r.n}` : `${r.n}/${r.d}`);

class EvalError extends Error {}

function evaluate(node: CountdownNode, integerOnly: boolean): Rational {
  if (node.kind === 'num') return { n: BigInt(node.value), d: 1n };
  const l = evaluate(node.left, integerOnly);
  const r = evaluate(node.right, integerOnly);
  let out: Rational;
  if (node.op === '+') out = rational(l.n * r.d + r.n * l.d, l.d * r.d);
  else if (node.op === '-') out = rational(l.n * r.d - r.n * l.d, l.d * r.d);
  else if (node.op === '*') out = rational(l.n * r.n, l.d * r.d);
  else {
    if (r.n === 0n) throw new EvalError(`division by zero in ${show(l)}/${show(r)}`);
    out = rational(l.n * r.d, l.d * r.n);
  }
  if (integerOnly && out.d !== 1n) throw new EvalError(`non-integer intermediate ${show(l)}${node.op}${show(r)}=${show(out)}`);
  return out;
}

/** The numbers an expression uses, left to right. */
export function countdownLeaves(node: CountdownNode): number[] {
  return node.kind === 'num' ? [node.value] : [...countdownLeaves(node.left), ...countdownLeaves(node.right)];
}

/**
 * Checks a Countdown answer safely (own parser, no `eval`): the expression uses only `+ - * /`
 * (`× ÷` too) and parentheses over the given numbers, each at most as often as it is given, and its
 * exact value equals `target`. By default every intermediate must be an integer, as in the game.
 *
 * @param expression - The candidate's arithmetic expression, e.g. `(3 + 5) * 2`.
 * @param numbers - The numbers given; each may be used at most as often as it appears.
 * @param target - The value the expression must reach.
 * @param options - `integerIntermediates` (default true), `useAll` (default false), and the longest expression accepted.
 *
 * @example
 * ```ts
 * import { verifyCountdown } from '@r1-ts/tasks';
 * console.log(verifyCountdown('25*4-3', [3, 4, 25], 97)); // { valid: true, value: '97' }
 * console.log(verifyCountdown('25*4-3-3', [3, 4, 25], 94).reason); // number 3 used 2 times, given 1
 * ```
 */
export function verifyCountdown(
  expression: string,
  numbers: readonly number[],
  target: number,
  options: CountdownVerifyOptions = {},
): CountdownVerdict {
  checkOptionKeys('verifyCountdown', options, { integerIntermediates: true, useAll: true, maxLength: true });
  const maxLength = options.maxLength ?? 1000;
  if (typeof expression !== 'string') return { valid: false, reason: 'expression is not a string' };
  if (expression.length > maxLength) return { valid: false, reason: `expression longer than ${maxLength} characters` };
  if (expression.trim() === '') return { valid: false, reason: 'empty expression' };
  let parsed: ReturnType<typeof parseCountdown>;
  try {
    parsed = parseCountdown(expression);
  } catch (e) {
    return { valid: false, reason: `cannot parse: ${(e as Error).message}` };
  }
  const available = new Map<number, number>();
  for (const n of numbers) available.set(n, (available.get(n) ?? 0) + 1);
  const used = new Map<number, number>();
  for (const n of countdownLeaves(parsed.tree)) used.set(n, (used.get(n) ?? 0) + 1);
  for (const [n, k] of used) {
    const given = available.get(n) ?? 0;
    if (k > given) return { valid: false, reason: `number ${n} used ${k} time${k > 1 ? 's' : ''}, given ${given}` };
  }
  if (options.useAll) {
    for (const [n, k] of available) {
      if ((used.get(n) ?? 0) < k) return { valid: false, reason: `number ${n} not used` };
    }
  }
  let value: Rational;
  try {
    value = evaluate(parsed.tree, options.integerIntermediates ?? true);
  } catch (e) {
    if (e instanceof EvalError) return { valid: false, reason: e.message };
    throw e;
  }
  const v = show(value);
  if (parsed.claimed !== null && parsed.claimed !== target) {
    return { valid: false, value: v, reason: `claims ${parsed.claimed}, not the target ${target}` };
  }
  if (value.d !== 1n || value.n !== BigInt(target)) return { valid: false, value: v, reason: `value ${v} is not the target ${target}` };
  return { valid: true, value: v };
}
