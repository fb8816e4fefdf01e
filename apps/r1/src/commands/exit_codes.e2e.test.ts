// The CLI's exit-code contract (README "Exit codes"): 0 success; 1 a failed check or a runtime error;
// 2 invalid config, flags or input, with nothing written. Each case runs the real `r1` binary.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import { recipePresets } from '@r1-ts/pipeline';
import { makeTinyCheckpoint } from '../serve/tiny_checkpoint';
import { checkpointProblem, runOfCheckpoint } from './checkpoint_dir';

const root = resolve(__dirname, '../../../..');
const bin = join(root, 'apps/r1/src/bin.ts');

interface Result { status: number | null; stdout: string; stderr: string }

/** Runs `r1 …` to completion (async, so independent cases can run side by side). */
function r1(args: string[], cwd = root): Promise<Result> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** A fake run directory: run.json of the quick preset and one stage with checkpoints 2 and 10. */
function fakeRun(): string {
  const dir = mkdtempSync(join(tmpdir(), 'r1-exit-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ config: recipePresets.quick }));
  for (const step of [2, 10]) {
    mkdirSync(join(dir, 'rl-all', `ckpt-${step}`), { recursive: true });
    writeFileSync(join(dir, 'rl-all', `ckpt-${step}`, 'config.json'), '{}');
  }
  return dir;
}

describe('what a CKPT argument is', () => {
  it('names the latest checkpoint of a stage or run directory instead of "no config.json"', () => {
    const run = fakeRun();
    const stage = join(run, 'rl-all');
    expect(checkpointProblem(stage)).toContain(`latest: ${join(stage, 'ckpt-10')}`);
    expect(checkpointProblem(run)).toContain(`e.g. ${join(stage, 'ckpt-10')}`);
    expect(checkpointProblem(join(stage, 'ckpt-10'))).toBeNull();
    expect(checkpointProblem(join(run, 'missing'))).toMatch(/no such checkpoint directory/);
  });

  it("reads the run's task and eval sampling for a checkpoint inside a run", () => {
    const run = fakeRun();
    const q = recipePresets.quick;
    expect(runOfCheckpoint(join(run, 'rl-all', 'ckpt-10'))).toEqual({
      root: run, digits: q.task.digits, promptStyle: q.task.promptStyle, problems: q.task.evalProblems, seed: q.seed,
      k: q.eval.k, temperature: q.eval.temperature, topP: q.eval.topP, maxTokens: q.eval.maxNewTokens,
    });
    expect(runOfCheckpoint(tmpdir())).toBeNull();
  });
});

describe('r1 exit codes', () => {
  it('0 for --version', async () => {
    const version = await r1(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'apps/r1/package.json'), 'utf8')).version);
  });

  it('2 for an unknown command, an unknown option or a bad flag value', async () => {
    const results = await Promise.all([
      r1(['frobnicate']), r1(['eval', '--no-such-flag']), r1(['eval', '--endpoint', 'http://127.0.0.1:9/v1', '--top-p', '2']),
    ]);
    expect(results.map((r) => r.status)).toEqual([2, 2, 2]);
    expect(results[0].stderr).toMatch(/unknown command 'frobnicate'/);
    expect(results[1].stderr).toMatch(/unknown option '--no-such-flag'/);
    expect(results[2].stderr).toMatch(/--top-p must be in \(0, 1\], got 2/);
  });

  it('2 for a missing checkpoint or fixture, or a stage directory (naming its checkpoints)', async () => {
    const run = fakeRun();
    const missing = join(run, 'nope');
    const results = await Promise.all([
      r1(['eval', missing]), r1(['serve', join(run, 'rl-all')]), r1(['golden', join(run, 'nope.safetensors')]),
    ]);
    expect(results.map((r) => r.status)).toEqual([2, 2, 2]);
    expect(results[0].stderr).toContain(`${missing}: no such checkpoint directory`);
    expect(results[1].stderr).toContain(`latest: ${join(run, 'rl-all', 'ckpt-10')}`);
    expect(results[2].stderr).toMatch(/no such fixture file/);
  });

  it('2 for r1 report on a directory that is not a run, writing nothing; 0 on a run', async () => {
    const notRun = mkdtempSync(join(tmpdir(), 'r1-notrun-'));
    const run = fakeRun();
    const [bad, good] = await Promise.all([r1(['report', notRun]), r1(['report', run])]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/not a run directory: no run\.json/);
    expect(readdirSync(notRun)).toEqual([]);
    expect(good.status, good.stderr).toBe(0);
    expect(existsSync(join(run, 'report.html'))).toBe(true);
  });

  it('1 for a runtime error (the endpoint does not answer)', async () => {
    const res = await r1(['eval', '--endpoint', 'http://127.0.0.1:9/v1', '--model', 'm', '--problems', '1', '--k', '1']);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/^r1 eval: /m);
  }, 60_000);
});

describe("r1 eval of a run's checkpoint", () => {
  let run: string;
  let ckpt: string;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', quiet: true });
    run = mkdtempSync(join(tmpdir(), 'r1-evalrun-'));
    ckpt = join(run, 'rl-all', 'ckpt-1');
    mkdirSync(join(run, 'rl-all'), { recursive: true });
    makeTinyCheckpoint(ckpt, { steps: 1 });
    await disposeBackend();
    // The run trained 2-digit bare prompts (`47+85=`) and evaluates 8 problems with k 2: not eval's own defaults.
    writeFileSync(join(run, 'run.json'), JSON.stringify({ config: recipePresets.quick }));
  }, 120_000);

  it("defaults to the run's task, split and sampling; a flag given on the command line wins", async () => {
    const [own, flagged] = await Promise.all([
      r1(['eval', ckpt, '--backend', 'cpu']),
      r1(['eval', ckpt, '--backend', 'cpu', '--digits', '3', '--k', '1']),
    ]);
    expect(own.status, own.stderr).toBe(0);
    expect(own.stdout).toMatch(/digits 2, bare prompts/);
    expect(own.stdout).toMatch(/\(8 problems, k=2\)/);
    expect(own.stderr).toContain(`evaluating on the run's own task (${run}/run.json)`);
    expect(flagged.status, flagged.stderr).toBe(0);
    expect(flagged.stdout).toMatch(/digits 3, bare prompts/);
    expect(flagged.stdout).toMatch(/\(8 problems, k=1\)/);
  }, 120_000);
});
