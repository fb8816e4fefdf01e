import { checkInt, TaskConfigError } from './errors.js';
import { r1Completion } from './r1-format.js';
import type { TaskRng } from './rng.js';
import type { CompletionOptions, TaskGenerator, TaskSample } from './sample.js';
import { checkOptionKeys } from './options.js';

/**
 * The operators of {@link arithmeticTask}: `*` is multiplication.
 *
 * @example
 * ```ts
 * import type { ArithmeticOp } from '@r1-ts/tasks';
 * const ops: ArithmeticOp[] = ['+', '-', '*'];
 * ```
 */
export type ArithmeticOp = '+' | '-' | '*';

/**
 * Options of {@link arithmeticTask}.
 *
 * @example
 * ```ts
 * import type { ArithmeticOptions } from '@r1-ts/tasks';
 * const opts: ArithmeticOptions = { digits: 3, ops: ['+', '-'], promptStyle: 'bare' };
 * ```
 */
export interface ArithmeticOptions {
  /** Digits of each operand, the difficulty knob (1–30; default 3). One digit means 0–9. */
  digits?: number;
  /** Operators drawn uniformly (default `['+']`). */
  ops?: ArithmeticOp[];
  /** `'question'`: `What is 347+285?` (default); `'bare'`: `347+285=` (smaller alphabet). */
  promptStyle?: 'question' | 'bare';
}

interface ArithmeticMeta {
  a: string;
  b: string;
  op: ArithmeticOp;
}

/**
 * Multi-digit arithmetic with carries and borrows: `a op b` with both operands of exactly `digits`
 * digits; subtraction puts the larger operand first, so answers are never negative. Reference
 * answers are exact (BigInt). The compact chain of thought works column by column, right to left:
 * `347+285` → `<think>7+5=12,4+8+1=13,3+2+1=6</think><answer>632</answer>`; subtraction borrows
 * (`12-5=7,13-8-1=4,…`); multiplication writes one partial product per digit, then running sums.
 *
 * @param options - `digits`: digits per operand (1–30, default 3); `ops`: operators drawn from (`+`, `-`, `*`; default `['+']`); `promptStyle`: how the problem is worded.
 *
 * @example
 * ```ts
 * import { arithmeticTask, TaskRng } from '@r1-ts/tasks';
 * const gen = arithmeticTask({ digits: 3 });
 * const s = gen.sample(new TaskRng(0));
 * console.log(s.prompt, s.answer, gen.completion(s));
 * ```
 */
export function arithmeticTask(options: ArithmeticOptions = {}): TaskGenerator {
  checkOptionKeys('arithmeticTask', options, { digits: true, ops: true, promptStyle: true });
  const digits = checkInt('digits', options.digits ?? 3, 1, 30);
  const ops = options.ops ?? ['+'];
  if (!Array.isArray(ops) || ops.length === 0 || ops.some((op) => !['+', '-', '*'].includes(op))) {
    throw new TaskConfigError(`ops must be a non-empty array of '+', '-', '*', got ${JSON.stringify(ops)}`, ['ops']);
  }
  const style = options.promptStyle ?? 'question';
  if (style !== 'question' && style !== 'bare') {
    throw new TaskConfigError(`promptStyle must be 'question' or 'bare', got ${JSON.stringify(style)}`, ['promptStyle']);
  }

  const operand = (rng: TaskRng): string => {
    if (digits === 1) return String(rng.int(0, 9));
    let s = String(rng.int(1, 9));
    for (let i = 1; i < digits; i++) s += String(rng.int(0, 9));
    return s;
  };

  return {
    task: 'arithmetic',
    difficulty: digits,
    sample(rng) {
      const op = rng.pick(ops);
      let a = operand(rng);
      let b = operand(rng);
      if (op === '-' && BigInt(a) < BigInt(b)) [a, b] = [b, a];
      const meta: ArithmeticMeta = { a, b, op };
      const expr = `${a}${op}${b}`;
      return {
        id: `arithmetic:${canonical(meta)}`,
        task: 'arithmetic',
        prompt: style === 'bare' ? `${expr}=` : `What is ${expr}?`,
        answer: evaluate(meta),
        language: 'en',
        difficulty: digits,
        meta: { ...meta },
      };
    },
    key: (sample) => canonical(readMeta(sample)),
    completion(sample, opts: CompletionOptions = {}) {
      const m = readMeta(sample);
      const explained = opts.verbosity === 'explained';
      const steps = m.op === '+' ? addSteps(m, explained) : m.op === '-' ? subSteps(m, explained) : mulSteps(m, explained);
      const answer = evaluate(m);
      const think = explained ? `${steps.join(' ')} So ${m.a}${m.op}${m.b}=${answer}.` : steps.join(',');
      return r1Completion(think, answer);
    },
  };
}

