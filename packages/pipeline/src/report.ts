import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '@r1-ts/tensor-kernels';
import { recipeFindings } from './findings';
import type { EvalResult } from './evaluate';

// report.html: every plot is compiled (vega-lite) and rendered (vega, headless) to inline SVG here,
// so the page carries no script and fetches nothing: it opens offline, from a file, years later.

type Row = Record<string, unknown>;
type Num = number | null;
interface EvalEntry { passAt1?: unknown; consAtK?: unknown; formatRate?: unknown; meanLength?: unknown; problems?: unknown; k?: unknown; examples?: unknown }
interface Figure { id: string; title: string; caption: string; spec: TopLevelSpec | null; /** Said instead of (or under) the plot, e.g. why a series is absent. */ note?: string }
interface Artifacts { dir: string; run: Row | null; state: Row | null; metrics: Row[]; samples: Row[]; evals: Record<string, EvalEntry> | null; problems: string[] }

/** Stages in the order of R1's recipe (SPEC-R1 §4), with the names the report shows. */
const STAGE_LABELS: [string, string][] = [
  ['pretrain', 'base'], ['cold-start', 'cold-start SFT'], ['reasoning-rl', 'reasoning RL'],
  ['rejection-sft', 'rejection-sampling SFT'], ['rl-all', 'final'],
  ['distill', 'distilled student'], ['student-rl', 'RL-only student'], ['r1-zero', 'R1-Zero'],
];
const LABEL = new Map(STAGE_LABELS);

/**
 * The name the report (and the `r1 run` summary) gives a stage id: `rl-all` → `final`,
 * `pretrain` → `base`; other ids are their own name.
 *
 * @param stage - A stage id, the name of its directory in the run (`rl-all`).
 * @example
 * ```ts
 * import { stageLabel } from '@r1-ts/pipeline';
 * console.log(stageLabel('rl-all'), stageLabel('distill')); // 'final' 'distilled student'
 * ```
 */
export function stageLabel(stage: string): string {
  return LABEL.get(stage) ?? stage;
}
const SAMPLES_PER_STAGE = 3;
const MAX_POINTS = 400; // per plotted series; longer runs are thinned evenly (last point kept)
const MAX_TEXT = 2000;
const VL_CONFIG = {
  background: 'white', font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11, grid: true, gridColor: '#eee' },
  header: { labelFontSize: 12, labelFontWeight: 'bold' as const }, legend: { labelFontSize: 11, titleFontSize: 11 },
};

