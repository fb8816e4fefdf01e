import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '@r1-ts/tensor-kernels';
import { recipeFindings } from './findings';
import type { EvalResult } from './evaluate';
import {
  byStage, esc, facetByStage, isObj, isRlRow, klClipFigure, LABEL, lengthFigure, lossFigure, num, renderFigure, reportPage, rewardFigure,
  isStageRow, readReportJson, readReportJsonl, seriesLines, STAGE_LABELS, stageLabel, stagesOf, thin, VL_CONFIG,
} from './report_blocks';
import type { ReportFigure as Figure, Row } from './report_blocks';

export { stageLabel } from './report_blocks';

// report.html: every plot is compiled (vega-lite) and rendered (vega, headless) to inline SVG here,
// so the page carries no script and fetches nothing: it opens offline, from a file, years later.

interface EvalEntry { passAt1?: unknown; consAtK?: unknown; formatRate?: unknown; meanLength?: unknown; problems?: unknown; k?: unknown; examples?: unknown }
interface Artifacts { dir: string; run: Row | null; state: Row | null; metrics: Row[]; samples: Row[]; evals: Record<string, EvalEntry> | null; problems: string[] }

const SAMPLES_PER_STAGE = 3;
const MAX_TEXT = 2000;
const pct = (v: unknown): string => (num(v) === null ? '—' : `${(num(v)! * 100).toFixed(1)}%`);
const fixed = (v: unknown, d = 1): string => (num(v) === null ? '—' : num(v)!.toFixed(d));
const truncate = (s: unknown): string => { const t = typeof s === 'string' ? s : JSON.stringify(s) ?? ''; return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}…` : t; };

function readArtifacts(dir: string): Artifacts {
  const problems: string[] = [];
  const run = readReportJson(dir, 'run.json', problems);
  const state = readReportJson(dir, 'state.json', problems);
  const evals = readReportJson(dir, 'eval.json', problems);
  return {
    dir, run: isObj(run) ? run : null, state: isObj(state) ? state : null,
    metrics: readReportJsonl(dir, 'metrics.jsonl', problems, isStageRow), samples: readReportJsonl(dir, 'samples.jsonl', problems, isStageRow),
    evals: isObj(evals) ? (evals as Record<string, EvalEntry>) : null, problems,
  };
}

/** R1's order first, then any other stage in the order it appears. */
const r1Order = (stages: string[]): string[] =>
  [...STAGE_LABELS.map(([s]) => s).filter((s) => stages.includes(s)), ...stages.filter((s) => !LABEL.has(s))];

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
    ['policy', isObj(cfg.policy) ? `pretrained: ${brief(cfg.policy.pretrained)}` : ''],
    ['pretrained student', isObj(cfg.student) && typeof cfg.student.pretrained === 'string' ? cfg.student.pretrained : ''],
    ['by rule', Array.isArray(a.run?.notes) ? a.run!.notes.map(String).join('; ') : ''],
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
  const config = isObj(a.run?.config) ? a.run!.config as Row : {};
  const figures = [lossFigure(a.metrics, sft), rewardFigure(a.metrics, rl), lengthFigure(a.metrics, rl), klClipFigure(a.metrics, rl, config), ...expertLoadFigures(a), ...accuracyFigures(a)];
  const rendered: string[] = [];
  for (const f of figures) rendered.push(await renderFigure(f)); // sequential: vega views are heavy
  const title = typeof (a.run?.config as Row | undefined)?.name === 'string' ? String((a.run!.config as Row).name) : 'run';
  return reportPage(title, `${headerHtml(a)}
<nav><a href="#plots">plots</a><a href="#eval">evaluation</a><a href="#samples">samples</a></nav>
<section id="plots"><h2>Plots</h2>${rendered.join('\n')}</section>
${evalTableHtml(a)}
${samplesHtml(a)}
`);
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
