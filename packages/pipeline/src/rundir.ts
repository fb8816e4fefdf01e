import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { saveCheckpoint, sha256File, verifyCheckpoint } from '@r1-ts/model';
import type { CausalLM, DeepSeekModel, SaveCheckpointOptions, Tokenizer } from '@r1-ts/model';
import type { StageModels } from './models';
import { CheckpointError, writeFileAtomic } from '@r1-ts/tensor-kernels';

/**
 * What state.json records: finished stages and where each left its final checkpoint.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { RunDir, type RunState } from '@r1-ts/pipeline';
 * const run = new RunDir(mkdtempSync(join(tmpdir(), 'run-')));
 * const state: RunState = run.state();
 * state.completed.pretrain = 'checkpoints/pretrain/final';
 * state.current = { stage: 'cold-start', step: 40 };
 * run.saveState(state);
 * console.log(run.state().current); // { stage: 'cold-start', step: 40 }
 * ```
 */
export interface RunState {
  /** Stage name → its final checkpoint directory (relative to the run directory). */
  completed: Record<string, string>;
  /** The stage in progress, if any. */
  current: { stage: string; step: number } | null;
  /**
   * Checkpoint (directory or file, relative to the run directory) → file → sha256, recorded as each
   * is written and verified whenever one is loaded.
   */
  checksums?: Record<string, Record<string, string>>;
  updatedAt: string;
}

/**
 * The run directory of DESIGN.md: run.json, state.json (atomic), per-stage checkpoints,
 * metrics.jsonl, samples.jsonl, eval.json, report.html.
 *
 * @example
 * ```ts
 * import { tmpdir } from 'node:os';
 * import { RunDir } from '@r1-ts/pipeline';
 * const run = new RunDir(`${tmpdir()}/runs/example`);
 * console.log(run.state().completed); // {}
 * ```
 */
export class RunDir {
  /**
   * @param root - The run directory, e.g. `runs/demo`; nothing is created until something is written.
   */
  constructor(readonly root: string) {}

  /** Absolute path of a file or directory inside the run. */
  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** Creates the directory (and parents). */
  ensure(): void {
    mkdirSync(this.root, { recursive: true });
  }

  /** Reads state.json (an empty state when there is none). */
  state(): RunState {
    const p = this.path('state.json');
    if (!existsSync(p)) return { completed: {}, current: null, updatedAt: new Date().toISOString() };
    try {
      return JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new CheckpointError(`${p}: not valid JSON (${(e as Error).message})`);
    }
  }

  /** Writes state.json atomically. */
  saveState(state: RunState): void {
    writeFileAtomic(this.path('state.json'), JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2) + '\n');
  }

  /** Writes a JSON file atomically. */
  writeJson(name: string, value: unknown): void {
    writeFileAtomic(this.path(name), JSON.stringify(value, null, 2) + '\n');
  }

  /** Reads a JSON file of the run, or null. */
  readJson<T>(name: string): T | null {
    const p = this.path(name);
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : null;
  }

  /** Appends one JSON line. */
  append(name: 'metrics.jsonl' | 'samples.jsonl', row: Record<string, unknown>): void {
    appendFileSync(this.path(name), JSON.stringify(row) + '\n');
  }

  /** Reads a JSONL file of the run (lines cut by a crash are skipped). */
  readJsonl(name: string): Record<string, unknown>[] {
    const p = this.path(name);
    if (!existsSync(p)) return [];
    return readFileSync(p, 'utf8').split('\n').flatMap((line) => {
      try {
        return line.trim() ? [JSON.parse(line)] : [];
      } catch {
        return [];
      }
    });
  }

  /**
   * Saves a stage checkpoint `<stage>/ckpt-<step>` (model `saveCheckpoint`: temporary directory,
   * fsync, manifest, rename; or `models.save` for a pretrained role's Hugging Face layout) and records its checksums in state.json with the stage in progress.
   * Returns the directory.
   */
  saveStageCheckpoint(stage: string, step: number, model: DeepSeekModel | CausalLM<any>, tokenizer: Tokenizer, extra: SaveCheckpointOptions = {}, models?: StageModels): string {
    const dir = this.path(stage, `ckpt-${step}`);
    const options = { ...extra, onFileWritten: checkpointWriteHook() };
    // A pretrained role writes the Hugging Face layout; models the run created, r1-ts checkpoints.
    const sums = models ? models.save(dir, model, options) : saveCheckpoint(dir, model as DeepSeekModel, tokenizer, options);
    this.recordCheckpoint(dir, sums, { stage, step });
    return dir;
  }

  /**
   * Records a checkpoint's checksums (file → sha256, as `saveCheckpoint` returns them; for a single
   * file, its name → sha256) in state.json, with the stage in progress, in one atomic write.
   */
  recordCheckpoint(path: string, checksums: Record<string, string>, current: RunState['current'] = this.state().current): void {
    const state = this.state();
    this.saveState({ ...state, current, checksums: { ...state.checksums, [this.key(path)]: checksums } });
  }

  /**
   * Verifies a checkpoint before it is used: a directory against its own manifest and against the
   * checksums state.json recorded for it; a single file (e.g. the reward model) against state.json.
   * Throws a CheckpointError naming the bad file.
   */
  verify(path: string): void {
    const expected = this.state().checksums?.[this.key(path)];
    if (!existsSync(path)) throw new CheckpointError(`${path}: missing`);
    if (statSync(path).isDirectory()) {
      verifyCheckpoint(path, { expected, requireManifest: true });
      return;
    }
    if (!expected) throw new CheckpointError(`${path}: no checksum recorded in ${this.path('state.json')}`);
    const [name, want] = Object.entries(expected)[0] ?? [];
    const got = sha256File(path);
    if (got !== want) throw new CheckpointError(`${path}: checksum mismatch (sha256 ${got}, ${name} recorded ${want}): the file is corrupted or was not completely written`);
  }

  /**
   * The newest complete checkpoint of a stage (its manifest, and state.json's record when there is
   * one, match every file), or null. A newer directory that fails the check (cut by a crash,
   * corrupted) is skipped and reported to `onSkip`, and the previous one is used.
   */
  latestCheckpoint(stage: string, onSkip?: (dir: string, why: CheckpointError) => void): { dir: string; step: number } | null {
    const d = this.path(stage);
    if (!existsSync(d)) return null;
    const steps = readdirSync(d)
      .map((n) => /^ckpt-(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
    for (const step of steps) {
      const dir = join(d, `ckpt-${step}`);
      try {
        this.verify(dir);
        return { dir, step };
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw e;
        onSkip?.(dir, e);
      }
    }
    return null;
  }

  /** state.json's key of a checkpoint path. */
  private key(path: string): string {
    return relative(this.root, path);
  }
}

/**
 * Crash-test hook of checkpoint writes: with `R1_TEST_PAUSE_IN_CHECKPOINT_WRITE=<ms>` in the
 * environment, every write pauses that long after `model.safetensors` is in the temporary directory
 * and before the rest (and the rename) follow, so a test can kill the process in the middle of a
 * checkpoint write. Unset (the normal case), there is no hook.
 */
function checkpointWriteHook(): ((file: string) => void) | undefined {
  const ms = Number(process.env.R1_TEST_PAUSE_IN_CHECKPOINT_WRITE ?? 0);
  if (!(ms > 0)) return undefined;
  return (file) => {
    if (file === 'model.safetensors') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  };
}
