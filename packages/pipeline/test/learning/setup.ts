// Shared fixture of the RL learning tests (issue #6): a tiny MLA + MoE model, cold-started with SFT
// on 2-digit addition until it partly solves held-out problems, then handed to GRPO or GSPO.
// Everything is seeded: same machine, same numbers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharTokenizer, DeepSeekModel, DeepSeekPolicy, SftTrainer, loadCheckpoint, presets, saveCheckpoint } from '@r1-ts/model';
import type { DeepSeekConfigInput, DeepSeekModel as Model, Tokenizer } from '@r1-ts/model';
import { GrpoTrainer } from '@r1-ts/grpo';
import type { GrpoTrainerOptions, StepMetrics } from '@r1-ts/grpo';
import { GspoTrainer } from '@r1-ts/gspo';
import { accuracyReward, formatReward } from '@r1-ts/rewards';
import { arithmeticTask, makeSplit } from '@r1-ts/tasks';
import type { TaskSample } from '@r1-ts/tasks';
import { evaluateModel } from '../../src/evaluate';
import type { EvalResult } from '../../src/evaluate';

/** 2-digit addition, bare prompts (`47+85=`): 22-token character vocabulary, ~22-token completions. */
export const TASK = arithmeticTask({ digits: 2, ops: ['+'], promptStyle: 'bare' });

/** Held-out problems (never trained on) and the RL prompt pool; the first SFT_EXAMPLES are the cold-start set. */
export const SPLIT = makeSplit(TASK, { seed: 0, train: 2000, eval: 100 });

/** Cold start: 500 worked examples, batch 16, constant lr 3e-3 (issue #7's lead). */
export const SFT = { examples: 500, steps: 600, batchSize: 16, lr: 3e-3, seed: 0 } as const;

/** R1's evaluation protocol (§3): k samples per problem at T 0.6, top-p 0.95. */
export const EVAL = { k: 4, temperature: 0.6, topP: 0.95, maxNewTokens: 30, seed: 1 } as const;

/** Completion budget during RL (the worked solutions are 21–22 tokens with eos). */
export const MAX_COMPLETION = 30;

/** The character tokenizer over every prompt and worked solution of the split. */
export function makeTokenizer(): CharTokenizer {
  return CharTokenizer.fromCorpus([...SPLIT.train, ...SPLIT.eval].flatMap((s) => [s.prompt, TASK.completion(s)]));
}

/** The tiny preset narrowed: hidden 64, 2 layers (1 dense + 1 MoE with 8 routed experts), no MTP, 64 positions. */
export function modelConfig(vocabSize: number): DeepSeekConfigInput {
  return { ...presets.tiny, vocab_size: vocabSize, hidden_size: 64, num_hidden_layers: 2, num_nextn_predict_layers: 0, max_position_embeddings: 64 };
}

/** Timing of a phase: wall seconds and process CPU seconds (all wasm threads). */
export interface Timing {
  wallS: number;
  cpuS: number;
}

/** Runs `f` and measures it. */
export async function timed<T>(f: () => T | Promise<T>): Promise<{ value: T } & Timing> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { value, wallS: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6 };
}

/** Cold-start SFT from a seeded init; saves the checkpoint in a fresh temp dir and returns its path. */
export function coldStart(): { dir: string; loss: number; completionTokens: number } {
  const tok = makeTokenizer();
  const model = new DeepSeekModel(modelConfig(tok.vocabSize), { seed: 0 });
  const data = SPLIT.train.slice(0, SFT.examples).map((s) => ({ prompt: s.prompt, completion: TASK.completion(s) }));
  const trainer = new SftTrainer(model, tok, { lr: SFT.lr, batchSize: SFT.batchSize, seed: SFT.seed });
  let loss = NaN;
  let completionTokens = 0;
  trainer.train(data, SFT.steps, (s) => {
    loss = s.loss;
    completionTokens += s.tokens;
  });
  const dir = join(mkdtempSync(join(tmpdir(), 'r1-learning-')), 'cold-start');
  saveCheckpoint(dir, model, tok);
  model.dispose();
  return { dir, loss, completionTokens };
}

/** Loads a checkpoint saved by {@link coldStart}. */
export function load(dir: string): { model: Model; tokenizer: Tokenizer } {
  const ck = loadCheckpoint(dir);
  if (!ck.tokenizer) throw new Error(`${dir} has no tokenizer`);
  return { model: ck.model, tokenizer: ck.tokenizer };
}

/** Held-out pass@1 / cons@k / format rate with {@link EVAL}. */
export function heldOut(model: Model, tokenizer: Tokenizer): EvalResult {
  return evaluateModel(model, tokenizer, SPLIT.eval, EVAL);
}

/** Settings of one RL run of the learning test. */
export type RlSettings = Pick<GrpoTrainerOptions<TaskSample>,
  'numGenerations' | 'promptsPerStep' | 'learningRate' | 'beta' | 'numIterations' | 'miniBatchSize' | 'epsilonLow' | 'epsilonHigh' | 'temperature' | 'dynamicSampling' | 'seed'
