import { z } from 'zod';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { parseConfig, presets } from '@r1-ts/model';

const int = (min = 0) => z.number().int().min(min);
const pos = () => z.number().positive().finite();

/** Model size overrides on top of the `tiny` preset (Hugging Face field names). */
const modelSize = z
  .object({
    hidden_size: int(1),
    num_hidden_layers: int(1),
    first_k_dense_replace: int(0),
    num_attention_heads: int(1),
    intermediate_size: int(1),
    moe_intermediate_size: int(1),
    n_routed_experts: int(1),
    n_group: int(1),
    topk_group: int(1),
    num_experts_per_tok: int(1),
    n_shared_experts: int(0),
    q_lora_rank: int(1).nullable(),
    kv_lora_rank: int(1),
    qk_nope_head_dim: int(1),
    qk_rope_head_dim: int(2),
    v_head_dim: int(1),
    max_position_embeddings: int(8),
    num_nextn_predict_layers: int(0).max(1),
    index_n_heads: int(1),
    index_head_dim: int(1),
    index_topk: int(1),
  })
  .partial()
  .strict();

/** A Hugging Face checkpoint directory a role starts from (loadPretrained: llama, qwen2, qwen3, deepseek_v3, ...). */
const pretrainedDir = () => z.string().min(1, 'a Hugging Face checkpoint directory');

/**
 * The student: size overrides of a model the run creates, or `pretrained: DIR`, a Hugging Face
 * checkpoint (e.g. a Qwen2.5 or Llama model) that distillation and student RL start from.
 */
const student = modelSize.extend({ pretrained: pretrainedDir().optional() }).strict();

const rl = z
  .object({
    steps: int(0),
    promptsPerStep: int(1),
    numGenerations: int(2),
    lr: pos(),
    beta: z.number().min(0),
    temperature: pos(),
    topP: z.number().gt(0).max(1),
    maxCompletionLength: int(1),
    epsilonLow: pos(),
    epsilonHigh: pos(),
    dynamicSampling: z.boolean(),
    checkpointEvery: int(1),
  })
  .strict();

// decay: the learning rate over the stage's steps — constant, or cosine from lr down to lr/10 at the
// last step (so the stage's final checkpoint is not taken at the peak rate's noise level).
const sft = z.object({ steps: int(0), batchSize: int(1), lr: pos(), decay: z.enum({ constant: 'constant', cosine: 'cosine' }).optional(), checkpointEvery: int(1) }).strict();

/**
 * The zod schema of a recipe config (strict: unknown keys are errors); {@link resolveRecipeConfig}
 * reports its issues as one ConfigError.
 *
 * @example
 * ```ts
 * import { recipeConfigSchema, recipePresets } from '@r1-ts/pipeline';
 * console.log(recipeConfigSchema.safeParse(recipePresets.quick).success); // true
 * ```
 */
export const recipeConfigSchema = z
  .object({
    name: z.string().min(1).regex(/^[\w.-]+$/, 'letters, digits, dot, dash or underscore'),
    seed: int(0),
    // z.enum in object form (the same schema as the array form) so TypeDoc finds a declaration per value.
    recipe: z.enum({ r1: 'r1', 'r1-zero': 'r1-zero' }),
    algo: z.enum({ grpo: 'grpo', gspo: 'gspo' }),
    attention: z.enum({ mla: 'mla', dsa: 'dsa' }),
    backend: z.enum({ auto: 'auto', wasm: 'wasm', cpu: 'cpu', tensorflow: 'tensorflow' }),
    task: z.object({ kind: z.enum({ addition: 'addition' }), digits: int(1).max(9), promptStyle: z.enum({ question: 'question', bare: 'bare' }), trainProblems: int(1), evalProblems: int(1) }).strict(),
    teacher: modelSize,
    student,
    // The policy (the teacher's stages: cold start → RL → rejection SFT → RL for all, and R1-Zero)
    // starts from this pretrained checkpoint instead of a model the run pretrains. Absent: created.
    policy: z.object({ pretrained: pretrainedDir() }).strict().optional(),
    pretrain: sft.extend({ documents: int(1), reasoningFraction: z.number().min(0).max(1) }).strict(),
    dsa: z.object({ warmupSteps: int(0), sparseSteps: int(0), lr: pos() }).strict(),
    coldStart: sft.extend({ examples: int(1) }).strict(),
    reasoningRl: rl,
    rejection: sft.extend({ prompts: int(1), samplesPerPrompt: int(1), generalExamples: int(0), from: z.enum({ base: 'base', 'reasoning-rl': 'reasoning-rl' }) }).strict(),
    rlAll: rl.extend({ generalFraction: z.number().min(0).max(1), rewardModel: sft.extend({ pairs: int(2) }).strict() }).strict(),
    distill: sft.extend({ prompts: int(1), samplesPerPrompt: int(1) }).strict(),
    studentRl: rl,
    r1Zero: rl,
    eval: z.object({ k: int(1), temperature: pos(), topP: z.number().gt(0).max(1), maxNewTokens: int(1) }).strict(),
  })
  .strict();

