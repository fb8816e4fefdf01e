// `r1 sft`: supervised fine-tuning (R1-style distillation: a student on a teacher's reasoning traces)
// of a pretrained Hugging Face model on a JSONL/Parquet dataset, through LoRA (default) or fully.
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Command } from 'commander';
import { CheckpointError, ConfigError, Rng, initBackend, writeFileAtomic, writeSafetensors, type BackendName, type RngState } from '@r1-ts/tensor-kernels';
import { AdamW, clipGradNorm, collate, valueAndNamedGrads, type Tokenizer } from '@r1-ts/model';
import type { DatasetSample } from '@r1-ts/tasks';
import { openTrainRun, type TrainFlags } from './grpo';
import { progressReporter } from './progress';
import {
  MetricsLog, checkRequiredPaths, runTrainCommand, attachLora, openModel, promptIds, readTrainerFiles,
  restoreFullWeights, saveFinal, saveWeights, writeCheckpointDir, writeRunJson,
} from './train_common';
import { parseRecipe, sftRecipeSchema, totalSteps } from './train_recipe';
import { writeTrainReport } from './train_report';

/** What an SFT checkpoint's trainer_state.json holds. */
interface SftState {
  format: 'r1-ts/sft-state@1';
  step: number;
  optimizerStep: number;
  order: number[];
  cursor: number;
  rng: RngState;
  loraRng?: RngState;
}

/** Prompt ids + completion ids (+ eos) of a sample, and where the completion starts. */
function encode(tokenizer: Tokenizer, s: DatasetSample, system: string | null): { ids: number[]; start: number } {
  if (s.completion === undefined) {
    throw new ConfigError(`sample ${s.id} has no completion to learn (SFT needs GSM8K/MATH solutions, a final assistant turn, or a completion column)`, ['dataset']);
  }
  const prompt = promptIds(tokenizer, s, system);
  return { ids: [...prompt, ...tokenizer.encode(s.completion), tokenizer.special.eos], start: prompt.length };
}

/** `r1 sft --model DIR --dataset FILE [--config recipe.yaml] ...` */
export function registerSft(program: Command): void {
  program
    .command('sft')
    .description('supervised fine-tuning (distillation) of a pretrained Hugging Face model on a JSONL/Parquet dataset (LoRA by default)')
    .option('--model <dir>', 'Hugging Face checkpoint directory (model_name_or_path)')
    .option('--dataset <file>', 'training data, .jsonl or .parquet (dataset_name)')
    .option('--config <file>', 'recipe YAML with TRL field names')
    .option('-o, --output <dir>', 'output directory (output_dir)')
    .option('--resume', 'continue the run in --output from its last checkpoint')
    .option('--full', 'full fine-tuning instead of LoRA (use_peft: false)')
    .option('--merge', 'also write the base with the adapter merged in as a Hugging Face checkpoint (merged/)')
    .option('--lora-r <n>', 'LoRA rank (lora_r)')
    .option('--lora-alpha <x>', 'LoRA alpha (lora_alpha)')
    .option('--max-steps <n>', 'optimizer steps (max_steps)')
    .option('--learning-rate <x>', 'learning rate (learning_rate)')
    .option('--seed <n>', 'seed')
    .option('--prompt-column <name>', 'dataset column holding the prompt (dataset_prompt_column)')
    .option('--system-prompt <text>', 'system prompt (default none)')
    .option('--save-dtype <dtype>', 'dtype of saved full checkpoints: bf16 | f32', 'bf16')
    .option('--backend <name>', 'tfjs backend (auto, wasm, cpu, ...)', 'auto')
    .action((flags: TrainFlags) => runTrainCommand('sft', () => runSft(flags)));
}