> & { steps: number; formatWeight: number };

/** What {@link runRl} measured. */
export interface RlRun {
  before: EvalResult;
  after: EvalResult;
  /** Mean of each metric over the first and the last 20 steps. */
  first: StepMetrics;
  last: StepMetrics;
  /** Completions sampled (all rounds of dynamic sampling) and their tokens. */
  completions: number;
  completionTokens: number;
  /** The RL steps alone, and generation's part of them. */
  train: Timing;
  generationWallS: number;
  evalWallS: number;
}

/**
 * RL from the cold-start checkpoint with GRPO or GSPO (accuracy + a small format bonus, as
 * pipeline/rl_stage.ts wires them), held-out pass@1 measured before and after on the same problems
 * with the same sampling seed.
 */
export async function runRl(algo: 'grpo' | 'gspo', dir: string, s: RlSettings): Promise<RlRun> {
  const { model, tokenizer } = load(dir);
  const before = await timed(() => heldOut(model, tokenizer));
  const policy = new DeepSeekPolicy(model, tokenizer);
  const accuracy = (c: string, x: TaskSample) => accuracyReward(c, { ...x });
  const format = (c: string, x: TaskSample) => formatReward(c, { ...x });
  let generationMs = 0;
  let mark = 0;
  const { steps, formatWeight, ...trainer } = s;
  const options: GrpoTrainerOptions<TaskSample> = {
    ...trainer,
    policy,
    dataset: SPLIT.train,
    rewardFunctions: [accuracy, format],
    rewardWeights: [1, formatWeight],
    topP: 1,
    maxCompletionLength: MAX_COMPLETION,
    quiet: true,
    onEvent: (e) => {
      if (e.type === 'step_start') mark = performance.now();
      if (e.type === 'rollout') {
        generationMs += performance.now() - mark;
        mark = performance.now();
      }
    },
  };
  const rl = algo === 'gspo' ? new GspoTrainer<TaskSample>(options) : new GrpoTrainer<TaskSample>(options);
  const history: StepMetrics[] = [];
  let completions = 0;
  let completionTokens = 0;
  const train = await timed(async () => {
    for (let i = 0; i < steps; i++) {
      const { metrics, rollouts } = await rl.step();
      history.push(metrics);
      completions += rollouts.length;
      completionTokens += rollouts.reduce((a, r) => a + r.length, 0);
    }
  });
  rl.dispose();
  const after = await timed(() => heldOut(model, tokenizer));
  policy.dispose();
  return {
    before: before.value,
    after: after.value,
    first: meanMetrics(history.slice(0, 20)),
    last: meanMetrics(history.slice(-20)),
    completions,
    completionTokens,
    train: { wallS: train.wallS, cpuS: train.cpuS },
    generationWallS: generationMs / 1000,
    evalWallS: before.wallS + after.wallS,
  };
}

function meanMetrics(rows: StepMetrics[]): StepMetrics {
  const out: StepMetrics = {};
  for (const key of new Set(rows.flatMap((r) => Object.keys(r)))) {
    const v = rows.map((r) => r[key]).filter((x) => Number.isFinite(x));
    if (v.length) out[key] = v.reduce((a, b) => a + b, 0) / v.length;
  }
  return out;
}

/** One line per run for the test log (the numbers the issue asks to state). */
export function describeRun(algo: string, s: RlSettings, r: RlRun): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    `${algo}: held-out pass@1 ${pct(r.before.passAt1)} → ${pct(r.after.passAt1)} (cons@${EVAL.k} ${pct(r.before.consAtK)} → ${pct(r.after.consAtK)}, format ${pct(r.before.formatRate)} → ${pct(r.after.formatRate)})`,
    `  ${s.steps} steps, G ${s.numGenerations} × ${s.promptsPerStep} prompts, lr ${s.learningRate}, μ ${s.numIterations ?? 1}, β ${s.beta}, format weight ${s.formatWeight}`,
    `  train accuracy ${pct(r.first['rewards/accuracy/mean'] ?? NaN)} (first 20 steps) → ${pct(r.last['rewards/accuracy/mean'] ?? NaN)} (last 20); clip ratio ${(r.last['clip_ratio/region_mean'] ?? 0).toFixed(4)}`,
    `  ${r.completions} completions (${(r.completions / s.steps).toFixed(1)}/step), ${r.train.wallS.toFixed(0)} s wall (${(r.train.wallS / s.steps).toFixed(2)} s/step, cpu ${(r.train.cpuS / s.steps).toFixed(2)} s/step), generation ${(r.generationWallS / s.steps).toFixed(2)} s/step = ${(r.completionTokens / r.generationWallS).toFixed(0)} tokens/s; eval ${(r.evalWallS / 2).toFixed(1)} s per ${SPLIT.eval.length}×${EVAL.k}`,
  ].join('\n');
}