/**
 * A validated recipe config (every field present).
 *
 * @example
 * ```ts
 * import { resolveRecipeConfig, type RecipeConfig } from '@r1-ts/pipeline';
 * const cfg: RecipeConfig = resolveRecipeConfig('quick', { seed: 3 });
 * console.log(cfg.seed, cfg.coldStart.steps, cfg.eval.k); // 3 3 2
 * ```
 */
export type RecipeConfig = z.output<typeof recipeConfigSchema>;

/**
 * Partial {@link RecipeConfig}, one level deep: what a config file or CLI flags may set.
 *
 * @example
 * ```ts
 * import { resolveRecipeConfig, type RecipeConfigInput } from '@r1-ts/pipeline';
 * const overrides: RecipeConfigInput = { algo: 'gspo', reasoningRl: { steps: 10 } };
 * const cfg = resolveRecipeConfig('demo', overrides);
 * console.log(cfg.reasoningRl.steps, cfg.reasoningRl.numGenerations); // 10 16
 * ```
 */
export type RecipeConfigInput = { [K in keyof RecipeConfig]?: RecipeConfig[K] extends object ? Partial<RecipeConfig[K]> : RecipeConfig[K] };

const rlDefaults = {
  steps: 60, promptsPerStep: 16, numGenerations: 8, lr: 3e-4, beta: 0, temperature: 1, topP: 1, maxCompletionLength: 30,
  epsilonLow: 0.2, epsilonHigh: 0.28, dynamicSampling: true, checkpointEvery: 20,
};

