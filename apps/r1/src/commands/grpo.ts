// `r1 grpo`: GRPO (or GSPO with importance_sampling_level: sequence) on a pretrained Hugging Face
// model with rule rewards on a JSONL/Parquet dataset, through LoRA (default) or full fine-tuning.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, initBackend, writeFileAtomic, writeSafetensors, type BackendName } from '@r1-ts/tensor-kernels';
import { DeepSeekPolicy, generate, loadPretrained, openThinkSuffix, savePretrained } from '@r1-ts/model';
import {
  DiskWeightSync, EnginePolicy, GrpoTrainer, LoraWeightSync, parseEngineFlags, type GrpoTrainerState, type Policy, type RewardFunction,
} from '@r1-ts/grpo';
import { LoraPolicy, saveAdapter, type LoraModel } from '@r1-ts/lora';
import {
  accuracyReward, cosineLengthReward, formatReward, repetitionPenalty, softOverlongPunishment, tagCountReward,
  type RewardFunction as SampleReward, type RewardSample,
} from '@r1-ts/rewards';
import type { DatasetSample } from '@r1-ts/tasks';
import { progressReporter } from './progress';
import {
  MetricsLog, checkRequiredPaths, runTrainCommand, attachLora, checkSameRecipe, loadTrainData, openModel, prepareOutput, promptIds, readTrainerFiles,
  restoreFullWeights, saveFinal, savePretrainedMerged, saveWeights, writeCheckpointDir, writeRunJson,
} from './train_common';
import { R1_SYSTEM_PROMPT, grpoRecipeSchema, parseRecipe, readRecipeFile, totalSteps, type GrpoRecipe } from './train_recipe';
import { writeTrainReport } from './train_report';

/** Flags of `r1 grpo` (each overrides the recipe field named in its help). */
export interface TrainFlags {
  model?: string;
  dataset?: string;
  evalDataset?: string;
  config?: string;
  output?: string;
  resume?: boolean;
  full?: boolean;
  merge?: boolean;
  loraR?: string;
  loraAlpha?: string;
  maxSteps?: string;
  seed?: string;
  learningRate?: string;
  promptColumn?: string;
  answerColumn?: string;
  systemPrompt?: string;
  saveDtype?: string;
  backend?: string;
  /** Rollouts on OpenAI-compatible servers (vLLM, SGLang, r1 serve), comma-separated URLs. */
  engine?: string;
  sync?: string;
  maxStaleness?: string;
  engineApi?: string;
  engineModel?: string;
}

const SAMPLE_REWARDS: Record<GrpoRecipe['reward_funcs'][number], SampleReward> = {
  accuracy: accuracyReward, format: formatReward, tag_count: tagCountReward, cosine: cosineLengthReward,
  repetition_penalty: repetitionPenalty, soft_overlong_punishment: softOverlongPunishment,
};

/** A dataset row is a reward sample (prompt text, gold answer); its type has no index signature. */
const asRewardSample = (s: DatasetSample): RewardSample => s as unknown as RewardSample;

/** A training example as the trainer sees it: the rendered prompt ids and the dataset row for rewards. */
interface GrpoSample {
  prompt: number[];
  sample: DatasetSample;
}

/** Reads --config, then lays the flags over it (flags win); validated as a whole. */
export function recipeFromFlags<T>(flags: TrainFlags, parse: (raw: Record<string, unknown>, source: string) => T): T {
  const raw: Record<string, unknown> = flags.config ? readRecipeFile(flags.config) : {};
  const num = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`--${name} must be a number, got ${JSON.stringify(v)}`, [name]);
    return n;
  };
  const set = (key: string, v: unknown) => {
    if (v !== undefined) raw[key] = v;
  };
  set('model_name_or_path', flags.model);
  set('dataset_name', flags.dataset);
  set('eval_dataset_name', flags.evalDataset);
  set('output_dir', flags.output);
  set('lora_r', num('lora-r', flags.loraR));
  set('lora_alpha', num('lora-alpha', flags.loraAlpha));
  set('max_steps', num('max-steps', flags.maxSteps));
  set('seed', num('seed', flags.seed));
  set('learning_rate', num('learning-rate', flags.learningRate));
  set('dataset_prompt_column', flags.promptColumn);
  set('dataset_answer_column', flags.answerColumn);
  set('system_prompt', flags.systemPrompt);
  if (flags.full) raw.use_peft = false;
  return parse(raw, flags.config ? `--config ${flags.config}` : 'recipe');
}

