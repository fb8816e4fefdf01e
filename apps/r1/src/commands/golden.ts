import type { Command } from 'commander';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import type { BackendName } from '@r1-ts/tensor-kernels';
import { checkFixture, formatResult } from '../golden/check';

/** `r1 golden FILE...`: checks this implementation against golden fixtures. */
export function registerGolden(program: Command): void {
  program
    .command('golden')
    .description('check this implementation against golden fixtures (golden-v1 safetensors)')
    .argument('<files...>', 'fixture files')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', 'auto')
    .action(async (files: string[], opts: { backend: BackendName }) => {
      await initBackend({ backend: opts.backend });
      let ok = true;
      for (const file of files) {
        const result = await checkFixture(file);
        console.log(formatResult(result));
        ok &&= result.status === 'PASS';
      }
      await disposeBackend();
      process.exitCode = ok ? 0 : 1;
    });
}
