import type { Command } from 'commander';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import type { BackendName } from '@r1-ts/tensor-kernels';
import { startServer } from '../serve/server';
import { generationSampling, openCheckpoint } from './checkpoint_dir';
import { EXIT } from './exit';

interface ServeFlags {
  host: string;
  port: string;
  name: string;
  maxBatch: string;
  adapter?: string;
  backend: BackendName;
}

/**
 * `r1 serve CKPT`: an OpenAI-compatible endpoint (`/v1/chat/completions`, `/v1/completions`,
 * `/generate`, `/v1/models`, `/health`, weight updates) over any checkpoint directory: one r1-ts
 * wrote, or a Hugging Face directory of any supported family, optionally with `--adapter DIR` (a PEFT
 * LoRA adapter merged in). Prompts go through the tokenizer's chat template; generation stops at
 * every eos id of the checkpoint; generation_config.json's temperature / top_p are the defaults of
 * requests that set none.
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
    .argument('<ckpt>', 'checkpoint directory: r1-ts\'s or a Hugging Face one (config.json, safetensors, tokenizer.json)')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', '8000')
    .option('--name <id>', 'model id clients pass as `model`', 'r1-ts')
    .option('--max-batch <n>', 'sequences decoded together', '16')
    .option('--adapter <dir>', 'a PEFT LoRA adapter directory merged into the served weights')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', 'auto')
    .action(async (ckpt: string, flags: ServeFlags) => {
      const port = Number(flags.port);
      const maxBatch = Number(flags.maxBatch);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be an integer in [0, 65535], got ${flags.port}`);
      if (!Number.isInteger(maxBatch) || maxBatch < 1) return fail(`--max-batch must be a positive integer, got ${flags.maxBatch}`);
      let loaded;
      try {
        await initBackend({ backend: flags.backend, quiet: true });
        loaded = openCheckpoint(ckpt, { adapter: flags.adapter });
      } catch (e) {
        return fail((e as Error).message);
      }
      const gen = generationSampling(loaded.generationConfig);
      const srv = await startServer({
        model: loaded.model, tokenizer: loaded.tokenizer, host: flags.host, port, modelName: flags.name, maxBatch,
        stopIds: loaded.stopIds, adapter: loaded.adapter ?? undefined,
        samplingDefaults: { temperature: gen.temperature ?? 1, topP: gen.topP ?? 1 },
      });
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