/** The checks that need more than one field, and the required ones. */
function checkGrpoRecipe(r: GrpoRecipe): void {
  checkRequiredPaths(r);
  const batch = r.per_device_train_batch_size * r.gradient_accumulation_steps;
  if (batch % r.num_generations !== 0) {
    throw new ConfigError(`per_device_train_batch_size × gradient_accumulation_steps (${batch}) must be a multiple of num_generations (${r.num_generations})`, ['per_device_train_batch_size']);
  }
  if (r.reward_weights && r.reward_weights.length !== r.reward_funcs.length) {
    throw new ConfigError(`reward_weights has ${r.reward_weights.length} entries, expected one per reward_funcs entry (${r.reward_funcs.length})`, ['reward_weights']);
  }
  if (r.eval_steps !== undefined && !r.eval_dataset_name) throw new ConfigError('eval_steps needs a held-out set: pass --eval-dataset FILE or set eval_dataset_name', ['eval_steps']);
}

/** Parses --save-dtype. */
export function saveDtype(v: string | undefined): 'bf16' | 'f32' {
  if (v === undefined || v === 'bf16' || v === 'f32') return v ?? 'bf16';
  throw new ConfigError(`--save-dtype must be bf16 or f32, got ${JSON.stringify(v)}`, ['save-dtype']);
}

/** The recipe fields every training command reads before it starts. */
interface TrainRecipeBase {
  output_dir?: string;
  dataset_name?: string;
  dataset_prompt_column?: string;
  dataset_answer_column?: string;
}

/**
 * What `r1 grpo` and `r1 sft` do before the first write: the recipe from the flags (parsed, then
 * `check`ed), the save dtype, the output directory (prepared; on `--resume`, its last checkpoint and
 * the same recipe), and the training rows.
 *
 * @example
 * ```ts
 * // no-run: reads the recipe's dataset
 * const run = await openTrainRun(flags, (raw, source) => parseRecipe(sftRecipeSchema, raw, source), checkRequiredPaths);
 * console.log(run.out, run.rows.length);
 * ```
 */
export async function openTrainRun<R extends TrainRecipeBase>(flags: TrainFlags, parse: (raw: Record<string, unknown>, source: string) => R, check: (recipe: R) => void) {
  const recipe = recipeFromFlags(flags, parse);
  check(recipe);
  const dtype = saveDtype(flags.saveDtype);
  const out = resolve(recipe.output_dir!);
  const resumeFrom = prepareOutput(out, Boolean(flags.resume));
  if (flags.resume) checkSameRecipe(out, recipe as Record<string, unknown>);
  const columns = { prompt: recipe.dataset_prompt_column, answer: recipe.dataset_answer_column };
  const rows = await loadTrainData(recipe.dataset_name!, columns);
  return { recipe, dtype, out, resumeFrom, rows, columns };
}

/** pass@1 with greedy decoding over held-out samples (the `accuracy` reward decides). */
export async function greedyPassAt1(policyModel: { model: Parameters<typeof generate>[0]; tokenizer: Parameters<typeof generate>[1] }, samples: { prompt: number[]; sample: DatasetSample }[], maxNewTokens: number, lora: LoraModel | null): Promise<number> {
  let correct = 0;
  for (let i = 0; i < samples.length; i += 8) {
    const chunk = samples.slice(i, i + 8);
    const run = () => generate(policyModel.model, policyModel.tokenizer, chunk.map((s) => s.prompt), { maxNewTokens, temperature: 0 });
    const outs = lora ? lora.evalMode(run) : run();
    for (let j = 0; j < outs.length; j++) if ((await accuracyReward(outs[j].text, asRewardSample(chunk[j].sample))) === 1) correct++;
  }
  return samples.length ? correct / samples.length : 0;
}

