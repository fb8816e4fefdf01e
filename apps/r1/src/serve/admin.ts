// Weight updates of a running server, as the engines RL trainers drive do it:
//   POST /update_weights_from_disk  SGLang's: { model_path, weight_version? } → reload a checkpoint directory
//   POST /v1/load_lora_adapter      vLLM's runtime LoRA API: { lora_name, lora_path } → hot-load a PEFT adapter
// An update waits until the engine has finished every sequence in flight and holds new ones back
// meanwhile, so no completion mixes two weight versions. Each update bumps the served weights version.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CheckpointError, readSafetensors } from '@r1-ts/tensor-kernels';
import type { StoredTensor } from '@r1-ts/tensor-kernels';
import { loadAdapter } from '@r1-ts/lora';
import type { LoraModel } from '@r1-ts/lora';
import type { Engine } from './engine';
import { ApiError } from './schema';

const diskSchema = z.object({
  model_path: z.string().min(1),
  weight_version: z.union([z.number().int().min(0), z.string().regex(/^\d+$/)]).nullish(),
  load_format: z.string().nullish(),
  abort_all_requests: z.boolean().nullish(),
});

const loraSchema = z.object({
  lora_name: z.string().min(1),
  lora_path: z.string().min(1),
  weight_version: z.union([z.number().int().min(0), z.string().regex(/^\d+$/)]).nullish(),
});

/**
 * The weights a server samples from: a version (0 at start, bumped by every update) and the active
 * LoRA adapter, if any. Completion handlers `await ready()` right before submitting to the engine.
 *
 * @example
 * ```ts
 * import type { Engine } from './engine';
 * declare const engine: Engine;
 * const weights = new ServedWeights(engine, 'r1-ts');
 * await weights.updateFromDisk({ model_path: 'runs/step-1' });
 * console.log(weights.version); // 1
 * ```
 */
export class ServedWeights {
  /** The served weights version (what each completion reports). */
  version = 0;
  private adapter: { name: string; lora: LoraModel } | null = null;
  private gate: Promise<void> | null = null;

  constructor(
    private readonly engine: Engine,
    /** The base model's id. */
    readonly baseName: string,
    /** An adapter merged at start (`r1 serve --adapter`), served as the base; any update unmerges it first. */
    private startAdapter: LoraModel | null = null,
  ) {}

  /** Unmerges the start adapter (the checkpoint's own weights again) before an update replaces the weights. */
  private dropStartAdapter(): void {
    this.startAdapter?.dispose();
    this.startAdapter = null;
  }

  /** The ids requests may name: the base model, and the loaded adapter. */
  modelIds(): string[] {
    return this.adapter ? [this.baseName, this.adapter.name] : [this.baseName];
  }

  /** The active adapter's name (null: the base weights). */
  get adapterName(): string | null {
    return this.adapter?.name ?? null;
  }

  /** Resolves when no update is in progress (waits for one that is). */
  async ready(): Promise<void> {
    while (this.gate) await this.gate;
  }

  /**
   * Calls `submit` with the current version once no update is in progress, in the same synchronous
   * turn as the check, so that no update can start between them (submit must hand its sequences to
   * the engine synchronously).
   */
  async admit<T>(model: string | null, submit: (version: number) => T): Promise<T> {
    while (this.gate) await this.gate;
    this.checkModel(model);
    return submit(this.version);
  }

  /**
   * Checks that `model` names what is served: the adapter when one is loaded (the base while an
   * adapter is merged would be a different model), else the base. null = no preference.
   */
  checkModel(model: string | null): void {
    if (model === null) return;
    const active = this.adapter?.name ?? this.baseName;
    if (model === active) return;
    const why = this.adapter && model === this.baseName
      ? `this server serves adapter \`${this.adapter.name}\` merged into its weights (one adapter at a time); name it`
      : `this server serves \`${active}\``;
    throw new ApiError(404, `The model \`${model}\` does not exist; ${why}`, { param: 'model', code: 'model_not_found' });
  }

