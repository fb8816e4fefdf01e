// The command-line form of a rollout-engine setup (`r1 grpo --engine … --sync … --max-staleness …`),
// checked in one place so every command reports a bad flag the same way.
import { ConfigError } from '@r1-ts/tensor-kernels';
import type { EngineApi } from './protocol';

/**
 * Parsed engine flags.
 *
 * @example
 * ```ts
 * import type { EngineFlags } from '@r1-ts/grpo';
 * const f: EngineFlags = { urls: ['http://127.0.0.1:8000'], sync: 'disk', maxStaleness: 0, api: 'openai', timeoutMs: 120000, model: null };
 * ```
 */
export interface EngineFlags {
  /** Server base URLs. */
  urls: string[];
  /** Weight sync: LoRA adapter hot-load or full checkpoint from disk. */
  sync: 'lora' | 'disk';
  /** Weight versions a rollout may lag (0 = synchronous). */
  maxStaleness: number;
  /** The servers' API. */
  api: EngineApi;
  /** Per-request timeout. */
  timeoutMs: number;
  /** The id the servers serve the base model under (`--served-model-name`, `r1 serve --name`); null = the caller's default. */
  model: string | null;
}

/**
 * Parses `--engine URL[,URL…]`, `--sync lora|disk` (default `lora` when the run trains a LoRA adapter,
 * else `disk`), `--max-staleness N` (default 0), `--engine-api openai|sglang` (default `openai`),
 * `--engine-timeout MS` (default 120000) and `--engine-model ID` (the servers' model id). A bad
 * value → ConfigError naming the flag.
 *
 * @param flags - The raw CLI values: `engine` (comma-separated URLs), `sync`, `maxStaleness`, `engineApi`, `engineTimeout` (ms) and `engineModel`; numbers may be given as strings.
 * @param context - `lora`: whether the run trains a LoRA adapter, which makes `lora` the default `sync` (else `disk`).
 *
 * @example
 * ```ts
 * import { parseEngineFlags } from '@r1-ts/grpo';
 * const f = parseEngineFlags({ engine: 'http://a:8000,http://b:8000', maxStaleness: '1' }, { lora: true });
 * console.log(f.urls.length, f.sync, f.maxStaleness); // 2 lora 1
 * ```
 */
export function parseEngineFlags(
  flags: { engine: string; sync?: string; maxStaleness?: string | number; engineApi?: string; engineTimeout?: string | number; engineModel?: string },
  context: { lora: boolean },
): EngineFlags {
  const urls = String(flags.engine ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  if (!urls.length) throw new ConfigError(`--engine must list one or more server URLs separated by commas, got ${JSON.stringify(flags.engine)}`, ['engine']);
  for (const u of urls) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(u).protocol);
    } catch { /* reported below */ }
    if (!ok) throw new ConfigError(`--engine: ${JSON.stringify(u)} is not an http(s) URL (e.g. http://127.0.0.1:8000)`, ['engine']);
  }
  const sync = flags.sync ?? (context.lora ? 'lora' : 'disk');
  if (sync !== 'lora' && sync !== 'disk') throw new ConfigError(`--sync must be 'lora' or 'disk', got ${JSON.stringify(flags.sync)}`, ['sync']);
  if (sync === 'lora' && !context.lora) throw new ConfigError('--sync lora needs a LoRA run (--lora-r > 0); a full fine-tune syncs with --sync disk', ['sync']);
  const int = (name: string, v: string | number | undefined, d: number, min: number) => {
    if (v === undefined) return d;
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new ConfigError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, [name]);
    return x;
  };
  const api = flags.engineApi ?? 'openai';
  if (api !== 'openai' && api !== 'sglang') throw new ConfigError(`--engine-api must be 'openai' (vLLM, r1 serve) or 'sglang', got ${JSON.stringify(api)}`, ['engine-api']);
  return {
    urls,
    sync,
    maxStaleness: int('max-staleness', flags.maxStaleness, 0, 0),
    api,
    timeoutMs: int('engine-timeout', flags.engineTimeout, 120_000, 1),
    model: flags.engineModel ?? null,
  };
}