const num = (v: unknown): Num => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (v: unknown): string => (num(v) === null ? '—' : `${(num(v)! * 100).toFixed(1)}%`);
const fixed = (v: unknown, d = 1): string => (num(v) === null ? '—' : num(v)!.toFixed(d));
const truncate = (s: unknown): string => { const t = typeof s === 'string' ? s : JSON.stringify(s) ?? ''; return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}…` : t; };
const isObj = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);

function readJsonFile(dir: string, name: string, problems: string[]): unknown {
  const p = join(dir, name);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    problems.push(`${name}: not valid JSON (${(e as Error).message})`);
    return null;
  }
}

/** Reads a JSONL file, skipping blank lines and lines cut short by a crash. */
function readJsonl(dir: string, name: string, problems: string[]): Row[] {
  const p = join(dir, name);
  if (!existsSync(p)) return [];
  let bad = 0;
  const rows = readFileSync(p, 'utf8').split('\n').flatMap((line) => {
    if (!line.trim()) return [];
    try {
      const r = JSON.parse(line);
      if (isObj(r) && typeof r.stage === 'string') return [r];
    } catch { /* counted below */ }
    bad++;
    return [];
  });
  if (bad) problems.push(`${name}: skipped ${bad} unreadable line(s)`);
  return rows;
}

function readArtifacts(dir: string): Artifacts {
  const problems: string[] = [];
  const run = readJsonFile(dir, 'run.json', problems);
  const state = readJsonFile(dir, 'state.json', problems);
  const evals = readJsonFile(dir, 'eval.json', problems);
  return {
    dir, run: isObj(run) ? run : null, state: isObj(state) ? state : null,
    metrics: readJsonl(dir, 'metrics.jsonl', problems), samples: readJsonl(dir, 'samples.jsonl', problems),
    evals: isObj(evals) ? (evals as Record<string, EvalEntry>) : null, problems,
  };
}

/** Stage names in order of first appearance. */
const stagesOf = (rows: Row[]): string[] => [...new Set(rows.map((r) => r.stage as string))];
const byStage = (rows: Row[], stage: string): Row[] => rows.filter((r) => r.stage === stage);
/** An RL stage is one whose rows log a reward (TRL's names), whatever the stage is called. */
const isRlRow = (r: Row): boolean => num(r.reward) !== null || Object.keys(r).some((k) => k.startsWith('rewards/'));
/** R1's order first, then any other stage in the order it appears. */
const r1Order = (stages: string[]): string[] =>
  [...STAGE_LABELS.map(([s]) => s).filter((s) => stages.includes(s)), ...stages.filter((s) => !LABEL.has(s))];

function thin<T>(rows: T[], max = MAX_POINTS): T[] {
  if (rows.length <= max) return rows;
  const stride = Math.ceil(rows.length / max);
  return rows.filter((_, i) => i % stride === 0 || i === rows.length - 1);
}

/** Long-format points {stage, step, series, value} for the given metric keys (label → key). */
function series(rows: Row[], stages: string[], keys: (stage: Row[]) => [string, string][]): Row[] {
  return stages.flatMap((stage) => {
    const rs = byStage(rows, stage);
    return keys(rs).flatMap(([label, key]) =>
      thin(rs.filter((r) => num(r[key]) !== null && num(r.step) !== null)).map((r) => ({ stage, step: r.step, series: label, value: r[key] })),
    );
  });
}

/** Small multiples: one panel per stage, each with its own scales (steps restart per stage). */
function facetByStage(values: Row[], stages: string[], spec: Row, columns = 3): TopLevelSpec | null {
  if (!values.length) return null;
  const present = stages.filter((s) => values.some((v) => v.stage === s));
  return {
    data: { values }, config: VL_CONFIG,
    facet: { field: 'stage', type: 'nominal', title: null, sort: present },
    columns: Math.min(columns, present.length),
    spec: { width: 250, height: 150, ...spec },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as TopLevelSpec;
}

const X_STEP = { field: 'step', type: 'quantitative', title: 'step' };
const seriesLines = (yTitle: string, colorTitle: string): Row => ({
  mark: { type: 'line', strokeWidth: 1.5 },
  encoding: { x: X_STEP, y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } }, color: { field: 'series', type: 'nominal', title: colorTitle } },
});

function lossFigure(a: Artifacts, sft: string[]): Figure {
  const values = series(a.metrics, sft, () => [['loss', 'loss']]);
  return {
    id: 'plot-loss', title: 'Loss per stage', caption: 'Training loss over steps of each supervised stage (pretraining, SFT, distillation, reward model).',
    spec: facetByStage(values, sft, { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x: X_STEP, y: { field: 'value', type: 'quantitative', title: 'loss', scale: { zero: false } } } }),
  };
}

function rewardFigure(a: Artifacts, rl: string[]): Figure {
  const keys = (rs: Row[]): [string, string][] => {
    const fns = [...new Set(rs.flatMap((r) => Object.keys(r)))].map((k) => /^rewards\/(.+)\/mean$/.exec(k)?.[1]).filter((f): f is string => !!f).sort();
    return [['total', 'reward'], ...fns.map((f): [string, string] => [f, `rewards/${f}/mean`])];
  };
  return { id: 'plot-reward', title: 'Reward per function over RL steps', caption: 'Mean reward of each reward function, and the total, per RL step.', spec: facetByStage(series(a.metrics, rl, keys), rl, seriesLines('mean reward', 'reward')) };
}

function lengthFigure(a: Artifacts, rl: string[]): Figure {
  const values = rl.flatMap((stage) =>
    thin(byStage(a.metrics, stage).filter((r) => num(r['completions/mean_length']) !== null && num(r.step) !== null)).map((r) => ({
      stage, step: r.step, mean: r['completions/mean_length'], min: num(r['completions/min_length']), max: num(r['completions/max_length']),
    })),
  );
  const band = { mark: { type: 'area', opacity: 0.25, color: '#4c78a8' }, encoding: { x: X_STEP, y: { field: 'min', type: 'quantitative', title: 'tokens' }, y2: { field: 'max' } } };
  const line = { mark: { type: 'line', strokeWidth: 1.5, color: '#4c78a8' }, encoding: { x: X_STEP, y: { field: 'mean', type: 'quantitative', title: 'tokens' } } };
  const hasBand = values.some((v) => v.min !== null && v.max !== null);
  return { id: 'plot-length', title: 'Completion length over RL steps', caption: 'Mean completion length (line) with the min–max range of each step (band).', spec: facetByStage(values, rl, { layer: hasBand ? [band, line] : [line] }) };
}

function klClipFigure(a: Artifacts, rl: string[]): Figure {
  const keys: [string, string][] = [['KL', 'kl'], ['clip low', 'clip_ratio/low_mean'], ['clip high', 'clip_ratio/high_mean'], ['clip region', 'clip_ratio/region_mean']];
  // A series that is 0 at every step is a flat line on the axis that reads like data: say why instead.
  // KL is 0 (or absent) when β = 0 (no reference model); clip ratios are 0 when every update is on-policy
  // (μ = 1 and one mini-batch per step: π_old = π_θ, ratio exactly 1).
  const all = series(a.metrics, rl, () => keys);
  const zero = new Map<string, string[]>(); // stage → its all-zero series
  const values = all.filter((v) => {
    const same = all.filter((w) => w.stage === v.stage && w.series === v.series);
    if (same.some((w) => w.value !== 0)) return true;
    const list = zero.get(v.stage as string) ?? [];
    if (!list.includes(v.series as string)) zero.set(v.stage as string, [...list, v.series as string]);
    return false;
  });
  const cfg = isObj(a.run?.config) ? a.run!.config as Row : {};
  const betaZero = [...zero.keys()].filter((st) => isObj(cfg[camel(st)]) && (cfg[camel(st)] as Row).beta === 0);
  const lists = [...zero].map(([stage, names]) => `${stageLabel(stage)} — ${names.join(', ')}`).join('; ');
  const anyKl = [...zero.values()].some((n) => n.includes('KL'));
  const anyClip = [...zero.values()].some((n) => n.some((x) => x.startsWith('clip')));
  const why = [
    anyKl ? `KL is 0 when β = 0: no reference model, no KL term${betaZero.length ? ` (β = 0 in ${betaZero.map(stageLabel).join(', ')})` : ''}` : '',
    anyClip ? 'a clip ratio is 0 when no update moved the ratio past that clip (with μ = 1 and one mini-batch per step every update is on-policy: the ratio is exactly 1)' : '',
  ].filter(Boolean).join('; ');
  const note = zero.size ? `Identically 0, so not plotted: ${lists}. ${why[0].toUpperCase()}${why.slice(1)}.` : undefined;
  return {
    id: 'plot-kl-clip', title: 'KL and clip ratios over RL steps', caption: 'KL to the reference policy and the fraction of tokens (or sequences, GSPO) clipped below, above and in total.',
    spec: facetByStage(values, rl, seriesLines('value', 'metric')), note,
  };
}

/** `reasoning-rl` → `reasoningRl`: a stage id as its recipe config key. */
const camel = (stage: string): string => stage.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

const loadsOf = (r: Row): { layer: number; load: number[] }[] =>
  Array.isArray(r.expert_load) ? r.expert_load.filter((l): l is { layer: number; load: number[] } => isObj(l) && num(l.layer) !== null && Array.isArray(l.load) && l.load.length > 0) : [];

function expertLoadFigures(a: Artifacts): Figure[] {
  const stages = stagesOf(a.metrics).filter((s) => byStage(a.metrics, s).some((r) => loadsOf(r).length));
  const last = stages.flatMap((stage) => {
    const latest = new Map<number, number[]>(); // layer → its last logged load
    for (const r of byStage(a.metrics, stage)) for (const l of loadsOf(r)) latest.set(l.layer, l.load);
    return [...latest].sort((x, y) => x[0] - y[0]).flatMap(([layer, load]) => {
      const total = load.reduce((s, v) => s + (num(v) ?? 0), 0);
      return load.map((v, e) => ({ panel: `${stage} · layer ${layer}`, expert: e, share: total > 0 ? (num(v) ?? 0) / total : 0 }));
    });
  });
  const panels = [...new Set(last.map((v) => v.panel))];
  const layers = Math.max(1, ...stages.map((s) => panels.filter((p) => p.startsWith(`${s} · `)).length));
  const bars: TopLevelSpec | null = last.length ? ({
    data: { values: last }, config: VL_CONFIG, columns: Math.min(4, layers),
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
    spec: { width: 160, height: 110, mark: 'bar', encoding: { x: { field: 'expert', type: 'ordinal', title: 'expert' }, y: { field: 'share', type: 'quantitative', title: 'share of routed tokens', axis: { format: '.0%' } } } },
  } as TopLevelSpec) : null;
  const imbalance = stages.flatMap((stage) =>
    thin(byStage(a.metrics, stage).filter((r) => num(r.step) !== null && loadsOf(r).length)).flatMap((r) => loadsOf(r).map((l) => {
      const mean = l.load.reduce((s, v) => s + (num(v) ?? 0), 0) / l.load.length;
      return { stage, step: r.step, series: `layer ${l.layer}`, value: mean > 0 ? Math.max(...l.load.map((v) => num(v) ?? 0)) / mean : null };
    })).filter((v) => v.value !== null),
  );
  return [
    { id: 'plot-expert-load', title: 'Expert load per layer', caption: 'Share of routed tokens per expert at the last logged step of each MoE stage (uniform = 1 / experts).', spec: bars },
    { id: 'plot-expert-imbalance', title: 'Expert load imbalance over steps', caption: 'Max / mean expert load per layer (1 = perfectly balanced).', spec: facetByStage(imbalance, stages, seriesLines('max / mean load', 'layer')) },
  ];
}

function accuracyValues(evals: Record<string, EvalEntry>, stages: string[]): Row[] {
  return stages.flatMap((s) => [
    { stage: stageLabel(s), metric: 'pass@1', value: num(evals[s]?.passAt1) },
    { stage: stageLabel(s), metric: 'cons@k', value: num(evals[s]?.consAtK) },
  ]).filter((v) => v.value !== null);
}

function barsSpec(values: Row[], order: string[]): TopLevelSpec | null {
  if (!values.length) return null;
  const metric = { field: 'metric', type: 'nominal', sort: ['pass@1', 'cons@k'] };
  const x = { field: 'stage', type: 'nominal', title: null, sort: order.map(stageLabel), axis: { labelAngle: -30, labelLimit: 180 } };
  const y = { field: 'value', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%' } };
  return {
    data: { values }, config: VL_CONFIG, width: { step: 30 }, height: 200,
    encoding: { x, xOffset: metric, y },
    layer: [
      { mark: 'bar', encoding: { color: { ...metric, title: null } } },
      { mark: { type: 'text', dy: -6, fontSize: 9, color: '#444' }, encoding: { text: { field: 'value', format: '.0%' } } },
    ],
  } as TopLevelSpec;
}

function accuracyFigures(a: Artifacts): Figure[] {
  const evals = a.evals ?? {};
  const stages = r1Order(Object.keys(evals).filter((s) => isObj(evals[s])));
  const students = ['distill', 'student-rl'].filter((s) => stages.includes(s));
  return [
    { id: 'plot-accuracy', title: 'Accuracy per stage', caption: 'pass@1 (mean over k samples) and cons@k (majority vote) of each stage\'s checkpoint on held-out problems, in R1\'s stage order.', spec: barsSpec(accuracyValues(evals, stages), stages) },
    { id: 'plot-students', title: 'Distilled vs RL-only student', caption: 'The same small dense student, distilled from the final model vs trained with RL alone from its base.', spec: barsSpec(accuracyValues(evals, students), students) },
  ];
}

async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

async function renderFigure(f: Figure): Promise<string> {
  const note = f.note ? `<p class="note">${esc(f.note)}</p>` : '';
  let body = f.note ? '' : '<p class="na">not available</p>';
  if (f.spec) {
    try {
      body = await renderSvg(f.spec);
    } catch (e) {
      body = `<p class="na">plot failed: ${esc((e as Error).message)}</p>`;
    }
  }
  return `<figure id="${f.id}"><h3>${esc(f.title)}</h3>${body}${note}<figcaption>${esc(f.caption)}</figcaption></figure>`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** Scalars of an object as `k=v` pairs (model configs, versions). */
const brief = (v: unknown, max = 8): string =>
  isObj(v) ? Object.entries(v).filter(([, x]) => ['string', 'number', 'boolean'].includes(typeof x)).slice(0, max).map(([k, x]) => `${k}=${x}`).join(', ') : v === undefined ? '' : String(v);

function headerHtml(a: Artifacts): string {
  const cfg = isObj(a.run?.config) ? a.run!.config as Row : {};
  const backend = isObj(a.run?.backend) ? a.run!.backend as Row : null;
  const started = typeof a.run?.startedAt === 'string' ? Date.parse(a.run.startedAt) : NaN;
  const updated = typeof a.state?.updatedAt === 'string' ? Date.parse(a.state.updatedAt) : NaN;
  const current = isObj(a.state?.current) ? a.state!.current as Row : null;
  const completed = isObj(a.state?.completed) ? Object.keys(a.state!.completed as Row) : [];
  const items: [string, string][] = [
    ['recipe', brief(cfg.recipe)], ['algorithm', brief(cfg.algo)], ['attention', brief(cfg.attention)], ['seed', brief(cfg.seed)],
    ['teacher', brief(cfg.teacher)], ['student', brief(cfg.student)],
    ['backend', backend ? `${brief(backend.name)}${backend.threads !== undefined ? `, ${brief(backend.threads)} thread(s)` : ''}${backend.reason ? ` (${brief(backend.reason)})` : ''}` : ''],
    ['started', Number.isFinite(started) ? new Date(started).toISOString() : ''],
    ['wall time', Number.isFinite(started) && Number.isFinite(updated) && updated >= started ? `${duration(updated - started)} (start → last state update)` : ''],
    ['completed stages', completed.join(', ')],
    ['stopped in', current ? `${brief(current.stage)} at step ${brief(current.step)}` : ''],
    ['versions', brief(a.run?.versions, 20)],
  ];
  const dl = items.filter(([k, v]) => v || ['recipe', 'algorithm', 'attention', 'seed', 'backend', 'wall time'].includes(k))
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v ? esc(v) : '<span class="na">not available</span>'}</dd>`).join('');
  const full = a.run?.config ? `<details><summary>full config</summary><pre>${esc(JSON.stringify(a.run.config, null, 2))}</pre></details>` : '';
  const notes = a.problems.length ? `<ul class="problems">${a.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '';
  return `<header><h1>r1-ts run: ${esc(typeof cfg.name === 'string' ? cfg.name : a.dir)}</h1><dl class="summary">${dl}</dl>${full}${notes}</header>`;
}

function evalTableHtml(a: Artifacts): string {
  const evals = a.evals ?? {};
  const stages = r1Order(Object.keys(evals).filter((s) => isObj(evals[s])));
  if (!stages.length) return '<section id="eval"><h2>Evaluation</h2><p class="na">not available</p></section>';
  const rows = stages.map((s) => {
    const e = evals[s];
    return `<tr data-stage="${esc(s)}"><th scope="row">${esc(stageLabel(s))} <code>${esc(s)}</code></th><td>${pct(e.passAt1)}</td><td>${pct(e.consAtK)}</td><td>${fixed(e.k, 0)}</td><td>${pct(e.formatRate)}</td><td>${fixed(e.meanLength)}</td><td>${fixed(e.problems, 0)}</td></tr>`;
  }).join('');
  const missing = STAGE_LABELS.filter(([s]) => !stages.includes(s)).map(([s, l]) => `${l} (${s})`);
  return `<section id="eval"><h2>Evaluation</h2><table><thead><tr><th>stage</th><th>pass@1</th><th>cons@k</th><th>k</th><th>format rate</th><th>mean length</th><th>problems</th></tr></thead><tbody>${rows}</tbody></table>`
    + (missing.length ? `<p class="na">not evaluated in this run: ${esc(missing.join(', '))}</p>` : '') + findingsHtml(evals) + '</section>';
}

/** R1's findings on this run (issue #24): each marked held / did not hold, with its numbers. */
function findingsHtml(evals: Record<string, EvalEntry>): string {
  const items = recipeFindings(evals as Record<string, EvalResult>).map((f) => {
    const mark = f.holds === null ? 'n/a' : f.holds ? 'holds' : 'did not hold';
    return `<li data-finding="${f.id}" class="${f.holds === false ? 'miss' : 'hit'}"><strong>${esc(mark)}</strong>: ${esc(f.claim)} (${esc(f.detail)})</li>`;
  }).join('');
  return `<h3>R1's findings in this run</h3><ol id="findings">${items}</ol>`;
}

