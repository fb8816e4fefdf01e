// `r1 sft` writes report.html at each checkpoint and at the end: its loss plot has one point per
// step of metrics.jsonl.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGsm8kJsonl, writeTinyLlama } from './testing/tiny_model';
import { runR1Sync } from './testing/cli';

const r1 = (args: string[]) => runR1Sync(args);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'r1-train-report-e2e-'));
  writeTinyLlama(join(dir, 'model'), 1);
  writeGsm8kJsonl(join(dir, 'train.jsonl'), 8);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('r1 sft report.html', () => {
  it('is written with the run, one loss point per logged step, no temporary file left', () => {
    writeFileSync(join(dir, 'sft.yaml'), 'per_device_train_batch_size: 2\nsave_steps: 2\nlora_r: 2\nlearning_rate: 0.01\nmax_steps: 3\n');
    const out = join(dir, 'out');
    const r = r1(['sft', '--model', join(dir, 'model'), '--dataset', join(dir, 'train.jsonl'), '--config', join(dir, 'sft.yaml'), '-o', out, '--backend', 'cpu']);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out)).toContain('report.html');
    expect(readdirSync(out).filter((n) => n.includes('.tmp'))).toEqual([]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const loss = /<figure id="plot-loss">([\s\S]*?)<\/figure>/.exec(html)![1];
    const points = /aria-roledescription="line mark" d="([^"]+)"/.exec(loss)![1].split('L').length;
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(points).toBe(3); // the report of the last checkpoint (step 3) has every step
    expect(html).toContain('<h1>r1-ts sft run:');
  });
});
