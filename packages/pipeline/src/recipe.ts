import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { CheckpointError, ConfigError, initBackend } from '@r1-ts/tensor-kernels';
import { DeepSeekModel, DeepSeekPolicy, presets, sha256File } from '@r1-ts/model';
import type { CausalLM, DeepSeekConfigInput, SftExample } from '@r1-ts/model';
import { sampleFromTeacher } from '@r1-ts/distill';
import type { TeacherSamplingOptions } from '@r1-ts/distill';
import { accuracyReward, formatReward, languageConsistencyReward } from '@r1-ts/rewards';
import type { RewardSample } from '@r1-ts/rewards';
import type { TaskSample } from '@r1-ts/tasks';
import { modelSizes } from './config';
import type { RecipeConfig } from './config';
import { buildRunData, coldStartData, generalSft } from './corpus';
import type { RunData } from './corpus';
import { evaluateModel } from './evaluate';
import type { EvalResult } from './evaluate';
import type { PipelineEvent } from './events';
import { PreferenceRewardModel } from './reward_model';
import { runRlStage } from './rl_stage';
import type { NamedReward } from './rl_stage';
import { RunDir } from './rundir';
import { loadStageModel, runSftStage } from './sft_stage';
import { importStage, pretrainedNotes, recipeRoles } from './models';
import { inVocabulary } from './reward_model';
import type { StageModels } from './models';
import { dsaStage } from './dsa_stage';
import { writeReport } from './report';
import type { StageContext } from './sft_stage';

/**
 * Options of {@link runRecipe}.
 *
 * @example
 * ```ts
 * // no-run: trains models (longer than a docs example may take)
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { resolveRecipeConfig, runRecipe, type RunRecipeOptions } from '@r1-ts/pipeline';
 * const options: RunRecipeOptions = {
 *   out: join(mkdtempSync(join(tmpdir(), 'r1-')), 'run'),
 *   stopAfter: 'pretrain',
 *   onEvent: (e) => { if (e.type === 'stage_end') console.log(`done: ${e.stage}`); },
 * };
 * await runRecipe(resolveRecipeConfig('quick'), options);
 * await runRecipe(resolveRecipeConfig('quick'), { out: options.out, resume: true }); // the remaining stages
 * ```
 */
export interface RunRecipeOptions {
  /** The run directory (created). */
  out: string;
  /** Continue a run in `out` from its state.json and newest checkpoints. */
  resume?: boolean;
  /** Progress events. */
  onEvent?: (e: PipelineEvent) => void;
  /** Stop after this stage (tests of resumption). */
  stopAfter?: string;
}

/**
 * What {@link runRecipe} returns.
 *
 * @example
 * ```ts
 * import type { RecipeSummary } from '@r1-ts/pipeline';
 * const table = (s: RecipeSummary) =>
 *   Object.entries(s.eval).map(([stage, e]) => `${stage}\tpass@1 ${e.passAt1.toFixed(2)}\tcons@${e.k} ${e.consAtK.toFixed(2)}`);
 * ```
 */
export interface RecipeSummary {
  runDir: string;
  /** Stage → final checkpoint directory. */
  checkpoints: Record<string, string>;
  /** Stage → evaluation. */
  eval: Record<string, EvalResult>;
  wallSeconds: number;
  /** report.html, when written. */
  report?: string;
  /**
   * What the run did differently from R1's recipe on models it creates, by rule (pretrained roles:
   * pretraining replaced by the checkpoint, dense families without MoE/MTP/DSA). Empty otherwise.
   */
  notes: string[];
}

/**
 * The stages of each recipe, in order (R1 §2.3–2.4 and the comparisons of issue #7).
 *
 * @param cfg - The resolved recipe config; its `recipe` (and options such as DSA conversion) decides the stage list.
 *
 * @example
 * ```ts
 * import { recipeStages, resolveRecipeConfig } from '@r1-ts/pipeline';
 * console.log(recipeStages(resolveRecipeConfig('quick', { recipe: 'r1-zero' }))); // ['pretrain', 'r1-zero', 'eval']
 * ```
 */
export function recipeStages(cfg: RecipeConfig): string[] {
  // The DSA conversion turns a base the run pretrained into a sparse one; a pretrained policy skips it.
  const dsa = cfg.attention === 'dsa' && !cfg.policy?.pretrained ? ['dsa-warmup', 'dsa-sparse'] : [];
  if (cfg.recipe === 'r1-zero') return ['pretrain', ...dsa, 'r1-zero', 'eval'];
  return [
    'pretrain', 'pretrain-student', ...dsa, 'cold-start', 'reasoning-rl', 'rejection-sft', 'reward-model', 'rl-all',
    'distill', 'student-rl', 'r1-zero', 'eval',
  ];
}

