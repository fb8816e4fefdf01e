// Building blocks of the HTML reports (report.html of `r1 run`, and of `r1 grpo` / `r1 sft`): step
// series in vega-lite specs faceted by stage, figures rendered on the server to inline SVG, the
// page's style. A page built from them carries no script and fetches nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';

/**
 * One line of metrics.jsonl (or a config object) as a report reads it: metric name → value.
 *
 * @example
 * ```ts
 * import type { ReportRow } from '@r1-ts/pipeline';
 * const row: ReportRow = { stage: 'grpo', step: 1, reward: 0.5 };
 * ```
 */
export type Row = Record<string, unknown>;
export type Num = number | null;

/**
 * A figure of a report: a vega-lite spec (null: not available) and what it shows.
 *
 * @example
 * ```ts
 * import type { ReportFigure } from '@r1-ts/pipeline';
 * const empty: ReportFigure = { id: 'plot-x', title: 'X', caption: 'Nothing logged yet.', spec: null };
 * ```
 */
export interface ReportFigure { id: string; title: string; caption: string; spec: TopLevelSpec | null; /** Said instead of (or under) the plot, e.g. why a series is absent. */ note?: string }

/** Stages in the order of R1's recipe (SPEC-R1 §4), with the names the report shows. */
export const STAGE_LABELS: [string, string][] = [
  ['pretrain', 'base'], ['cold-start', 'cold-start SFT'], ['reasoning-rl', 'reasoning RL'],
  ['rejection-sft', 'rejection-sampling SFT'], ['rl-all', 'final'],
  ['distill', 'distilled student'], ['student-rl', 'RL-only student'], ['r1-zero', 'R1-Zero'],
];
export const LABEL = new Map(STAGE_LABELS);

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

const MAX_POINTS = 400; // per plotted series; longer runs are thinned evenly (last point kept)
export const VL_CONFIG = {
  background: 'white', font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11, grid: true, gridColor: '#eee' },
  header: { labelFontSize: 12, labelFontWeight: 'bold' as const }, legend: { labelFontSize: 11, titleFontSize: 11 },
};

export const num = (v: unknown): Num => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/**
 * HTML-escapes text for a report page.
 *
 * @param s - Any value; converted with `String()` first, then `&`, `<`, `>`, `"` and `'` are escaped.
 *
 * @example
 * ```ts
 * import { escapeHtml } from '@r1-ts/pipeline';
 * console.log(escapeHtml('<think>')); // '&lt;think&gt;'
 * ```
 */
export const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
export const isObj = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);


/** Stage names in order of first appearance. */
export const stagesOf = (rows: Row[]): string[] => [...new Set(rows.map((r) => r.stage as string))];
export const byStage = (rows: Row[], stage: string): Row[] => rows.filter((r) => r.stage === stage);
/** An RL stage is one whose rows log a reward (TRL's names), whatever the stage is called. */
export const isRlRow = (r: Row): boolean => num(r.reward) !== null || Object.keys(r).some((k) => k.startsWith('rewards/'));

export function thin<T>(rows: T[], max = MAX_POINTS): T[] {
  if (rows.length <= max) return rows;
  const stride = Math.ceil(rows.length / max);
  return rows.filter((_, i) => i % stride === 0 || i === rows.length - 1);
}

/** Long-format points {stage, step, series, value} for the given metric keys (label → key). */
export function series(rows: Row[], stages: string[], keys: (stage: Row[]) => [string, string][]): Row[] {
  return stages.flatMap((stage) => {
    const rs = byStage(rows, stage);
    return keys(rs).flatMap(([label, key]) =>
      thin(rs.filter((r) => num(r[key]) !== null && num(r.step) !== null)).map((r) => ({ stage, step: r.step, series: label, value: r[key] })),
    );
  });
}

/** Small multiples: one panel per stage, each with its own scales (steps restart per stage). */
export function facetByStage(values: Row[], stages: string[], spec: Row, columns = 3): TopLevelSpec | null {
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

export const X_STEP = { field: 'step', type: 'quantitative', title: 'step' };
export const seriesLines = (yTitle: string, colorTitle: string): Row => ({
  mark: { type: 'line', strokeWidth: 1.5 },
  encoding: { x: X_STEP, y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } }, color: { field: 'series', type: 'nominal', title: colorTitle } },
});

