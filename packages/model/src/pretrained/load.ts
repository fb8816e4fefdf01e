import { existsSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, ConfigError, openSafetensors } from '@r1-ts/tensor-kernels';
import type { OpenSafetensors, SafetensorsEntry } from '@r1-ts/tensor-kernels';
import type { CausalLM } from '../causal_lm';
import { loadTokenizer } from '../tokenizer';
import type { Tokenizer } from '../tokenizer';
import { resolveFamily } from './families';
import type { ResolvedFamily } from './families';
import { dequantizeBlockFp8 } from './fp8';
import { checkOptionKeys } from '../option_keys';
import { readJsonObject } from '../json_file';

/**
 * Options of {@link loadPretrained}.
 *
 * @example
 * ```ts
 * import type { LoadPretrainedOptions } from '@r1-ts/model';
 * const opts: LoadPretrainedOptions = { maxBytes: 8 * 2 ** 30, tokenizer: false };
 * ```
 */
export interface LoadPretrainedOptions {
  /** Refuse models whose float32 weights exceed this many bytes. Default: `os.totalmem()`. */
  maxBytes?: number;
  /** Load `tokenizer.json` (+ `tokenizer_config.json`) when present. Default true. */
  tokenizer?: boolean;
}

/**
 * What {@link loadPretrained} returns.
 *
 * @example
 * ```ts
 * // no-run: reads a checkpoint directory
 * import { loadPretrained, type Pretrained } from '@r1-ts/model';
 * const p: Pretrained = loadPretrained('checkpoints/Qwen2.5-0.5B-Instruct');
 * console.log(p.modelType, p.model.parameterCount(), p.skipped.length);
 * ```
 */
export interface Pretrained {
  model: CausalLM;
  modelType: string;
  tokenizer: Tokenizer | null;
  /** generation_config.json (default sampling settings), or null. */
  generationConfig: Record<string, unknown> | null;
  /** Checkpoint tensors not used, each with the rule that skipped it. */
  skipped: { name: string; reason: string }[];
  /** How many tensors of each stored dtype were read. */
  dtypes: Record<string, number>;
  /** Bytes of the model's float32 weights. */
  bytes: number;
}

/** Where each checkpoint tensor lives. */
interface Layout {
  files: Map<string, OpenSafetensors>;
  /** tensor name → (file, entry) */
  where: Map<string, { file: OpenSafetensors; entry: SafetensorsEntry }>;
  /** Where a missing tensor should have been listed (the index, or the single file). */
  listing: string;
}

const INDEX = 'model.safetensors.index.json';
const SINGLE = 'model.safetensors';
const FLOAT_DTYPES = new Set(['F32', 'BF16', 'F16', 'F64', 'F8_E4M3']);

/**
 * Loads a Hugging Face checkpoint directory of any supported family (`llama`, `qwen2`, `qwen3`,
 * `deepseek_v2`, `deepseek_v3`, `deepseek_v32`): config.json picks the family; weights come from
 * `model.safetensors` or the shards of `model.safetensors.index.json`, in F32, BF16, F16 or
 * F8_E4M3 with `<name>_scale_inv` block scales (dequantised on load). Before anything large is
 * allocated, the model's float32 size is checked against `maxBytes` and every header is checked
 * against the config: each tensor the model needs must be present with its shape (and a scale of
 * the right shape for FP8), and each other tensor must be skipped by a rule of the family. Then the
 * tensors are read one at a time.
 *
 * @param dir - A Hugging Face checkpoint directory (config.json and safetensors).
 * @param options - `maxBytes`: refuse models whose float32 weights exceed this many bytes (default `os.totalmem()`); `tokenizer`: also load tokenizer.json and tokenizer_config.json when present (default true).
 *
 * @example
 * ```ts
 * // no-run: reads a checkpoint directory
 * import { generate, loadPretrained } from '@r1-ts/model';
 * const { model, tokenizer } = loadPretrained('checkpoints/DeepSeek-R1-Distill-Qwen-1.5B');
 * const [out] = generate(model, tokenizer!, [tokenizer!.encode('1+1=')], { maxNewTokens: 8, temperature: 0 });
 * console.log(out.text);
 * ```
 */
