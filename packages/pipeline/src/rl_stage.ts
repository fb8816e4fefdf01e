import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { DeepSeekModel, DeepSeekPolicy } from '@r1-ts/model';
import type { CausalLM, Tokenizer } from '@r1-ts/model';
import { GrpoTrainer } from '@r1-ts/grpo';
import type { GrpoTrainerSnapshot, GrpoTrainerState, RewardFunction } from '@r1-ts/grpo';
import { GspoTrainer } from '@r1-ts/gspo';
import { readSafetensors } from '@r1-ts/tensor-kernels';
import { faultCounter, loadStageModel, stopOnFaults } from './sft_stage';
import type { StageContext } from './sft_stage';

/** Settings of one RL stage (the recipe config's `reasoningRl`, `rlAll`, `studentRl`, `r1Zero`). */
export interface RlStageConfig {
  steps: number;
  promptsPerStep: number;
  numGenerations: number;
  lr: number;
  beta: number;
  temperature: number;
  topP: number;
  maxCompletionLength: number;
  epsilonLow: number;
  epsilonHigh: number;
  dynamicSampling: boolean;
  checkpointEvery: number;
}

/** A reward with its name and weight. */
export interface NamedReward<S> {
  name: string;
  fn: RewardFunction<S>;
  weight: number;
}

/** What an RL checkpoint's trainer.json holds. */
interface RlTrainerFile {
  step: number;
  algo: 'grpo' | 'gspo';
  /** Absent in checkpoints written before trainer state was saved. */
  trainer?: GrpoTrainerState;
}

/**
 * Runs a resumable RL stage with GRPO or GSPO from `initDir`'s checkpoint (or the stage's newest
 * checkpoint), logging TRL-named metrics and a few rollouts per step, and returns the final
 * checkpoint directory. With GSPO the clipping range and β take GSPO's defaults. Every checkpoint
 * holds the trainer's state (RNG streams, prompt order and cursor, Adam moments and accumulators:
 * trainer.json + trainer.safetensors) and the KL reference model (reference.safetensors), so a
 * resumed stage takes exactly the steps the uninterrupted one would have.
 */
