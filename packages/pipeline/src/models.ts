// How a run creates, saves and loads the models of one role (the policy or the student): models the
// run creates itself (DeepSeekModel + the run's character tokenizer, r1-ts checkpoints), or a
// pretrained Hugging Face checkpoint (any family loadPretrained reads, its own tokenizer and chat
// template, checkpoints in the HF layout that loadPretrained and transformers read).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ConfigError, serializeSafetensors, writeFileAtomic } from '@r1-ts/tensor-kernels';
import { CHECKPOINT_MANIFEST, SUPPORTED_MODEL_TYPES, loadCheckpoint, loadPretrained, loadTokenizer, saveCheckpoint, savePretrained, verifyCheckpoint } from '@r1-ts/model';
import type { CausalLM, DeepSeekModel, SaveCheckpointOptions, Tokenizer } from '@r1-ts/model';
import type { RecipeConfig } from './config';
import type { StageContext } from './sft_stage';

/**
 * The models of one role of a run (the policy, or the student): its tokenizer, and how its stage
 * checkpoints are written and read.
 *
 * @example
 * ```ts
 * import { CharTokenizer } from '@r1-ts/model';
 * import { scratchModels, type StageModels } from '@r1-ts/pipeline';
 * const models: StageModels = scratchModels(CharTokenizer.fromCorpus(['1+1=2']));
 * console.log(models.pretrained, models.dense); // null false
 * ```
 */
export interface StageModels {
  /** The pretrained checkpoint directory this role starts from, or null (the run creates its model). */
  readonly pretrained: string | null;
  /** The role's `model_type` (`deepseek_v3` for models the run creates). */
  readonly modelType: string;
  /** A dense family (llama, qwen2, qwen3): no MoE, no MTP, no DSA conversion. */
  readonly dense: boolean;
  /** The tokenizer prompts and completions go through (with its chat template). */
  readonly tokenizer: Tokenizer;
  /** Loads a stage checkpoint of this role (checked against its manifest). */
  load(dir: string): CausalLM<any>;
  /**
   * Writes a stage checkpoint of this role: the model, the tokenizer, the extra files, and last
   * the manifest. Returns the manifest's checksums (file → sha256).
   */
  save(dir: string, model: CausalLM<any>, extra: SaveCheckpointOptions): Record<string, string>;
}

/**
 * The role of a model the run creates: a DeepSeekModel with the run's tokenizer, saved with
 * `saveCheckpoint` and read with `loadCheckpoint` (what every run did before pretrained roles).
 *
 * @param tokenizer - The run's tokenizer, saved with every checkpoint and used to size new models' vocabularies.
 *
 * @example
 * ```ts
 * import { CharTokenizer } from '@r1-ts/model';
 * import { scratchModels } from '@r1-ts/pipeline';
 * const models = scratchModels(CharTokenizer.fromCorpus(['1+1=2']));
 * console.log(models.modelType); // 'deepseek_v3'
 * ```
 */
export function scratchModels(tokenizer: Tokenizer): StageModels {
  return {
    pretrained: null, modelType: 'deepseek_v3', dense: false, tokenizer,
    load: (dir) => loadCheckpoint(dir).model,
    save: (dir, model, extra) => saveCheckpoint(dir, model as DeepSeekModel, tokenizer, extra),
  };
}

/** Tokenizer files copied unchanged from the pretrained checkpoint into every stage checkpoint. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'chat_template.json', 'special_tokens_map.json'];

/**
 * The role of a pretrained checkpoint (`policy.pretrained`, `student.pretrained`): its model
 * family and tokenizer come from `dir`, which is checked now (config.json, a supported family, a
 * tokenizer.json: prompts are rendered with the model's chat template) without loading the weights.
 * Stage checkpoints are Hugging Face directories (`savePretrained`, float32 so training resumes
 * exactly) with the source's tokenizer files, the trainer's files and a manifest written last.
 *
 * @param dir - The pretrained checkpoint directory.
 * @param field - The config field that named it, for errors (`policy.pretrained`).
 * @example
 * ```ts
 * // no-run: reads a checkpoint directory
 * import { pretrainedModels } from '@r1-ts/pipeline';
 * const policy = pretrainedModels('checkpoints/Qwen2.5-0.5B-Instruct', 'policy.pretrained');
 * console.log(policy.modelType, policy.dense); // 'qwen2' true
 * ```
 */
