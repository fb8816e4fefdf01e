// Weight sync: how the trainer's new weights reach the rollout servers after a step.
//   disk  save a full checkpoint under a shared directory, POST /update_weights_from_disk (SGLang, r1 serve)
//   lora  save a PEFT adapter, POST /v1/load_lora_adapter under a new versioned name (vLLM, SGLang, r1 serve);
//         requests then name that adapter, so no request can sample from an older one by mistake.
// Each directory is written under a temporary name and renamed, so a server never reads half a file.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@r1-ts/tensor-kernels';
import type { EngineClient } from './client';
import type { EngineApi } from './protocol';

/**
 * A way to push the trainer's weights to the servers. `push` returns the model id requests name
 * from then on.
 *
 * @example
 * ```ts
 * import type { WeightSync } from '@r1-ts/grpo';
 * const none: WeightSync = { kind: 'none', initialModel: 'base', push: async () => 'base' };
 * ```
 */
export interface WeightSync {
  /** `disk`, `lora`, or a custom kind (logged). */
  readonly kind: string;
  /** The model id to request before the first push (the servers' launch model). */
  readonly initialModel: string;
  /**
   * Writes the current weights as `version` and has every server load them (through
   * `client.broadcast`, which takes a server that fails out of rotation); rejects when none did.
   */
  push(client: EngineClient, version: number): Promise<string>;
}

/**
 * Options of {@link DiskWeightSync}.
 *
 * @example
 * ```ts
 * import type { DiskWeightSyncOptions } from '@r1-ts/grpo';
 * const o: DiskWeightSyncOptions = { dir: '/shared/weights', modelName: 'Qwen/Qwen2.5-0.5B-Instruct', save: (dir) => console.log('save to', dir) };
 * ```
 */
export interface DiskWeightSyncOptions {
  /** A directory every server can read at the same path (shared storage, or loopback). */
  dir: string;
  /** The id the servers serve the model under (what requests name). */
  modelName: string;
  /** Writes a full checkpoint of the trainer's current weights into `dir` (e.g. saveCheckpoint / savePretrained). */
  save: (dir: string) => void | Promise<void>;
  /** Versions kept on disk (older ones are deleted once every server has loaded a newer one). Default 2. */
  keep?: number;
  /** How long a server may take to load a checkpoint. Default 600000 ms. */
  timeoutMs?: number;
}

/**
 * Full-weight sync through a checkpoint directory on shared storage: SGLang's
 * `/update_weights_from_disk` (and `r1 serve`'s).
 *
 * @example
 * ```ts
 * import { DiskWeightSync } from '@r1-ts/grpo';
 * import { saveCheckpoint } from '@r1-ts/model';
 * import type { DeepSeekModel } from '@r1-ts/model';
 * declare const model: DeepSeekModel;
 * const sync = new DiskWeightSync({ dir: '/shared/run1/weights', modelName: 'r1-ts', save: (dir) => { saveCheckpoint(dir, model); } });
 * console.log(sync.kind); // disk
 * ```
 */
export class DiskWeightSync implements WeightSync {
  /** `disk`. */
  readonly kind = 'disk';
  /** The served model id (unchanged by syncs). */
  readonly initialModel: string;
  private readonly written: string[] = [];

  /**
   * @param options - A directory every server reads at the same path, the served `modelName`, a `save` callback writing a full checkpoint there, versions kept (default 2) and the load timeout (default 600000 ms); see {@link DiskWeightSyncOptions}.
   */
  constructor(private readonly options: DiskWeightSyncOptions) {
    if (!options?.dir) throw new ConfigError('DiskWeightSync: dir must be a directory path', ['dir']);
    if (typeof options.save !== 'function') throw new ConfigError('DiskWeightSync: save must be a function (dir) => void', ['save']);
    this.initialModel = options.modelName;
  }

  /** Saves `dir/v<version>` and POSTs `/update_weights_from_disk` to every server. */
  async push(client: EngineClient, version: number): Promise<string> {
    const path = await writeVersioned(this.options.dir, `v${version}`, this.options.save);
    await client.broadcast('/update_weights_from_disk', { model_path: path, weight_version: String(version) }, this.options.timeoutMs ?? 600_000);
    prune(this.written, path, this.options.keep ?? 2);
    return this.options.modelName;
  }
}