export function loadPretrained(dir: string, options: LoadPretrainedOptions = {}): Pretrained {
  checkOptionKeys(options, 'loadPretrained');
  const configPath = join(dir, 'config.json');
  const raw = readJsonObject(configPath);
  if (!raw) throw new CheckpointError(`${dir}: no config.json (not a Hugging Face checkpoint directory)`);
  let family: ResolvedFamily;
  try {
    family = resolveFamily(raw, configPath);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(e.message);
    throw e;
  }
  let numel = 0;
  for (const s of family.shapes.values()) numel += s.reduce((a, b) => a * b, 1);
  const bytes = numel * 4;
  const limit = options.maxBytes ?? totalmem();
  if (bytes > limit) {
    throw new CheckpointError(
      `${configPath}: the ${family.modelType} model has ${numel.toLocaleString('en-US')} parameters and needs ${gib(bytes)} GiB as float32, ` +
        `more than the ${gib(limit)} GiB limit (${options.maxBytes === undefined ? 'os.totalmem()' : 'maxBytes'}); nothing was allocated`,
    );
  }
  const layout = openLayout(dir);
  try {
    const plan = checkTensors(family, layout, raw);
    const dtypes: Record<string, number> = {};
    // One tensor at a time: read by offset, decoded (and dequantised) to float32, handed to the model.
    const read = (name: string): Float32Array => {
      const { file, entry } = layout.where.get(name)!;
      const stored = file.read(name);
      dtypes[entry.dtype] = (dtypes[entry.dtype] ?? 0) + 1;
      if (entry.dtype !== 'F8_E4M3') return stored.data as Float32Array;
      const scale = plan.scales.get(name)!;
      return dequantizeBlockFp8(stored.data as Float32Array, stored.shape, scale.file.read(scale.entry.name), plan.block);
    };
    const model = family.build(read);
    try {
      const tokenizer = options.tokenizer === false ? null : loadTokenizer(dir);
      return { model, modelType: family.modelType, tokenizer, generationConfig: readJsonObject(join(dir, 'generation_config.json')), skipped: plan.skipped, dtypes, bytes };
    } catch (e) {
      model.dispose();
      throw e;
    }
  } finally {
    for (const f of layout.files.values()) f.close();
  }
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 3 : 1);
}


/** Opens the single file or every shard of the index (headers only) and maps each tensor to its file. */
function openLayout(dir: string): Layout {
  const files = new Map<string, OpenSafetensors>();
  const where: Layout['where'] = new Map();
  try {
    const index = readJsonObject(join(dir, INDEX));
    if (index) {
      const map = index.weight_map as Record<string, unknown> | undefined;
      if (typeof map !== 'object' || map === null) throw new CheckpointError(`${join(dir, INDEX)}: no "weight_map" object`);
      for (const [name, file] of Object.entries(map)) {
        if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
          throw new CheckpointError(`${join(dir, INDEX)}: weight_map["${name}"] must be a file name in the directory, got ${JSON.stringify(file)}`);
        }
        let f = files.get(file);
        if (!f) {
          const path = join(dir, file);
          if (!existsSync(path)) throw new CheckpointError(`${path}: missing (listed in ${INDEX} for tensor "${name}")`);
          f = openSafetensors(path);
          files.set(file, f);
        }
        const entry = f.entries.get(name);
        if (!entry) throw new CheckpointError(`${f.path}: has no tensor "${name}" (${INDEX} lists it there)`);
        where.set(name, { file: f, entry });
      }
      // A shard's tensor missing from the index would be silently ignored by transformers too; report it.
      for (const f of files.values()) {
        for (const name of f.entries.keys()) {
          if (!where.has(name)) throw new CheckpointError(`${join(dir, INDEX)}: has no entry for tensor "${name}" of ${f.path}`);
        }
      }
    } else {
      const path = join(dir, SINGLE);
      if (!existsSync(path)) throw new CheckpointError(`${dir}: no ${SINGLE} and no ${INDEX}`);
      const f = openSafetensors(path);
      files.set(SINGLE, f);
      for (const [name, entry] of f.entries) where.set(name, { file: f, entry });
    }
  } catch (e) {
    for (const f of files.values()) f.close();
    throw e;
  }
  const index = join(dir, INDEX);
  return { files, where, listing: existsSync(index) ? `${index} has no entry for it` : `${join(dir, SINGLE)} has no such tensor` };
}

