// report.html of `r1 grpo` / `r1 sft` output directories, from a metrics.jsonl written here with
// TRL's metric names: every plot drawn from the logged steps, the latest metrics, `r1 report DIR`.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerReport } from './report';
import { isTrainOutput, writeTrainReport } from './train_report';

const STEPS = 6;
/** GRPO rows as `r1 grpo` logs them; held-out pass@1 at steps 3 and 6 (eval_steps: 3). */
const grpoRows = Array.from({ length: STEPS }, (_, i) => {
  const step = i + 1;
  return {
    step, epoch: step / 12, learning_rate: 1e-5, loss: 0.1 / step, grad_norm: 1 + step, reward: 0.1 * step,
    'rewards/accuracy/mean': 0.05 * step, 'rewards/format/mean': 0.5, kl: 0.01 * step,
    'clip_ratio/low_mean': 0, 'clip_ratio/high_mean': 0.02, 'clip_ratio/region_mean': 0.02,
    'completions/mean_length': 40 - step, 'completions/min_length': 10, 'completions/max_length': 64,
    ...(step % 3 === 0 && { 'eval/pass@1': step === 3 ? 0.25 : 0.625 }),
  };
});

const figure = (html: string, id: string): string => {
  const m = new RegExp(`<figure id="${id}">([\\s\\S]*?)</figure>`).exec(html);
  if (!m) throw new Error(`figure ${id} missing`);
  return m[1];
};
/** The points of each line mark of a figure's SVG (a path `M x,y L x,y …`). */
const linePoints = (body: string): number[] =>
  [...body.matchAll(/aria-roledescription="line mark" d="([^"]+)"/g)].map((m) => m[1].split('L').length);
/** The legend and axis labels of a figure's SVG. */
const texts = (body: string): string[] => [...body.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'r1-train-report-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function outputDir(name: string, command: string, rows: object[], recipe: object, tail = ''): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'checkpoint-3'), { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ command, recipe, tfjs: '4.22.0' }));
  writeFileSync(join(dir, 'metrics.jsonl'), rows.map((r) => `${JSON.stringify(r)}\n`).join('') + tail);
  return dir;
}

describe('report.html of r1 grpo', () => {
  let dir: string;
  let html: string;
  let warn: ReturnType<typeof vi.spyOn>;
  beforeAll(async () => {
    dir = outputDir('grpo', 'grpo', grpoRows, { model_name_or_path: '/m/qwen', dataset_name: 'gsm8k.jsonl', beta: 0.04, lora_r: 16, lora_alpha: 32 }, '{"step": 7, "rew');
    warn = vi.spyOn(console, 'warn');
    const path = await writeTrainReport(dir);
    warn.mockRestore();
    expect(path).toBe(join(dir, 'report.html'));
    html = readFileSync(path, 'utf8');
  });

  it('is written atomically, with no script, and no vega warning', () => {
    expect(readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]);
    expect(html).not.toMatch(/<script/i);
    expect(warn).not.toHaveBeenCalled();
    expect(isTrainOutput(dir)).toBe(true);
  });

  it('plots reward by function, accuracy, KL and clip ratios, length, loss and held-out pass@1 over every logged step', () => {
    const reward = figure(html, 'plot-reward');
    expect(linePoints(reward)).toEqual([STEPS, STEPS, STEPS]); // total, accuracy, format
    expect(texts(reward)).toEqual(expect.arrayContaining(['total', 'accuracy', 'format']));
    expect(linePoints(figure(html, 'plot-train-accuracy'))).toEqual([STEPS]);
    const kl = figure(html, 'plot-kl-clip');
    // clip low is 0 at every step: not drawn, and the note says why.
    expect(linePoints(kl)).toEqual([STEPS, STEPS, STEPS]);
    expect(texts(kl)).toEqual(expect.arrayContaining(['KL', 'clip high', 'clip region']));
    expect(kl).toMatch(/Identically 0, so not plotted: grpo — clip low/);
    expect(linePoints(figure(html, 'plot-length'))).toEqual([STEPS]);
    expect(figure(html, 'plot-length')).toContain('aria-roledescription="area mark"'); // the min–max band
    expect(linePoints(figure(html, 'plot-loss'))).toEqual([STEPS]);
    const evalFig = figure(html, 'plot-eval');
    expect(linePoints(evalFig)).toEqual([2]); // steps 3 and 6 only
    expect(texts(evalFig)).toContain('pass@1');
  });

  it('lists the latest value of each metric, the run settings and the line it could not read', () => {
    const cell = (metric: string) => new RegExp(`<tr data-metric="${metric.replace(/[/@]/g, (c) => `\\${c}`)}"><th scope="row">[^<]*</th><td>([^<]*)</td><td>([^<]*)</td>`).exec(html)?.slice(1);
    expect(cell('reward')).toEqual(['0.6000', '6']);
    expect(cell('eval/pass@1')).toEqual(['0.6250', '6']);
    expect(cell('completions/mean_length')).toEqual(['34', '6']);
    expect(html).toContain('<dd>/m/qwen</dd>');
    expect(html).toContain('<dd>r 16, alpha 32</dd>');
    expect(html).toContain('<dd>checkpoint-3</dd>');
    expect(html).toContain('metrics.jsonl: skipped 1 unreadable line(s)');
  });
});

describe('report.html of r1 sft', () => {
  it('plots the loss (no RL figures) and says when no held-out evaluation was logged', async () => {
    const rows = Array.from({ length: 4 }, (_, i) => ({ step: i + 1, epoch: (i + 1) / 4, loss: 3 - i * 0.5, grad_norm: 1, learning_rate: 2e-5, num_tokens: 100 }));
    const dir = outputDir('sft', 'sft', rows, { model_name_or_path: '/m/llama', use_peft: false });
    const html = readFileSync(await writeTrainReport(dir), 'utf8');
    expect(linePoints(figure(html, 'plot-loss'))).toEqual([4]);
    expect(html).not.toContain('id="plot-reward"');
    expect(figure(html, 'plot-eval')).toContain('No held-out evaluation was logged');
    expect(html).toContain('<dd>no (full fine-tuning)</dd>');
  });
});

describe('r1 report DIR', () => {
  const report = async (dir: string) => {
    const program = new Command().exitOverride();
    registerReport(program);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    process.exitCode = undefined;
    try {
      await program.parseAsync(['node', 'r1', 'report', dir]);
      return { out: log.mock.calls.flat().join('\n'), err: error.mock.calls.flat().join('\n'), code: process.exitCode };
    } finally {
      log.mockRestore();
      error.mockRestore();
      process.exitCode = undefined;
    }
  };

  it('writes the training report of an r1 grpo output directory', async () => {
    const dir = outputDir('cli', 'grpo', grpoRows, { beta: 0 });
    const r = await report(dir);
    expect(r.code).toBeUndefined();
    expect(r.out).toBe(join(dir, 'report.html'));
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<h1>r1-ts grpo run:');
  });

  it('refuses a directory without run.json (exit 2), writing nothing', async () => {
    const dir = mkdtempSync(join(root, 'empty-'));
    const r = await report(dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not a run directory: no run\.json.*r1 grpo and r1 sft in their --output/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