/**
 * Model config of the teacher or the student for this run's vocabulary: the `tiny` preset with the
 * recipe's size overrides, dense (DSA indexers are added later by the dsa-warmup stage).
 *
 * @param cfg - The resolved recipe config, whose `teacher` / `student` size overrides are applied.
 * @param which - `teacher` (the policy trained by the RL stages) or `student` (the smaller distillation target).
 * @param vocabSize - Vocabulary size of the run's tokenizer; becomes `vocab_size`.
 *
 * @example
 * ```ts
 * import { DeepSeekModel } from '@r1-ts/model';
 * import { recipePresets, stageModelConfig } from '@r1-ts/pipeline';
 * const config = stageModelConfig(recipePresets.quick, 'student', 40);
 * const student = new DeepSeekModel(config);
 * console.log(student.config.hidden_size, student.config.vocab_size); // 16 40
 * ```
 */
export function stageModelConfig(cfg: RecipeConfig, which: 'teacher' | 'student', vocabSize: number): DeepSeekConfigInput {
  const base = { ...presets.tiny, ...modelSizes(cfg, which), vocab_size: vocabSize };
  // Pretraining is dense even under DSA: the indexers are added by the dsa-warmup stage (V3.2-Exp §2.1).
  return { ...base, index_n_heads: null, index_head_dim: null, index_topk: null };
}

/** Reward sample view of a task sample (the shapes agree; this makes the index signature explicit). */
const asRewardSample = (s: TaskSample): RewardSample => ({ ...s });
const isReasoning = (s: TaskSample) => !s.task.startsWith('general');

/** R1's rule rewards for reasoning prompts (R1 §2.2.2): accuracy, format, language consistency. */
function ruleRewards(): NamedReward<TaskSample>[] {
  const only = (f: (c: string, s: RewardSample) => number | null | Promise<number | null>) =>
    (c: string, s: TaskSample) => (isReasoning(s) ? f(c, asRewardSample(s)) : null);
  return [
    { name: 'accuracy', fn: only(accuracyReward), weight: 1 },
    { name: 'format', fn: only(formatReward), weight: 0.2 },
    // Judged on the chain of thought only: without a <think> block there is none, and scoring the
    // whole reply let RL-from-base runs learn to emit English words for the bonus (seen in the demo).
    { name: 'language', fn: only((c, s) => (c.includes('<think>') ? languageConsistencyReward(c, s) : 0)), weight: 0.1 },
  ];
}

/**
 * Runs DeepSeek-R1's recipe (R1 §2.3–2.4) on a generated verifiable task, every stage resumable and
 * checkpointed, writing the run directory of DESIGN.md: base pretraining → cold-start SFT → reasoning
 * RL (GRPO or GSPO) → rejection sampling + SFT (of the RL checkpoint, or of the base: `rejection.from`)
 * → RL for all scenarios with a preference reward model → distillation into a smaller dense student
 * (and the same student trained with RL alone) → R1-Zero (RL from the base) → evaluation of every stage → report.
 *
 * @param cfg - The resolved recipe config (from {@link resolveRecipeConfig}): recipe, task, model sizes, stage step counts, seeds.
 * @param options - `out`: the run directory (created); `resume`: continue from its state.json and newest checkpoints; `onEvent`: progress events; `stopAfter`: stop after this stage id.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { resolveRecipeConfig, runRecipe } from '@r1-ts/pipeline';
 * // no-run: trains every stage (longer than a docs example may take)
 * const out = join(mkdtempSync(join(tmpdir(), 'r1-')), 'quick');
 * const summary = await runRecipe(resolveRecipeConfig('quick'), { out });
 * console.log(summary.eval['cold-start']?.passAt1);
 * ```
 */