export function pretrainedModels(dir: string, field: string): StageModels {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new ConfigError(`config.${field}: ${dir} has no config.json (expected a Hugging Face checkpoint directory)`, [field]);
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    throw new ConfigError(`config.${field}: ${dir} has no tokenizer.json (prompts are rendered with the model's tokenizer and chat template)`, [field]);
  }
  let modelType: string;
  try {
    modelType = String((JSON.parse(readFileSync(configPath, 'utf8')) as { model_type?: unknown }).model_type);
  } catch (e) {
    throw new ConfigError(`config.${field}: ${configPath} is not valid JSON (${(e as Error).message})`, [field]);
  }
  if (!Object.hasOwn(SUPPORTED_MODEL_TYPES, modelType)) {
    throw new ConfigError(`config.${field}: ${configPath} has model_type ${JSON.stringify(modelType)}, expected one of ${Object.keys(SUPPORTED_MODEL_TYPES).join(', ')}`, [field]);
  }
  // Only the tokenizer is loaded here; the weights are read by the stage that starts from them.
  const tokenizerFiles = Object.fromEntries(TOKENIZER_FILES.filter((n) => existsSync(join(dir, n))).map((n) => [n, readFileSync(join(dir, n))]));
  let tokenizer: Tokenizer;
  try {
    tokenizer = loadTokenizer(dir)!;
  } catch (e) {
    throw new ConfigError(`config.${field}: ${(e as Error).message}`, [field]);
  }
  return {
    pretrained: dir, modelType, dense: !modelType.startsWith('deepseek'), tokenizer,
    load: (ckpt) => {
      verifyCheckpoint(ckpt);
      return loadPretrained(ckpt, { tokenizer: false }).model;
    },
    save: (ckpt, model, extra) => savePretrainedCheckpoint(ckpt, model, tokenizerFiles, extra),
  };
}

/**
 * A stage checkpoint in the Hugging Face layout: `savePretrained` (temporary directory + rename)
 * with the tokenizer and trainer files, then the manifest. A directory cut before its manifest is
 * incomplete, and the run skips it on resume.
 */
function savePretrainedCheckpoint(dir: string, model: CausalLM<any>, tokenizerFiles: Record<string, Uint8Array>, extra: SaveCheckpointOptions): Record<string, string> {
  const files: Record<string, string | Uint8Array> = { ...tokenizerFiles };
  if (extra.optimizer) {
    const { tensors, step } = extra.optimizer.stateTensors();
    files['optimizer.safetensors'] = serializeSafetensors(tensors, { step: String(step) });
  }
  for (const [name, t] of Object.entries(extra.tensorFiles ?? {})) files[name] = serializeSafetensors(t);
  for (const [name, text] of Object.entries(extra.files ?? {})) files[name] = text;
  const written = savePretrained(dir, model, { dtype: 'f32', files });
  const sums = Object.fromEntries(written.map((n) => [n, createHash('sha256').update(readFileSync(join(dir, n))).digest('hex')]));
  writeFileAtomic(join(dir, CHECKPOINT_MANIFEST), JSON.stringify({ algorithm: 'sha256', files: sums }, null, 2) + '\n');
  return sums;
}

