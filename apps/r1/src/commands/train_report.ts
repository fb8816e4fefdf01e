// report.html of an `r1 grpo` / `r1 sft` output directory: its metrics.jsonl (TRL's metric names)
// as plots over steps, built from @r1-ts/pipeline's report blocks (the same figures as `r1 run`'s
// report, one stage: the command), plus the run's settings and its latest metrics.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, writeFileAtomic } from '@r1-ts/tensor-kernels';
import {
  escapeHtml as esc, klClipFigure, lengthFigure, lossFigure, readReportJson, readReportJsonl, renderReportFigure, reportPage, rewardFigure, stepFigure,
} from '@r1-ts/pipeline';
import type { ReportFigure, ReportRow as Row } from '@r1-ts/pipeline';

/** What run.json of `r1 grpo` / `r1 sft` holds (train_common's writeRunJson). */
interface TrainRunJson {
  command?: unknown;
  recipe?: Row;
  tfjs?: unknown;
}

const isObj = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Whether `dir` is the output directory of `r1 grpo` or `r1 sft` (run.json names the command). */
export function isTrainOutput(dir: string): boolean {
  return trainCommand(readRunJson(dir, [])) !== null;
}

function trainCommand(run: TrainRunJson | null): 'grpo' | 'sft' | null {
  return run?.command === 'grpo' || run?.command === 'sft' ? run.command : null;
}

function readRunJson(dir: string, problems: string[]): TrainRunJson | null {
  const v = readReportJson(dir, 'run.json', problems);
  return isObj(v) ? (v as TrainRunJson) : null;
}

/** metrics.jsonl rows with a numeric step; a line cut short by a kill is skipped (and counted). */
function readMetrics(dir: string, problems: string[]): Row[] {
  return readReportJsonl(dir, 'metrics.jsonl', problems, (r) => isNum(r.step));
}

/** The plots of a training run: RL figures when the rows log a reward, then loss and held-out eval. */
function trainFigures(rows: Row[], stage: string, recipe: Row): ReportFigure[] {
  const rl = rows.some((r) => isNum(r.reward));
  const evalKeys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k.startsWith('eval/') && rows.some((r) => isNum(r[k]))).sort();
  const figures: ReportFigure[] = [];
  if (rl) {
    figures.push(
      rewardFigure(rows, [stage]),
      stepFigure({
        id: 'plot-train-accuracy', title: 'Accuracy reward over steps', caption: 'Mean accuracy reward of the sampled completions (rewards/accuracy/mean): the fraction correct.',
        metrics: rows, stages: [stage], series: [['accuracy', 'rewards/accuracy/mean']], yTitle: 'accuracy',
      }),
      klClipFigure(rows, [stage], { [stage]: { beta: recipe.beta } }),
      lengthFigure(rows, [stage]),
    );
  }
  figures.push({ ...lossFigure(rows, [stage]), caption: rl ? 'The GRPO objective (loss) over steps.' : 'Cross-entropy on the completion tokens (loss) over steps.' });
  figures.push(evalKeys.length
    ? stepFigure({
      id: 'plot-eval', title: 'Held-out evaluation over steps', caption: `Metrics on the held-out set (eval_dataset_name) every eval_steps: ${evalKeys.join(', ')}.`,
      metrics: rows, stages: [stage], series: evalKeys.map((k) => [k.slice('eval/'.length), k]), yTitle: 'value',
    })
    : { id: 'plot-eval', title: 'Held-out evaluation over steps', caption: 'Metrics on the held-out set every eval_steps.', spec: null, note: 'No held-out evaluation was logged (set eval_dataset_name and eval_steps).' });
  return figures;
}

const value = (v: unknown): string => (isNum(v) ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : typeof v === 'string' ? v : JSON.stringify(v) ?? '');

