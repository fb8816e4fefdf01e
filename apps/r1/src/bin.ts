import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, R1Error } from '@r1-ts/tensor-kernels';
import { registerChat } from './commands/chat';
import { EXIT } from './commands/exit';
import { registerEval } from './commands/eval';
import { registerGenerate } from './commands/generate';
import { registerGolden } from './commands/golden';
import { registerGrpo } from './commands/grpo';
import { registerSft } from './commands/sft';
import { registerRun } from './commands/run';
import { registerReport } from './commands/report';
import { registerServe } from './commands/serve';

// apps/r1/package.json, one level above both src/bin.ts and dist/bin.js.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('r1')
  .description("DeepSeek-R1's recipe in TypeScript: run, evaluate, chat, serve, golden checks")
  .version(version, '-V, --version', 'print the version of r1-ts')
  // Throw instead of exiting, so usage errors (unknown command or option, missing argument) exit 2 as the
  // README promises for invalid flags; set before the commands are registered, which inherit it.
  .exitOverride();

registerGolden(program);
registerRun(program);
registerEval(program);
registerReport(program);
registerServe(program);
registerChat(program);
registerGrpo(program);
registerSft(program);
registerGenerate(program);

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has printed its message; --help and --version are exit 0, everything else is a usage error.
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.config;
  } else {
    // Never let an error reach tfjs-backend-wasm's uncaught-exception hook, which prints its minified source.
    // r1-ts's own runtime errors (out of memory, a bad checkpoint) say what to change: no stack for them.
    const known = e instanceof R1Error && !(e instanceof ConfigError);
    console.error(`r1: ${known ? `${e.name}: ${e.message}` : ((e as Error)?.stack ?? String(e))}`);
    process.exitCode = EXIT.failure;
  }
}
