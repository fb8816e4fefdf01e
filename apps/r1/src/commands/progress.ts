import cliProgress from 'cli-progress';
import type { PipelineEvent } from '@r1-ts/pipeline';

/**
 * Renders pipeline events: a cli-progress bar per stage on a TTY (step, loss/reward, ETA), plain
 * lines otherwise (every ~10% of a stage).
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): (e: PipelineEvent) => void {
  const tty = Boolean(stream.isTTY);
  let bar: cliProgress.SingleBar | null = null;
  let lastLine = 0;
  return (e) => {
    if (e.type === 'stage_start') {
      if (tty) {
        bar = new cliProgress.SingleBar(
          { format: `${e.stage.padEnd(16)} [{bar}] {value}/{total} {metric} | ETA {eta_formatted}`, stream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(1, e.total), e.done, { metric: '' });
      } else stream.write(`[r1] ${e.stage}: ${e.total} steps${e.done ? ` (resuming at ${e.done})` : ''}\n`);
      lastLine = e.done;
    } else if (e.type === 'progress') {
      const metric = Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
      if (bar) bar.update(e.step, { metric });
      else if (e.step === e.total || e.step - lastLine >= Math.max(1, Math.round(e.total / 10))) {
        stream.write(`[r1] ${e.stage} ${e.step}/${e.total} ${metric}\n`);
        lastLine = e.step;
      }
    } else if (e.type === 'stage_end') {
      bar?.stop();
      bar = null;
    } else if (e.type === 'stage_skipped') stream.write(`[r1] ${e.stage}: ${e.reason}\n`);
    else if (e.type === 'log') stream.write(`[r1] ${e.message}\n`);
  };
}