function headerHtml(dir: string, command: string, run: TrainRunJson | null, rows: Row[], problems: string[]): string {
  const r = run?.recipe ?? {};
  const checkpoints = existsSync(dir) ? readdirSync(dir).filter((n) => /^checkpoint-\d+$/.test(n)).sort((a, b) => Number(a.slice(11)) - Number(b.slice(11))) : [];
  const items: [string, string][] = [
    ['command', `r1 ${command}`], ['model', value(r.model_name_or_path)], ['dataset', value(r.dataset_name)],
    ['held-out set', value(r.eval_dataset_name)], ['LoRA', r.use_peft === false ? 'no (full fine-tuning)' : isNum(r.lora_r) ? `r ${r.lora_r}, alpha ${value(r.lora_alpha)}` : ''],
    ['steps logged', rows.length ? `${rows.length} (last step ${value(rows[rows.length - 1].step)})` : ''],
    ['checkpoints', checkpoints.join(', ')], ['tfjs', value(run?.tfjs)],
  ];
  const dl = items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v ? esc(v) : '<span class="na">not available</span>'}</dd>`).join('');
  const recipe = run?.recipe ? `<details><summary>full recipe</summary><pre>${esc(JSON.stringify(run.recipe, null, 2))}</pre></details>` : '';
  const notes = problems.length ? `<ul class="problems">${problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '';
  return `<header><h1>r1-ts ${esc(command)} run: ${esc(dir)}</h1><dl class="summary">${dl}</dl>${recipe}${notes}</header>`;
}

/** The last logged value of every metric (a row of metrics.jsonl has only what that step measured). */
function latestHtml(rows: Row[]): string {
  const latest = new Map<string, { step: unknown; value: unknown }>();
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (k !== 'step' && (isNum(v) || typeof v === 'string')) latest.set(k, { step: r.step, value: v });
  if (!latest.size) return '<section id="latest"><h2>Latest metrics</h2><p class="na">not available</p></section>';
  const body = [...latest].sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `<tr data-metric="${esc(k)}"><th scope="row">${esc(k)}</th><td>${esc(value(v.value))}</td><td>${esc(value(v.step))}</td></tr>`).join('');
  return `<section id="latest"><h2>Latest metrics</h2><table><thead><tr><th>metric</th><th>value</th><th>at step</th></tr></thead><tbody>${body}</tbody></table></section>`;
}

/**
 * Renders the report of an `r1 grpo` / `r1 sft` output directory as one self-contained HTML page
 * (no script, nothing fetched): reward by function, accuracy, KL and clip ratios, completion length
 * (GRPO), loss, held-out `eval/*` metrics over steps, the run's settings and its latest metrics.
 *
 * @param outDir - The command's output directory (run.json, metrics.jsonl, checkpoint-<step>/).
 * @example
 * ```ts
 * const html = await renderTrainReport('out/grpo-gsm8k');
 * console.log(html.includes('id="plot-reward"'));
 * ```
 */
export async function renderTrainReport(outDir: string): Promise<string> {
  const problems: string[] = [];
  const run = readRunJson(outDir, problems);
  const rows = readMetrics(outDir, problems);
  const command = trainCommand(run) ?? 'train';
  // The pipeline's figures facet by stage; a training command's rows are one stage, named after it.
  const staged = rows.map((r) => ({ ...r, stage: command }));
  const rendered: string[] = [];
  for (const f of trainFigures(staged, command, run?.recipe ?? {})) rendered.push(await renderReportFigure(f)); // sequential: vega views are heavy
  return reportPage(`${command} ${outDir}`, `${headerHtml(outDir, command, run, rows, problems)}
<nav><a href="#plots">plots</a><a href="#latest">latest metrics</a></nav>
<section id="plots"><h2>Plots</h2>${rendered.join('\n')}</section>
${latestHtml(rows)}
`);
}

/**
 * Writes `<outDir>/report.html` of an `r1 grpo` / `r1 sft` output directory atomically (temporary
 * file, then rename: a reader never sees half a page). Called at every checkpoint and at the end of
 * training, and by `r1 report DIR`. Returns the path.
 *
 * @param outDir - The command's output directory; it must exist.
 * @example
 * ```ts
 * console.log(`open ${await writeTrainReport('out/grpo-gsm8k')}`);
 * ```
 */
export async function writeTrainReport(outDir: string): Promise<string> {
  if (!existsSync(outDir)) throw new ConfigError(`${outDir}: no such output directory`, ['dir']);
  const path = join(outDir, 'report.html');
  writeFileAtomic(path, await renderTrainReport(outDir));
  return path;
}
