import * as tf from '@tensorflow/tfjs';
import { collate, loadCheckpoint, loadOptimizerState, lrSchedule, SftTrainer, trainStep } from '@r1-ts/model';
import type { CausalLM, SftExample, StepStats, TokenBatch, Tokenizer } from '@r1-ts/model';

import { R1Error } from '@r1-ts/tensor-kernels';
import type { RunDir } from './rundir';
import type { PipelineEvent } from './events';
import type { StageModels } from './models';

/**
 * Consecutive faulted steps (non-finite loss or gradient norm: the update was skipped, nothing
 * changed) after which a stage stops. One bad batch is noise and the run continues; five in a row
 * means the run has diverged, and training on would only burn time.
 */
export const MAX_CONSECUTIVE_FAULTS = 5;

/**
 * Counts consecutive faulted steps of a stage: logs each one (a `log` event) and, at the
 * {@link MAX_CONSECUTIVE_FAULTS}th in a row, returns the error that stops the run (E_NONFINITE).
 */
export function faultCounter(ctx: StageContext, stage: string, max = MAX_CONSECUTIVE_FAULTS) {
  let streak = 0;
  return {
    /** Steps faulted in a row so far. */
    get streak(): number {
      return streak;
    },
    /** Records one step; returns the stopping error when `max` faults have come in a row. */
    record(step: number, faulted: boolean, detail: string): R1Error | null {
      if (!faulted) {
        streak = 0;
        return null;
      }
      streak++;
      ctx.emit({ type: 'log', message: `${stage} step ${step}: update skipped (${detail}); ${streak} in a row` });
      if (streak < max) return null;
      return new R1Error(
        'E_NONFINITE',
        `${stage}: stopped at step ${step} after ${max} consecutive non-finite steps (${step - max + 1}-${step}; last: ${detail})`,
      );
    },
  };
}

/** Settings of one supervised stage. */
export interface SftStageConfig {
  steps: number;
  batchSize: number;
  lr: number;
  /** `cosine`: from `lr` down to `lr`/10 at `steps`; default constant. */
  decay?: 'constant' | 'cosine';
  checkpointEvery: number;
}

/** Shared context of the stage runners. */
export interface StageContext {
  run: RunDir;
  tokenizer: Tokenizer;
  seed: number;
  emit: (e: PipelineEvent) => void;
  /** How the stage's role loads and saves checkpoints; absent: r1-ts checkpoints of a DeepSeekModel. */
  models?: StageModels;
}

/** Loads a stage checkpoint of the context's role. */
export function loadStageModel(ctx: StageContext, dir: string): CausalLM<any> {
  return ctx.models ? ctx.models.load(dir) : loadCheckpoint(dir).model;
}

/**
 * Runs a resumable SFT stage: starts from `init()` (or the stage's newest checkpoint, with its
 * optimizer, data order and RNG), checkpoints every `checkpointEvery` steps and at the end, and
 * returns the final checkpoint directory. `plain: true` trains on every token (pretraining).
 */
