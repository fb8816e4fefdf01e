import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeReport } from '@r1-ts/pipeline';
import { EXIT } from './exit';

/** `r1 report DIR`: (re)writes a run's report.html; a directory that is not a run (no run.json) is exit 2, nothing written. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description("write <dir>/report.html from a run directory's metrics, samples and eval")
    .argument('<dir>', 'run directory')
    .action(async (dir: string) => {
      const root = resolve(dir);
      if (!existsSync(root)) {
        console.error(`r1 report: ${root}: no such run directory`);
        process.exitCode = EXIT.config;
        return;
      }
      if (!existsSync(join(root, 'run.json'))) {
        const inside = existsSync(join(root, '..', 'run.json')) ? ` (its parent ${resolve(root, '..')} is one)` : '';
        console.error(`r1 report: ${root} is not a run directory: no run.json${inside}; r1 run writes one at runs/<name>-<time>/`);
        process.exitCode = EXIT.config;
        return;
      }
      console.log(await writeReport(root));
    });
}
