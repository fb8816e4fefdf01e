import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError, ConfigError, serializeSafetensors, writeFileAtomic } from '@r1-ts/tensor-kernels';
import type { CausalLM } from '../causal_lm';
import type { Tokenizer } from '../tokenizer';
import { configJsonOf } from './families';
import { checkOptionKeys } from '../option_keys';

/**
 * Options of {@link savePretrained}.
 *
 * @example
 * ```ts
 * import type { SavePretrainedOptions } from '@r1-ts/model';
 * const opts: SavePretrainedOptions = { dtype: 'bf16', maxShardSize: 2 * 2 ** 30 };
 * ```
 */
export interface SavePretrainedOptions {
  /** Stored dtype of the weights: `bf16` (default, as published checkpoints) or `f32`. */
  dtype?: 'bf16' | 'f32';
  /** Largest shard in bytes (default 5 GiB, transformers' default); more than one shard writes the index. */
  maxShardSize?: number;
  /** generation_config.json; default: bos/eos/pad ids from the config. */
  generationConfig?: Record<string, unknown>;
  /** Written as tokenizer.json (its `toJSON()`), unless `files` has one. */
  tokenizer?: Tokenizer | null;
  /** Extra files by name (tokenizer.json, tokenizer_config.json, chat_template.jinja, ...). */
  files?: Record<string, string | Uint8Array>;
}

/** Buffers whose precision matters beyond bf16 stay float32 (DeepSeek's routing bias, as published). */
const KEEP_F32 = /e_score_correction_bias$/;

/**
 * Writes a model as a Hugging Face checkpoint directory that transformers and vLLM load unchanged:
 * config.json (with `architectures` and `torch_dtype`), generation_config.json, the weights under
 * their HF names as `model.safetensors` or `model-0000i-of-0000n.safetensors` shards plus
 * `model.safetensors.index.json`, and tokenizer files when given. Everything is written into a
 * temporary directory that replaces `dir` by rename, so a failed save leaves nothing half-written.
 * Returns the written file names.
 *
 * @param dir - Target directory; replaced as a whole by rename.
 * @param model - Any supported causal LM.
 * @param options - `dtype` of the weights, `bf16` (default) or `f32`; `maxShardSize` in bytes (default 5 GiB); `generationConfig` fields; a `tokenizer` to save; extra `files` by name.
 *
 * @example
 * ```ts
 * // no-run: writes a checkpoint directory
 * import { DenseModel, loadPretrained, savePretrained } from '@r1-ts/model';
 * const model = new DenseModel({ model_type: 'qwen2', vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *   num_attention_heads: 4, max_position_embeddings: 64, rms_norm_eps: 1e-6, tie_word_embeddings: true });
 * savePretrained('out/tiny-qwen2', model, { dtype: 'f32' });
 * const again = loadPretrained('out/tiny-qwen2').model;
 * ```
 */
export function savePretrained(dir: string, model: CausalLM, options: SavePretrainedOptions = {}): string[] {
  checkOptionKeys(options, 'savePretrained');
  const dtype = options.dtype ?? 'bf16';
  if (dtype !== 'bf16' && dtype !== 'f32') throw new ConfigError(`dtype must be 'bf16' or 'f32', got ${JSON.stringify(dtype)}`, ['dtype']);
  const maxShard = options.maxShardSize ?? 5 * 2 ** 30;
  if (!(maxShard > 0)) throw new ConfigError(`maxShardSize must be a positive number of bytes, got ${maxShard}`, ['maxShardSize']);
  const bytesPer = dtype === 'bf16' ? 2 : 4;
  // Shards in parameter order, each as full as maxShardSize allows (a bigger tensor gets its own).
  const shards: string[][] = [[]];
  let size = 0;
  let total = 0;
  for (const [name, v] of model.namedParameters()) {
    const n = v.size * (KEEP_F32.test(name) ? 4 : bytesPer);
    if (size > 0 && size + n > maxShard) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(name);
    size += n;
    total += n;
  }
  const config = configJsonOf(model);
  const c = model.config as Record<string, unknown>;
  const generation = options.generationConfig ?? Object.fromEntries(
    ['bos_token_id', 'eos_token_id', 'pad_token_id'].filter((k) => c[k] !== undefined && c[k] !== null).map((k) => [k, c[k]]),
  );
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const written: string[] = [];
  const put = (name: string, content: string | Uint8Array) => {
    writeFileAtomic(join(tmp, name), content);
    written.push(name);
  };
  try {
    const params = model.namedParameters();
    const n = shards.length;
    const fileOf = (i: number) => (n === 1 ? 'model.safetensors' : `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`);
    const weightMap: Record<string, string> = {};
    shards.forEach((names, i) => {
      const stored = dtype === 'bf16' ? 'BF16' : 'F32';
      const entries = Object.fromEntries(names.map((k) => {
        const t = params.get(k)!;
        return [k, { dtype: KEEP_F32.test(k) ? 'F32' : stored, shape: t.shape, data: t.dataSync() as Float32Array }] as const;
      }));
      const bytes = serializeSafetensors(entries, { format: 'pt' });
      put(fileOf(i), bytes);
      for (const k of names) weightMap[k] = fileOf(i);
    });
    if (n > 1) put('model.safetensors.index.json', JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
    put('config.json', sortedJson({ ...config, torch_dtype: dtype === 'bf16' ? 'bfloat16' : 'float32' }));
    put('generation_config.json', sortedJson({ _from_model_config: options.generationConfig === undefined, ...generation }));
    const files = { ...(options.files ?? {}) };
    if (options.tokenizer && files['tokenizer.json'] === undefined) files['tokenizer.json'] = JSON.stringify(options.tokenizer.toJSON());
    for (const [name, content] of Object.entries(files)) {
      if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new CheckpointError(`files: ${JSON.stringify(name)} must be a plain file name`);
      put(name, content);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = `${dir}.old-${process.pid}-${Date.now()}`;
  mkdirSync(dirname(dir), { recursive: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
  return written;
}

/** JSON with sorted keys at every level, as transformers writes its configs (so re-saves are byte-stable). */
function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(sort(value), null, 2) + '\n';
}
