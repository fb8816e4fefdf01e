import type { Command } from 'commander';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import type { BackendName } from '@r1-ts/tensor-kernels';
import { loadCheckpoint } from '@r1-ts/model';
import { startServer } from '../serve/server';
import { checkpointProblem } from './checkpoint_dir';
import { EXIT } from './exit';

interface ServeFlags {
  host: string;
  port: string;
  name: string;
  maxBatch: string;
  backend: BackendName;
}

/**
 * `r1 serve CKPT`: an OpenAI-compatible endpoint (`/v1/chat/completions`, `/v1/models`, `/health`).
 * SIGTERM/SIGINT stop accepting requests, finish the ones in flight, then exit 0.
 *
 * @example
 * ```ts
 * import { Command } from 'commander';
 * const program = new Command();
 * registerServe(program);
 * await program.parseAsync(['serve', 'runs/demo/final', '--port', '8000'], { from: 'user' });
 * ```
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a checkpoint behind an OpenAI-compatible API (chat completions with streaming)')
    .argument('<ckpt>', 'checkpoint directory (config.json, model.safetensors, tokenizer.json)')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', '8000')
    .option('--name <id>', 'model id clients pass as `model`', 'r1-ts')
    .option('--max-batch <n>', 'sequences decoded together', '16')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', 'auto')
    .action(async (ckpt: string, flags: ServeFlags) => {
      const port = Number(flags.port);
      const maxBatch = Number(flags.maxBatch);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be an integer in [0, 65535], got ${flags.port}`);
      if (!Number.isInteger(maxBatch) || maxBatch < 1) return fail(`--max-batch must be a positive integer, got ${flags.maxBatch}`);
      const problem = checkpointProblem(ckpt);
      if (problem) return fail(problem);
      let loaded;
      try {
        await initBackend({ backend: flags.backend, quiet: true });
        loaded = loadCheckpoint(ckpt);
      } catch (e) {
        return fail((e as Error).message);
      }
      if (!loaded.tokenizer) return fail(`${ckpt}: no tokenizer.json; r1 serve needs one to read chat messages`);
      const srv = await startServer({ model: loaded.model, tokenizer: loaded.tokenizer, host: flags.host, port, modelName: flags.name, maxBatch });
      console.log(`r1 serve: ${flags.name} on ${srv.url}/v1 (POST /v1/chat/completions, GET /v1/models, GET /health)`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        const { running, waiting } = srv.engine.stats();
        console.log(`r1 serve: ${signal}: draining ${running + waiting} sequence(s), accepting no new requests`);
        await srv.drain();
        loaded.model.dispose();
        await disposeBackend();
        console.log('r1 serve: stopped');
        process.exit(EXIT.ok);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
    });
}

function fail(message: string): void {
  console.error(`r1 serve: ${message}`);
  process.exitCode = EXIT.config;
}