interface Plan {
  skipped: { name: string; reason: string }[];
  scales: Map<string, { file: OpenSafetensors; entry: SafetensorsEntry }>;
  block: [number, number];
}

/** Every check that needs only the headers: names, shapes, dtypes, FP8 scales. All problems at once. */
function checkTensors(family: ResolvedFamily, layout: Layout, raw: Record<string, unknown>): Plan {
  const problems: string[] = [];
  const skipped: Plan['skipped'] = [];
  const scales: Plan['scales'] = new Map();
  const q = raw.quantization_config as { weight_block_size?: unknown } | undefined;
  const bs = q?.weight_block_size;
  const block: [number, number] = Array.isArray(bs) && bs.length === 2 && bs.every((v) => Number.isInteger(v) && v > 0) ? [bs[0], bs[1]] : [128, 128];
  const at = (name: string) => `${layout.where.get(name)!.file.path}: tensor "${name}"`;
  for (const [name, shape] of family.shapes) {
    const found = layout.where.get(name);
    if (!found) {
      problems.push(`missing tensor "${name}" (shape [${shape}]): ${layout.listing}`);
      continue;
    }
    const { entry } = found;
    if (!FLOAT_DTYPES.has(entry.dtype)) problems.push(`${at(name)} has dtype ${entry.dtype}, expected one of ${[...FLOAT_DTYPES].join(', ')}`);
    if (!sameShape(entry.shape, shape)) problems.push(`${at(name)} has shape [${entry.shape}], expected [${shape}] from config.json`);
    if (entry.dtype === 'F8_E4M3') {
      const scaleName = `${name}_scale_inv`;
      const scale = layout.where.get(scaleName);
      const want = shape.length === 2 ? [Math.ceil(shape[0] / block[0]), Math.ceil(shape[1] / block[1])] : null;
      if (!want) problems.push(`${at(name)} is F8_E4M3 but not a matrix; only [out, in] weights can be block-quantised`);
      else if (!scale) problems.push(`${at(name)} is F8_E4M3 but "${scaleName}" is missing`);
      else if (!sameShape(scale.entry.shape, want) || !FLOAT_DTYPES.has(scale.entry.dtype) || scale.entry.dtype === 'F8_E4M3') {
        problems.push(`${at(scaleName)} has shape [${scale.entry.shape}] (${scale.entry.dtype}), expected [${want}] float (${block[0]}×${block[1]} blocks of [${shape}])`);
      } else scales.set(name, scale);
    }
  }
  for (const name of layout.where.keys()) {
    if (family.shapes.has(name)) continue;
    if (name.endsWith('_scale_inv') && family.shapes.has(name.slice(0, -'_scale_inv'.length))) {
      const w = name.slice(0, -'_scale_inv'.length);
      if (layout.where.get(w)!.entry.dtype !== 'F8_E4M3') problems.push(`${at(name)} scales "${w}", which is ${layout.where.get(w)!.entry.dtype}, not F8_E4M3`);
      continue;
    }
    const reason = family.skip(name);
    if (reason) skipped.push({ name, reason });
    else problems.push(`${at(name)} is not a parameter of ${family.modelType} with this config.json`);
  }
  if (problems.length) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
    throw new CheckpointError(`checkpoint does not match its config.json (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${shown.join('\n  ')}${more}`);
  }
  return { skipped, scales, block };
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

