// What a directory given as CKPT is, checked before anything loads it, so a run or stage directory
// (`runs/demo/rl-all`) gets a message naming the checkpoint the user meant (`runs/demo/rl-all/ckpt-20`)
// instead of "no config.json".
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CheckpointError } from '@r1-ts/tensor-kernels';
import { CHECKPOINT_MANIFEST, eosTokenIds, loadCheckpoint, loadPretrained, readJsonObject } from '@r1-ts/model';
import type { CausalLM, Tokenizer } from '@r1-ts/model';
import { loadAdapter } from '@r1-ts/lora';
import type { LoraModel } from '@r1-ts/lora';

/** The `ckpt-<step>` subdirectories of a stage directory, highest step last. */
function stageCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^ckpt-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(dir, m[0], 'config.json')))
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => join(dir, m[0]));
}

/**
 * Why `dir` is not a checkpoint directory (a message naming what it is and the checkpoint to use
 * instead), or null when it holds a `config.json`.
 *
 * @example
 * ```ts
 * console.log(checkpointProblem('runs/demo/rl-all'));
 * // 'runs/demo/rl-all is a stage directory, not a checkpoint: its checkpoints are runs/demo/rl-all/ckpt-<step> (latest: runs/demo/rl-all/ckpt-20)'
 * ```
 */
export function checkpointProblem(dir: string): string | null {
  if (!existsSync(dir)) return `${dir}: no such checkpoint directory`;
  if (!statSync(dir).isDirectory()) return `${dir}: not a directory (a checkpoint is a directory with config.json and model.safetensors)`;
  if (existsSync(join(dir, 'config.json'))) return null;
  const own = stageCheckpoints(dir);
  if (own.length) {
    return `${dir} is a stage directory, not a checkpoint: its checkpoints are ${join(dir, 'ckpt-<step>')} (latest: ${own.at(-1)})`;
  }
  if (existsSync(join(dir, 'run.json'))) {
    const stages = readdirSync(dir).filter((n) => stageCheckpoints(join(dir, n)).length > 0);
    const pick = stages.includes('rl-all') ? 'rl-all' : stages.at(-1);
    const example = pick ? ` (e.g. ${stageCheckpoints(join(dir, pick)).at(-1)})` : ' (none written yet)';
    return `${dir} is a run directory, not a checkpoint: checkpoints are ${join(dir, '<stage>', 'ckpt-<step>')}${example}`;
  }
  return `${dir}: no config.json (not a checkpoint directory; a checkpoint holds config.json, model.safetensors, tokenizer.json)`;
}

/** The recipe settings `r1 eval` reads from a run (run.json's config). */
export interface RunEvalDefaults {
  /** The run directory. */
  root: string;
  digits: number;
  promptStyle: 'question' | 'bare';
  problems: number;
  seed: number;
  k: number;
  temperature: number;
  topP: number;
  maxTokens: number;
}

/** The part of run.json's config `r1 eval` reads (@r1-ts/pipeline's RecipeConfig). */
interface SavedConfig {
  seed: number;
  task?: { kind: string; digits: number; promptStyle: 'question' | 'bare'; evalProblems: number };
  eval?: { k: number; temperature: number; topP: number; maxNewTokens: number };
}

/**
 * The task, held-out split and eval sampling of the run a checkpoint belongs to
 * (`<run>/<stage>/ckpt-<step>`), read from `<run>/run.json`; null when the checkpoint is not inside a run.
 *
 * @example
 * ```ts
 * const run = runOfCheckpoint('runs/demo/rl-all/ckpt-20');
 * console.log(run?.digits, run?.promptStyle); // 2 'bare' for the demo preset
 * ```
 */
export function runOfCheckpoint(ckpt: string): RunEvalDefaults | null {
  let dir = resolve(ckpt);
  for (let up = 0; up < 3; up++, dir = dirname(dir)) {
    const file = join(dir, 'run.json');
    if (!existsSync(file)) continue;
    let cfg: SavedConfig | undefined;
    try {
      cfg = (JSON.parse(readFileSync(file, 'utf8')) as { config?: SavedConfig }).config;
    } catch {
      return null;
    }
    const task = cfg?.task;
    const ev = cfg?.eval;
    if (!cfg || !task || !ev || task.kind !== 'addition') return null;
    return {
      root: dir, digits: task.digits, promptStyle: task.promptStyle, problems: task.evalProblems, seed: cfg.seed,
      k: ev.k, temperature: ev.temperature, topP: ev.topP, maxTokens: ev.maxNewTokens,
    };
  }
  return null;
}

