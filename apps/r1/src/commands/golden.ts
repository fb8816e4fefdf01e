import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import type { BackendName } from '@r1-ts/tensor-kernels';
import { checkFixture, formatResult } from '../golden/check';
import { EXIT } from './exit';

/** `r1 golden FILE...`: checks this implementation against golden fixtures. */
export function registerGolden(program: Command): void {
  program
    .command('golden')
    .description('check this implementation against golden fixtures (golden-v1 safetensors)')
    .argument('<files...>', 'fixture files')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu (auto: R1_BACKEND, else the best available)', 'auto')
    .action(async (files: string[], opts: { backend: BackendName }) => {
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length) {
        console.error(`r1 golden: no such fixture file: ${missing.join(', ')}`);
        process.exitCode = EXIT.config;
        return;
      }
      await initBackend({ backend: opts.backend });
      let ok = true;
      for (const file of files) {
        const result = await checkFixture(file);
        console.log(formatResult(result));
        ok &&= result.status === 'PASS';
      }
      await disposeBackend();
      process.exitCode = ok ? EXIT.ok : EXIT.failure;
    });
}