function evaluate({ a, b, op }: ArithmeticMeta): string {
  const x = BigInt(a);
  const y = BigInt(b);
  return String(op === '+' ? x + y : op === '-' ? x - y : x * y);
}

function canonical({ a, b, op }: ArithmeticMeta): string {
  // + and * commute: 3+5 and 5+3 are the same problem for held-out splits.
  if (op !== '-' && BigInt(b) < BigInt(a)) return `${b}${op}${a}`;
  return `${a}${op}${b}`;
}

function readMeta(sample: TaskSample): ArithmeticMeta {
  const m = sample.meta as Partial<ArithmeticMeta> | undefined;
  const isDigits = (v: unknown): v is string => typeof v === 'string' && /^\d+$/.test(v);
  if (!m || !isDigits(m.a) || !isDigits(m.b) || !['+', '-', '*'].includes(m.op as string)) {
    throw new TaskConfigError(`sample ${sample.id} has no arithmetic meta {a, b, op}`, ['meta']);
  }
  return m as ArithmeticMeta;
}

/** Digit of `s` at column `i` counted from the right (0 past the left end). */
function digitAt(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(s.length - 1 - i) - 48 : 0;
}

// Column addition, right to left: each step is `a_i+b_i(+1)=sum`, the carry being sum ≥ 10.
function addSteps({ a, b }: ArithmeticMeta, explained: boolean): string[] {
  const steps: string[] = [];
  let carry = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const sum = digitAt(a, i) + digitAt(b, i) + carry;
    const eq = `${digitAt(a, i)}+${digitAt(b, i)}${carry ? '+1' : ''}=${sum}`;
    carry = sum >= 10 ? 1 : 0;
    steps.push(explained ? `Column ${i + 1}: ${eq}, write ${sum % 10}${carry ? ', carry 1' : ''}.` : eq);
  }
  return steps;
}

// Column subtraction (a ≥ b), right to left: borrowing shows as a leading 1 on the top digit.
function subSteps({ a, b }: ArithmeticMeta, explained: boolean): string[] {
  const steps: string[] = [];
  let borrow = 0;
  for (let i = 0; i < a.length; i++) {
    const top = digitAt(a, i);
    const bottom = digitAt(b, i);
    const next = top - bottom - borrow < 0 ? 1 : 0;
    const diff = top + 10 * next - bottom - borrow;
    const eq = `${next ? '1' : ''}${top}-${bottom}${borrow ? '-1' : ''}=${diff}`;
    steps.push(explained ? `Column ${i + 1}: ${eq}${next ? ', borrow 1' : ''}.` : eq);
    borrow = next;
  }
  return steps;
}

// Long multiplication: one partial product per digit of b (shifted), then running sums.
function mulSteps({ a, b }: ArithmeticMeta, explained: boolean): string[] {
  const steps: string[] = [];
  const x = BigInt(a);
  let acc: bigint | null = null;
  for (let i = 0; i < b.length; i++) {
    const factor = `${digitAt(b, i)}${'0'.repeat(i)}`;
    const part = x * BigInt(factor);
    const eq = `${a}*${factor}=${part}`;
    steps.push(explained ? `Multiply by ${factor}: ${eq}.` : eq);
    if (acc !== null) {
      const sum: bigint = acc + part;
      steps.push(explained ? `Add: ${acc}+${part}=${sum}.` : `${acc}+${part}=${sum}`);
      acc = sum;
    } else {
      acc = part;
    }
  }
  return steps;
}