export async function runRlStage<S extends { prompt: string }>(
  ctx: StageContext,
  stage: string,
  initDir: string | (() => CausalLM<any>),
  dataset: readonly S[],
  rewards: NamedReward<S>[],
  c: RlStageConfig,
  algo: 'grpo' | 'gspo',
): Promise<string> {
  const latest = ctx.run.latestCheckpoint(stage, (dir, e) => ctx.emit({ type: 'log', message: `${stage}: skipping ${dir}: ${e.message}` }));
  if (latest && latest.step >= c.steps) return latest.dir;
  if (!latest && typeof initDir === 'string') ctx.run.verify(initDir);
  const model = latest ? loadStageModel(ctx, latest.dir) : typeof initDir === 'string' ? loadStageModel(ctx, initDir) : initDir();
  const policy = new DeepSeekPolicy<CausalLM<any>>(model, ctx.tokenizer);
  let step = latest?.step ?? 0;
  const saved = latest ? ctx.run.readJson<RlTrainerFile>(`${stage}/ckpt-${latest.step}/trainer.json`) : null;
  const named = rewards.map((r) => Object.defineProperty(r.fn, 'name', { value: r.name }));
  const options = {
    policy,
    dataset,
    rewardFunctions: named,
    rewardWeights: rewards.map((r) => r.weight),
    numGenerations: c.numGenerations,
    promptsPerStep: c.promptsPerStep,
    beta: algo === 'gspo' ? undefined : c.beta,
    epsilonLow: algo === 'gspo' ? undefined : c.epsilonLow,
    epsilonHigh: algo === 'gspo' ? undefined : c.epsilonHigh,
    temperature: c.temperature,
    topP: c.topP,
    maxCompletionLength: c.maxCompletionLength,
    dynamicSampling: c.dynamicSampling,
    learningRate: c.lr,
    // Resumed stages restore the streams below; only a checkpoint without trainer state (written
    // by an older version) continues with a fresh stream derived from the step it resumes at.
    seed: ctx.seed * 1000 + (saved?.trainer ? 0 : step),
    quiet: true,
  };
  const trainer = algo === 'gspo' ? new GspoTrainer<S>(options) : new GrpoTrainer<S>(options);
  if (latest && saved?.trainer) {
    await restoreTrainer(trainer, saved.trainer, latest.dir, model, ctx.tokenizer);
  } else if (latest) {
    ctx.emit({ type: 'log', message: `${stage}: ${latest.dir} has no trainer state; resuming with fresh RNG streams and optimizer` });
  }
  let lastSaved = latest?.step ?? -1;
  const save = (s: number, snap: GrpoTrainerSnapshot) => {
    const tensorFiles: Record<string, Record<string, tf.Tensor>> = { 'trainer.safetensors': snap.tensors };
    const ref = trainer.reference;
    if (ref) tensorFiles['reference.safetensors'] = Object.fromEntries((ref as DeepSeekPolicy<CausalLM<any>>).model.namedParameters());
    const file: RlTrainerFile = { step: s, algo, trainer: snap.state };
    ctx.run.saveStageCheckpoint(stage, s, model, ctx.tokenizer, { tensorFiles, files: { 'trainer.json': JSON.stringify(file) } }, ctx.models);
    lastSaved = s;
  };
  const faults = faultCounter(ctx, stage);
  ctx.emit({ type: 'stage_start', stage, total: c.steps, done: step });
  try {
    while (step < c.steps) {
      const res = await trainer.step();
      step++;
      // The trainer skips an update whose loss or gradient is not finite (metrics.skipped counts them).
      const skipped = (res.metrics.skipped ?? 0) > 0;
      ctx.run.append('metrics.jsonl', { stage, step, ...res.metrics, skipped: skipped ? 1 : 0 });
      const fault = faults.record(step, skipped, `loss ${res.metrics.loss}, grad_norm ${res.metrics.grad_norm}`);
      if (fault) {
        const snap = await trainer.getState();
        throw stopOnFaults(fault, step - faults.streak, lastSaved, (s) => save(s, snap), step, ctx.run.path(stage));
      }
      for (const r of res.rollouts.slice(0, 2)) {
        ctx.run.append('samples.jsonl', { stage, step, prompt: (r.sample as S).prompt, completion: r.text, reward: r.reward, rewards: r.rewards, advantage: r.advantage });
      }
      ctx.emit({ type: 'progress', stage, step, total: c.steps, metrics: { reward: res.metrics.reward ?? 0 } });
      if (step % c.checkpointEvery === 0 || step === c.steps) save(step, await trainer.getState());
    }
    if (c.steps === 0) save(0, await trainer.getState());
  } finally {
    trainer.dispose();
    policy.dispose();
  }
  ctx.emit({ type: 'stage_end', stage });
  return ctx.run.path(stage, `ckpt-${c.steps}`);
}

/** Restores a trainer from an RL checkpoint: its state, optimizer tensors and reference model. */
async function restoreTrainer<S extends { prompt: string }>(trainer: GrpoTrainer<S>, state: GrpoTrainerState, dir: string, model: CausalLM<any>, tokenizer: Tokenizer): Promise<void> {
  const tensors = readSafetensors(join(dir, 'trainer.safetensors')).tensors;
  let reference: DeepSeekPolicy<CausalLM<any>> | undefined;
  const refPath = join(dir, 'reference.safetensors');
  if (state.reference && existsSync(refPath)) {
    // Any family: a model of the same config, then the saved reference weights over it.
    const refModel = model instanceof DeepSeekModel ? new DeepSeekModel(model.config, { seed: 0 }) : model.clone();
    refModel.loadState(readSafetensors(refPath).tensors);
    reference = new DeepSeekPolicy(refModel, tokenizer);
  }
  await trainer.setState({ state, tensors }, { reference });
}