/** The `demo` preset: `npm start`. Sized from issue #7's PyTorch prototype. */
const demo: RecipeConfig = {
  name: 'demo',
  seed: 0,
  recipe: 'r1',
  algo: 'grpo',
  attention: 'mla',
  backend: 'auto',
  // 2-digit addition with bare prompts (`47+85=`). 625 held-out problems: one run's pass@1 then has a
  // standard error ≤ 0.5/√625 = 2 points whatever the model (issue #24; with 100 problems that bound
  // is 5 points, and one run's table could not separate a finding from noise).
  task: { kind: 'addition', digits: 2, promptStyle: 'bare', trainProblems: 2000, evalProblems: 625 },
  teacher: { hidden_size: 64, num_hidden_layers: 2, max_position_embeddings: 128, num_nextn_predict_layers: 0 },
  student: {
    hidden_size: 32, num_hidden_layers: 2, first_k_dense_replace: 2, num_attention_heads: 2, intermediate_size: 96,
    q_lora_rank: 16, kv_lora_rank: 16, qk_nope_head_dim: 8, qk_rope_head_dim: 8, v_head_dim: 8, max_position_embeddings: 128,
    num_nextn_predict_layers: 0,
  },
  pretrain: { steps: 120, batchSize: 16, lr: 3e-3, checkpointEvery: 60, documents: 3000, reasoningFraction: 0.2 },
  dsa: { warmupSteps: 30, sparseSteps: 30, lr: 1e-3 },
  // Cold start on all 2000 train problems' worked solutions (~5 epochs), not 500 (~19 epochs). Measured
  // from one base checkpoint (issue #24, 400 held-out problems): 500 examples left a sharp model (entropy
  // 0.18 nats/token at T 1) at 12.9% or 19.5% depending only on the GEMM's rounding, whose RL groups were
  // mostly all-wrong: RL gained +10.9 / +18.6 points; 2000 examples: 40.8%, and RL +47 (G 16 × 4) / +54 (G 8 × 8).
  coldStart: { steps: 600, batchSize: 16, lr: 3e-3, checkpointEvery: 100, examples: 2000 },
  // R1's group size (G 16, §2.2.1) over 4 prompts: the same 64 completions a round as 8 × 8, but more
  // groups carry signal, so dynamic sampling needs fewer rounds (measured 1.1–1.6 vs 1.6–3.3 per step).
  reasoningRl: { ...rlDefaults, steps: 100, promptsPerStep: 4, numGenerations: 16 },
  // from: 'base' is R1 §2.3.3 (fine-tune V3-Base on ~800k curated samples). At the demo's scale the
  // 1.4k kept samples rebuild from the base less than RL reached; measured on one run (issue #24, 400
  // held-out problems; reasoning RL 87.8%): rejection SFT from the base 69.4% (then RL for all 94.9%),
  // from the RL checkpoint at lr 3e-3 79.1% (→ 99.0%), from the RL checkpoint at lr 3e-4 97.5%.
  // So stage 3 continues from stage 2, at a tenth of the cold start's lr.
  rejection: { steps: 1000, batchSize: 16, lr: 3e-4, checkpointEvery: 250, prompts: 800, samplesPerPrompt: 2, generalExamples: 100, from: 'reasoning-rl' },
  rlAll: { ...rlDefaults, steps: 20, promptsPerStep: 8, generalFraction: 0.25, rewardModel: { steps: 100, batchSize: 16, lr: 1e-3, checkpointEvery: 100, pairs: 400 } },
  // Cosine decay to lr/10: at a constant 3e-3 the student's last checkpoint sits at the peak rate's
  // noise (loss 0.09–0.18, grad-norm spikes to 6) and its pass@1 swung 19.9–63.2% over 5 seeds (issue
  // #24, OpenBLAS); with the decay, from the same teachers' traces: 36.5–92.0%, every seed higher.
  distill: { steps: 1200, batchSize: 16, lr: 3e-3, decay: 'cosine', checkpointEvery: 300, prompts: 800, samplesPerPrompt: 2 },
  studentRl: { ...rlDefaults, steps: 30, promptsPerStep: 8 },
  r1Zero: { ...rlDefaults, steps: 30, promptsPerStep: 8 },
  // k 2 samples per problem (R1 §3's protocol at T 0.6, top-p 0.95): the standard error is set by the
  // 625 problems; more samples per problem would cost eval time without lowering that bound.
  eval: { k: 2, temperature: 0.6, topP: 0.95, maxNewTokens: 30 },
};

/** The `quick` preset: every stage end to end in seconds (plumbing, not effects). */
const quick: RecipeConfig = {
  ...demo,
  name: 'quick',
  task: { kind: 'addition', digits: 2, promptStyle: 'bare', trainProblems: 200, evalProblems: 8 },
  teacher: { ...demo.teacher, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, n_routed_experts: 4, n_group: 2, topk_group: 1, moe_intermediate_size: 16, intermediate_size: 64, q_lora_rank: 16, kv_lora_rank: 16, qk_nope_head_dim: 8, qk_rope_head_dim: 8, v_head_dim: 8, max_position_embeddings: 64 },
  student: { ...demo.student, hidden_size: 16, intermediate_size: 32, max_position_embeddings: 64 },
  pretrain: { ...demo.pretrain, steps: 3, batchSize: 4, documents: 50, checkpointEvery: 2 },
  dsa: { warmupSteps: 2, sparseSteps: 2, lr: 1e-3 },
  coldStart: { ...demo.coldStart, steps: 3, batchSize: 4, examples: 20, checkpointEvery: 2 },
  reasoningRl: { ...rlDefaults, steps: 2, promptsPerStep: 2, numGenerations: 2, maxCompletionLength: 12, checkpointEvery: 1 },
  rejection: { ...demo.rejection, steps: 2, batchSize: 4, prompts: 4, samplesPerPrompt: 2, generalExamples: 4, checkpointEvery: 2 },
  rlAll: { ...rlDefaults, steps: 1, promptsPerStep: 2, numGenerations: 2, maxCompletionLength: 12, checkpointEvery: 1, generalFraction: 0.5, rewardModel: { steps: 2, batchSize: 4, lr: 1e-3, checkpointEvery: 2, pairs: 8 } },
  distill: { ...demo.distill, steps: 2, batchSize: 4, prompts: 4, samplesPerPrompt: 1, checkpointEvery: 2 },
  studentRl: { ...rlDefaults, steps: 1, promptsPerStep: 2, numGenerations: 2, maxCompletionLength: 12, checkpointEvery: 1 },
  r1Zero: { ...rlDefaults, steps: 1, promptsPerStep: 2, numGenerations: 2, maxCompletionLength: 12, checkpointEvery: 1 },
  eval: { k: 2, temperature: 0.6, topP: 0.95, maxNewTokens: 12 },
};

