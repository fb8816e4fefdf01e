import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderReport, writeReport } from './report';

const FIXTURE = new URL('../test/fixtures/run-sample', import.meta.url).pathname;
const FIGURES = ['plot-loss', 'plot-reward', 'plot-length', 'plot-kl-clip', 'plot-expert-load', 'plot-expert-imbalance', 'plot-accuracy', 'plot-students'];
// Runs in the page (a string, as this package compiles without the DOM lib): each plot's on-screen
// size and how many of its marks (lines, areas, bars) occupy space.
const MEASURE_PLOTS = `(ids) => ids.map((id) => {
  const svg = document.querySelector('#' + id + ' svg');
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  const marks = svg ? [...svg.querySelectorAll('.role-mark path, .role-mark rect')].filter((e) => {
    const b = e.getBBox();
    return b.width > 0 || b.height > 0;
  }).length : 0;
  return { id, width: box.width, height: box.height, marks };
})`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const figure = (html: string, id: string): string => {
  const m = new RegExp(`<figure id="${id}">([\\s\\S]*?)</figure>`).exec(html);
  if (!m) throw new Error(`figure ${id} missing`);
  return m[1];
};
const readLines = (p: string): Record<string, unknown>[] =>
  readFileSync(p, 'utf8').split('\n').flatMap((l) => { try { return l.trim() ? [JSON.parse(l)] : []; } catch { return []; } });
// Independent of the code under test: how the table is meant to print a rate.
const asPct = (v: number): string => `${(v * 100).toFixed(1)}%`;