/**
 * The policy and student roles of a run: pretrained where the config names a checkpoint
 * (`policy.pretrained`, `student.pretrained`), otherwise created by the run with `tokenizer`.
 * Checks the directories before anything is written.
 *
 * @param cfg - The resolved recipe config; `policy.pretrained` / `student.pretrained` name checkpoint directories.
 * @param tokenizer - The run's tokenizer, for the roles the run creates from scratch.
 *
 * @example
 * ```ts
 * import { buildRunData, recipeRoles, recipePresets } from '@r1-ts/pipeline';
 * const roles = recipeRoles(recipePresets.quick, buildRunData(recipePresets.quick).tokenizer);
 * console.log(roles.policy.pretrained, roles.student.pretrained); // null null
 * ```
 */
export function recipeRoles(cfg: RecipeConfig, tokenizer: Tokenizer): { policy: StageModels; student: StageModels } {
  const scratch = scratchModels(tokenizer);
  return {
    policy: cfg.policy?.pretrained ? pretrainedModels(cfg.policy.pretrained, 'policy.pretrained') : scratch,
    student: cfg.student.pretrained ? pretrainedModels(cfg.student.pretrained, 'student.pretrained') : scratch,
  };
}

/**
 * What a run does differently for pretrained roles, said in its summary: the pretraining stage
 * imports the checkpoint, the size overrides are unused, and the DeepSeek-only parts (DSA
 * conversion, MoE bias balancing, MTP) are skipped for dense families.
 *
 * @param cfg - The resolved recipe config.
 * @param roles - The policy and student roles from {@link recipeRoles}.
 *
 * @example
 * ```ts
 * import { buildRunData, pretrainedNotes, recipeRoles, recipePresets } from '@r1-ts/pipeline';
 * const roles = recipeRoles(recipePresets.quick, buildRunData(recipePresets.quick).tokenizer);
 * console.log(pretrainedNotes(recipePresets.quick, roles)); // [] (no pretrained role)
 * ```
 */
export function pretrainedNotes(cfg: RecipeConfig, roles: { policy: StageModels; student: StageModels }): string[] {
  const notes: string[] = [];
  for (const [role, m, stage, sizes] of [['policy', roles.policy, 'pretrain', 'teacher'], ['student', roles.student, 'pretrain-student', 'student']] as const) {
    if (!m.pretrained) continue;
    notes.push(`${role}: pretrained ${m.modelType} from ${m.pretrained}; stage ${stage} imports it (no pretraining), config.${sizes} sizes unused`);
    if (m.dense) notes.push(`${role}: ${m.modelType} is dense: no MoE bias balancing, no MTP loss${role === 'policy' && cfg.attention === 'dsa' ? ', DSA stages (dsa-warmup, dsa-sparse) skipped' : ''}`);
    else if (role === 'policy' && cfg.attention === 'dsa') notes.push('policy: pretrained checkpoint: DSA stages (dsa-warmup, dsa-sparse) skipped (they convert a model the run pretrained)');
  }
  return notes;
}

/**
 * The `pretrain` / `pretrain-student` stage of a pretrained role: the checkpoint is the base model.
 * It is read (checked against its config.json) and written into the run as the stage's `ckpt-0`,
 * so later stages, `--resume` and the checksums treat it like any stage checkpoint.
 */
export function importStage(ctx: StageContext, stage: string, role: StageModels): string {
  const src = role.pretrained;
  if (!src) throw new ConfigError(`${stage}: the role has no pretrained checkpoint to import`, ['pretrained']);
  ctx.emit({ type: 'stage_start', stage, total: 0, done: 0 });
  const { model } = loadPretrained(src, { tokenizer: false });
  try {
    if (role.tokenizer.vocabSize > model.config.vocab_size) {
      throw new CheckpointError(`${join(src, 'tokenizer.json')}: tokenizer has ${role.tokenizer.vocabSize} ids but config.vocab_size is ${model.config.vocab_size}`);
    }
    const dir = ctx.run.saveStageCheckpoint(stage, 0, model, role.tokenizer, { files: { 'trainer.json': JSON.stringify({ step: 0, importedFrom: src }) } }, role);
    ctx.emit({ type: 'stage_end', stage });
    return dir;
  } finally {
    model.dispose();
  }
}
