// What `r1 grpo` and `r1 sft` share: the output directory (checkpoints written whole or not at all,
// metrics.jsonl), the pretrained model with or without LoRA, and prompts through the chat template.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, ConfigError, OutOfMemoryError, disposeBackend, readSafetensors, writeFileAtomic, writeSafetensors } from '@r1-ts/tensor-kernels';
import type { StoredTensor } from '@r1-ts/tensor-kernels';
import { loadPretrained, savePretrained, type CausalLM, type Tokenizer } from '@r1-ts/model';
import { LoraModel, loadAdapter, saveAdapter } from '@r1-ts/lora';
import { loadDataset, type DatasetSample } from '@r1-ts/tasks';
import { EXIT } from './exit';

/** The checkpoint directories of a run (`checkpoint-<step>`, TRL's name), highest step last. */
export function checkpoints(out: string): { step: number; dir: string }[] {
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), dir: join(out, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Checks the output directory before anything is written: a new run needs an absent or empty
 * directory; `--resume` needs one with run.json. Returns the checkpoint to resume from (or null).
 */
export function prepareOutput(out: string, resume: boolean): { step: number; dir: string } | null {
  const entries = existsSync(out) ? readdirSync(out) : [];
  if (!resume) {
    if (entries.length > 0) throw new ConfigError(`--output ${out} is not empty; pass --resume to continue the run in it, or choose another directory`, ['output']);
    return null;
  }
  if (!entries.includes('run.json')) throw new ConfigError(`--resume: ${out} holds no run (run.json is missing)`, ['resume']);
  return checkpoints(out).at(-1) ?? null;
}

/** Writes a checkpoint directory whole: files go into `<dir>.tmp-<pid>`, which is renamed at the end. */
export function writeCheckpointDir(dir: string, write: (tmp: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  write(tmp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/** Appends one metrics row; on resume the rows after the restored step are dropped first. */
export class MetricsLog {
  constructor(private readonly path: string, resumedAt: number | null) {
    if (resumedAt === null || !existsSync(path)) return;
    const kept = readFileSync(path, 'utf8').split('\n').filter((l) => {
      try {
        return l.trim() !== '' && (JSON.parse(l) as { step: number }).step <= resumedAt;
      } catch {
        return false; // a row cut short by a kill
      }
    });
    writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
  }

  append(row: Record<string, unknown>): void {
    appendFileSync(this.path, `${JSON.stringify(row)}\n`);
  }
}

/**
 * The pretrained model and its tokenizer (the tokenizer is required: prompts are text);
 * `gradientCheckpointing` is the recipe's `gradient_checkpointing`.
 */
export function openModel(dir: string, options: { gradientCheckpointing?: boolean } = {}): { model: CausalLM; tokenizer: Tokenizer; modelType: string } {
  if (!existsSync(join(dir, 'config.json'))) throw new ConfigError(`--model ${dir}: no config.json (expected a Hugging Face checkpoint directory)`, ['model']);
  const { model, tokenizer, modelType } = loadPretrained(dir);
  if (!tokenizer) {
    model.dispose();
    throw new ConfigError(`--model ${dir}: no tokenizer.json (prompts are rendered with the model's tokenizer and chat template)`, ['model']);
  }
  model.gradientCheckpointing = options.gradientCheckpointing ?? false;
  return { model, tokenizer, modelType };
}

/** LoRA settings as the recipes name them (TRL's ModelConfig). */
export interface LoraRecipe {
  lora_r: number;
  lora_alpha: number;
  lora_dropout: number;
  lora_target_modules: string[] | string;
  use_rslora: boolean;
  seed: number;
}

/**
 * Fresh adapters, or those of the checkpoint being resumed. One probe forward checks that every
 * adapted projection is reached (LoRA hooks tensor-kernels' `linear`, which every projection of the
 * dense and DeepSeek families goes through; DeepSeek's router, routed experts and MTP layer are no
 * nn.Linear in transformers, so no target selects them): otherwise a ConfigError names them.
 */
export function attachLora(model: CausalLM, recipe: LoraRecipe, baseModel: string, resumeDir: string | null): LoraModel {
  const lora = resumeDir ? loadAdapter(model, resumeDir) : LoraModel.attach(model, {
    r: recipe.lora_r, lora_alpha: recipe.lora_alpha, lora_dropout: recipe.lora_dropout,
    target_modules: recipe.lora_target_modules, use_rslora: recipe.use_rslora, base_model_name_or_path: baseModel,
  }, { seed: recipe.seed });
  const rng = lora.getRngState();
  lora.evalMode(() => tf.tidy(() => void model.forward(tf.tensor2d([[0, 0]], [1, 2], 'int32'))));
  lora.setRngState(rng);
  const unused = lora.unusedModules();
  if (unused.length) {
    lora.dispose();
    throw new ConfigError(`LoRA cannot reach ${unused.length} targeted projection(s) of ${model.modelType} (e.g. ${unused.slice(0, 3).join(', ')}): they do not go through linear(); choose other lora_target_modules or train with --full`, ['lora_target_modules']);
  }
  return lora;
}

/** Saves the trained weights of a checkpoint: the adapter (LoRA) or every parameter in float32 (full). */
export function saveWeights(tmp: string, model: CausalLM, lora: LoraModel | null): void {
  if (lora) saveAdapter(lora, tmp);
  else writeSafetensors(join(tmp, 'model.safetensors'), Object.fromEntries(model.namedParameters()));
}

/** Restores what {@link saveWeights} wrote (full fine-tuning; LoRA restores through {@link attachLora}). */
export function restoreFullWeights(model: CausalLM, dir: string): void {
  model.loadState(readSafetensors(join(dir, 'model.safetensors')).tensors);
}

/**
 * Writes `model` with `lora` merged into it as a Hugging Face checkpoint (`--merge`'s `merged/`, the
 * weights `--sync disk` pushes to the servers), then restores the adapted base weights bit-exactly
 * (merge then unmerge alone would leave float rounding in them).
 */
export function savePretrainedMerged(dir: string, model: CausalLM, lora: LoraModel, options: Parameters<typeof savePretrained>[2]): void {
  const params = model.namedParameters();
  const saved = [...lora.namedAdapterParameters().keys()]
    .filter((k) => k.endsWith('.lora_A.weight'))
    .map((k) => params.get(`${k.slice('base_model.model.'.length, -'.lora_A.weight'.length)}.weight`))
    .filter((v): v is NonNullable<typeof v> => v !== undefined)
    .map((v) => [v, v.clone()] as const);
  lora.merge();
  try {
    savePretrained(dir, model, options);
  } finally {
    lora.unmerge();
    for (const [v, copy] of saved) {
      v.assign(copy);
      copy.dispose();
    }
  }
}

/** Final outputs: `adapter/` (LoRA) or `model/` (full), and with `merge` a merged HF checkpoint in `merged/`. */
export function saveFinal(out: string, model: CausalLM, tokenizer: Tokenizer, lora: LoraModel | null, merge: boolean, dtype: 'bf16' | 'f32'): string[] {
  const written: string[] = [];
  const tokenizerFiles = { tokenizer };
  if (lora) {
    saveAdapter(lora, join(out, 'adapter'));
    written.push(join(out, 'adapter'));
    if (merge) {
      savePretrainedMerged(join(out, 'merged'), model, lora, { dtype, ...tokenizerFiles });
      written.push(join(out, 'merged'));
    }
  } else {
    savePretrained(join(out, 'model'), model, { dtype, ...tokenizerFiles });
    written.push(join(out, 'model'));
  }
  return written;
}

/** Loads the training (and held-out) dataset with the recipe's column mapping. */
export async function loadTrainData(path: string, columns: { prompt?: string; answer?: string }): Promise<DatasetSample[]> {
  return loadDataset(resolve(path), { promptColumn: columns.prompt, answerColumn: columns.answer });
}

/**
 * The prompt token ids of a sample: its conversation (or one user turn) after an optional system
 * prompt, rendered by the model's chat template with the generation prompt, left-truncated to
 * `maxLength` tokens (TRL's max_prompt_length).
 */
export function promptIds(tokenizer: Tokenizer, sample: DatasetSample, system: string | null, maxLength = Infinity): number[] {
  const turns = sample.messages ?? [{ role: 'user' as const, content: sample.prompt }];
  const messages = system && !turns.some((t) => t.role === 'system') ? [{ role: 'system' as const, content: system }, ...turns] : turns;
  const ids = tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
  return ids.length > maxLength ? ids.slice(ids.length - maxLength) : ids;
}

/** Reads a checkpoint's trainer files: JSON state and optimizer tensors. */
export function readTrainerFiles<T>(dir: string): { state: T; tensors: Map<string, StoredTensor> } {
  const json = join(dir, 'trainer_state.json');
  if (!existsSync(json)) throw new CheckpointError(`${dir}: trainer_state.json is missing (not a complete checkpoint)`);
  const state = JSON.parse(readFileSync(json, 'utf8')) as T;
  const st = join(dir, 'trainer.safetensors');
  return { state, tensors: existsSync(st) ? readSafetensors(st).tensors : new Map() };
}

/** Writes run.json: the resolved recipe, so a resumed run can check it continues the same one. */
export function writeRunJson(out: string, command: string, recipe: Record<string, unknown>): void {
  mkdirSync(out, { recursive: true });
  writeFileAtomic(join(out, 'run.json'), `${JSON.stringify({ command, recipe, tfjs: tf.version_core }, null, 2)}\n`);
}

/** On resume the recipe must be the one the run started with (a different one would not continue it). */
export function checkSameRecipe(out: string, recipe: Record<string, unknown>): void {
  const saved = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { recipe: Record<string, unknown> };
  // Settings that trade memory for time without changing a number may differ on resume (e.g. turning
  // gradient checkpointing on after running out of memory).
  const { gradient_checkpointing: _was, ...savedRest } = saved.recipe;
  const { gradient_checkpointing: _now, ...rest } = recipe;
  const a = JSON.stringify(savedRest);
  const b = JSON.stringify(rest);
  if (a !== b) {
    const keys = [...new Set([...Object.keys(savedRest), ...Object.keys(rest)])].filter((k) => JSON.stringify(savedRest[k]) !== JSON.stringify(rest[k]));
    throw new ConfigError(`--resume: the recipe differs from the run's run.json in ${keys.join(', ')}; resume with the same settings`, keys);
  }
}

/**
 * Runs `r1 <name>`'s body with the CLI's exit-code contract: invalid config, flags or data (nothing
 * written) → 2 with the message; a bad checkpoint, running out of memory (with the message) or another
 * runtime failure → 1; the backend is always disposed.
 */
export async function runTrainCommand(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (e instanceof ConfigError || e instanceof CheckpointError || e instanceof OutOfMemoryError || (e as { code?: string })?.code === 'E_DATASET') {
      console.error(`r1 ${name}: ${(e as Error).message}`);
      process.exitCode = e instanceof CheckpointError || e instanceof OutOfMemoryError ? EXIT.failure : EXIT.config;
    } else {
      console.error(`r1 ${name}: failed: ${(e as Error)?.stack ?? String(e)}`);
      process.exitCode = EXIT.failure;
    }
  } finally {
    await disposeBackend();
  }
}

/** The three paths every training command needs, from the flags or the recipe; ConfigError naming the missing one. */
export function checkRequiredPaths(r: { model_name_or_path?: string; dataset_name?: string; output_dir?: string }): void {
  if (!r.model_name_or_path) throw new ConfigError('the model is missing: pass --model DIR or set model_name_or_path', ['model_name_or_path']);
  if (!r.dataset_name) throw new ConfigError('the dataset is missing: pass --dataset FILE or set dataset_name', ['dataset_name']);
  if (!r.output_dir) throw new ConfigError('the output directory is missing: pass --output DIR or set output_dir', ['output_dir']);
}