/**
 * The loss of each given stage over its steps (one panel per stage), from metrics rows
 * `{ stage, step, loss }`.
 *
 * @param metrics - Rows of the run's metrics.jsonl; rows with `stage`, `step` and a numeric `loss` are plotted.
 * @param sft - Stage ids to draw, one panel each (e.g. the SFT stages).
 *
 * @example
 * ```ts
 * import { lossFigure } from '@r1-ts/pipeline';
 * const f = lossFigure([{ stage: 'sft', step: 1, loss: 2.5 }, { stage: 'sft', step: 2, loss: 2.1 }], ['sft']);
 * console.log(f.id, f.spec !== null); // 'plot-loss' true
 * ```
 */
export function lossFigure(metrics: Row[], sft: string[]): ReportFigure {
  const values = series(metrics, sft, () => [['loss', 'loss']]);
  return {
    id: 'plot-loss', title: 'Loss per stage', caption: 'Training loss over steps of each supervised stage (pretraining, SFT, distillation, reward model).',
    spec: facetByStage(values, sft, { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x: X_STEP, y: { field: 'value', type: 'quantitative', title: 'loss', scale: { zero: false } } } }),
  };
}

/**
 * The total reward (`reward`) and each reward function's mean (`rewards/<name>/mean`, TRL's names)
 * over the steps of each given RL stage.
 *
 * @param metrics - Rows of the run's metrics.jsonl with `stage`, `step`, `reward` and `rewards/<name>/mean`.
 * @param rl - RL stage ids to draw, one panel each.
 *
 * @example
 * ```ts
 * import { rewardFigure } from '@r1-ts/pipeline';
 * const f = rewardFigure([{ stage: 'grpo', step: 1, reward: 0.5, 'rewards/accuracy/mean': 0.5 }], ['grpo']);
 * console.log(f.spec !== null); // true
 * ```
 */
export function rewardFigure(metrics: Row[], rl: string[]): ReportFigure {
  const keys = (rs: Row[]): [string, string][] => {
    const fns = [...new Set(rs.flatMap((r) => Object.keys(r)))].map((k) => /^rewards\/(.+)\/mean$/.exec(k)?.[1]).filter((f): f is string => !!f).sort();
    return [['total', 'reward'], ...fns.map((f): [string, string] => [f, `rewards/${f}/mean`])];
  };
  return { id: 'plot-reward', title: 'Reward per function over RL steps', caption: 'Mean reward of each reward function, and the total, per RL step.', spec: facetByStage(series(metrics, rl, keys), rl, seriesLines('mean reward', 'reward')) };
}

/**
 * Mean completion length (`completions/mean_length`) with its min–max band over RL steps.
 *
 * @param metrics - Rows of the run's metrics.jsonl with `completions/mean_length`, `min_length` and `max_length` (tokens).
 * @param rl - RL stage ids to draw, one panel each.
 *
 * @example
 * ```ts
 * import { lengthFigure } from '@r1-ts/pipeline';
 * const f = lengthFigure([{ stage: 'grpo', step: 1, 'completions/mean_length': 12, 'completions/min_length': 3, 'completions/max_length': 20 }], ['grpo']);
 * console.log(f.id); // 'plot-length'
 * ```
 */
export function lengthFigure(metrics: Row[], rl: string[]): ReportFigure {
  const values = rl.flatMap((stage) =>
    thin(byStage(metrics, stage).filter((r) => num(r['completions/mean_length']) !== null && num(r.step) !== null)).map((r) => ({
      stage, step: r.step, mean: r['completions/mean_length'], min: num(r['completions/min_length']), max: num(r['completions/max_length']),
    })),
  );
  const band = { mark: { type: 'area', opacity: 0.25, color: '#4c78a8' }, encoding: { x: X_STEP, y: { field: 'min', type: 'quantitative', title: 'tokens' }, y2: { field: 'max' } } };
  const line = { mark: { type: 'line', strokeWidth: 1.5, color: '#4c78a8' }, encoding: { x: X_STEP, y: { field: 'mean', type: 'quantitative', title: 'tokens' } } };
  const hasBand = values.some((v) => v.min !== null && v.max !== null);
  return { id: 'plot-length', title: 'Completion length over RL steps', caption: 'Mean completion length (line) with the min–max range of each step (band).', spec: facetByStage(values, rl, { layer: hasBand ? [band, line] : [line] }) };
}