function sampleHtml(s: Row): string {
  const rewards = isObj(s.rewards) ? Object.entries(s.rewards).map(([k, v]) => `${k} ${num(v) === null ? '—' : fixed(v, 2)}`).join(', ') : '';
  const meta = [num(s.step) !== null ? `step ${s.step}` : '', num(s.reward) !== null ? `reward ${fixed(s.reward, 3)}` : '', rewards ? `(${rewards})` : '',
    num(s.advantage) !== null ? `advantage ${fixed(s.advantage, 3)}` : '', typeof s.correct === 'boolean' ? (s.correct ? 'correct' : 'wrong') : ''].filter(Boolean).join(' · ');
  return `<div class="sample"><div class="meta">${esc(meta)}</div><div class="label">prompt</div><pre>${esc(truncate(s.prompt))}</pre><div class="label">completion</div><pre>${esc(truncate(s.completion))}</pre></div>`;
}

function samplesHtml(a: Artifacts): string {
  const evals = a.evals ?? {};
  const stages = r1Order([...new Set([...stagesOf(a.samples), ...Object.keys(evals)])]);
  const parts = stages.map((stage) => {
    const train = byStage(a.samples, stage).slice(-SAMPLES_PER_STAGE);
    const ex = Array.isArray(evals[stage]?.examples) ? (evals[stage].examples as unknown[]).filter(isObj).slice(0, SAMPLES_PER_STAGE) : [];
    if (!train.length && !ex.length) return '';
    return `<div class="stage-samples" data-stage="${esc(stage)}"><h3>${esc(stageLabel(stage))} <code>${esc(stage)}</code></h3>`
      + (train.length ? `<h4>training samples (latest)</h4>${train.map(sampleHtml).join('')}` : '')
      + (ex.length ? `<h4>evaluation samples</h4>${ex.map(sampleHtml).join('')}` : '') + '</div>';
  }).join('');
  return `<section id="samples"><h2>Sampled completions</h2>${parts || '<p class="na">not available</p>'}</section>`;
}

