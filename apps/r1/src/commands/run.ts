import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CheckpointError, ConfigError, disposeBackend } from '@r1-ts/tensor-kernels';
import { resolveRecipeConfig, runRecipe, stageLabel } from '@r1-ts/pipeline';
import type { RecipeConfig } from '@r1-ts/pipeline';
import { progressReporter } from './progress';
import { EXIT } from './exit';

interface RunFlags {
  config?: string;
  preset: 'demo' | 'quick';
  out?: string;
  resume?: string;
  recipe?: 'r1' | 'r1-zero';
  algo?: 'grpo' | 'gspo';
  attention?: 'mla' | 'dsa';
  seed?: string;
}

/** Resolves the config of `r1 run` from a preset, a config file and flags (nothing is written). */
export function configFromFlags(flags: RunFlags): RecipeConfig {
  if (flags.preset !== 'demo' && flags.preset !== 'quick') {
    throw new ConfigError(`--preset must be demo or quick, got ${JSON.stringify(flags.preset)}`, ['preset']);
  }
  let file: unknown;
  if (flags.config) {
    try {
      file = JSON.parse(readFileSync(flags.config, 'utf8'));
    } catch (e) {
      throw new ConfigError(`--config ${flags.config}: ${(e as Error).message}`, ['config']);
    }
  }
  const overrides: Record<string, unknown> = {};
  if (flags.recipe) overrides.recipe = flags.recipe;
  if (flags.algo) overrides.algo = flags.algo;
  if (flags.attention) overrides.attention = flags.attention;
  if (flags.seed !== undefined) overrides.seed = Number(flags.seed);
  return resolveRecipeConfig(flags.preset, file, overrides);
}

/** The backend and GEMM the run used, from its run.json (`wasm, 2 thread(s); GEMM: BLAS (…); fused kernels: C`), or null. */
function backendLine(runDir: string): string | null {
  try {
    const { backend } = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { backend?: { name?: string; threads?: number; gemm?: string; reason?: string } };
    if (!backend?.name) return null;
    // The reason ends with what ran the GEMM and the fused kernels; the earlier part says why this backend.
    const at = backend.reason?.indexOf('GEMM:') ?? -1;
    return `${backend.name}, ${backend.threads ?? 1} thread(s); ${at >= 0 ? backend.reason!.slice(at) : `GEMM: ${backend.gemm ?? 'builtin'}`}`;
  } catch {
    return null;
  }
}

/** `r1 run`: the whole R1 recipe. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description("run DeepSeek-R1's recipe on a tiny model (or a pretrained policy/student): pretrain, cold start, RL, rejection sampling, RL for all, distillation, eval")
    .option('--config <file>', 'recipe config JSON (deep-merged over the preset; policy.pretrained / student.pretrained: Hugging Face checkpoints)')
    .option('--preset <name>', 'demo | quick', 'demo')
    .option('--out <dir>', 'run directory (default runs/<name>-<time>)')
    .option('--resume <dir>', 'continue the run in <dir> from its last checkpoints')
    .option('--recipe <name>', 'r1 | r1-zero')
    .option('--algo <name>', 'grpo | gspo')
    .option('--attention <name>', 'mla | dsa')
    .option('--seed <n>', 'seed')
    .action(async (flags: RunFlags) => {
      let started = false;
      let out = '';
      try {
        const config = configFromFlags(flags);
        out = resolve(flags.resume ?? flags.out ?? `runs/${config.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
        if (flags.resume && !existsSync(out)) throw new ConfigError(`--resume ${out}: no such run directory`, ['resume']);
        started = true;
        const summary = await runRecipe(config, { out, resume: Boolean(flags.resume), onEvent: progressReporter() });
        console.log(`\nrun directory: ${summary.runDir}  (${summary.wallSeconds.toFixed(0)} s)`);
        const backend = backendLine(summary.runDir);
        if (backend) console.log(`backend: ${backend}`);
        // Pretrained roles: what the run did by rule instead of R1's recipe on models it creates.
        for (const note of summary.notes) console.log(`note: ${note}`);
        // The stage id (the directory name) and the name the report gives it (`rl-all` = final).
        console.log('stage                                  pass@1   cons@k   format');
        for (const [stage, r] of Object.entries(summary.eval)) {
          const name = stageLabel(stage) === stage ? stage : `${stage} (${stageLabel(stage)})`;
          console.log(`${name.padEnd(38)} ${(r.passAt1 * 100).toFixed(1).padStart(6)}%  ${(r.consAtK * 100).toFixed(1).padStart(6)}%  ${(r.formatRate * 100).toFixed(1).padStart(6)}%`);
        }
        if (summary.report) console.log(`report: ${summary.report}`);
      } catch (e) {
        if (e instanceof CheckpointError) {
          // A checkpoint that fails its checksums (corrupted, cut short): name the file, no stack.
          console.error(`r1 run: ${e.message}`);
          process.exitCode = EXIT.failure;
          return;
        }
        if (!(e instanceof ConfigError)) {
          // Anything else is a bug or a fault: say what, and how to continue from the last checkpoint.
          console.error(`r1 run: failed: ${(e as Error)?.stack ?? String(e)}`);
          if (started) console.error(`r1 run: the run can continue from its last checkpoint: r1 run --resume ${out}`);
          process.exitCode = EXIT.failure;
          return;
        }
        console.error(`r1 run: ${e.message}`);
        process.exitCode = EXIT.config;
      } finally {
        if (started) await disposeBackend();
      }
    });
}