export async function runRecipe(cfg: RecipeConfig, options: RunRecipeOptions): Promise<RecipeSummary> {
  const t0 = performance.now();
  const run = new RunDir(options.out);
  const emit = options.onEvent ?? (() => {});
  if (options.resume) {
    const saved = run.readJson<{ config: RecipeConfig }>('run.json');
    if (!saved) throw new ConfigError(`--resume: ${options.out} has no run.json (not a run directory)`, ['resume']);
    cfg = saved.config;
  } else if (existsSync(run.path('state.json'))) {
    throw new ConfigError(`${options.out} already holds a run; use --resume to continue it or choose another --out`, ['out']);
  } else {
    // run.json records pretrained checkpoints by absolute path, so `--resume` finds them from any directory.
    if (cfg.policy?.pretrained) cfg = { ...cfg, policy: { ...cfg.policy, pretrained: resolve(cfg.policy.pretrained) } };
    if (cfg.student.pretrained) cfg = { ...cfg, student: { ...cfg.student, pretrained: resolve(cfg.student.pretrained) } };
  }
  const backend = await initBackend({ backend: cfg.backend, quiet: true });
  const data = buildRunData(cfg);
  const tok = data.tokenizer;
  // Pretrained checkpoints are checked (config.json, family, tokenizer) before anything is written.
  const roles = recipeRoles(cfg, tok);
  const notes = pretrainedNotes(cfg, roles);
  run.ensure();
  if (options.resume) removeLeftovers(run.root);
  if (!options.resume) {
    run.writeJson('run.json', { config: cfg, versions: versions(), backend, startedAt: new Date().toISOString(), ...(notes.length && { notes }) });
  }
  for (const message of notes) emit({ type: 'log', message });
  const ctx: StageContext = { run, tokenizer: tok, seed: cfg.seed, emit };
  const state = run.state();
  const done = (stage: string, dir: string) => {
    const s = run.state();
    s.completed[stage] = dir;
    s.current = null;
    run.saveState(s);
    state.completed[stage] = dir;
  };
  const teacher = () => new DeepSeekModel(stageModelConfig(cfg, 'teacher', tok.vocabSize), { seed: cfg.seed });
  const student = () => new DeepSeekModel(stageModelConfig(cfg, 'student', tok.vocabSize), { seed: cfg.seed + 1 });
  const ckpt = (stage: string) => {
    const d = state.completed[stage];
    if (!d) throw new Error(`stage ${stage} has not run`);
    return d;
  };
  const stages = recipeStages(cfg);
  // Fail fast: a finished stage's checkpoint that no longer matches its recorded checksums stops the
  // resume before any work (CheckpointError naming the file).
  for (const [stage, dir] of Object.entries(state.completed)) if (stage !== 'eval') run.verify(dir);
  for (const stage of stages) {
    if (state.completed[stage]) {
      emit({ type: 'stage_skipped', stage, reason: 'already done' });
      continue;
    }
    const dir = await runStage(stage, cfg, ctx, data, { teacher, student, ckpt, roles });
    done(stage, dir);
    if (options.stopAfter === stage) break;
  }
  const evals = run.readJson<Record<string, EvalResult>>('eval.json') ?? {};
  const wallSeconds = (performance.now() - t0) / 1000;
  const finished = stages.every((s) => state.completed[s]);
  if (finished) {
    const timing = run.readJson<Record<string, number>>('timing.json') ?? {};
    run.writeJson('timing.json', { ...timing, wallSeconds: (timing.wallSeconds ?? 0) + wallSeconds });
  }
  const report = finished ? await writeReport(run.root) : undefined;
  return { runDir: run.root, checkpoints: { ...state.completed }, eval: evals, wallSeconds, report, notes };
}

