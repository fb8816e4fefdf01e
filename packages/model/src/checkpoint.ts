import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ConfigError, readSafetensors, writeFileAtomic, writeSafetensors } from '@r1-ts/tensor-kernels';
import { DeepSeekModel } from './model';
import type { AdamW } from './optim';
import { tokenizerFromJSON } from './tokenizer';
import type { Tokenizer } from './tokenizer';

/**
 * A loaded checkpoint: the model, and its tokenizer when the directory has a `tokenizer.json`.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { CharTokenizer, DeepSeekModel, loadCheckpoint, presets, saveCheckpoint, type Checkpoint } from '@r1-ts/model';
 * const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'model');
 * const tok = CharTokenizer.fromCorpus(['abc']);
 * saveCheckpoint(dir, new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }), tok);
 * const ckpt: Checkpoint = loadCheckpoint(dir);
 * console.log(ckpt.tokenizer?.vocabSize === tok.vocabSize); // true
 * ```
 */
export interface Checkpoint {
  model: DeepSeekModel;
  tokenizer: Tokenizer | null;
}

/**
 * Saves a Hugging Face-style checkpoint directory: `model.safetensors` (HF tensor names),
 * `config.json`, and `tokenizer.json` when a tokenizer is given. The directory is written under a
 * temporary name and renamed into place, so a crash never leaves a half-written checkpoint.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { DeepSeekModel, presets, saveCheckpoint, loadCheckpoint } from '@r1-ts/model';
 * const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'demo');
 * saveCheckpoint(dir, new DeepSeekModel(presets.tiny, { seed: 0 }));
 * const { model } = loadCheckpoint(dir);
 * ```
 */
export function saveCheckpoint(dir: string, model: DeepSeekModel, tokenizer?: Tokenizer | null, extra: { optimizer?: AdamW; meta?: Record<string, string>; files?: Record<string, string> } = {}): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    // Extra files (e.g. trainer.json) are written inside before the rename: present means complete.
    const tensors = Object.fromEntries(model.namedParameters());
    writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt', ...extra.meta });
    writeFileAtomic(join(tmp, 'config.json'), JSON.stringify({ architectures: ['DeepseekV3ForCausalLM'], model_type: 'deepseek_v3', ...model.config }, null, 2) + '\n');
    if (tokenizer) writeFileAtomic(join(tmp, 'tokenizer.json'), JSON.stringify(tokenizer.toJSON()));
    if (extra.optimizer) {
      const { tensors: state, step } = extra.optimizer.stateTensors();
      writeSafetensors(join(tmp, 'optimizer.safetensors'), state, { step: String(step) });
    }
    for (const [name, text] of Object.entries(extra.files ?? {})) writeFileAtomic(join(tmp, name), text);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true }); // a failed save leaves no half-written directory
    throw e;
  }
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/**
 * Loads a checkpoint directory saved by {@link saveCheckpoint} (or a Hugging Face DeepSeek-V3
 * directory with a single `model.safetensors`). The config is validated, and every tensor whose
 * name or shape disagrees with it is reported at once in one {@link CheckpointError}.
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from '@r1-ts/model';
 * try { loadCheckpoint('/nonexistent'); } catch (e) { console.log((e as Error).name); } // CheckpointError
 * ```
 */
export function loadCheckpoint(dir: string): Checkpoint {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new CheckpointError(`${dir}: no config.json (not a checkpoint directory)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${configPath}: not valid JSON (${(e as Error).message})`);
  }
  let model: DeepSeekModel;
  try {
    model = new DeepSeekModel(raw as never);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`${configPath}: ${e.message}`);
    throw e;
  }
  try {
    const file = readSafetensors(join(dir, 'model.safetensors'));
    model.loadState(file.tensors);
  } catch (e) {
    model.dispose();
    if (e instanceof CheckpointError) throw new CheckpointError(`${dir}: ${e.message}`);
    throw e;
  }
  const tokPath = join(dir, 'tokenizer.json');
  let tokenizer: Tokenizer | null = null;
  if (existsSync(tokPath)) {
    try {
      tokenizer = tokenizerFromJSON(JSON.parse(readFileSync(tokPath, 'utf8')));
    } catch (e) {
      model.dispose();
      throw new CheckpointError(`${tokPath}: ${(e as Error).message}`);
    }
    if (tokenizer.vocabSize > model.config.vocab_size) {
      model.dispose();
      throw new CheckpointError(`${tokPath}: tokenizer has ${tokenizer.vocabSize} ids but config.vocab_size is ${model.config.vocab_size}`);
    }
  }
  return { model, tokenizer };
}

/**
 * Restores optimizer state saved with {@link saveCheckpoint}'s `optimizer` option (no-op when the
 * directory has none). Returns whether state was found.
 *
 * @example
 * ```ts
 * import { AdamW, DeepSeekModel, loadOptimizerState, presets } from '@r1-ts/model';
 * const model = new DeepSeekModel(presets.tiny);
 * const opt = new AdamW(model.namedParameters(), { lr: 1e-3 });
 * console.log(loadOptimizerState('/nonexistent', opt)); // false
 * ```
 */
export function loadOptimizerState(dir: string, optimizer: AdamW): boolean {
  const path = join(dir, 'optimizer.safetensors');
  if (!existsSync(path)) return false;
  const file = readSafetensors(path);
  optimizer.loadState(file.tensors, Number(file.metadata.step ?? 0));
  return true;
}
