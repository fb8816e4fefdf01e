import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError, ConfigError, readSafetensors, serializeSafetensors, writeFileAtomic } from '@r1-ts/tensor-kernels';
import type { TensorToWrite } from '@r1-ts/tensor-kernels';
import { DeepSeekModel } from './model';
import type { AdamW } from './optim';
import { tokenizerFromJSON } from './tokenizer';
import type { Tokenizer } from './tokenizer';
import { checkOptionKeys } from './option_keys';

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
 * The manifest {@link saveCheckpoint} writes last into a checkpoint directory: the sha256 of every
 * other file. Its presence marks the directory complete; {@link loadCheckpoint} and
 * {@link verifyCheckpoint} check every file against it.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_MANIFEST } from '@r1-ts/model';
 * console.log(CHECKPOINT_MANIFEST); // 'checksums.json'
 * ```
 */
export const CHECKPOINT_MANIFEST = 'checksums.json';

/**
 * Options of {@link saveCheckpoint} beyond the model and tokenizer.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import type { SaveCheckpointOptions } from '@r1-ts/model';
 * const options: SaveCheckpointOptions = {
 *   files: { 'trainer.json': JSON.stringify({ step: 10 }) },
 *   tensorFiles: { 'trainer.safetensors': { 'optimizer.0': tf.zeros([2]) } },
 *   onFileWritten: (name) => console.log(`wrote ${name}`),
 * };
 * ```
 */
export interface SaveCheckpointOptions {
  /** AdamW state, written as `optimizer.safetensors` (read back by {@link loadOptimizerState}). */
  optimizer?: AdamW;
  /** Extra safetensors metadata of `model.safetensors`. */
  meta?: Record<string, string>;
  /** Extra text files (e.g. `trainer.json`), by file name. */
  files?: Record<string, string>;
  /** Extra safetensors files (e.g. a trainer's optimizer moments), by file name. */
  tensorFiles?: Record<string, Record<string, TensorToWrite>>;
  /** Called after each file is written into the temporary directory (progress, crash tests). */
  onFileWritten?: (name: string) => void;
}

/**
 * Saves a Hugging Face-style checkpoint directory: `model.safetensors` (HF tensor names, every
 * parameter including non-trainable buffers such as the MoE `e_score_correction_bias`),
 * `config.json`, `tokenizer.json` when a tokenizer is given, the extra files, and last
 * {@link CHECKPOINT_MANIFEST} with the sha256 of each. The directory is written under a temporary
 * name (each file fsync'd, then the directory), and renamed into place, so a crash never leaves a
 * half-written checkpoint under the final name. Returns the manifest's checksums (file → sha256).
 *
 * @param dir - The checkpoint directory; replaced as a whole by rename.
 * @param model - The DeepSeek model whose parameters and config are saved.
 * @param tokenizer - Saved as tokenizer.json when given. Default none.
 * @param extra - `optimizer` (its state is saved too), `meta` strings for the safetensors header, extra text `files`, extra safetensors `tensorFiles`, and `onFileWritten` called per file.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { DeepSeekModel, presets, saveCheckpoint, loadCheckpoint } from '@r1-ts/model';
 * const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'demo');
 * const sums = saveCheckpoint(dir, new DeepSeekModel(presets.tiny, { seed: 0 }));
 * console.log(Object.keys(sums)); // ['model.safetensors', 'config.json']
 * const { model } = loadCheckpoint(dir);
 * ```
 */
export function saveCheckpoint(dir: string, model: DeepSeekModel, tokenizer?: Tokenizer | null, extra: SaveCheckpointOptions = {}): Record<string, string> {
  checkOptionKeys(extra, 'saveCheckpoint');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const sums: Record<string, string> = {};
  // Each file's checksum is taken from the bytes written, not by reading the file back.
  const put = (name: string, content: Uint8Array | string) => {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    writeFileAtomic(join(tmp, name), bytes);
    sums[name] = sha256(bytes);
    extra.onFileWritten?.(name);
  };
  try {
    const tensors = Object.fromEntries(model.namedParameters());
    put('model.safetensors', serializeSafetensors(tensors, { format: 'pt', ...extra.meta }));
    put('config.json', JSON.stringify({ architectures: ['DeepseekV3ForCausalLM'], model_type: 'deepseek_v3', ...model.config }, null, 2) + '\n');
    if (tokenizer) put('tokenizer.json', JSON.stringify(tokenizer.toJSON()));
    if (extra.optimizer) {
      const { tensors: state, step } = extra.optimizer.stateTensors();
      put('optimizer.safetensors', serializeSafetensors(state, { step: String(step) }));
    }
    for (const [name, t] of Object.entries(extra.tensorFiles ?? {})) put(name, serializeSafetensors(t));
    for (const [name, text] of Object.entries(extra.files ?? {})) put(name, text);
    // The manifest last: a directory with a verified manifest is complete.
    writeFileAtomic(join(tmp, CHECKPOINT_MANIFEST), JSON.stringify({ algorithm: 'sha256', files: sums }, null, 2) + '\n');
    fsyncDir(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true }); // a failed save leaves no half-written directory
    throw e;
  }
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  fsyncDir(dirname(dir));
  rmSync(old, { recursive: true, force: true });
  return sums;
}