async function runStage(
  stage: string,
  cfg: RecipeConfig,
  ctx: StageContext,
  data: RunData,
  m: { teacher: () => DeepSeekModel; student: () => DeepSeekModel; ckpt: (s: string) => string; roles: { policy: StageModels; student: StageModels } },
): Promise<string> {
  const { run, tokenizer: tok } = ctx;
  // The policy's and the student's stages each run with their role's tokenizer and checkpoint layout.
  const policyCtx = roleContext(ctx, m.roles.policy);
  const studentCtx = roleContext(ctx, m.roles.student);
  const fromDir = (c: StageContext, dir: string) => () => loadStageModel(c, dir);
  const reasoning = data.train;
  switch (stage) {
    case 'pretrain':
      if (m.roles.policy.pretrained) return importStage(policyCtx, stage, m.roles.policy);
      return runSftStage(ctx, stage, m.teacher, data.documents, cfg.pretrain);
    case 'pretrain-student':
      if (m.roles.student.pretrained) return importStage(studentCtx, stage, m.roles.student);
      return runSftStage(ctx, stage, m.student, data.documents, cfg.pretrain);
    case 'cold-start':
      return runSftStage(policyCtx, stage, fromDir(policyCtx, m.ckpt(lastBase(cfg))), coldStartData(data, cfg.coldStart.examples), cfg.coldStart);
    case 'reasoning-rl':
      return runRlStage(policyCtx, stage, m.ckpt('cold-start'), reasoning, ruleRewards(), cfg.reasoningRl, cfg.algo);
    case 'rejection-sft': {
      const kept = await keptTeacherSamples(policyCtx, 'rejection-sampling', m.ckpt('reasoning-rl'), reasoning.slice(0, cfg.rejection.prompts), {
        k: cfg.rejection.samplesPerPrompt, seed: cfg.seed, maxNewTokens: cfg.eval.maxNewTokens, temperature: 0.6, topP: 0.95,
        jsonlPath: run.path('rejection-samples.jsonl'),
      });
      const sft = [...kept, ...generalSft(data, cfg.rejection.generalExamples)];
      // R1 §2.3.3 fine-tunes the *base* model on the curated set (from: 'base'); 'reasoning-rl' continues
      // from the stage-2 checkpoint.
      const init = cfg.rejection.from === 'base' ? lastBase(cfg) : 'reasoning-rl';
      return runSftStage(policyCtx, stage, fromDir(policyCtx, m.ckpt(init)), sft.length ? sft : coldStartData(data, 16), cfg.rejection);
    }
    case 'reward-model': {
      const path = run.path('reward-model.safetensors');
      if (!isVerified(run, path)) {
        const rm = new PreferenceRewardModel(stageModelConfig(cfg, 'student', tok.vocabSize), tok, cfg.seed + 5);
        const c = cfg.rlAll.rewardModel;
        ctx.emit({ type: 'stage_start', stage, total: c.steps, done: 0 });
        rm.train(data.preferences, {
          steps: c.steps, batchSize: c.batchSize, lr: c.lr, seed: cfg.seed,
          onStep: (step, loss, accuracy) => {
            run.append('metrics.jsonl', { stage, step, loss, accuracy });
            ctx.emit({ type: 'progress', stage, step, total: c.steps, metrics: { loss } });
          },
        });
        rm.save(path);
        run.recordCheckpoint(path, { 'reward-model.safetensors': sha256File(path) });
        rm.dispose();
        ctx.emit({ type: 'stage_end', stage });
      }
      return path;
    }
    case 'rl-all': {
      const rm = new PreferenceRewardModel(stageModelConfig(cfg, 'student', tok.vocabSize), tok, cfg.seed + 5);
      rm.load(m.ckpt('reward-model'));
      const nGeneral = Math.round(reasoning.length * cfg.rlAll.generalFraction / Math.max(1e-9, 1 - cfg.rlAll.generalFraction));
      const dataset = [...reasoning, ...data.general.slice(0, Math.min(nGeneral, data.general.length))];
      const preference: NamedReward<TaskSample> = {
        name: 'preference',
        fn: (c, s) => (isReasoning(s) ? null : Math.tanh(rm.score([{ prompt: s.prompt, response: inVocabulary(tok, c) }])[0])),
        weight: 1,
      };
      try {
        return await runRlStage(policyCtx, stage, m.ckpt('rejection-sft'), dataset, [...ruleRewards(), preference], cfg.rlAll, cfg.algo);
      } finally {
        rm.dispose();
      }
    }
    case 'distill': {
      // Distillation is through text: the teacher's samples are re-tokenized by the student's tokenizer.
      const sft = await keptTeacherSamples(policyCtx, 'distill-sampling', m.ckpt('rl-all'), reasoning.slice(0, cfg.distill.prompts), {
        k: cfg.distill.samplesPerPrompt, seed: cfg.seed + 7, maxNewTokens: cfg.eval.maxNewTokens, jsonlPath: run.path('distill-samples.jsonl'),
      });
      return runSftStage(studentCtx, stage, fromDir(studentCtx, m.ckpt('pretrain-student')), sft.length ? sft : coldStartData(data, 16), cfg.distill);
    }
    case 'student-rl':
      return runRlStage(studentCtx, stage, m.ckpt('pretrain-student'), reasoning, ruleRewards(), cfg.studentRl, cfg.algo);
    case 'r1-zero':
      return runRlStage(policyCtx, stage, m.ckpt(lastBase(cfg)), reasoning, ruleRewards(), cfg.r1Zero, cfg.algo);
    case 'dsa-warmup':
      return dsaStage(ctx, stage, m.ckpt('pretrain'), cfg, data.documents);
    case 'dsa-sparse':
      return dsaStage(ctx, stage, m.ckpt('dsa-warmup'), cfg, data.documents);
    case 'eval':
      return evaluateStages(ctx, cfg, data, m.ckpt, { policy: policyCtx, student: studentCtx });
    default:
      throw new Error(`unknown stage ${stage}`);
  }
}

/**
 * Samples from a stage's checkpoint as a teacher (R1 §2.3.3 / §2.4), logs the rejection counts per
 * rule under `metricsStage`, and returns the kept samples as SFT examples.
 */