/**
 * Named recipe configs: `demo` (what `npm start` runs) and `quick` (a smoke test of every stage).
 *
 * @example
 * ```ts
 * import { recipePresets } from '@r1-ts/pipeline';
 * console.log(recipePresets.demo.coldStart.steps); // 600
 * ```
 */
export const recipePresets: Record<'demo' | 'quick', RecipeConfig> = { demo, quick };

/**
 * Resolves a recipe config: a preset, deep-merged with a config file's object and then with
 * overrides (CLI flags), validated. Every problem (wrong type, unknown key, impossible value) is
 * reported at once in a {@link ConfigError} naming its path.
 *
 * @param preset - `demo` (what `npm start` runs) or `quick` (every stage in seconds).
 * @param layers - Partial configs deep-merged in order over the preset (a config file, then CLI flags).
 * @example
 * ```ts
 * import { resolveRecipeConfig } from '@r1-ts/pipeline';
 * const c = resolveRecipeConfig('quick', { algo: 'gspo' });
 * console.log(c.algo); // 'gspo'
 * ```
 */
export function resolveRecipeConfig(preset: 'demo' | 'quick', ...layers: unknown[]): RecipeConfig {
  let merged: unknown = structuredClone(recipePresets[preset]);
  for (const layer of layers) if (layer !== undefined) merged = deepMerge(merged, layer);
  const result = recipeConfigSchema.safeParse(merged);
  if (result.success) {
    checkModelSizes(result.data);
    return result.data;
  }
  const problems = result.error.issues.map((i) => {
    const path = ['config', ...i.path].join('.');
    if (i.code === 'unrecognized_keys') return `${path}: unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${path}: ${i.message}`;
  });
  throw new ConfigError(`invalid recipe config:\n  ${problems.join('\n  ')}`, result.error.issues.map((i) => i.path.join('.')));
}

/**
 * The teacher and student sizes must also combine into valid model configs (n_group divides the
 * experts, first_k_dense_replace <= layers, …): checked here, before anything is written, with the
 * model package's own rules; the vocabulary size is the run's, so the preset's stands in.
 */
function checkModelSizes(cfg: RecipeConfig): void {
  const problems: string[] = [];
  const fields: string[] = [];
  for (const which of ['teacher', 'student'] as const) {
    try {
      parseConfig({ ...presets.tiny, ...modelSizes(cfg, which), index_n_heads: null, index_head_dim: null, index_topk: null }, `config.${which}`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.message.split('\n').slice(1).map((l) => l.trim()));
      fields.push(...e.fields.map((f) => `${which}.${f}`));
    }
  }
  if (problems.length) throw new ConfigError(`invalid recipe config:\n  ${problems.join('\n  ')}`, fields);
}

/**
 * The DeepSeek size overrides of the teacher or the student (without `pretrained`, which is not a
 * model config field).
 *
 * @param cfg - The resolved recipe config.
 * @param which - `teacher` or `student`: whose size overrides to return.
 *
 * @example
 * ```ts
 * import { modelSizes, resolveRecipeConfig } from '@r1-ts/pipeline';
 * const cfg = resolveRecipeConfig('quick', { student: { pretrained: 'checkpoints/Qwen2.5-0.5B' } });
 * console.log('pretrained' in modelSizes(cfg, 'student')); // false
 * ```
 */
export function modelSizes(cfg: RecipeConfig, which: 'teacher' | 'student'): z.output<typeof modelSize> {
  const { pretrained: _, ...sizes } = cfg[which] as RecipeConfig['student'];
  return sizes;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlain(base) && isPlain(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
    return out;
  }
  return over;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
