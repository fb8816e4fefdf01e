import { parseCountdown, type CountdownNode } from './countdown-verify.js';
import { checkInt, TaskConfigError } from './errors.js';
import { r1Completion } from './r1-format.js';
import type { TaskRng } from './rng.js';
import type { CompletionOptions, TaskGenerator, TaskSample } from './sample.js';
import { checkOptionKeys } from './options.js';

/**
 * Options of {@link countdownTask}.
 *
 * @example
 * ```ts
 * import type { CountdownOptions } from '@r1-ts/tasks';
 * const opts: CountdownOptions = { count: 4, maxNumber: 25, maxTarget: 999 };
 * ```
 */
export interface CountdownOptions {
  /** How many numbers are given, the difficulty knob (2–6; default 3). */
  count?: number;
  /** Numbers are drawn from 1..maxNumber, repeats allowed (default 20). */
  maxNumber?: number;
  /** Targets lie in 1..maxTarget (default 999). */
  maxTarget?: number;
}

interface CountdownMeta {
  numbers: number[];
  target: number;
}

/** A partial expression while building: its value, its text and the precedence of its top operator. */
interface Built {
  value: number;
  text: string;
  prec: number; // 3 number, 2 * or /, 1 + or -
}

/**
 * Countdown: reach a target with the given numbers and `+ - * /`. The target is reachable by
 * construction: the generator combines all the numbers in a random order with random operators,
 * keeping every intermediate a positive integer. The reference answer is that expression; any other
 * expression that {@link verifyCountdown} accepts is equally right. Prompt: `Make 97 from 25,4,3.`;
 * compact chain of thought: `<think>25*4=100,100-3=97</think><answer>25*4-3</answer>`.
 *
 * @param options - `count`: numbers given (2–6, default 3); `maxNumber`: largest given number (default 20); `maxTarget`: largest target (default 999).
 *
 * @example
 * ```ts
 * import { countdownTask, verifyCountdown, TaskRng } from '@r1-ts/tasks';
 * const gen = countdownTask({ count: 4 });
 * const s = gen.sample(new TaskRng(5));
 * const { numbers, target } = s.meta as { numbers: number[]; target: number };
 * console.log(s.prompt, s.answer, verifyCountdown(s.answer, numbers, target).valid); // … true
 * ```
 */
export function countdownTask(options: CountdownOptions = {}): TaskGenerator {
  checkOptionKeys('countdownTask', options, { count: true, maxNumber: true, maxTarget: true });
  const count = checkInt('count', options.count ?? 3, 2, 6);
  const maxNumber = checkInt('maxNumber', options.maxNumber ?? 20, 2, 1000);
  const maxTarget = checkInt('maxTarget', options.maxTarget ?? 999, 1, 1_000_000);
  return {
    task: 'countdown',
    difficulty: count,
    sample(rng) {
      for (let attempt = 0; attempt < 10_000; attempt++) {
        const numbers = Array.from({ length: count }, () => rng.int(1, maxNumber));
        const built = combine(rng, numbers);
        if (built.value < 1 || built.value > maxTarget) continue;
        const meta: CountdownMeta = { numbers, target: built.value };
        return {
          id: `countdown:${canonical(meta)}`,
          task: 'countdown',
          prompt: `Make ${built.value} from ${numbers.join(',')}.`,
          answer: built.text,
          language: 'en',
          difficulty: count,
          meta: { numbers: [...numbers], target: built.value },
        };
      }
      throw new TaskConfigError(
        `no target in 1..${maxTarget} found for count=${count}, maxNumber=${maxNumber} after 10000 tries; raise maxTarget`,
        ['maxTarget'],
      );
    },
    key: (sample) => canonical(readMeta(sample)),
    completion(sample, opts: CompletionOptions = {}) {
      const m = readMeta(sample);
      const steps: string[] = [];
      walk(parseCountdown(sample.answer).tree, steps);
      const explained = opts.verbosity === 'explained';
      const think = explained
        ? `${steps.map((s, i) => `${i === 0 ? 'Try' : 'Then'} ${s}.`).join(' ')} That makes ${m.target}.`
        : steps.join(',');
      return r1Completion(think, sample.answer);
    },
  };
}

// Combine random pairs until one value is left; '-' keeps the larger first and '/' only divides exactly.
function combine(rng: TaskRng, numbers: number[]): Built {
  const pool: Built[] = numbers.map((n) => ({ value: n, text: String(n), prec: 3 }));
  while (pool.length > 1) {
    const x = pool.splice(rng.int(0, pool.length - 1), 1)[0];
    const y = pool.splice(rng.int(0, pool.length - 1), 1)[0];
    const [big, small] = x.value >= y.value ? [x, y] : [y, x];
    const ops: string[] = ['+', '*'];
    if (big.value > small.value) ops.push('-');
    if (small.value > 1 && big.value % small.value === 0) ops.push('/');
    const op = rng.pick(ops);
    pool.push(join(big, op, small));
  }
  return pool[0];
}

function join(l: Built, op: string, r: Built): Built {
  const wrap = (b: Built, minPrec: number): string => (b.prec < minPrec ? `(${b.text})` : b.text);
  if (op === '+') return { value: l.value + r.value, text: `${l.text}+${r.text}`, prec: 1 };
  if (op === '-') return { value: l.value - r.value, text: `${l.text}-${wrap(r, 2)}`, prec: 1 };
  if (op === '*') return { value: l.value * r.value, text: `${wrap(l, 2)}*${wrap(r, 2)}`, prec: 2 };
  return { value: l.value / r.value, text: `${wrap(l, 2)}/${wrap(r, 3)}`, prec: 2 };
}

// Post-order: one `a op b=c` step per operation, in evaluation order.
function walk(node: CountdownNode, steps: string[]): number {
  if (node.kind === 'num') return node.value;
  const l = walk(node.left, steps);
  const r = walk(node.right, steps);
  const v = node.op === '+' ? l + r : node.op === '-' ? l - r : node.op === '*' ? l * r : l / r;
  steps.push(`${l}${node.op}${r}=${v}`);
  return v;
}

function canonical({ numbers, target }: CountdownMeta): string {
  return `${[...numbers].sort((a, b) => a - b).join(',')}:${target}`;
}

function readMeta(sample: TaskSample): CountdownMeta {
  const m = sample.meta as Partial<CountdownMeta> | undefined;
  const ok = m && Array.isArray(m.numbers) && m.numbers.every((n) => Number.isSafeInteger(n)) && Number.isSafeInteger(m.target);
  if (!ok) throw new TaskConfigError(`sample ${sample.id} has no countdown meta {numbers, target}`, ['meta']);
  return m as CountdownMeta;
}