/**
 * KL to the reference (`kl`) and the clip ratios (`clip_ratio/low_mean`, `high_mean`,
 * `region_mean`) over RL steps; a series that is 0 at every step is not drawn but explained in the
 * figure's note (β = 0 when `config[<stage in camelCase>].beta` is 0; on-policy updates).
 *
 * @param config - Per-stage settings by the stage's camelCase name (`{ reasoningRl: { beta: 0 } }`).
 * @param metrics - Rows of the run's metrics.jsonl with `kl` and the `clip_ratio/*` means.
 * @param rl - RL stage ids to draw, one panel each.
 * @example
 * ```ts
 * import { klClipFigure } from '@r1-ts/pipeline';
 * const f = klClipFigure([{ stage: 'grpo', step: 1, kl: 0, 'clip_ratio/region_mean': 0.1 }], ['grpo'], { grpo: { beta: 0 } });
 * console.log(f.note); // 'Identically 0, so not plotted: grpo — KL. KL is 0 when β = 0: …'
 * ```
 */
export function klClipFigure(metrics: Row[], rl: string[], config: Row = {}): ReportFigure {
  const keys: [string, string][] = [['KL', 'kl'], ['clip low', 'clip_ratio/low_mean'], ['clip high', 'clip_ratio/high_mean'], ['clip region', 'clip_ratio/region_mean']];
  // A series that is 0 at every step is a flat line on the axis that reads like data: say why instead.
  // KL is 0 (or absent) when β = 0 (no reference model); clip ratios are 0 when every update is on-policy
  // (μ = 1 and one mini-batch per step: π_old = π_θ, ratio exactly 1).
  const all = series(metrics, rl, () => keys);
  const zero = new Map<string, string[]>(); // stage → its all-zero series
  const values = all.filter((v) => {
    const same = all.filter((w) => w.stage === v.stage && w.series === v.series);
    if (same.some((w) => w.value !== 0)) return true;
    const list = zero.get(v.stage as string) ?? [];
    if (!list.includes(v.series as string)) zero.set(v.stage as string, [...list, v.series as string]);
    return false;
  });
  const cfg = config;
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

async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * A figure as HTML: `<figure id=…>` with its plot rendered (vega, headless) to inline SVG, its
 * note, and its caption; "not available" when the figure has no spec and no note.
 *
 * @param f - A figure from {@link lossFigure}, {@link stepFigure} or the like: its id, caption, vega-lite spec (or null) and optional note.
 *
 * @example
 * ```ts
 * import { lossFigure, renderReportFigure } from '@r1-ts/pipeline';
 * const html = await renderReportFigure(lossFigure([{ stage: 'sft', step: 1, loss: 2 }, { stage: 'sft', step: 2, loss: 1 }], ['sft']));
 * console.log(html.startsWith('<figure id="plot-loss">'), html.includes('<svg')); // true true
 * ```
 */
export async function renderFigure(f: ReportFigure): Promise<string> {
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


export const CSS = `body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#222;max-width:1100px;margin:0 auto;padding:16px 24px;background:#fff}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin:16px 0 6px}h4{font-size:13px;margin:10px 0 4px;color:#555}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dt{color:#666}dd{margin:0}
figure{margin:0 0 24px}figure svg{max-width:100%;height:auto}figcaption{color:#666;font-size:12px}
table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #eee;text-align:right}th[scope=row],thead th:first-child{text-align:left}
code{font-size:12px;color:#777}pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;word-break:break-word;margin:2px 0 8px;font-size:12px}
.sample{border-left:3px solid #ddd;padding-left:10px;margin-bottom:12px}.meta{font-size:12px;color:#555}.label{font-size:11px;color:#888;text-transform:uppercase}
.na{color:#999;font-style:italic}.note{color:#555;font-size:13px;margin:4px 0}.problems{color:#a33}#findings .miss{color:#a33}nav a{margin-right:12px}`;


/**
 * One line per metric key over the steps of each given stage (one panel per stage): the generic
 * step plot of a report (accuracy, eval pass@1, grad norm, ...).
 *
 * @param o - `id` and `title` of the figure, its `caption`, the metrics rows, the `stages` to draw, `series` as [legend label, metric key] pairs, the y axis title and optionally the legend's title (`colorTitle`).
 *
 * @example
 * ```ts
 * import { stepFigure } from '@r1-ts/pipeline';
 * const rows = [{ stage: 'grpo', step: 2, 'eval/pass@1': 0.25 }, { stage: 'grpo', step: 4, 'eval/pass@1': 0.5 }];
 * const f = stepFigure({ id: 'plot-eval', title: 'Held-out pass@1', caption: 'Greedy pass@1.', metrics: rows, stages: ['grpo'], series: [['pass@1', 'eval/pass@1']], yTitle: 'pass@1' });
 * console.log(f.spec !== null); // true
 * ```
 */
export function stepFigure(o: { id: string; title: string; caption: string; metrics: Row[]; stages: string[]; series: [label: string, key: string][]; yTitle: string; colorTitle?: string }): ReportFigure {
  return { id: o.id, title: o.title, caption: o.caption, spec: facetByStage(series(o.metrics, o.stages, () => o.series), o.stages, seriesLines(o.yTitle, o.colorTitle ?? 'metric')) };
}

/**
 * A whole report page around a body: the style, and a Content-Security-Policy that allows no
 * script and no request, so the page opens offline from a file.
 *
 * @param title - The run's name, shown as the page title `r1-ts report: <title>` (escaped here).
 * @param body - Ready HTML of the page's content, inserted as is (escape user text with {@link escapeHtml}).
 *
 * @example
 * ```ts
 * import { reportPage } from '@r1-ts/pipeline';
 * const html = reportPage('my run', '<h1>my run</h1>');
 * console.log(html.startsWith('<!doctype html>')); // true
 * ```
 */
export function reportPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>r1-ts report: ${esc(title)}</title><style>${CSS}</style></head>
<body>${body}</body></html>
`;
}

/**
 * A JSON file of a run directory for a report: null when absent; when not valid JSON, null and a line
 * in `problems` (a report is written even from a damaged run).
 *
 * @param dir - the run (or output) directory
 * @param name - the file in it, e.g. `run.json`
 * @param problems - collects one line per file that could not be read
 * @returns the parsed value, or null
 * @example
 * ```ts
 * import { readReportJson } from '@r1-ts/pipeline';
 * const problems: string[] = [];
 * console.log(readReportJson('runs/none', 'run.json', problems), problems); // null []
 * ```
 */
export function readReportJson(dir: string, name: string, problems: string[]): unknown {
  const p = join(dir, name);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    problems.push(`${name}: not valid JSON (${(e as Error).message})`);
    return null;
  }
}

/** A metrics or samples row of `r1 run` (it names its stage). */
export const isStageRow = (r: Row): boolean => typeof r.stage === 'string';

/**
 * The rows of a JSONL file of a run directory that `keep` accepts: blank lines are ignored; a line
 * cut short by a kill (or any other unreadable or rejected line) is skipped and counted in `problems`.
 *
 * @param dir - the run (or output) directory
 * @param name - the file in it, e.g. `metrics.jsonl`
 * @param problems - gets one line when lines were skipped
 * @param keep - which parsed objects are rows (e.g. those with a numeric `step`)
 * @returns the kept rows, in file order
 * @example
 * ```ts
 * import { readReportJsonl } from '@r1-ts/pipeline';
 * const rows = readReportJsonl('runs/none', 'metrics.jsonl', [], (r) => typeof r.step === 'number'); // []
 * ```
 */
export function readReportJsonl(dir: string, name: string, problems: string[], keep: (row: Row) => boolean): Row[] {
  const p = join(dir, name);
  if (!existsSync(p)) return [];
  let bad = 0;
  const rows = readFileSync(p, 'utf8').split('\n').flatMap((line) => {
    if (!line.trim()) return [];
    try {
      const r: unknown = JSON.parse(line);
      if (isObj(r) && keep(r)) return [r];
    } catch { /* counted below */ }
    bad++;
    return [];
  });
  if (bad) problems.push(`${name}: skipped ${bad} unreadable line(s)`);
  return rows;
}
