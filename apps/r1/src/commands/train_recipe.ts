// The recipe file of `r1 grpo` / `r1 sft`: TRL's (GRPOConfig, SFTConfig, ModelConfig) and open-r1's
// field names, validated with zod before anything is written. Unknown keys and bad values are a
// ConfigError naming the key (exit 2).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '@r1-ts/tensor-kernels';

/** R1's system prompt as open-r1 uses it for reasoning RL (the default of `r1 grpo`). */
export const R1_SYSTEM_PROMPT = 'A conversation between User and Assistant. The user asks a question, and the Assistant solves it. '
  + 'The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. '
  + 'The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, '
  + 'i.e., <think> reasoning process here </think> <answer> answer here </answer>';

const int = (min: number) => z.number().int().min(min);
const pos = () => z.number().positive().finite();

/** Fields both commands share: model, data, LoRA (TRL's ModelConfig names), schedule, checkpoints. */
const common = {
  model_name_or_path: z.string().min(1).optional(),
  dataset_name: z.string().min(1).optional(),
  dataset_prompt_column: z.string().min(1).optional(),
  dataset_answer_column: z.string().min(1).optional(),
  eval_dataset_name: z.string().min(1).optional(),
  eval_max_samples: int(1).optional(),
  system_prompt: z.string().nullable().optional(),
  output_dir: z.string().min(1).optional(),
  seed: z.number().int().default(42),
  per_device_train_batch_size: int(1).default(8),
  gradient_accumulation_steps: int(1).default(1),
  num_train_epochs: pos().default(1),
  max_steps: z.number().int().min(-1).default(-1),
  save_steps: int(1).default(500),
  eval_steps: int(1).optional(),
  max_grad_norm: z.number().min(0).default(1),
  use_peft: z.boolean().default(true),
  lora_r: int(1).default(16),
  lora_alpha: pos().default(32),
  lora_dropout: z.number().min(0).lt(1).default(0.05),
  lora_target_modules: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).default('all-linear'),
  use_rslora: z.boolean().default(false),
  /** Recompute each decoder layer in backward instead of keeping its activations (long completions). */
  gradient_checkpointing: z.boolean().default(false),
};

const REWARDS = ['accuracy', 'format', 'tag_count', 'cosine', 'repetition_penalty', 'soft_overlong_punishment'] as const;

/**
 * `r1 grpo`'s recipe (TRL GRPOConfig names). `per_device_train_batch_size` counts completions per
 * forward/backward pass; an optimizer step takes `× gradient_accumulation_steps` of them, which
 * must be a multiple of `num_generations` (TRL's rule): that many prompts per step.
 */
export const grpoRecipeSchema = z.strictObject({
  ...common,
  learning_rate: pos().default(1e-6),
  num_generations: int(2).default(8),
  max_prompt_length: int(1).default(512),
  max_completion_length: int(1).default(256),
  temperature: pos().default(1),
  top_p: z.number().gt(0).max(1).default(1),
  beta: z.number().min(0).finite().default(0),
  epsilon: pos().default(0.2),
  epsilon_high: pos().optional(),
  num_iterations: int(1).default(1),
  loss_type: z.enum(['grpo', 'bnpo', 'dr_grpo', 'dapo']).default('grpo'),
  importance_sampling_level: z.enum(['token', 'sequence', 'sequence_token']).default('token'),
  scale_rewards: z.union([z.enum(['group', 'batch', 'none']), z.boolean()]).default('group'),
  mask_truncated_completions: z.boolean().default(false),
  // With --engine: engine/trainer log-prob mismatch correction (TRL's vLLM importance sampling; TIS by default).
  vllm_importance_sampling_mode: z.enum(['token_truncate', 'token_mask', 'sequence_truncate', 'sequence_mask', 'none']).default('token_truncate'),
  vllm_importance_sampling_cap: pos().default(2),
  reward_funcs: z.array(z.enum(REWARDS)).min(1).default(['accuracy', 'format']),
  reward_weights: z.array(z.number().finite()).optional(),
});

/** `r1 sft`'s recipe (TRL SFTConfig names). */
export const sftRecipeSchema = z.strictObject({
  ...common,
  learning_rate: pos().default(2e-5),
  max_length: int(2).default(1024),
  completion_only_loss: z.boolean().default(true),
  weight_decay: z.number().min(0).default(0),
});

export type GrpoRecipe = z.output<typeof grpoRecipeSchema>;
export type SftRecipe = z.output<typeof sftRecipeSchema>;

/** Reads a YAML (or JSON) recipe file into a plain object; a parse error names the file and line. */
export function readRecipeFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`--config ${path}: cannot read (${(e as Error).message})`, ['config']);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`--config ${path}: invalid YAML: ${(e as Error).message}`, ['config']);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`--config ${path}: must be a mapping of recipe fields, got ${Array.isArray(value) ? 'a list' : typeof value}`, ['config']);
  return value as Record<string, unknown>;
}

/**
 * Validates a recipe (file fields with CLI overrides on top); the first problem → ConfigError naming
 * the key, its value and what was expected.
 */
export function parseRecipe<S extends z.ZodType>(schema: S, raw: Record<string, unknown>, source: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    throw new ConfigError(`${source}: unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`, issue.keys);
  }
  const key = issue.path.join('.') || '(root)';
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k as PropertyKey], raw);
  throw new ConfigError(`${source}: ${key} is invalid: ${issue.message}, got ${JSON.stringify(value)}`, [key]);
}

/** Steps of a run: `max_steps` when > 0, else epochs over the dataset at `perStep` samples a step. */
export function totalSteps(recipe: { max_steps: number; num_train_epochs: number }, datasetSize: number, perStep: number): number {
  if (recipe.max_steps > 0) return recipe.max_steps;
  return Math.max(1, Math.ceil((recipe.num_train_epochs * datasetSize) / perStep));
}