const CSS = `body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#222;max-width:1100px;margin:0 auto;padding:16px 24px;background:#fff}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin:16px 0 6px}h4{font-size:13px;margin:10px 0 4px;color:#555}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dt{color:#666}dd{margin:0}
figure{margin:0 0 24px}figure svg{max-width:100%;height:auto}figcaption{color:#666;font-size:12px}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #eee;text-align:right}th[scope=row],thead th:first-child{text-align:left}
code{font-size:12px;color:#777}pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;word-break:break-word;margin:2px 0 8px;font-size:12px}
.sample{border-left:3px solid #ddd;padding-left:10px;margin-bottom:12px}.meta{font-size:12px;color:#555}.label{font-size:11px;color:#888;text-transform:uppercase}
.na{color:#999;font-style:italic}.note{color:#555;font-size:13px;margin:4px 0}.problems{color:#a33}#findings .miss{color:#a33}nav a{margin-right:12px}`;

/**
 * Renders a run directory as one self-contained HTML page: a config summary, plots rendered on the
 * server to inline SVG (loss per stage, reward per function, completion length, KL and clip ratios,
 * expert load, accuracy per stage, distilled vs RL-only student), the eval table and sampled
 * completions. Every file of the run is optional: what is missing reads "not available".
 *
 * @param runDir - The run directory (DESIGN.md "Run directory").
 * @returns The HTML text; it has no script and loads nothing.
 *
 * @example
 * ```ts
 * import { renderReport } from '@r1-ts/pipeline';
 * const html = await renderReport('runs/demo');
 * console.log(html.includes('<svg')); // true once the run has logged metrics
 * ```
 */