/** `r1 grpo --model DIR --dataset FILE [--config recipe.yaml] ...` */
export function registerGrpo(program: Command): void {
  program
    .command('grpo')
    .description('GRPO/GSPO on a pretrained Hugging Face model with rule rewards on a JSONL/Parquet dataset (LoRA by default)')
    .option('--model <dir>', 'Hugging Face checkpoint directory (model_name_or_path)')
    .option('--dataset <file>', 'training data, .jsonl or .parquet (dataset_name)')
    .option('--eval-dataset <file>', 'held-out data for pass@1 every eval_steps (eval_dataset_name)')
    .option('--config <file>', 'recipe YAML with TRL/open-r1 field names')
    .option('-o, --output <dir>', 'output directory (output_dir)')
    .option('--resume', 'continue the run in --output from its last checkpoint')
    .option('--full', 'full fine-tuning instead of LoRA (use_peft: false)')
    .option('--merge', 'also write the base with the adapter merged in as a Hugging Face checkpoint (merged/)')
    .option('--lora-r <n>', 'LoRA rank (lora_r)')
    .option('--lora-alpha <x>', 'LoRA alpha (lora_alpha)')
    .option('--max-steps <n>', 'trainer steps (max_steps)')
    .option('--learning-rate <x>', 'learning rate (learning_rate)')
    .option('--seed <n>', 'seed')
    .option('--prompt-column <name>', 'dataset column holding the prompt (dataset_prompt_column)')
    .option('--answer-column <name>', 'dataset column holding the gold answer (dataset_answer_column)')
    .option('--system-prompt <text>', "system prompt ('' for none; default R1's)")
    .option('--save-dtype <dtype>', 'dtype of saved full checkpoints: bf16 | f32', 'bf16')
    .option('--backend <name>', 'tfjs backend (auto, wasm, cpu, ...)', 'auto')
    .option('--engine <urls>', 'generate rollouts on these OpenAI-compatible servers (vLLM, SGLang, r1 serve), comma-separated')
    .option('--sync <kind>', 'weight sync to the servers after each step: lora | disk (default: lora with LoRA, disk with --full)')
    .option('--max-staleness <n>', 'weight versions a rollout may lag behind the trainer (0 = synchronous)')
    .option('--engine-api <api>', 'openai (vLLM, r1 serve) | sglang')
    .option('--engine-model <id>', "the servers' model id (vLLM --served-model-name, r1 serve --name)")
    .action((flags: TrainFlags) => runTrainCommand('grpo', () => runGrpo(flags)));
}

