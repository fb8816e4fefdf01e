import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../../../..');
const bin = join(root, 'apps/r1/src/bin.ts');
const node = (args: string[]) => [process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', bin, ...args]] as const;

/** Runs `r1 …` to completion. */
function r1(args: string[]) {
  const [cmd, argv] = node(args);
  return spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', timeout: 300_000 });
}

/** Starts `r1 …` and SIGKILLs it as soon as `file` exists. Resolves with whether it was killed. */
function runUntil(args: string[], file: string): Promise<boolean> {
  const [cmd, argv] = node(args);
  const child = spawn(cmd, argv, { cwd: root, stdio: 'ignore' });
  return new Promise((done) => {
    const timer = setInterval(() => {
      if (existsSync(file)) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 25);
    child.on('exit', (_code, signal) => {
      clearInterval(timer);
      done(signal === 'SIGKILL');
    });
  });
}

const jsonl = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('r1 run', () => {
  it('rejects an invalid config with exit code 2, naming each bad path, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'r1-bad-'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ seed: 'one', coldStart: { steps: -5 }, colour: 'blue', teacher: { hidden_size: 0 } }));
    const out = join(dir, 'run');
    const res = r1(['run', '--preset', 'quick', '--config', config, '--out', out]);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/config\.seed/);
    expect(res.stderr).toMatch(/config\.coldStart\.steps/);
    expect(res.stderr).toMatch(/config\.teacher\.hidden_size/);
    expect(res.stderr).toMatch(/unknown key\(s\) "colour"/);
    expect(existsSync(out)).toBe(false);
    expect(r1(['run', '--preset', 'huge', '--out', out]).status).toBe(2);
  });

  it('runs every stage of the quick preset, killed during cold start and during RL and resumed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'r1-run-'));
    const out = join(dir, 'run');
    // Longer stages than the preset so the kills land mid-stage, after a checkpoint.
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ coldStart: { steps: 6, checkpointEvery: 2 }, reasoningRl: { steps: 4, checkpointEvery: 1 } }));
    const args = ['run', '--preset', 'quick', '--config', config, '--out', out];

    expect(await runUntil(args, join(out, 'cold-start/ckpt-2/trainer.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')).completed['cold-start']).toBeUndefined();
    expect(await runUntil(['run', '--resume', out], join(out, 'reasoning-rl/ckpt-1/trainer.json'))).toBe(true);
    const res = r1(['run', '--resume', out]);
    expect(res.status, res.stderr).toBe(0);

    const metrics = jsonl(join(out, 'metrics.jsonl'));
    const steps = (stage: string) => metrics.filter((m) => m.stage === stage).map((m) => m.step);
    // Resumed from the checkpoint: no stage restarted from step 1, and every step up to the end ran.
    for (const [stage, n] of [['cold-start', 6], ['reasoning-rl', 4]] as const) {
      expect(steps(stage).filter((s) => s === 1)).toHaveLength(1);
      expect(Math.max(...steps(stage))).toBe(n);
      expect(steps(stage)[0]).toBe(1);
    }
    const evals = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(Object.keys(evals).sort()).toEqual(['cold-start', 'distill', 'pretrain', 'r1-zero', 'reasoning-rl', 'rejection-sft', 'rl-all', 'student-rl']);
    for (const r of Object.values(evals) as { passAt1: number }[]) expect(r.passAt1).toBeGreaterThanOrEqual(0);
    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8'));
    expect(state.current).toBeNull();
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(jsonl(join(out, 'samples.jsonl')).length).toBeGreaterThan(0);
    expect(res.stdout).toMatch(/pass@1/);
  });
});