export function runSftStage(
  ctx: StageContext,
  stage: string,
  init: () => CausalLM<any>,
  data: SftExample[] | string[],
  c: SftStageConfig,
): string {
  const latest = ctx.run.latestCheckpoint(stage, (dir, e) => ctx.emit({ type: 'log', message: `${stage}: skipping ${dir}: ${e.message}` }));
  if (latest && latest.step >= c.steps) return latest.dir;
  const model = latest ? loadStageModel(ctx, latest.dir) : init();
  const trainer = new SftTrainer(model, ctx.tokenizer, { lr: c.decay === 'cosine' && c.steps > 0 ? lrSchedule({ peak: c.lr, total: c.steps, decay: 'cosine', minRatio: 0.1 }) : c.lr, batchSize: c.batchSize, seed: ctx.seed, weightDecay: 0.01 });
  let step = 0;
  if (latest) {
    loadOptimizerState(latest.dir, trainer.optimizer);
    const saved = ctx.run.readJson<{ step: number; trainer: ReturnType<SftTrainer['getState']> }>(`${stage}/ckpt-${latest.step}/trainer.json`);
    if (saved) trainer.setState(saved.trainer);
    step = latest.step;
  }
  const plain = typeof data[0] === 'string';
  const docs = plain ? (data as string[]).map((d) => ({ prompt: '', completion: d })) : (data as SftExample[]);
  let lastSaved = latest?.step ?? -1;
  const save = (s: number) => {
    ctx.run.saveStageCheckpoint(stage, s, model, ctx.tokenizer, {
      optimizer: trainer.optimizer,
      files: { 'trainer.json': JSON.stringify({ step: s, trainer: trainer.getState() }) },
    }, ctx.models);
    lastSaved = s;
  };
  const faults = faultCounter(ctx, stage);
  ctx.emit({ type: 'stage_start', stage, total: c.steps, done: step });
  const t0 = performance.now();
  try {
    while (step < c.steps) {
      const batch = trainer.nextBatch(docs);
      const stats = plain ? plainStep(trainer, model, ctx.tokenizer, batch) : trainer.step(batch);
      step++;
      const metrics = { loss: stats.loss, ce: stats.ce, grad_norm: stats.gradNorm, lr: stats.lr, skipped: stats.skipped ? 1 : 0, tokens_per_s: (stats.tokens / (performance.now() - t0)) * 1000 * step };
      ctx.run.append('metrics.jsonl', { stage, step, ...metrics, expert_load: stats.expertLoad });
      ctx.emit({ type: 'progress', stage, step, total: c.steps, metrics: { loss: stats.loss } });
      const fault = faults.record(step, stats.skipped, `loss ${stats.loss}, grad_norm ${stats.gradNorm}`);
      if (fault) throw stopOnFaults(fault, step - faults.streak, lastSaved, save, step, ctx.run.path(stage));
      if (step % c.checkpointEvery === 0 || step === c.steps) save(step);
    }
    if (c.steps === 0) save(0);
  } finally {
    trainer.optimizer.disposeState();
    model.dispose();
  }
  ctx.emit({ type: 'stage_end', stage });
  return ctx.run.path(stage, `ckpt-${c.steps}`);
}

/**
 * Before a stage stops on numerical faults: skipped steps changed nothing, so the weights are those
 * of the last good step; when that step is newer than the last checkpoint, they are saved now (as
 * `ckpt-<step>`, the data cursor past the bad batches). Returns the error, naming that checkpoint.
 */
export function stopOnFaults(fault: R1Error, lastGood: number, lastSaved: number, save: (step: number) => void, step: number, stageDir: string): R1Error {
  if (lastSaved < lastGood) save(step);
  const kept = lastSaved < lastGood ? step : lastSaved;
  fault.message += `; last good checkpoint: ${stageDir}/ckpt-${kept} (the weights of step ${lastGood})`;
  return fault;
}

/** A language-modelling step on raw documents: bos + text + eos, loss on every token. */
function plainStep(trainer: SftTrainer<CausalLM<any>>, model: CausalLM<any>, tok: Tokenizer, batch: SftExample[]): StepStats {
  const b = documentBatch(tok, batch.map((d) => d.completion));
  try {
    return trainStep(model, trainer.optimizer, b, trainer.options);
  } finally {
    tf.dispose([b.tokens, b.lossMask]);
  }
}


/**
 * A language-modelling batch of raw documents: bos + text + eos each (no second bos when a text
 * already starts with one, e.g. a chat render), loss on every token.
 */
export function documentBatch(tok: Tokenizer, texts: string[]): TokenBatch {
  const seqs = texts.map((text) => {
    const ids = tok.encode(text);
    const { bos } = tok.special; // absent for tokenizers without one (Qwen)
    return [...(bos === undefined || ids[0] === bos ? [] : [bos]), ...ids, tok.special.eos];
  });
  return collate(seqs, seqs.map(() => 0), tok.special.pad);
}