async function runGrpo(flags: TrainFlags): Promise<void> {
  // Everything is validated (recipe, output directory, dataset, model) before the first write.
  const { recipe, dtype, out, resumeFrom, rows, columns } = await openTrainRun(flags, (raw, source) => parseRecipe(grpoRecipeSchema, raw, source), checkGrpoRecipe);
  const evalRows = recipe.eval_dataset_name ? (await loadTrainData(recipe.eval_dataset_name, columns)).slice(0, recipe.eval_max_samples) : [];
  await initBackend({ backend: (flags.backend ?? 'auto') as BackendName });
  const modelDir = resolve(recipe.model_name_or_path!);
  const { model, tokenizer } = openModel(modelDir, { gradientCheckpointing: recipe.gradient_checkpointing });
  const system = recipe.system_prompt === undefined ? R1_SYSTEM_PROMPT : recipe.system_prompt || null;
  const toSample = (s: DatasetSample): GrpoSample => ({ prompt: promptIds(tokenizer, s, system, recipe.max_prompt_length), sample: s });
  const dataset = rows.map(toSample);
  const heldOut = evalRows.map(toSample);

  const lora = recipe.use_peft ? attachLora(model, recipe, recipe.model_name_or_path!, resumeFrom?.dir ?? null) : null;
  if (!lora && resumeFrom) restoreFullWeights(model, resumeFrom.dir);
  const base = new DeepSeekPolicy(model, tokenizer, { chatTemplate: false });
  const policy: Policy = lora ? (new LoraPolicy(base, lora) as unknown as Policy) : (base as unknown as Policy);
  // --engine: rollouts come from the servers; log-probs, gradients and the KL reference stay here.
  const eng = flags.engine
    ? parseEngineFlags({ engine: flags.engine, sync: flags.sync, maxStaleness: flags.maxStaleness, engineApi: flags.engineApi, engineModel: flags.engineModel }, { lora: Boolean(lora) })
    : null;
  const served = eng?.model ?? recipe.model_name_or_path!;
  const trainPolicy: Policy = eng
    ? new EnginePolicy({
      policy,
      engine: { urls: eng.urls, api: eng.api, vocabSize: model.config.vocab_size, timeoutMs: eng.timeoutMs },
      sync: eng.sync === 'lora'
        ? new LoraWeightSync({ dir: join(out, 'engine-weights'), baseModel: served, api: eng.api, save: (d: string) => saveAdapter(lora!, d) })
        : new DiskWeightSync({ dir: join(out, 'engine-weights'), modelName: served, save: (d: string) => {
            if (lora) savePretrainedMerged(d, model, lora, { dtype: 'f32' });
            else savePretrained(d, model, { dtype: 'f32' });
          } }),
      encode: (p: string | readonly number[]) => (typeof p === 'string' ? tokenizer.encode(p) : [...p]),
      decode: (p: readonly number[], c: readonly number[]) => openThinkSuffix(tokenizer.decode([...p])) + tokenizer.decode([...c], { skipSpecial: true }),
    }) as unknown as Policy
    : policy;

  const G = recipe.num_generations;
  const micro = recipe.per_device_train_batch_size;
  const mini = micro * recipe.gradient_accumulation_steps;
  const promptsPerStep = mini / G;
  const rewardFunctions: RewardFunction<GrpoSample>[] = recipe.reward_funcs.map((name) => {
    const fn = SAMPLE_REWARDS[name];
    const wrapped = (completion: string, s: GrpoSample) => fn(completion, asRewardSample(s.sample));
    return Object.defineProperty(wrapped, 'name', { value: name });
  });
  const trainer = new GrpoTrainer<GrpoSample>({
    policy: trainPolicy, dataset, maxStaleness: eng?.maxStaleness ?? 0, rewardFunctions, rewardWeights: recipe.reward_weights,
    numGenerations: G, promptsPerStep, miniBatchSize: mini, microBatchSize: micro,
    numIterations: recipe.num_iterations, beta: recipe.beta, epsilonLow: recipe.epsilon, epsilonHigh: recipe.epsilon_high,
    importanceSampling: recipe.importance_sampling_level, lossType: recipe.loss_type,
    scaleRewards: recipe.scale_rewards === true ? 'group' : recipe.scale_rewards === false ? 'none' : recipe.scale_rewards,
    temperature: recipe.temperature, topP: recipe.top_p, maxCompletionLength: recipe.max_completion_length,
    maskTruncatedCompletions: recipe.mask_truncated_completions, learningRate: recipe.learning_rate,
    maxGradNorm: recipe.max_grad_norm, seed: recipe.seed, quiet: true,
    // Rollouts from an engine: correct the engine/trainer log-prob mismatch (TIS/MIS) and log it.
    ...(eng && { rolloutCorrection: recipe.vllm_importance_sampling_mode, rolloutCorrectionCap: recipe.vllm_importance_sampling_cap }),
  });
  if (resumeFrom) {
    const { state, tensors } = readTrainerFiles<{ trainer: GrpoTrainerState; loraRng?: ReturnType<LoraModel['getRngState']> }>(resumeFrom.dir);
    // The KL reference is the base model: adapters off (LoRA), or the checkpoint as loaded (full).
    const reference = state.trainer.reference ? (lora ? policy.clone() : new DeepSeekPolicy(loadPretrained(modelDir, { tokenizer: false }).model, tokenizer, { chatTemplate: false }) as unknown as Policy) : undefined;
    await trainer.setState({ state: state.trainer, tensors }, { reference });
    if (lora && state.loraRng) lora.setRngState(state.loraRng);
  } else writeRunJson(out, 'grpo', recipe);

  const total = totalSteps(recipe, dataset.length, promptsPerStep);
  const metrics = new MetricsLog(join(out, 'metrics.jsonl'), resumeFrom?.step ?? null);
  // With --engine, one row per rollout: the weights version the server sampled it from (checked against the step).
  const rolloutLog = eng ? new MetricsLog(join(out, 'rollouts.jsonl'), resumeFrom?.step ?? null) : null;
  const report = progressReporter();
  report({ type: 'stage_start', stage: 'grpo', total, done: trainer.stepCount });
  const save = async (step: number) => {
    const { state, tensors } = await trainer.getState();
    writeCheckpointDir(join(out, `checkpoint-${step}`), (tmp) => {
      saveWeights(tmp, model, lora);
      writeSafetensors(join(tmp, 'trainer.safetensors'), tensors);
      writeFileAtomic(join(tmp, 'trainer_state.json'), JSON.stringify({ trainer: state, loraRng: lora?.getRngState() }));
    });
    await writeTrainReport(out); // report.html at every checkpoint (the last step always saves)
  };
  while (trainer.stepCount < total) {
    const { step, metrics: m, rollouts } = await trainer.step();
    for (const r of rolloutLog ? rollouts : []) {
      rolloutLog!.append({ step, weights_version: r.weightsVersion ?? null, reward: r.reward, length: r.length, truncated: r.truncated });
    }
    const row: Record<string, unknown> = { step, epoch: (step * promptsPerStep) / dataset.length, learning_rate: recipe.learning_rate, ...m };
    if (recipe.eval_steps && (step % recipe.eval_steps === 0 || step === total)) {
      row['eval/pass@1'] = await greedyPassAt1({ model, tokenizer }, heldOut, recipe.max_completion_length, lora);
    }
    metrics.append(row);
    report({ type: 'progress', stage: 'grpo', step, total, metrics: { reward: m.reward ?? 0, ...(m.kl !== undefined && { kl: m.kl }) } });
    if (step % recipe.save_steps === 0 || step === total) await save(step);
  }
  report({ type: 'stage_end', stage: 'grpo' });
  const written = saveFinal(out, model, tokenizer, lora, Boolean(flags.merge), dtype);
  trainer.dispose();
  if (trainPolicy !== policy) trainPolicy.dispose();
  policy.dispose();
  console.log(`r1 grpo: ${total} steps; wrote ${written.join(', ')} and ${join(out, 'metrics.jsonl')}`);
}
