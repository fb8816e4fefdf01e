// `r1 run --config` with pretrained models: a tiny random llama policy and qwen2 student (each with
// its own tokenizer.json and chat template) through the quick preset; bad directories exit 2.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPretrained } from '@r1-ts/model';
import { writeTinyHf } from '../../../../packages/pipeline/test/tiny_hf';
import { runR1Sync } from './testing/cli';

const r1 = (args: string[]) => runR1Sync(args);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'r1-run-pretrained-'));
  writeTinyHf(join(dir, 'llama'), 'llama', 1);
  writeTinyHf(join(dir, 'qwen2'), 'qwen2', 2);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('r1 run with policy.pretrained and student.pretrained', () => {
  it('a directory that is not a checkpoint exits 2 naming the field, and writes nothing', () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ policy: { pretrained: join(dir, 'missing') } }));
    const out = join(dir, 'bad-run');
    const r = r1(['run', '--preset', 'quick', '--config', config, '--out', out]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`config.policy.pretrained: ${join(dir, 'missing')} has no config.json`);
    expect(existsSync(out)).toBe(false);
  });

  it('runs the quick preset on them, prints what it skipped by rule, and leaves loadable checkpoints', () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ backend: 'cpu', policy: { pretrained: join(dir, 'llama') }, student: { pretrained: join(dir, 'qwen2') } }));
    const out = join(dir, 'run');
    const r = r1(['run', '--preset', 'quick', '--config', config, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`note: policy: pretrained llama from ${join(dir, 'llama')}; stage pretrain imports it`);
    expect(r.stdout).toContain('note: student: qwen2 is dense: no MoE bias balancing, no MTP loss');
    expect(r.stdout).toMatch(/distill \(distilled student\)\s+\d/);
    expect(r.stdout).toContain(`report: ${join(out, 'report.html')}`);
    for (const [stage, family] of [['rl-all/ckpt-1', 'llama'], ['distill/ckpt-2', 'qwen2']]) {
      const { model, modelType } = loadPretrained(join(out, stage));
      expect(modelType).toBe(family);
      model.dispose();
    }
    // r1 eval reads them too (the run's task and eval settings from its run.json).
    const ev = r1(['eval', join(out, 'distill', 'ckpt-2'), '--backend', 'cpu']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/\(8 problems, k=2\)[\s\S]*pass@1\s+\d/);
  });
});