/** A checkpoint directory loaded for inference by {@link openCheckpoint}. */
export interface OpenedCheckpoint {
  model: CausalLM;
  tokenizer: Tokenizer;
  /** `r1-ts`: written by r1-ts's saveCheckpoint (checksums.json); `hf`: a Hugging Face directory. */
  format: 'r1-ts' | 'hf';
  /** generation_config.json (default sampling settings), or null. */
  generationConfig: Record<string, unknown> | null;
  /** Every id that ends a completion: the tokenizer's eos and generation_config's / config's `eos_token_id`s. */
  stopIds: number[];
  /** The `--adapter` merged into the weights, or null. */
  adapter: LoraModel | null;
}

/**
 * Loads any checkpoint directory a command takes, for inference: one r1-ts wrote (it has
 * `checksums.json`: loaded and verified by `loadCheckpoint`) or a Hugging Face directory of any
 * supported family (`loadPretrained`), with its tokenizer (required), and with `adapter` a PEFT LoRA
 * adapter directory merged into the weights (dropout off). Errors are CheckpointErrors whose
 * message names the directory or file; nothing stays allocated after one.
 *
 * @example
 * ```ts
 * // no-run: reads a checkpoint directory
 * const { model, tokenizer, stopIds } = openCheckpoint('ckpts/Qwen2.5-0.5B-Instruct', { adapter: 'runs/grpo/adapter' });
 * console.log(model.modelType, tokenizer.vocabSize, stopIds);
 * ```
 */
export function openCheckpoint(dir: string, options: { adapter?: string } = {}): OpenedCheckpoint {
  const problem = checkpointProblem(dir);
  if (problem) throw new CheckpointError(problem);
  const ours = existsSync(join(dir, CHECKPOINT_MANIFEST)) && !/^(llama|qwen2|qwen3)$/.test(String(readJsonObject(join(dir, 'config.json'))?.model_type)); // dense stage checkpoints of `r1 run` (pretrained roles) are HF layout
  const ownGen = ours ? readJsonObject(join(dir, 'generation_config.json')) : null; // read first: nothing to free on an error
  const loaded = ours ? { ...loadCheckpoint(dir), generationConfig: ownGen } : loadPretrained(dir);
  const { model, tokenizer, generationConfig } = loaded;
  if (!tokenizer) {
    model.dispose();
    throw new CheckpointError(`${dir}: no tokenizer.json (needed to encode prompts and decode completions)`);
  }
  let adapter: LoraModel | null = null;
  if (options.adapter !== undefined) {
    try {
      adapter = loadAdapter(model, options.adapter);
      adapter.training = false; // inference: no dropout
      adapter.merge(); // W + (α/r)·B·A once, not per forward
    } catch (e) {
      adapter?.dispose();
      model.dispose();
      throw new CheckpointError(`--adapter ${options.adapter}: ${(e as Error).message}`);
    }
  }
  const stopIds = eosTokenIds(tokenizer, generationConfig, model.config);
  return { model, tokenizer, format: ours ? 'r1-ts' : 'hf', generationConfig, stopIds, adapter };
}


/**
 * The temperature and top_p generation_config.json sets (as vLLM reads them: the defaults of a
 * request that names none); absent fields stay undefined.
 *
 * @example
 * ```ts
 * console.log(generationSampling({ temperature: 0.6, top_p: 0.95 })); // { temperature: 0.6, topP: 0.95 }
 * console.log(generationSampling(null)); // {}
 * ```
 */
export function generationSampling(gen: Record<string, unknown> | null): { temperature?: number; topP?: number } {
  const out: { temperature?: number; topP?: number } = {};
  if (typeof gen?.temperature === 'number' && gen.temperature >= 0) out.temperature = gen.temperature;
  if (typeof gen?.top_p === 'number' && gen.top_p > 0 && gen.top_p <= 1) out.topP = gen.top_p;
  return out;
}