async function runSft(flags: TrainFlags): Promise<void> {
  const { recipe, dtype, out, resumeFrom, rows } = await openTrainRun(flags, (raw, source) => parseRecipe(sftRecipeSchema, raw, source), checkRequiredPaths);
  await initBackend({ backend: (flags.backend ?? 'auto') as BackendName });
  const { model, tokenizer } = openModel(resolve(recipe.model_name_or_path!), { gradientCheckpointing: recipe.gradient_checkpointing });
  const system = recipe.system_prompt || null;
  let examples: { ids: number[]; start: number }[];
  try {
    examples = rows.map((s) => encode(tokenizer, s, system));
  } catch (e) {
    model.dispose();
    throw e;
  }

  const lora = recipe.use_peft ? attachLora(model, recipe, recipe.model_name_or_path!, resumeFrom?.dir ?? null) : null;
  if (!lora && resumeFrom) restoreFullWeights(model, resumeFrom.dir);
  const params = lora ? lora.namedAdapterParameters() : new Map([...model.namedParameters()].filter(([, v]) => v.trainable));
  const optimizer = new AdamW(params, { lr: recipe.learning_rate, weightDecay: recipe.weight_decay, beta2: 0.999 });
  const batch = recipe.per_device_train_batch_size;
  let rng = new Rng(recipe.seed);
  let order: number[] = [];
  let cursor = 0;
  let step = 0;
  if (resumeFrom) {
    const { state, tensors } = readTrainerFiles<SftState>(resumeFrom.dir);
    if (state.format !== 'r1-ts/sft-state@1') throw new CheckpointError(`${resumeFrom.dir}: unknown trainer state format ${JSON.stringify(state.format)}`);
    optimizer.loadState(tensors, state.optimizerStep);
    ({ order, cursor, step } = state);
    rng = Rng.fromState(state.rng);
    if (lora && state.loraRng) lora.setRngState(state.loraRng);
  } else writeRunJson(out, 'sft', recipe);

  const total = totalSteps(recipe, examples.length, batch * recipe.gradient_accumulation_steps);
  const metrics = new MetricsLog(join(out, 'metrics.jsonl'), resumeFrom?.step ?? null);
  const report = progressReporter();
  report({ type: 'stage_start', stage: 'sft', total, done: step });
  const next = () => {
    if (cursor >= order.length) {
      order = rng.shuffle(examples.map((_, i) => i));
      cursor = 0;
    }
    return examples[order[cursor++]];
  };
  while (step < total) {
    let lossSum = 0;
    let accum: Map<string, tf.Tensor> | null = null;
    let tokens = 0;
    for (let k = 0; k < recipe.gradient_accumulation_steps; k++) {
      const items = Array.from({ length: batch }, next);
      const b = collate(items.map((e) => e.ids), items.map((e) => (recipe.completion_only_loss ? e.start : 1)), tokenizer.special.pad, recipe.max_length);
      tokens += tf.tidy(() => tf.sum(b.lossMask).dataSync()[0]);
      const { loss, grads } = valueAndNamedGrads(() => tf.tidy(() => tf.div(model.loss(b.tokens, { lossMask: b.lossMask }).total, recipe.gradient_accumulation_steps) as tf.Scalar), params);
      tf.dispose([b.tokens, b.lossMask]);
      lossSum += loss;
      if (!accum) accum = grads;
      else {
        for (const [name, g] of grads) {
          const prev = accum.get(name)!;
          accum.set(name, tf.add(prev, g));
          tf.dispose([prev, g]);
        }
      }
    }
    const gradNorm = recipe.max_grad_norm > 0 ? clipGradNorm(accum!, recipe.max_grad_norm) : 0;
    optimizer.step(accum!);
    step++;
    metrics.append({ step, epoch: (step * batch * recipe.gradient_accumulation_steps) / examples.length, loss: lossSum, grad_norm: gradNorm, learning_rate: recipe.learning_rate, num_tokens: tokens });
    report({ type: 'progress', stage: 'sft', step, total, metrics: { loss: lossSum } });
    if (step % recipe.save_steps === 0 || step === total) {
      const state: SftState = { format: 'r1-ts/sft-state@1', step, optimizerStep: optimizer.stepCount, order, cursor, rng: rng.getState(), loraRng: lora?.getRngState() };
      writeCheckpointDir(join(out, `checkpoint-${step}`), (tmp) => {
        saveWeights(tmp, model, lora);
        writeSafetensors(join(tmp, 'trainer.safetensors'), optimizer.stateTensors().tensors);
        writeFileAtomic(join(tmp, 'trainer_state.json'), JSON.stringify(state));
      });
      await writeTrainReport(out); // report.html at every checkpoint (the last step always saves)
    }
  }
  report({ type: 'stage_end', stage: 'sft' });
  const written = saveFinal(out, model, tokenizer, lora, Boolean(flags.merge), dtype);
  optimizer.disposeState();
  lora?.dispose();
  model.dispose();
  console.log(`r1 sft: ${total} steps; wrote ${written.join(', ')} and ${join(out, 'metrics.jsonl')}`);
}
