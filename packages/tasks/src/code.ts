import { CODE_TEMPLATES } from './code-templates.js';
import { checkInt, TaskConfigError } from './errors.js';
import { r1Completion } from './r1-format.js';
import type { CodeTest, CompletionOptions, TaskGenerator, TaskSample } from './sample.js';
import { checkOptionKeys } from './options.js';

/**
 * Options of {@link codeTask}.
 *
 * @example
 * ```ts
 * import type { CodeTaskOptions } from '@r1-ts/tasks';
 * const opts: CodeTaskOptions = { difficulty: 2, tests: 8 };
 * ```
 */
export interface CodeTaskOptions {
  /**
   * Template level (default 1). 1: sumArray, maxOfArray, reverseString, countVowels, scaleArray(k);
   * 2: factorial, fizzBuzz(a, b), isPalindrome, countChar(c), sumMultiples(k);
   * 3: fibonacci, gcd, isPrime, runLength.
   */
  difficulty?: number;
  /** Random test cases per problem, on top of the template's fixed edge cases (default 5). */
  tests?: number;
}

/**
 * Small JavaScript function-writing tasks with test cases. `tests` holds {@link CodeTest}s
 * (`{ fn, input, expected }`: `fn(...input)` must deep-equal `expected`); `answer` is a reference
 * solution. The completion's answer is a fenced `js` code block, which code rewards run:
 * `<think>plan</think><answer>```js\nfunction …\n```</answer>`.
 *
 * @param options - `difficulty`: 1–3 (default 1), which templates are drawn from; `tests`: test cases per task (0–100, default 5).
 *
 * @example
 * ```ts
 * import { codeTask, TaskRng } from '@r1-ts/tasks';
 * const gen = codeTask({ difficulty: 2 });
 * const s = gen.sample(new TaskRng(1));
 * console.log(s.prompt, s.tests?.[0], gen.completion(s));
 * ```
 */
export function codeTask(options: CodeTaskOptions = {}): TaskGenerator {
  checkOptionKeys('codeTask', options, { difficulty: true, tests: true });
  const difficulty = checkInt('difficulty', options.difficulty ?? 1, 1, 3);
  const nTests = checkInt('tests', options.tests ?? 5, 0, 100);
  const templates = CODE_TEMPLATES.filter((t) => t.level === difficulty);
  return {
    task: 'code',
    difficulty,
    sample(rng) {
      const template = rng.pick(templates);
      const problem = template.make(rng);
      const call = problem.reference as (...args: unknown[]) => unknown;
      const argLists = [...problem.edges, ...Array.from({ length: nTests }, () => problem.args(rng))];
      const tests: CodeTest[] = argLists.map((args) => ({ fn: problem.fn, input: clone(args), expected: call(...clone(args)) }));
      return {
        id: `code:${problem.key}`,
        task: 'code',
        prompt: problem.prompt,
        answer: problem.source,
        tests,
        language: 'javascript',
        difficulty,
        meta: { template: template.name, key: problem.key, fn: problem.fn, plan: problem.plan, steps: [...problem.steps] },
      };
    },
    key: (sample) => readMeta(sample).key,
    completion(sample, opts: CompletionOptions = {}) {
      const m = readMeta(sample);
      const think = opts.verbosity === 'explained' ? [`I need a function ${m.fn}.`, ...m.steps].join(' ') : m.plan;
      return r1Completion(think, `\`\`\`js\n${sample.answer}\n\`\`\``);
    },
  };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

interface CodeMeta {
  key: string;
  fn: string;
  plan: string;
  steps: string[];
}

function readMeta(sample: TaskSample): CodeMeta {
  const m = sample.meta as Partial<CodeMeta> | undefined;
  if (!m || typeof m.key !== 'string' || typeof m.fn !== 'string' || typeof m.plan !== 'string' || !Array.isArray(m.steps)) {
    throw new TaskConfigError(`sample ${sample.id} has no code meta {key, fn, plan, steps}`, ['meta']);
  }
  return m as CodeMeta;
}
