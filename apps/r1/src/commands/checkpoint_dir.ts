// What a directory given as CKPT is, checked before anything loads it, so a run or stage directory
// (`runs/demo/rl-all`) gets a message naming the checkpoint the user meant (`runs/demo/rl-all/ckpt-20`)
// instead of "no config.json".
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

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