async function keptTeacherSamples(
  ctx: StageContext,
  metricsStage: string,
  teacherDir: string,
  prompts: TaskSample[],
  options: TeacherSamplingOptions,
): Promise<SftExample[]> {
  const policy = new DeepSeekPolicy<CausalLM<any>>(loadStageModel(ctx, teacherDir), ctx.tokenizer);
  const jsonl = options.jsonlPath;
  // All or nothing: a samples file cut by a crash is resampled from the start (the sampling stream
  // is seeded from the start), a complete one (checksum recorded) is read back without sampling.
  const complete = !!jsonl && existsSync(jsonl) && isVerified(ctx.run, jsonl);
  if (jsonl && existsSync(jsonl) && !complete) rmSync(jsonl);
  try {
    const res = await sampleFromTeacher(policy, prompts, options);
    if (jsonl && !complete && existsSync(jsonl)) ctx.run.recordCheckpoint(jsonl, { [metricsStage]: sha256File(jsonl) });
    const counts = Object.fromEntries(Object.entries(res.counts).map(([k, v]) => [`rejected/${k}`, v]));
    ctx.run.append('metrics.jsonl', { stage: metricsStage, step: 0, ...counts });
    return res.kept.map((s) => ({ prompt: s.prompt, completion: s.completion }));
  } finally {
    policy.dispose();
  }
}

/** Whether a file or checkpoint of the run matches the checksums recorded for it. */
function isVerified(run: RunDir, path: string): boolean {
  try {
    run.verify(path);
    return true;
  } catch (e) {
    if (e instanceof CheckpointError) return false;
    throw e;
  }
}

/** Removes the temporary directories of checkpoint writes cut by a crash (`ckpt-N.tmp-<pid>`, `.old-<pid>`). */
function removeLeftovers(root: string): void {
  for (const stage of readdirSync(root)) {
    const d = join(root, stage);
    if (!statSync(d).isDirectory()) continue;
    // savePretrained (pretrained roles) adds a timestamp: `ckpt-N.tmp-<pid>-<ms>`.
    for (const n of readdirSync(d)) if (/^ckpt-\d+\.(tmp|old)-\d+(-\d+)?$/.test(n)) rmSync(join(d, n), { recursive: true, force: true });
  }
}

/** The base checkpoint later stages start from: the sparse-converted one under DSA. */
function lastBase(cfg: RecipeConfig): string {
  return cfg.attention === 'dsa' && !cfg.policy?.pretrained ? 'dsa-sparse' : 'pretrain';
}

/** The stage context of a role: unchanged for models the run creates, the role's tokenizer and layout for a pretrained one. */
function roleContext(ctx: StageContext, role: StageModels): StageContext {
  return role.pretrained ? { ...ctx, tokenizer: role.tokenizer, models: role } : ctx;
}

/** Stages whose checkpoints are the student's (the rest are the policy's). */
const STUDENT_STAGES = new Set(['pretrain-student', 'distill', 'student-rl']);

function evaluateStages(ctx: StageContext, cfg: RecipeConfig, data: RunData, ckpt: (s: string) => string, roles: { policy: StageContext; student: StageContext }): string {
  const { run } = ctx;
  const evals = run.readJson<Record<string, EvalResult>>('eval.json') ?? {};
  const targets = ['pretrain', 'cold-start', 'reasoning-rl', 'rejection-sft', 'rl-all', 'distill', 'student-rl', 'r1-zero'];
  const completed = run.state().completed;
  const todo = targets.filter((s) => completed[s] && !evals[s] && s !== 'reward-model');
  ctx.emit({ type: 'stage_start', stage: 'eval', total: todo.length, done: 0 });
  todo.forEach((stage, i) => {
    const role = STUDENT_STAGES.has(stage) ? roles.student : roles.policy;
    const model = loadStageModel(role, ckpt(stage));
    evals[stage] = evaluateModel(model, role.tokenizer, data.eval, { ...cfg.eval, seed: cfg.seed + 99 });
    model.dispose();
    run.writeJson('eval.json', evals);
    ctx.emit({ type: 'progress', stage: 'eval', step: i + 1, total: todo.length, metrics: { passAt1: evals[stage].passAt1 } });
  });
  run.writeJson('eval.json', evals);
  ctx.emit({ type: 'stage_end', stage: 'eval' });
  return run.path('eval.json');
}

function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  for (const pkg of ['@tensorflow/tfjs', '@r1-ts/pipeline']) {
    try {
      const p = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
      out[pkg] = JSON.parse(readFileSync(p, 'utf8')).version;
    } catch {
      // Not resolvable from here (bundled); leave it out.
    }
  }
  return out;
}
