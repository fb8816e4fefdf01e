import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, ConfigError, readSafetensors, writeFileAtomic, writeSafetensors } from '@r1-ts/tensor-kernels';
import type { StoredTensor } from '@r1-ts/tensor-kernels';
import { loraConfigFromPeft, peftAdapterConfig } from './config';
import type { LoraConfig } from './config';
import { LoraModel } from './lora';
import type { NamedParameters } from './lora';

/**
 * The config file of a PEFT adapter directory.
 *
 * @example
 * ```ts
 * import { ADAPTER_CONFIG } from '@r1-ts/lora';
 * console.log(ADAPTER_CONFIG); // adapter_config.json
 * ```
 */
export const ADAPTER_CONFIG = 'adapter_config.json';
/**
 * The weights file of a PEFT adapter directory.
 *
 * @example
 * ```ts
 * import { ADAPTER_WEIGHTS } from '@r1-ts/lora';
 * console.log(ADAPTER_WEIGHTS); // adapter_model.safetensors
 * ```
 */
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/**
 * Writes `lora` as a PEFT adapter directory: `adapter_config.json` and `adapter_model.safetensors`
 * (float32, PEFT's tensor names), each written atomically (temporary file, then rename).
 * `peft.PeftModel.from_pretrained(base, dir)`, transformers' `load_adapter` and vLLM read it.
 *
 * @param lora - The adapted model whose A/B matrices and config are written.
 * @param dir - Target directory (created if missing); the two files inside are replaced atomically.
 * @param options - `baseModel`: the base model's name or path, written as `base_model_name_or_path` (default null).
 *
 * @example
 * ```ts
 * import { saveAdapter, type LoraModel } from '@r1-ts/lora';
 * declare const lora: LoraModel;
 * saveAdapter(lora, 'runs/r1/adapter');
 * ```
 */
export function saveAdapter(lora: LoraModel, dir: string, options: { baseModel?: string | null } = {}): void {
  if (lora.merged) throw new ConfigError('saveAdapter: the adapters are merged into the base weights; unmerge() first', ['merged']);
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, tf.Tensor> = Object.fromEntries(lora.namedAdapterParameters());
  // Weights first: a crash between the two writes leaves a config that still describes them or none.
  writeSafetensors(join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
  const config: LoraConfig = { ...lora.config, base_model_name_or_path: options.baseModel ?? lora.config.base_model_name_or_path };
  const short = [...new Set(lora.layers.map((l) => l.module.split('.').pop()!))].sort();
  writeFileAtomic(join(dir, ADAPTER_CONFIG), `${JSON.stringify(peftAdapterConfig(config, short), null, 2)}\n`);
}

/**
 * Reads a PEFT adapter directory's config (validated: see {@link loraConfigFromPeft}).
 *
 * @param dir - A PEFT adapter directory; its `adapter_config.json` is read.
 *
 * @example
 * ```ts
 * import { readAdapterConfig } from '@r1-ts/lora';
 * console.log(readAdapterConfig('test/fixtures/peft/llama/adapter').r); // no-run: a path in the repository
 * ```
 */
export function readAdapterConfig(dir: string): LoraConfig {
  const path = join(dir, ADAPTER_CONFIG);
  if (!existsSync(path)) throw new CheckpointError(`${dir} is not a PEFT adapter directory: ${ADAPTER_CONFIG} is missing`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  return loraConfigFromPeft(json, path);
}

/**
 * Loads a PEFT adapter directory (ours, or one PEFT wrote) onto `model`: the config picks the target
 * layers, then every `lora_A`/`lora_B` tensor is checked — present for each adapted layer, of shape
 * [r, in] / [out, r], no tensor for a layer the model lacks — before any value is assigned. Errors
 * name the file and tensor. The model's weights are frozen while the returned LoraModel is alive.
 *
 * @param model - The base model to adapt (anything with `namedParameters()`); its weights are not changed.
 * @param dir - A PEFT adapter directory with `adapter_config.json` and `adapter_model.safetensors`.
 * @param options - `seed` for the random init the loaded values then overwrite (default 0).
 *
 * @example
 * ```ts
 * import { loadAdapter } from '@r1-ts/lora';
 * declare const model: { namedParameters(): Map<string, import('@tensorflow/tfjs').Variable> };
 * const lora = loadAdapter(model, 'path/to/adapter');
 * console.log(lora.config.r, lora.layers.length);
 * ```
 */
export function loadAdapter(model: NamedParameters, dir: string, options: { seed?: number } = {}): LoraModel {
  const config = readAdapterConfig(dir);
  const path = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(path)) {
    const hint = existsSync(join(dir, 'adapter_model.bin')) ? ' (adapter_model.bin, PyTorch pickle, is not read: save with safe_serialization=True)' : '';
    throw new CheckpointError(`${dir}: ${ADAPTER_WEIGHTS} is missing${hint}`);
  }
  const file = readSafetensors(path);
  let lora: LoraModel;
  try {
    lora = LoraModel.fromConfig(model, config, options.seed ?? 0);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${join(dir, ADAPTER_CONFIG)}: ${e.message}`, e.fields);
    throw e;
  }
  try {
    assignAdapterTensors(lora, file.tensors, path);
  } catch (e) {
    lora.dispose();
    throw e;
  }
  return lora;
}

/**
 * Assigns A/B values from name → tensor (PEFT names, with or without PEFT's `.default` adapter
 * segment); every problem is collected and thrown as one CheckpointError before anything is assigned.
 *
 * @param lora - The adapted model whose A/B variables receive the values.
 * @param tensors - Tensor name → stored tensor, e.g. from `readSafetensors`: A [r, in], B [out, r] per adapted layer.
 * @param source - File named in error messages, e.g. the adapter's safetensors path.
 *
 * @example
 * ```ts
 * import { readSafetensors } from '@r1-ts/tensor-kernels';
 * import { assignAdapterTensors, type LoraModel } from '@r1-ts/lora';
 * declare const lora: LoraModel;
 * assignAdapterTensors(lora, readSafetensors('adapter/adapter_model.safetensors').tensors, 'adapter');
 * ```
 */
export function assignAdapterTensors(lora: LoraModel, tensors: Map<string, StoredTensor>, source: string): void {
  const expected = lora.namedAdapterParameters();
  const problems: string[] = [];
  const found = new Map<string, StoredTensor>();
  for (const [rawName, t] of tensors) {
    const name = rawName.replace(/\.lora_([AB])\.default\.weight$/, '.lora_$1.weight');
    const v = expected.get(name);
    if (!v) {
      problems.push(`unexpected tensor "${rawName}" (no adapted layer of the model has this name)`);
      continue;
    }
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      problems.push(`tensor "${rawName}" has shape [${t.shape}], expected [${v.shape}]`);
      continue;
    }
    found.set(name, t);
  }
  for (const [name, v] of expected) if (!found.has(name) && !problems.some((p) => p.includes(name))) problems.push(`missing tensor "${name}" (expected shape [${v.shape}])`);
  if (problems.length) throw new CheckpointError(`${source}: cannot load the adapter:\n  ${problems.join('\n  ')}`);
  for (const [name, t] of found) {
    tf.tidy(() => expected.get(name)!.assign(tf.tensor(Float32Array.from(t.data), t.shape, 'float32')));
  }
}
