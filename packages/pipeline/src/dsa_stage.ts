import * as tf from '@tensorflow/tfjs';
import { AdamW, convertToDsa, indexerParameters, indexerWarmupStep, loadCheckpoint, trainStep } from '@r1-ts/model';
import { Rng } from '@r1-ts/tensor-kernels';
import type { RecipeConfig } from './config';
import { documentBatch } from './sft_stage';
import type { StageContext } from './sft_stage';

/**
 * The dense → sparse conversion that turned V3.1 into V3.2 (V3.2-Exp §2.1), on the pretrained base:
 * `dsa-warmup` adds lightning indexers and trains only them against the dense attention (model
 * frozen); `dsa-sparse` continues training everything with top-k attention plus the indexer's sparse
 * KL. Returns the stage's checkpoint directory.
 */
export function dsaStage(ctx: StageContext, stage: 'dsa-warmup' | 'dsa-sparse', from: string, cfg: RecipeConfig, documents: string[]): string {
  const { run, tokenizer: tok } = ctx;
  // No mid-stage checkpoints: an interrupted stage reruns from `from`, deterministically.
  const steps = stage === 'dsa-warmup' ? cfg.dsa.warmupSteps : cfg.dsa.sparseSteps;
  const done = run.latestCheckpoint(stage);
  if (done && done.step >= steps) return done.dir;
  run.verify(from);
  const sizes = {
    index_n_heads: cfg.teacher.index_n_heads ?? 2,
    index_head_dim: cfg.teacher.index_head_dim ?? 16,
    index_topk: cfg.teacher.index_topk ?? 16,
  };
  const loaded = loadCheckpoint(from).model;
  const model = stage === 'dsa-warmup' ? convertToDsa(loaded, sizes, cfg.seed + 11) : loaded;
  if (model !== loaded) loaded.dispose();
  const params = stage === 'dsa-warmup' ? indexerParameters(model) : model.namedParameters();
  const opt = new AdamW(params, { lr: cfg.dsa.lr, weightDecay: 0 });
  const rng = new Rng(cfg.seed + 13);
  ctx.emit({ type: 'stage_start', stage, total: steps, done: 0 });
  for (let step = 1; step <= steps; step++) {
    const docs = Array.from({ length: cfg.pretrain.batchSize }, () => documents[rng.int(0, documents.length - 1)]);
    const batch = documentBatch(tok, docs);
    const loss = stage === 'dsa-warmup'
      ? indexerWarmupStep(model, opt, batch).loss
      : trainStep(model, opt, batch, { indexerLoss: 'sparse' }).loss;
    tf.dispose([batch.tokens, batch.lossMask]);
    run.append('metrics.jsonl', { stage, step, loss });
    ctx.emit({ type: 'progress', stage, step, total: steps, metrics: { loss } });
  }
  const dir = run.saveStageCheckpoint(stage, steps, model, tok, { files: { 'trainer.json': JSON.stringify({ step: steps }) } });
  opt.disposeState();
  model.dispose();
  ctx.emit({ type: 'stage_end', stage });
  return dir;
}