/**
 * Options of {@link LoraWeightSync}.
 *
 * @example
 * ```ts
 * import type { LoraWeightSyncOptions } from '@r1-ts/grpo';
 * const o: LoraWeightSyncOptions = { dir: '/shared/adapters', baseModel: 'Qwen/Qwen2.5-0.5B-Instruct', save: (dir) => console.log('adapter to', dir) };
 * ```
 */
export interface LoraWeightSyncOptions {
  /** A directory every server can read at the same path. */
  dir: string;
  /** The servers' base model id (what requests name before the first adapter). */
  baseModel: string;
  /** Writes the current adapter as a PEFT directory (`saveAdapter` of `@r1-ts/lora`). */
  save: (dir: string) => void | Promise<void>;
  /** Adapter names are `${namePrefix}-v${version}`. Default `policy`. */
  namePrefix?: string;
  /** Which load endpoint: `openai` = vLLM's `/v1/load_lora_adapter`, `sglang` = SGLang's `/load_lora_adapter`. Default `openai`. */
  api?: EngineApi;
  /** Adapter versions kept on disk. Default 2. */
  keep?: number;
  /** How long a server may take to load an adapter. Default 120000 ms. */
  timeoutMs?: number;
}

/**
 * LoRA sync: the adapter is written as a PEFT directory and hot-loaded under a new name per
 * version (vLLM needs `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True` and `--enable-lora`).
 *
 * @example
 * ```ts
 * import { LoraWeightSync } from '@r1-ts/grpo';
 * import { saveAdapter } from '@r1-ts/lora';
 * import type { LoraModel } from '@r1-ts/lora';
 * declare const lora: LoraModel;
 * const sync = new LoraWeightSync({ dir: '/shared/run1/adapters', baseModel: 'Qwen/Qwen2.5-0.5B-Instruct', save: (dir) => saveAdapter(lora, dir) });
 * console.log(sync.initialModel); // Qwen/Qwen2.5-0.5B-Instruct
 * ```
 */
export class LoraWeightSync implements WeightSync {
  /** `lora`. */
  readonly kind = 'lora';
  /** The base model id (requested until the first adapter is loaded). */
  readonly initialModel: string;
  private readonly written: string[] = [];

  /**
   * @param options - A directory every server reads, the servers' `baseModel`, a `save` callback writing the adapter there, the adapter name prefix, server API, versions kept and load timeout; see {@link LoraWeightSyncOptions}.
   */
  constructor(private readonly options: LoraWeightSyncOptions) {
    if (!options?.dir) throw new ConfigError('LoraWeightSync: dir must be a directory path', ['dir']);
    if (typeof options.save !== 'function') throw new ConfigError('LoraWeightSync: save must be a function (dir) => void', ['save']);
    this.initialModel = options.baseModel;
  }

  /** Saves the adapter as `dir/<prefix>-v<version>`, loads it on every server, returns its name. */
  async push(client: EngineClient, version: number): Promise<string> {
    const name = `${this.options.namePrefix ?? 'policy'}-v${version}`;
    const path = await writeVersioned(this.options.dir, name, this.options.save);
    const endpoint = (this.options.api ?? 'openai') === 'sglang' ? '/load_lora_adapter' : '/v1/load_lora_adapter';
    await client.broadcast(endpoint, { lora_name: name, lora_path: path, weight_version: String(version) }, this.options.timeoutMs ?? 120_000);
    prune(this.written, path, this.options.keep ?? 2);
    return name;
  }
}

/** Saves into `${dir}/${name}` via a temporary sibling and a rename; returns the final path. */
async function writeVersioned(dir: string, name: string, save: (dir: string) => void | Promise<void>): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const tmp = `${path}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await save(tmp);
    rmSync(path, { recursive: true, force: true });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return path;
}

function prune(written: string[], path: string, keep: number): void {
  if (!written.includes(path)) written.push(path);
  while (written.length > Math.max(1, keep)) {
    const old = written.shift()!;
    if (existsSync(old)) rmSync(old, { recursive: true, force: true });
  }
}