/**
 * Checks every file of a checkpoint directory against its {@link CHECKPOINT_MANIFEST} (and, when
 * given, against `expected` checksums recorded elsewhere, e.g. a run's state.json) and returns the
 * checksums. A missing manifest, a missing file or a checksum mismatch is a {@link CheckpointError}
 * naming the file. Directories without a manifest (Hugging Face downloads) pass when
 * `requireManifest` is false (the default) and return `{}`.
 *
 * @param dir - The checkpoint directory.
 * @param options - `expected`: file name → sha256 hex recorded elsewhere, all must match; `requireManifest`: fail when the directory has no manifest (default false).
 *
 * @example
 * ```ts
 * import { mkdtempSync, truncateSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { DeepSeekModel, presets, saveCheckpoint, verifyCheckpoint } from '@r1-ts/model';
 * const dir = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'c');
 * saveCheckpoint(dir, new DeepSeekModel(presets.tiny, { seed: 0 }));
 * truncateSync(join(dir, 'model.safetensors'), 100);
 * try { verifyCheckpoint(dir); } catch (e) { console.log((e as Error).message); } // …/model.safetensors: checksum mismatch …
 * ```
 */
export function verifyCheckpoint(dir: string, options: { expected?: Record<string, string>; requireManifest?: boolean } = {}): Record<string, string> {
  checkOptionKeys(options, 'verifyCheckpoint');
  return verifyFiles(dir, options, {});
}

/** {@link verifyCheckpoint}, with the checksums of files already read (name → sha256) taken as given. */
function verifyFiles(dir: string, options: { expected?: Record<string, string>; requireManifest?: boolean }, known: Record<string, string>): Record<string, string> {
  const manifestPath = join(dir, CHECKPOINT_MANIFEST);
  if (!existsSync(manifestPath)) {
    if (options.requireManifest || options.expected) throw new CheckpointError(`${manifestPath}: missing (the checkpoint is incomplete)`);
    return {};
  }
  let files: Record<string, string>;
  try {
    files = JSON.parse(readFileSync(manifestPath, 'utf8')).files;
    if (!files || typeof files !== 'object') throw new Error('no "files" object');
  } catch (e) {
    throw new CheckpointError(`${manifestPath}: not a valid manifest (${(e as Error).message})`);
  }
  for (const [name, want] of Object.entries(options.expected ?? {})) {
    if (files[name] !== want) throw new CheckpointError(`${join(dir, name)}: checksum ${files[name] ?? 'missing'} in ${CHECKPOINT_MANIFEST} differs from the recorded ${want}`);
  }
  for (const [name, want] of Object.entries(files)) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new CheckpointError(`${path}: missing (listed in ${CHECKPOINT_MANIFEST})`);
    const got = known[name] ?? sha256File(path);
    if (got !== want) throw new CheckpointError(`${path}: checksum mismatch (sha256 ${got}, expected ${want}): the file is corrupted or was not completely written`);
  }
  return files;
}

/**
 * sha256 of a file's bytes, as hex.
 *
 * @param path - The file to hash (read as a stream, so any size).
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { sha256File } from '@r1-ts/model';
 * const p = join(tmpdir(), 'hello.txt');
 * writeFileSync(p, 'hello');
 * console.log(sha256File(p).slice(0, 8)); // '2cf24dba'
 * ```
 */
export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** fsync of a directory, so that the names created in it survive a power loss (best effort). */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Loads a checkpoint directory saved by {@link saveCheckpoint} (or a Hugging Face DeepSeek-V3
 * directory with a single `model.safetensors`). Files are checked against the directory's
 * {@link CHECKPOINT_MANIFEST} when it has one (a mismatch is a CheckpointError naming the file), after the structural checks. The config is validated, and every tensor whose
 * name or shape disagrees with it is reported at once in one {@link CheckpointError}.
 *
 * @param dir - A checkpoint directory (config.json, model.safetensors, optional tokenizer.json and manifest).
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
  const known: Record<string, string> = {}; // the weights are read once: parsed and hashed from the same bytes
  try {
    const file = readSafetensors(join(dir, 'model.safetensors'), (bytes) => (known['model.safetensors'] = sha256(bytes)));
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
  // Structural problems are reported above as such; what still parses is checked against the manifest.
  try {
    verifyFiles(dir, {}, known);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer };
}

/**
 * Restores optimizer state saved with {@link saveCheckpoint}'s `optimizer` option (no-op when the
 * directory has none). Returns whether state was found.
 *
 * @param dir - The checkpoint directory the state was saved into.
 * @param optimizer - An AdamW over the same parameter names; its moments and step count are replaced.
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