  /**
   * SGLang's `update_weights_from_disk`: loads `model_path/model.safetensors` (or the shards its
   * `model.safetensors.index.json` lists) into the served model in place.
   */
  async updateFromDisk(body: unknown): Promise<{ success: true; message: string; weights_version: number }> {
    const b = parse(diskSchema, body);
    return this.exclusive(b.weight_version, () => {
      let tensors;
      try {
        tensors = readWeights(b.model_path);
      } catch (e) {
        throw new ApiError(400, `model_path ${b.model_path}: ${(e as Error).message}`, { param: 'model_path', code: 'invalid_checkpoint' });
      }
      try {
        // Validates every name and shape before assigning any: a bad checkpoint leaves the weights as they were.
        this.adapter?.lora.dispose();
        this.adapter = null;
        this.dropStartAdapter();
        this.engine.model.loadState(tensors);
      } catch (e) {
        throw new ApiError(400, `model_path ${b.model_path}: ${(e as Error).message}`, { param: 'model_path', code: 'invalid_checkpoint' });
      }
      return `loaded ${b.model_path}`;
    });
  }

  /**
   * vLLM's `load_lora_adapter`: reads a PEFT adapter directory and merges it into the served weights
   * (the previous adapter, if any, is unmerged first); requests then name it as `model`.
   */
  async loadLora(body: unknown): Promise<{ success: true; message: string; weights_version: number }> {
    const b = parse(loraSchema, body);
    return this.exclusive(b.weight_version, () => {
      if (b.lora_name === this.baseName) throw new ApiError(400, `lora_name must differ from the base model's id \`${this.baseName}\``, { param: 'lora_name' });
      const previous = this.adapter;
      previous?.lora.dispose(); // unmerge: the base weights again
      this.adapter = null;
      this.dropStartAdapter(); // adapters apply to the checkpoint's base weights, as in vLLM
      let lora: LoraModel;
      try {
        lora = loadAdapter(this.engine.model as never, b.lora_path);
      } catch (e) {
        throw new ApiError(400, `lora_path ${b.lora_path}: ${(e as Error).message}`, { param: 'lora_path', code: 'invalid_adapter' });
      }
      lora.training = false;
      lora.merge();
      this.adapter = { name: b.lora_name, lora };
      return `Success: LoRA adapter '${b.lora_name}' added successfully.`;
    });
  }

  /** Runs `update` with no sequence in flight and new ones held back, then bumps the version. */
  private async exclusive(version: number | string | null | undefined, update: () => string) {
    await this.ready();
    let open!: () => void;
    this.gate = new Promise<void>((r) => (open = r));
    try {
      await this.engine.idle();
      const message = update();
      this.version = version === null || version === undefined ? this.version + 1 : Number(version);
      return { success: true as const, message, weights_version: this.version };
    } finally {
      this.gate = null;
      open();
    }
  }
}

/** Every tensor of a checkpoint directory: one `model.safetensors`, or the shards of its index. */
function readWeights(dir: string): Map<string, StoredTensor> {
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(index)) return readSafetensors(join(dir, 'model.safetensors')).tensors;
  let map: Record<string, string>;
  try {
    map = JSON.parse(readFileSync(index, 'utf8')).weight_map;
  } catch (e) {
    throw new CheckpointError(`${index}: not valid JSON (${(e as Error).message})`);
  }
  if (!map || typeof map !== 'object') throw new CheckpointError(`${index}: no weight_map`);
  const out = new Map<string, StoredTensor>();
  for (const shard of new Set(Object.values(map))) {
    for (const [name, t] of readSafetensors(join(dir, shard)).tensors) out.set(name, t);
  }
  return out;
}

function parse<T extends z.ZodTypeAny>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    const param = issue.path.join('.') || 'body';
    throw new ApiError(400, `${param}: ${issue.message}`, { param, code: 'invalid_value' });
  }
  return r.data;
}
