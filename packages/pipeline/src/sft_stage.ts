import * as tf from '@tensorflow/tfjs';
import { collate, loadCheckpoint, loadOptimizerState, saveCheckpoint, SftTrainer, trainStep } from '@r1-ts/model';
import type { DeepSeekModel, SftExample, StepStats, Tokenizer } from '@r1-ts/model';

import type { RunDir } from './rundir';
import type { PipelineEvent } from './events';

/** Settings of one supervised stage. */
export interface SftStageConfig {
  steps: number;
  batchSize: number;
  lr: number;
  checkpointEvery: number;
}

/** Shared context of the stage runners. */
export interface StageContext {
  run: RunDir;
  tokenizer: Tokenizer;
  seed: number;
  emit: (e: PipelineEvent) => void;
}

/**
 * Runs a resumable SFT stage: starts from `init()` (or the stage's newest checkpoint, with its
 * optimizer, data order and RNG), checkpoints every `checkpointEvery` steps and at the end, and
 * returns the final checkpoint directory. `plain: true` trains on every token (pretraining).
 */
export function runSftStage(
  ctx: StageContext,
  stage: string,
  init: () => DeepSeekModel,
  data: SftExample[] | string[],
  c: SftStageConfig,
): string {
  const latest = ctx.run.latestCheckpoint(stage);
  if (latest && latest.step >= c.steps) return latest.dir;
  const model = latest ? loadCheckpoint(latest.dir).model : init();
  const trainer = new SftTrainer(model, ctx.tokenizer, { lr: c.lr, batchSize: c.batchSize, seed: ctx.seed, weightDecay: 0.01 });
  let step = 0;
  if (latest) {
    loadOptimizerState(latest.dir, trainer.optimizer);
    const saved = ctx.run.readJson<{ step: number; trainer: ReturnType<SftTrainer['getState']> }>(`${stage}/ckpt-${latest.step}/trainer.json`);
    if (saved) trainer.setState(saved.trainer);
    step = latest.step;
  }
  const plain = typeof data[0] === 'string';
  const docs = plain ? (data as string[]).map((d) => ({ prompt: '', completion: d })) : (data as SftExample[]);
  const save = (s: number) => {
    saveCheckpoint(ctx.run.path(stage, `ckpt-${s}`), model, ctx.tokenizer, {
      optimizer: trainer.optimizer,
      files: { 'trainer.json': JSON.stringify({ step: s, trainer: trainer.getState() }) },
    });
    ctx.run.saveState({ ...ctx.run.state(), current: { stage, step: s } });
  };
  ctx.emit({ type: 'stage_start', stage, total: c.steps, done: step });
  const t0 = performance.now();
  while (step < c.steps) {
    const batch = trainer.nextBatch(docs);
    const stats = plain ? plainStep(trainer, model, ctx.tokenizer, batch) : trainer.step(batch);
    step++;
    const metrics = { loss: stats.loss, ce: stats.ce, grad_norm: stats.gradNorm, lr: stats.lr, skipped: stats.skipped ? 1 : 0, tokens_per_s: (stats.tokens / (performance.now() - t0)) * 1000 * step };
    ctx.run.append('metrics.jsonl', { stage, step, ...metrics, expert_load: stats.expertLoad });
    ctx.emit({ type: 'progress', stage, step, total: c.steps, metrics: { loss: stats.loss } });
    if (step % c.checkpointEvery === 0 || step === c.steps) save(step);
  }
  if (c.steps === 0) save(0);
  trainer.optimizer.disposeState();
  model.dispose();
  ctx.emit({ type: 'stage_end', stage });
  return ctx.run.path(stage, `ckpt-${c.steps}`);
}

/** A language-modelling step on raw documents: bos + text + eos, loss on every token. */
function plainStep(trainer: SftTrainer, model: DeepSeekModel, tok: Tokenizer, batch: SftExample[]): StepStats {
  const seqs = batch.map((d) => [tok.special.bos, ...tok.encode(d.completion), tok.special.eos]);
  const b = collate(seqs, seqs.map(() => 0), tok.special.pad);
  try {
    return trainStep(model, trainer.optimizer, b, trainer.options);
  } finally {
    tf.dispose([b.tokens, b.lossMask]);
  }
}

