import { CharTokenizer, SPECIAL_TOKENS, renderChat } from '@r1-ts/model';
import type { SftExample } from '@r1-ts/model';
import { arithmeticTask, generalTask, makeSplit, preferencePairs, TaskRng } from '@r1-ts/tasks';
import type { PreferencePair, TaskGenerator, TaskSample } from '@r1-ts/tasks';
import type { RecipeConfig } from './config';

/**
 * Everything a run draws from the task generators, derived from the config's seed.
 *
 * @example
 * ```ts
 * import { buildRunData, recipePresets, type RunData } from '@r1-ts/pipeline';
 * const data: RunData = buildRunData(recipePresets.quick);
 * console.log(data.documents.length, data.tokenizer.vocabSize > 0); // 50 true
 * ```
 */
export interface RunData {
  generator: TaskGenerator;
  train: TaskSample[];
  eval: TaskSample[];
  /** General (non-reasoning) prompts with reference responses, for SFT mixes and RL. */
  general: TaskSample[];
  preferences: PreferencePair[];
  /** Pretraining documents (the "V3-Base" stand-in corpus). */
  documents: string[];
  tokenizer: CharTokenizer;
}

/**
 * Builds the run's data: a held-out train/eval split of the task, general prompts, preference pairs,
 * and a pretraining corpus of arithmetic facts, general text and (a fraction of) reasoning-like text
 * in R1's format — real pretraining data contains some, which is what lets R1-Zero find the format.
 *
 * @param cfg - The resolved recipe config: its task, seed and corpus sizes decide the data.
 *
 * @example
 * ```ts
 * import { buildRunData, recipePresets } from '@r1-ts/pipeline';
 * const data = buildRunData(recipePresets.quick);
 * console.log(data.train.length, data.eval.length);
 * ```
 */
export function buildRunData(cfg: RecipeConfig): RunData {
  const { generator, ...split } = taskSplit(cfg.task, cfg.seed);
  const generalGen = generalTask();
  const rng = new TaskRng(cfg.seed + 1);
  const general = Array.from({ length: Math.max(cfg.rejection.generalExamples, 64) }, () => generalGen.sample(rng));
  const preferences = preferencePairs({ seed: cfg.seed + 2, count: cfg.rlAll.rewardModel.pairs });
  const docRng = new TaskRng(cfg.seed + 3);
  const documents: string[] = [];
  for (let i = 0; i < cfg.pretrain.documents; i++) {
    const s = split.train[i % split.train.length];
    const u = docRng.int(0, 999) / 1000;
    // Reasoning-like documents in a chat layout, as web data has: what lets R1-Zero find the format.
    if (u < cfg.pretrain.reasoningFraction) documents.push(`${renderChat([{ role: 'user', content: s.prompt }])}${generator.completion(s)}`);
    else if (u < 0.8) documents.push(`${s.meta?.a}+${s.meta?.b}=${s.answer}`); // plain arithmetic facts
    else {
      const g = generalGen.sample(docRng);
      documents.push(`${g.prompt} ${g.answer}`);
    }
  }
  const texts = [
    ...documents, ...general.flatMap((g) => [g.prompt, g.answer]), ...preferences.flatMap((p) => [p.prompt, p.chosen, p.rejected]),
    ...split.eval.map((s) => s.prompt), ...split.train.slice(0, 50).map((s) => generator.completion(s)), Object.values(SPECIAL_TOKENS).join(''),
  ];
  return { generator, train: split.train, eval: split.eval, general, preferences, documents, tokenizer: CharTokenizer.fromCorpus(texts) };
}

/**
 * The run's task generator and its disjoint train/eval split. The eval problems depend only on the
 * task and the seed (makeSplit draws them first), so `r1 eval` rebuilds the same held-out set.
 *
 * @param task - The recipe's task: `kind`, `digits`, `promptStyle` and the `trainProblems` / `evalProblems` counts.
 * @param seed - The run's seed; the same task and seed always give the same held-out problems.
 *
 * @example
 * ```ts
 * import { taskSplit } from '@r1-ts/pipeline';
 * const { eval: problems } = taskSplit({ kind: 'addition', digits: 2, promptStyle: 'bare', trainProblems: 0, evalProblems: 5 }, 0);
 * console.log(problems[0].prompt); // e.g. '47+85='
 * ```
 */
export function taskSplit(task: RecipeConfig['task'], seed: number): { generator: TaskGenerator; train: TaskSample[]; eval: TaskSample[] } {
  const generator = arithmeticTask({ digits: task.digits, ops: ['+'], promptStyle: task.promptStyle });
  return { generator, ...makeSplit(generator, { seed, train: task.trainProblems, eval: task.evalProblems }) };
}

/**
 * Cold-start SFT examples: worked R1-format solutions of train problems.
 *
 * @param data - The run's data (from {@link buildRunData}); examples are drawn from its train problems.
 * @param count - Number of examples to return.
 *
 * @example
 * ```ts
 * import { buildRunData, coldStartData, recipePresets } from '@r1-ts/pipeline';
 * const [ex] = coldStartData(buildRunData(recipePresets.quick), 1);
 * console.log(ex.prompt, ex.completion); // a problem and its <think>…</think><answer>…</answer> solution
 * ```
 */
export function coldStartData(data: RunData, count: number): SftExample[] {
  return data.train.slice(0, count).map((s) => ({ prompt: s.prompt, completion: data.generator.completion(s) }));
}

/**
 * General SFT examples (no reasoning block), for the stage-3 mix.
 *
 * @param data - The run's data (from {@link buildRunData}); examples come from its general prompts.
 * @param count - Number of examples to return.
 *
 * @example
 * ```ts
 * import { buildRunData, generalSft, recipePresets } from '@r1-ts/pipeline';
 * const examples = generalSft(buildRunData(recipePresets.quick), 4);
 * console.log(examples.length); // 4
 * ```
 */
export function generalSft(data: RunData, count: number): SftExample[] {
  return data.general.slice(0, count).map((g) => ({ prompt: g.prompt, completion: g.answer }));
}