describe('report of a complete run (fixture)', () => {
  let dir: string;
  let path: string;
  let html: string;
  let warn: ReturnType<typeof vi.spyOn>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'r1-report-'));
    cpSync(FIXTURE, dir, { recursive: true });
    warn = vi.spyOn(console, 'warn');
    path = await writeReport(dir);
    warn.mockRestore();
    html = readFileSync(path, 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes report.html atomically into the run directory, with no vega warnings', () => {
    expect(path).toBe(join(dir, 'report.html'));
    expect(readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('renders an inline SVG for every plot, with no script and no external reference', () => {
    for (const id of FIGURES) {
      const body = figure(html, id);
      expect(body, id).toMatch(/<svg[^>]*class="marks"/);
      expect(body, id).not.toContain('not available');
      expect(body, id).not.toContain('plot failed');
    }
    expect(html).not.toMatch(/<script|<link|<img|src=|https?:\/\/(?!www\.w3\.org\/)/);
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length); // several inline SVGs share one id space
  });

  it('plots every logged step of each supervised stage', () => {
    const rows = readLines(join(FIXTURE, 'metrics.jsonl'));
    const loss = figure(html, 'plot-loss');
    for (const stage of ['pretrain', 'cold-start', 'rejection-sft', 'reward-model', 'distill']) {
      const rs = rows.filter((r) => r.stage === stage);
      const first = rs.find((r) => r.step === 1)!;
      const path = new RegExp(`aria-label="step: 1; loss: ${first.loss}"[^>]*d="([^"]+)"`).exec(loss);
      expect(path, stage).not.toBeNull();
      expect(path![1].split('L').length, stage).toBe(rs.length);
    }
    // RL stages are not in the loss panels, supervised ones not in the reward panels.
    expect(loss).not.toContain("Title text 'reasoning-rl'");
    expect(figure(html, 'plot-reward')).not.toContain("Title text 'cold-start'");
    for (const fn of ['accuracy', 'format', 'language', 'total']) expect(figure(html, 'plot-reward')).toContain(`reward: ${fn}`);
  });

  it('draws the last expert load per layer of each MoE stage, the length band and the KL / clip lines', () => {
    const rows = readLines(join(FIXTURE, 'metrics.jsonl'));
    const expected: string[] = [];
    for (const stage of ['pretrain', 'cold-start', 'rejection-sft']) {
      const last = rows.filter((r) => r.stage === stage).at(-1)!.expert_load as { layer: number; load: number[] }[];
      for (const { load } of last) {
        const total = load.reduce((s, v) => s + v, 0);
        load.forEach((v, e) => expected.push(`expert: ${e}; share of routed tokens: ${((v / total) * 100).toFixed(0)}%`));
      }
    }
    const bars = [...figure(html, 'plot-expert-load').matchAll(/aria-label="(expert: [^"]+)" role="graphics-symbol" aria-roledescription="bar"/g)].map((m) => m[1]);
    expect(bars.sort()).toEqual(expected.sort());
    expect(figure(html, 'plot-length').match(/aria-roledescription="area mark"/g)).toHaveLength(4);
    const kl = figure(html, 'plot-kl-clip');
    for (const m of ['KL', 'clip low', 'clip high']) expect(kl).toContain(`metric: ${m}`);
    // The fixture logs clip_ratio/region_mean as 0 at every step: said, not drawn as a flat line.
    expect(kl).not.toContain('metric: clip region');
    expect(kl).toMatch(/Identically 0, so not plotted: reasoning RL — clip region; /);
    expect(kl.match(/metric: KL"/g)).toHaveLength(1); // only reasoning-rl logs a KL (beta > 0)
  });

  it('draws accuracy bars at the eval values, students side by side', () => {
    const evals = JSON.parse(readFileSync(join(FIXTURE, 'eval.json'), 'utf8'));
    const students = figure(html, 'plot-students');
    for (const [stage, label] of [['distill', 'distilled student'], ['student-rl', 'RL-only student']]) {
      expect(students).toContain(`aria-label="stage: ${label}; accuracy: ${Math.round(evals[stage].passAt1 * 100)}%; metric: pass@1"`);
      expect(students).toContain(`aria-label="stage: ${label}; accuracy: ${Math.round(evals[stage].consAtK * 100)}%; metric: cons@k"`);
    }
    expect(students).not.toContain('stage: base');
    expect(figure(html, 'plot-accuracy').match(/aria-roledescription="bar"/g)).toHaveLength(2 * Object.keys(evals).length);
  });

  it('prints the eval table in R1 stage order', () => {
    const evals = JSON.parse(readFileSync(join(FIXTURE, 'eval.json'), 'utf8'));
    const order = [...html.matchAll(/<tr data-stage="([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(['pretrain', 'cold-start', 'reasoning-rl', 'rejection-sft', 'rl-all', 'distill', 'student-rl', 'r1-zero']);
    for (const [stage, e] of Object.entries<Record<string, number>>(evals)) {
      const row = new RegExp(`<tr data-stage="${stage}">(.*?)</tr>`).exec(html)![1];
      const cells = [...row.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
      expect(cells, stage).toEqual([asPct(e.passAt1), asPct(e.consAtK), String(e.k), asPct(e.formatRate), e.meanLength.toFixed(1), String(e.problems)]);
    }
  });

  it('summarises the config and run in the header', () => {
    const header = /<header>([\s\S]*?)<\/header>/.exec(html)![1];
    for (const [k, v] of [['recipe', 'r1'], ['algorithm', 'grpo'], ['attention', 'mla'], ['seed', '7'], ['wall time', '12 min 34 s']]) {
      expect(header).toMatch(new RegExp(`<dt>${k}</dt><dd>${v}`));
    }
    expect(header).toContain('wasm, 1 thread(s)');
    expect(header).toContain('metrics.jsonl: skipped 1 unreadable line(s)'); // the fixture ends with a cut line
  });

  it('shows sampled completions per stage, HTML-escaped', () => {
    const samples = /<section id="samples">([\s\S]*?)<\/section>/.exec(html)![1];
    expect(samples).toContain('&lt;think&gt;3+6=9,2+5=7,1+4=5&lt;/think&gt;&lt;answer&gt;579&lt;/answer&gt;');
    expect(samples).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;hi&#39;');
    expect(html).not.toContain('<think>');
    for (const stage of ['reasoning-rl', 'rl-all', 'student-rl', 'r1-zero']) {
      const block = new RegExp(`<div class="stage-samples" data-stage="${stage}">([\\s\\S]*?)(?=<div class="stage-samples"|$)`).exec(samples)![1];
      expect((block.match(/<div class="sample">/g) ?? []).length, stage).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('report of a partial or broken run', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'r1-report-partial-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders a run killed during stage 1: only metrics.jsonl, one stage, thinned to a readable size', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ stage: 'pretrain', step: i + 1, loss: 3 - i / 1000, lr: 0.003 }));
    writeFileSync(join(dir, 'metrics.jsonl'), rows.join('\n') + '\n');
    const html = await renderReport(dir);
    const loss = figure(html, 'plot-loss');
    expect(loss).toContain('<svg');
    const points = /aria-roledescription="line mark" d="([^"]+)"/.exec(loss)![1].split('L').length;
    expect(points).toBeGreaterThan(300);
    expect(points).toBeLessThanOrEqual(401);
    expect(loss).toMatch(/X-axis titled 'step' for a linear scale with values from 0 to 1,?000/); // the last step is kept
    for (const id of FIGURES.filter((f) => f !== 'plot-loss')) expect(figure(html, id), id).toContain('not available');
    expect(html).toContain('<h2>Evaluation</h2><p class="na">not available</p>');
  });

  it('renders an empty directory and unreadable files without throwing', async () => {
    const empty = await renderReport(join(dir, 'does-not-exist'));
    for (const id of FIGURES) expect(figure(empty, id)).toContain('not available');
    writeFileSync(join(dir, 'eval.json'), '{"pretrain": {"passAt1": 0.5');
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ config: { name: 'x<y', recipe: 'r1-zero' } }));
    const html = await renderReport(dir);
    expect(html).toContain('eval.json: not valid JSON');
    expect(html).toContain('r1-ts run: x&lt;y');
    expect(html).toMatch(/<dt>wall time<\/dt><dd><span class="na">not available/);
  });
});

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('report.html in headless Chromium', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'r1-report-browser-')); cpSync(FIXTURE, dir, { recursive: true }); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens offline from file://, every plot drawn, no console error, no request beyond the file', async () => {
    const { chromium } = await import('playwright-core');
    const url = pathToFileURL(await writeReport(dir)).href;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(url, { waitUntil: 'load' });
      const drawn = (await page.evaluate(`(${MEASURE_PLOTS})(${JSON.stringify(FIGURES)})`)) as { id: string; width: number; height: number; marks: number }[];
      for (const d of drawn) {
        expect(d.width, d.id).toBeGreaterThan(100);
        expect(d.height, d.id).toBeGreaterThan(100);
        expect(d.marks, d.id).toBeGreaterThan(0);
      }
      expect(await page.locator('script').count()).toBe(0);
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await browser.close();
    }
  });
});

