// Issue #11, deterministic resume: a recipe run SIGKILLed at seeded random points across its stages
// (one kill inside a checkpoint write, one resume over a corrupted newest checkpoint) and resumed
// each time ends with checkpoints byte-identical to an uninterrupted run's; a corrupted checkpoint of
// a finished stage stops the resume with a CheckpointError naming the file.
//
// The corrupted-newest-checkpoint case does not depend on where a timed kill happens to land (the
// stages are small enough to finish inside a kill's delay): its kill is made inside the write of a
// stage's third checkpoint, so two complete ones are always there to corrupt and fall back between.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '@r1-ts/tensor-kernels';

const root = resolve(__dirname, '../../../..');
const bin = join(root, 'apps/r1/src/bin.ts');

/** Small stages, each present, several checkpoints per stage; β > 0 in one RL stage (reference model). */
const config = {
  backend: 'cpu',
  task: { trainProblems: 60, evalProblems: 4 },
  pretrain: { steps: 3, batchSize: 4, documents: 40, checkpointEvery: 1 },
  coldStart: { steps: 4, batchSize: 4, examples: 12, checkpointEvery: 2 },
  reasoningRl: { steps: 4, checkpointEvery: 1, beta: 0.04, maxCompletionLength: 8 },
  rejection: { steps: 2, prompts: 3, checkpointEvery: 1 },
  rlAll: { steps: 2, checkpointEvery: 1, maxCompletionLength: 8, rewardModel: { steps: 2, batchSize: 4, lr: 1e-3, checkpointEvery: 2, pairs: 8 } },
  distill: { steps: 2, prompts: 3, checkpointEvery: 1 },
  studentRl: { steps: 2, checkpointEvery: 1, maxCompletionLength: 8 },
  r1Zero: { steps: 2, checkpointEvery: 1, maxCompletionLength: 8 },
  eval: { k: 1, maxNewTokens: 8 },
};

/** Progress lines (`[r1] <stage> <step>/<total>`) a kill may follow. */
const triggers: string[] = [
  ...[1, 2, 3].map((s) => `pretrain ${s}/3`), ...[1, 2, 3].map((s) => `pretrain-student ${s}/3`),
  ...[1, 2, 3, 4].map((s) => `cold-start ${s}/4`), ...[1, 2, 3, 4].map((s) => `reasoning-rl ${s}/4`),
  ...[1, 2].map((s) => `rejection-sft ${s}/2`), ...[1, 2].map((s) => `reward-model ${s}/2`),
  ...[1, 2].map((s) => `rl-all ${s}/2`), ...[1, 2].map((s) => `distill ${s}/2`),
  ...[1, 2].map((s) => `student-rl ${s}/2`), ...[1, 2].map((s) => `r1-zero ${s}/2`),
];

interface Outcome { code: number | null; signal: string | null; stderr: string; sawTmp: string | null }

/** Position in {@link triggers} of a progress line, or -1. */
function triggerIndex(line: string): number {
  const m = /^\[r1\] (\S+ \d+\/\d+) /.exec(line);
  return m ? triggers.indexOf(m[1]) : -1;
}

/**
 * Runs `r1 run …`; with `kill`, SIGKILLs it `kill.delayMs` after the first progress line at or past
 * trigger `kill.after` (a resumed run does not repeat the steps it restored), or as soon as a
 * checkpoint's temporary directory appears (`kill.inWrite`) in a stage with at least
 * `kill.complete` complete checkpoints.
 */
function r1(args: string[], kill?: { after?: number; delayMs?: number; inWrite?: string; complete?: number }, env: Record<string, string> = {}): Promise<Outcome> {
  const child = spawn(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', bin, 'run', ...args], {
    cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let sawTmp: string | null = null;
  let armed = false;
  const fire = (ms: number) => {
    if (armed) return;
    armed = true;
    setTimeout(() => child.kill('SIGKILL'), ms);
  };
  let pending = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    if (kill?.after !== undefined && lines.some((l) => triggerIndex(l) >= kill.after!)) fire(kill.delayMs ?? 0);
  });
  const poll = kill?.inWrite
    ? setInterval(() => {
      const tmp = findTmp(kill.inWrite!);
      const complete = tmp ? stageCheckpoints(kill.inWrite!, tmp.split('/')[0]).length : 0;
      if (tmp && !armed && complete >= (kill.complete ?? 0)) {
        sawTmp = tmp;
        fire(0);
      }
    }, 20)
    : null;
  return new Promise((done) => child.on('exit', (code, signal) => {
    if (poll) clearInterval(poll);
    done({ code, signal, stderr, sawTmp });
  }));
}

/** A checkpoint directory being written (`<stage>/ckpt-N.tmp-<pid>`), relative to the run. */
function findTmp(run: string): string | null {
  if (!existsSync(run)) return null;
  for (const stage of readdirSync(run)) {
    const d = join(run, stage);
    if (!statSync(d).isDirectory()) continue;
    const t = readdirSync(d).find((n) => /^ckpt-\d+\.tmp-\d+$/.test(n));
    if (t) return `${stage}/${t}`;
  }
  return null;
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const state = (run: string) => JSON.parse(readFileSync(join(run, 'state.json'), 'utf8'));

/** Every file of every finished stage's final checkpoint (relative path → sha256). */
function finalCheckpoints(run: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [stage, path] of Object.entries(state(run).completed as Record<string, string>)) {
    if (stage === 'eval') continue;
    const files = statSync(path).isDirectory() ? readdirSync(path).map((f) => join(path, f)) : [path];
    for (const f of files) out[relative(run, f)] = sha(f);
  }
  return out;
}

