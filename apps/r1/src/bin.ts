import { Command } from 'commander';
import { registerChat } from './commands/chat';
import { EXIT } from './commands/exit';
import { registerEval } from './commands/eval';
import { registerGolden } from './commands/golden';
import { registerRun } from './commands/run';
import { registerReport } from './commands/report';
import { registerServe } from './commands/serve';

const program = new Command()
  .name('r1')
  .description("DeepSeek-R1's recipe in TypeScript: run, evaluate, chat, serve, golden checks");

registerGolden(program);
registerRun(program);
registerEval(program);
registerReport(program);
registerServe(program);
registerChat(program);

try {
  await program.parseAsync();
} catch (e) {
  // Never let an error reach tfjs-backend-wasm's uncaught-exception hook, which prints its minified source.
  console.error(`r1: ${(e as Error)?.stack ?? String(e)}`);
  process.exitCode = EXIT.failure;
}