describe('KL and clip plot when the series are identically 0', () => {
  it('says why (β = 0, on-policy updates) instead of drawing flat lines at 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'r1-report-kl-'));
    try {
      writeFileSync(join(dir, 'run.json'), JSON.stringify({ config: { name: 'kl0', reasoningRl: { beta: 0 }, rlAll: { beta: 0.04 } } }));
      const rows = [1, 2, 3].flatMap((step) => [
        // reasoning-rl: β = 0 and μ = 1, everything 0; rl-all: a real KL, clip ratios still 0.
        { stage: 'reasoning-rl', step, reward: 0.1 * step, kl: 0, 'clip_ratio/low_mean': 0, 'clip_ratio/high_mean': 0, 'clip_ratio/region_mean': 0 },
        { stage: 'rl-all', step, reward: 0.2, kl: 0.01 * step, 'clip_ratio/low_mean': 0, 'clip_ratio/high_mean': 0, 'clip_ratio/region_mean': 0 },
      ]);
      writeFileSync(join(dir, 'metrics.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const kl = figure(await renderReport(dir), 'plot-kl-clip');
      expect(kl).toContain('Identically 0, so not plotted');
      expect(kl).toContain('Identically 0, so not plotted: reasoning RL — KL, clip low, clip high, clip region; final — clip low, clip high, clip region.');
      expect(kl).toContain('KL is 0 when β = 0: no reference model, no KL term (β = 0 in reasoning RL)');
      // Only rl-all's KL is drawn: one line, no clip series.
      expect(kl.match(/metric: KL"/g)).toHaveLength(1);
      expect(kl).not.toContain('metric: clip');
      expect(kl).not.toContain('not available');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
