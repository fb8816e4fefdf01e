import { DeepSeekPolicy, loadCheckpoint, saveCheckpoint } from '@r1-ts/model';
import type { DeepSeekModel } from '@r1-ts/model';
import { GrpoTrainer } from '@r1-ts/grpo';
import type { RewardFunction } from '@r1-ts/grpo';
import { GspoTrainer } from '@r1-ts/gspo';
import { faultCounter, stopOnFaults } from './sft_stage';
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

/**
 * Runs a resumable RL stage with GRPO or GSPO from `initDir`'s checkpoint (or the stage's newest
 * checkpoint), logging TRL-named metrics and a few rollouts per step, and returns the final
 * checkpoint directory. With GSPO the clipping range and β take GSPO's defaults.
 */
export async function runRlStage<S extends { prompt: string }>(
  ctx: StageContext,
  stage: string,
  initDir: string | (() => DeepSeekModel),
  dataset: readonly S[],
  rewards: NamedReward<S>[],
  c: RlStageConfig,
  algo: 'grpo' | 'gspo',
): Promise<string> {
  const latest = ctx.run.latestCheckpoint(stage);
  if (latest && latest.step >= c.steps) return latest.dir;
  const model = latest ? loadCheckpoint(latest.dir).model : typeof initDir === 'string' ? loadCheckpoint(initDir).model : initDir();
  const policy = new DeepSeekPolicy(model, ctx.tokenizer);
  let step = latest?.step ?? 0;
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
    // A resumed stage continues with a fresh stream derived from the step it resumes at.
    seed: ctx.seed * 1000 + step,
    quiet: true,
  };
  const trainer = algo === 'gspo' ? new GspoTrainer<S>(options) : new GrpoTrainer<S>(options);
  let lastSaved = latest?.step ?? -1;
  const save = (s: number) => {
    saveCheckpoint(ctx.run.path(stage, `ckpt-${s}`), model, ctx.tokenizer, { files: { 'trainer.json': JSON.stringify({ step: s, algo }) } });
    ctx.run.saveState({ ...ctx.run.state(), current: { stage, step: s } });
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
      if (fault) throw stopOnFaults(fault, step - faults.streak, lastSaved, save, step, ctx.run.path(stage));
      for (const r of res.rollouts.slice(0, 2)) {
        ctx.run.append('samples.jsonl', { stage, step, prompt: (r.sample as S).prompt, completion: r.text, reward: r.reward, rewards: r.rewards, advantage: r.advantage });
      }
      ctx.emit({ type: 'progress', stage, step, total: c.steps, metrics: { reward: res.metrics.reward ?? 0 } });
      if (step % c.checkpointEvery === 0 || step === c.steps) save(step);
    }
    if (c.steps === 0) save(0);
  } finally {
    trainer.dispose();
    policy.dispose();
  }
  ctx.emit({ type: 'stage_end', stage });
  return ctx.run.path(stage, `ckpt-${c.steps}`);
}