export async function renderReport(runDir: string): Promise<string> {
  const a = readArtifacts(runDir);
  const stages = stagesOf(a.metrics);
  const rl = stages.filter((s) => byStage(a.metrics, s).some(isRlRow));
  const sft = stages.filter((s) => !rl.includes(s));
  const figures = [lossFigure(a, sft), rewardFigure(a, rl), lengthFigure(a, rl), klClipFigure(a, rl), ...expertLoadFigures(a), ...accuracyFigures(a)];
  const rendered: string[] = [];
  for (const f of figures) rendered.push(await renderFigure(f)); // sequential: vega views are heavy
  const title = typeof (a.run?.config as Row | undefined)?.name === 'string' ? String((a.run!.config as Row).name) : 'run';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>r1-ts report: ${esc(title)}</title><style>${CSS}</style></head>
<body>${headerHtml(a)}
<nav><a href="#plots">plots</a><a href="#eval">evaluation</a><a href="#samples">samples</a></nav>
<section id="plots"><h2>Plots</h2>${rendered.join('\n')}</section>
${evalTableHtml(a)}
${samplesHtml(a)}
</body></html>
`;
}

/**
 * Renders the run's report and writes it to `<runDir>/report.html` atomically (tmp file + rename),
 * so a reader never sees half a page.
 *
 * @param runDir - The run directory.
 * @returns The path of the written report.html.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { writeReport } from '@r1-ts/pipeline';
 * const path = await writeReport(mkdtempSync(join(tmpdir(), 'run-'))); // an empty run renders too
 * console.log(`open ${path}`);
 * ```
 */
export async function writeReport(runDir: string): Promise<string> {
  const path = join(runDir, 'report.html');
  writeFileAtomic(path, await renderReport(runDir));
  return path;
}
