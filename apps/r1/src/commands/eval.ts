import type { Command } from 'commander';
import { checkpointProblem, generationSampling, openCheckpoint, runOfCheckpoint } from './checkpoint_dir';
import type { OpenedCheckpoint, RunEvalDefaults } from './checkpoint_dir';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import type { BackendName } from '@r1-ts/tensor-kernels';
import { evalProblems, formatEval, sampleEndpoint, sampleInProcess, scoreSamples } from '../serve/evaluate';
import type { EvalSettings } from '../serve/evaluate';
import { EXIT } from './exit';

interface EvalFlags {
  endpoint?: string;
  model?: string;
  apiKey?: string;
  task: string;
  digits: string;
  promptStyle: string;
  problems: string;
  k: string;
  seed: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  concurrency: string;
  adapter?: string;
  backend: BackendName;
  json?: boolean;
}

/** Flags whose default comes from the run a checkpoint belongs to (run.json), when it is inside one. */
const FROM_RUN = [
  'digits', 'promptStyle', 'problems', 'seed', 'k', 'temperature', 'topP', 'maxTokens',
] as const satisfies readonly (keyof EvalFlags & keyof RunEvalDefaults)[];

/**
 * `r1 eval CKPT` (in process) or `r1 eval --endpoint URL --model NAME` (any OpenAI-compatible server):
 * pass@1 / cons@k on held-out problems of a task. Same seed → same samples on both paths. A checkpoint
 * of a run (`runs/<name>/<stage>/ckpt-<step>`) is evaluated on that run's own task, held-out split and
 * eval sampling (read from `runs/<name>/run.json`) unless flags say otherwise. CKPT may also be a
 * Hugging Face directory of any supported family (with `--adapter DIR`, a PEFT LoRA adapter); its
 * generation_config.json's temperature / top_p then replace the defaults flags leave unset.
 *
 * @example
 * ```ts
 * import { Command } from 'commander';
 * const program = new Command();
 * registerEval(program);
 * await program.parseAsync(['eval', '--endpoint', 'http://127.0.0.1:8000/v1', '--model', 'r1-ts', '--task', 'addition'], { from: 'user' });
 * ```
 */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('pass@1 / cons@k of a checkpoint, or of any OpenAI-compatible model (--endpoint), on a task')
    .argument('[ckpt]', 'checkpoint directory, r1-ts\'s or a Hugging Face one (omit with --endpoint)')
    .option('--endpoint <url>', 'OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1')
    .option('--model <name>', 'model id at the endpoint (default: the first of GET /models)')
    .option('--api-key <key>', 'API key (default: $OPENAI_API_KEY)')
    .option('--task <name>', 'addition', 'addition')
    .option('--digits <n>', 'operand digits (default: the run\'s, else 3)', '3')
    .option('--prompt-style <style>', "question ('What is 47+85?') | bare ('47+85=', as the demo trains) (default: the run's)", 'question')
    .option('--problems <n>', "held-out problems (default: the run's)", '100')
    .option('--k <n>', "samples per problem (default: the run's)", '4')
    .option('--seed <n>', "problem split and sampling seed (default: the run's)", '0')
    .option('--temperature <t>', "sampling temperature (R1 §3: 0.6; default: the run's)", '0.6')
    .option('--top-p <p>', "nucleus sampling (R1 §3: 0.95; default: the run's)", '0.95')
    .option('--max-tokens <n>', "completion budget (default: the run's)", '64')
    .option('--concurrency <n>', 'requests in flight (--endpoint)', '8')
    .option('--adapter <dir>', 'a PEFT LoRA adapter directory merged into the checkpoint (in process)')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu (in process)', 'auto')
    .option('--json', 'print the result as JSON')
    .action(async (ckpt: string | undefined, flags: EvalFlags, command: Command) => {
      const fail = (message: string) => {
        console.error(`r1 eval: ${message}`);
        process.exitCode = EXIT.config;
      };
      if (Boolean(ckpt) === Boolean(flags.endpoint)) return fail('give either a checkpoint directory or --endpoint URL');
      if (flags.adapter !== undefined && !ckpt) return fail('--adapter applies to a checkpoint directory, not to --endpoint');
      let run: RunEvalDefaults | null = null;
      if (ckpt) {
        const problem = checkpointProblem(ckpt);
        if (problem) return fail(problem);
        run = runOfCheckpoint(ckpt);
        if (run) {
          // Flags left at their defaults take the run's values; the ones given on the command line win.
          const taken = FROM_RUN.filter((key) => command.getOptionValueSource(key) !== 'cli');
          for (const key of taken) (flags as unknown as Record<string, string>)[key] = String(run[key]);
          if (taken.length) {
            console.error(`r1 eval: evaluating on the run's own task (${run.root}/run.json): addition, ${flags.digits} digits, `
              + `${flags.promptStyle} prompts, ${flags.problems} held-out problems, seed ${flags.seed}, k ${flags.k}, T ${flags.temperature}, `
              + `top-p ${flags.topP}, max tokens ${flags.maxTokens}; flags override`);
          }
        }
      }
      const ints: Record<string, [string, number]> = { digits: [flags.digits, 1], problems: [flags.problems, 1], k: [flags.k, 1], seed: [flags.seed, -(2 ** 30)], 'max-tokens': [flags.maxTokens, 1], concurrency: [flags.concurrency, 1] };
      for (const [name, [raw, min]] of Object.entries(ints)) {
        if (!Number.isInteger(Number(raw)) || Number(raw) < min) return fail(`--${name} must be an integer >= ${min}, got ${raw}`);
      }
      let temperature = Number(flags.temperature);
      let topP = Number(flags.topP);
      if (!(temperature >= 0)) return fail(`--temperature must be >= 0, got ${flags.temperature}`);
      if (!(topP > 0 && topP <= 1)) return fail(`--top-p must be in (0, 1], got ${flags.topP}`);
      let loaded: OpenedCheckpoint | null = null;
      if (ckpt) {
        try {
          await initBackend({ backend: flags.backend, quiet: true });
          // A checkpoint that does not load (bad config, corrupt weights, bad adapter) is invalid input: exit 2.
          loaded = openCheckpoint(ckpt, { adapter: flags.adapter });
        } catch (e) {
          await disposeBackend();
          return fail((e as Error).message);
        }
        // Settings neither given nor taken from the run come from generation_config.json when it sets them.
        const gen = generationSampling(loaded.generationConfig);
        const unset = (key: 'temperature' | 'topP') => command.getOptionValueSource(key) !== 'cli' && !run;
        if (unset('temperature') && gen.temperature !== undefined) temperature = gen.temperature;
        if (unset('topP') && gen.topP !== undefined) topP = gen.topP;
      }
      const settings: EvalSettings = { k: Number(flags.k), temperature, topP, maxNewTokens: Number(flags.maxTokens), seed: Number(flags.seed) };
      let problems;
      try {
        if (flags.promptStyle !== 'question' && flags.promptStyle !== 'bare') {
          throw new RangeError(`--prompt-style must be question or bare, got ${JSON.stringify(flags.promptStyle)}`);
        }
        problems = evalProblems(flags.task, { digits: Number(flags.digits), problems: Number(flags.problems), seed: settings.seed, promptStyle: flags.promptStyle });
      } catch (e) {
        if (loaded) {
          loaded.adapter?.dispose();
          loaded.model.dispose();
          await disposeBackend();
        }
        return fail((e as Error).message);
      }
      let name: string;
      let samples;
      try {
        if (flags.endpoint) {
          name = flags.model ?? (await firstModel(flags.endpoint, flags.apiKey));
          samples = await sampleEndpoint({ baseURL: flags.endpoint, model: name, apiKey: flags.apiKey, concurrency: Number(flags.concurrency) }, problems, settings);
        } else {
          const { model, tokenizer, stopIds, adapter } = loaded!;
          name = ckpt!;
          try {
            samples = await sampleInProcess(model, tokenizer, problems, settings, { stopIds });
          } finally {
            adapter?.dispose();
            model.dispose();
            await disposeBackend();
          }
        }
      } catch (e) {
        console.error(`r1 eval: ${(e as Error).message}`);
        process.exitCode = EXIT.failure;
        return;
      }
      const result = scoreSamples(problems, samples);
      const task = `${flags.task} (digits ${flags.digits}, ${flags.promptStyle} prompts, T ${temperature}, top-p ${topP}, seed ${settings.seed})`;
      console.log(flags.json ? JSON.stringify({ model: name, task: flags.task, ...result }) : formatEval(name, task, result));
    });
}

async function firstModel(baseURL: string, apiKey?: string): Promise<string> {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL, apiKey: apiKey ?? process.env.OPENAI_API_KEY ?? 'not-needed' });
  for await (const m of client.models.list()) return m.id;
  throw new Error(`${baseURL}/models lists no model; pass --model`);
}