/** Complete checkpoints of the stage in progress, oldest first. */
function stageCheckpoints(run: string, stage: string): string[] {
  const d = join(run, stage);
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((n) => /^ckpt-\d+$/.test(n) && existsSync(join(d, n, 'checksums.json')))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5))).map((n) => join(d, n));
}

describe('r1 run: deterministic resume (issue #11)', () => {
  it('SIGKILLed at 5 seeded points and inside 2 checkpoint writes (one over a corrupted newest checkpoint) and resumed, ends bit-identical to an uninterrupted run', async () => {
    const t0 = performance.now();
    const dir = mkdtempSync(join(tmpdir(), 'r1-resume-'));
    const cfgPath = join(dir, 'config.json');
    writeFileSync(cfgPath, JSON.stringify(config));
    const base = ['--preset', 'quick', '--config', cfgPath];

    const a = join(dir, 'a');
    const whole = await r1([...base, '--out', a]);
    expect(whole.code, whole.stderr).toBe(0);
    const want = finalCheckpoints(a);
    expect(Object.keys(want).filter((k) => k.endsWith('model.safetensors')).length).toBe(10);
    expect(want['reward-model.safetensors']).toBeDefined();
    expect(Object.keys(want).some((k) => k.startsWith('reasoning-rl/') && k.endsWith('reference.safetensors'))).toBe(true);

    // Kill plan: 5 distinct progress lines drawn by a seeded generator, in pipeline order, each with a
    // random delay (so kills land mid-step, mid-sampling or mid-save), plus one kill inside a
    // checkpoint write at a random position in the sequence. First, a kill inside the write of the
    // third checkpoint of a stage (pretrain's last), after which the newest complete one is corrupted.
    const rng = new Rng(20251);
    const picks = rng.shuffle([...triggers.keys()]).slice(0, 5).sort((x, y) => x - y);
    const plan: { after?: number; delayMs?: number; inWrite?: boolean; complete?: number }[] = picks.map((i) => ({ after: i, delayMs: rng.int(0, 400) }));
    plan.splice(rng.int(0, plan.length), 0, { inWrite: true });
    plan.unshift({ inWrite: true, complete: 2 });

    const b = join(dir, 'b');
    let started = false;
    let skipped: string | null = null; // a corrupted newest checkpoint the next resume must skip
    let fellBack = false;
    let refused = false;
    let kills = 0;
    const check = (res: Outcome) => {
      if (skipped && res.stderr.includes(`skipping ${skipped}`)) fellBack = true;
    };
    for (const k of plan) {
      const args = started ? ['--resume', b] : [...base, '--out', b];
      const res = k.inWrite
        ? await r1(args, { inWrite: b, complete: k.complete }, { R1_TEST_PAUSE_IN_CHECKPOINT_WRITE: k.complete ? '3000' : '10000' })
        : await r1(args, { after: k.after, delayMs: k.delayMs });
      started = true;
      check(res);
      if (res.signal !== 'SIGKILL') {
        expect(res.code, res.stderr).toBe(0); // it finished before this kill point
        continue;
      }
      kills++;
      if (k.inWrite) {
        // Killed with a half-written checkpoint: its final name does not exist, only the tmp dir.
        expect(res.sawTmp).toMatch(/ckpt-\d+\.tmp-\d+$/);
        expect(existsSync(join(b, res.sawTmp!.replace(/\.tmp-\d+$/, '')))).toBe(false);
        expect(existsSync(join(b, res.sawTmp!, 'checksums.json'))).toBe(false);
      }
      const cur = existsSync(join(b, 'state.json')) ? state(b) : null;
      const ckpts = cur?.current ? stageCheckpoints(b, cur.current.stage) : [];
      if (!skipped && cur?.current && !cur.completed[cur.current.stage] && ckpts.length >= 2) {
        // Corrupt the newest checkpoint of the stage in progress: the resume must fall back to the previous one.
        skipped = ckpts.at(-1)!;
        truncateSync(join(skipped, 'model.safetensors'), 1000);
      } else if (!refused && cur?.completed.pretrain && !cur.completed['r1-zero']) {
        // A finished stage's checkpoint that no longer matches state.json: the resume stops, naming the file.
        const file = join(cur.completed.pretrain, 'model.safetensors');
        const bytes = readFileSync(file);
        const bad = Buffer.from(bytes);
        bad[bad.length - 5] ^= 0xff; // same size, still parses: only the checksum can tell
        writeFileSync(file, bad);
        const r = await r1(['--resume', b]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`r1 run: ${file}: checksum mismatch`);
        writeFileSync(file, bytes);
        refused = true;
      }
    }
    const last = await r1(['--resume', b]);
    check(last);
    expect(last.code, last.stderr).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(6);
    expect(fellBack).toBe(true);
    expect(refused).toBe(true);
    expect(state(b).current).toBeNull();
    expect(finalCheckpoints(b)).toEqual(want);
    console.log(`resume test: ${kills} kills, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 240_000);
});
