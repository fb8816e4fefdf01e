import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeReport } from '@r1-ts/pipeline';
import { EXIT } from './exit';
import { isTrainOutput, writeTrainReport } from './train_report';

/**
 * `r1 report DIR`: (re)writes report.html of a run directory (`r1 run`) or of an `r1 grpo` / `r1 sft`
 * output directory; a directory that is neither (no run.json) is exit 2, nothing written.
 */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description("write <dir>/report.html from a run directory's metrics, samples and eval (r1 run, r1 grpo, r1 sft)")
    .argument('<dir>', 'run directory, or output directory of r1 grpo / r1 sft')
    .action(async (dir: string) => {
      const root = resolve(dir);
      if (!existsSync(root)) {
        console.error(`r1 report: ${root}: no such run directory`);
        process.exitCode = EXIT.config;
        return;
      }
      if (!existsSync(join(root, 'run.json'))) {
        const inside = existsSync(join(root, '..', 'run.json')) ? ` (its parent ${resolve(root, '..')} is one)` : '';
        console.error(`r1 report: ${root} is not a run directory: no run.json${inside}; r1 run writes one at runs/<name>-<time>/, r1 grpo and r1 sft in their --output`);
        process.exitCode = EXIT.config;
        return;
      }
      console.log(isTrainOutput(root) ? await writeTrainReport(root) : await writeReport(root));
    });
}
