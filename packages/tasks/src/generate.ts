import { checkInt, TaskConfigError } from './errors.js';
import { TaskRng } from './rng.js';
import type { CompletionOptions, TaskGenerator, TaskSample, Verbosity } from './sample.js';
import { checkOptionKeys } from './options.js';

/**
 * Draws `count` problems from a generator with a fresh seeded stream (repeats possible; use
 * `makeSplit` for distinct, held-out problems). Same seed → same samples.
 *
 * @param generator - The task to draw from, e.g. `arithmeticTask()`.
 * @param options - `seed` of the stream and `count` of samples to draw.
 *
 * @example
 * ```ts
 * import { arithmeticTask, generateSamples } from '@r1-ts/tasks';
 * const samples = generateSamples(arithmeticTask({ digits: 2 }), { seed: 1, count: 4 });
 * console.log(samples.map((s) => s.prompt));
 * ```
 */
export function generateSamples(generator: TaskGenerator, options: { seed: number; count: number }): TaskSample[] {
  checkOptionKeys('generateSamples', options, { seed: true, count: true });
  const count = checkInt('count', options.count, 0, 100_000_000);
  const rng = new TaskRng(options.seed);
  return Array.from({ length: count }, () => generator.sample(rng));
}

/**
 * A cold-start SFT example (R1 §2.3.1): the prompt, the worked R1-format completion and the sample.
 *
 * @example
 * ```ts
 * import type { ColdStartExample } from '@r1-ts/tasks';
 * const ex: ColdStartExample = {
 *   prompt: 'What is 2+3?', completion: '<think>2+3=5</think><answer>5</answer>',
 *   sample: { id: 'arithmetic:2+3', task: 'arithmetic', prompt: 'What is 2+3?', answer: '5', difficulty: 1 },
 * };
 * ```
 */
export interface ColdStartExample {
  prompt: string;
  completion: string;
  sample: TaskSample;
}

/**
 * Cold-start examples: `count` samples with their worked completions
 * (`<think>steps</think><answer>result</answer>`), correct by construction.
 *
 * @param generator - The task to draw from; it writes the worked completions.
 * @param options - `seed` of the stream, `count` of examples, and `verbosity` of the worked steps.
 *
 * @example
 * ```ts
 * import { arithmeticTask, coldStartExamples } from '@r1-ts/tasks';
 * const [ex] = coldStartExamples(arithmeticTask({ digits: 3 }), { seed: 0, count: 1 });
 * console.log(ex.prompt, ex.completion);
 * ```
 */
export function coldStartExamples(
  generator: TaskGenerator,
  options: { seed: number; count: number; verbosity?: Verbosity },
): ColdStartExample[] {
  checkOptionKeys('coldStartExamples', options, { seed: true, count: true, verbosity: true });
  const opts: CompletionOptions = { verbosity: options.verbosity ?? 'compact' };
  return generateSamples(generator, { seed: options.seed, count: options.count }).map((sample) => ({
    prompt: sample.prompt,
    completion: generator.completion(sample, opts),
    sample,
  }));
}

/**
 * A weighted mixture of generators as one generator: each draw picks a generator with probability
 * proportional to its integer weight. Keys are prefixed with the task family so problems of
 * different families never collide; `completion` routes by the sample's task family.
 *
 * @param parts - The generators, each with an integer `weight` (default 1); the probability of a draw is proportional to it.
 *
 * @example
 * ```ts
 * import { arithmeticTask, countdownTask, mixTasks, TaskRng } from '@r1-ts/tasks';
 * const mix = mixTasks([{ generator: arithmeticTask(), weight: 3 }, { generator: countdownTask(), weight: 1 }]);
 * const s = mix.sample(new TaskRng(0));
 * console.log(s.task, mix.completion(s));
 * ```
 */
export function mixTasks(parts: { generator: TaskGenerator; weight?: number }[]): TaskGenerator {
  if (!Array.isArray(parts) || parts.length === 0) throw new TaskConfigError('parts must be a non-empty array', ['parts']);
  const weights = parts.map((p, i) => checkInt(`parts[${i}].weight`, p.weight ?? 1, 1, 1_000_000));
  const byTask = new Map<string, TaskGenerator>();
  for (const { generator } of parts) {
    if (byTask.has(generator.task)) {
      throw new TaskConfigError(`parts has two generators of task ${generator.task}; use one per task family`, ['parts']);
    }
    byTask.set(generator.task, generator);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const route = (sample: TaskSample): TaskGenerator => {
    const g = byTask.get(sample.task.split('/')[0]);
    if (!g) throw new TaskConfigError(`sample ${sample.id} has task ${sample.task}, not in this mixture`, ['task']);
    return g;
  };
  return {
    task: 'mix',
    difficulty: Math.max(...parts.map((p) => p.generator.difficulty)),
    sample(rng) {
      let r = rng.int(1, total);
      let i = 0;
      while (r > weights[i]) r -= weights[i++];
      return parts[i].generator.sample(rng);
    },
    key: (sample) => `${sample.task.split('/')[0]}|${route(sample).key(sample)}`,
    completion: (sample, opts) => route(sample).completion(sample, opts),
  };
}
