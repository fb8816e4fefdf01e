// The keys of @r1-ts/model's option bags, for `rejectUnknownKeys`: a misspelt option (`temprature`,
// `max_new_tokens`) must fail with a ConfigError instead of silently running with the default.
// `keysOf<T>()` takes an object literal with exactly T's keys, so adding or removing a field of an
// options type without updating its list here is a compile error. Model configs (config.json mirrors)
// are not listed: real config.json files carry many keys this library does not read.
import type { PositionOptions } from '@r1-ts/attention-mla';
import { rejectUnknownKeys } from '@r1-ts/tensor-kernels';
import type { SaveCheckpointOptions, verifyCheckpoint } from './checkpoint';
import type { DenseModelOptions } from './dense/model';
import type { GenerateOptions } from './generate';
import type { DeepSeekModel, LossOptions, SequenceOptions } from './model';
import type { AdamWOptions, lrSchedule } from './optim';
import type { DeepSeekPolicy } from './policy';
import type { LoadPretrainedOptions } from './pretrained/load';
import type { SavePretrainedOptions } from './pretrained/save';
import type { SamplingOptions } from './sampling';
import type { TrainStepOptions } from './train';

const keysOf = <T>() => (keys: { [K in keyof Required<T>]: true }): readonly string[] => Object.keys(keys);

const SAMPLING_OPTION_KEYS = keysOf<SamplingOptions>()({ temperature: true, topP: true, topK: true });

const GENERATE_OPTION_KEYS = keysOf<GenerateOptions>()({
  temperature: true, topP: true, topK: true, maxNewTokens: true, stopIds: true, stopStrings: true, seed: true,
  rng: true, useCache: true, onToken: true, signal: true,
});

/** Shared by snake_case and OpenAI-style spellings users bring from other libraries. */
const SAMPLING_HINTS: Readonly<Record<string, string>> = {
  top_p: 'topP', top_k: 'topK', max_new_tokens: 'maxNewTokens', max_tokens: 'maxNewTokens', maxTokens: 'maxNewTokens',
  stop: 'stopStrings (strings) or stopIds (token ids)', do_sample: 'temperature (0 = greedy)',
};

const POSITION_KEYS = keysOf<PositionOptions>()({ startPos: true, positions: true });

const SEQUENCE_OPTION_KEYS = [...POSITION_KEYS, ...keysOf<Omit<SequenceOptions, keyof PositionOptions>>()({ keyMask: true, indexerLoss: true })];

const LOSS_OPTION_KEYS = [...SEQUENCE_OPTION_KEYS, ...keysOf<Omit<LossOptions, keyof SequenceOptions>>()({ lossMask: true, mtpLambda: true, balanceAlpha: true })];

const TRAIN_STEP_OPTION_KEYS = [
  ...LOSS_OPTION_KEYS.filter((k) => k !== 'lossMask'),
  ...keysOf<Omit<TrainStepOptions, keyof LossOptions>>()({ clipNorm: true, biasUpdateGamma: true }),
];

const LOG_PROBS_OPTION_KEYS = [...SEQUENCE_OPTION_KEYS, 'temperature'];

const MODEL_OPTION_KEYS = keysOf<NonNullable<ConstructorParameters<typeof DeepSeekModel>[1]>>()({ seed: true, rng: true, gradientCheckpointing: true });

const DENSE_MODEL_OPTION_KEYS = keysOf<DenseModelOptions>()({ seed: true, rng: true, init: true, weights: true, gradientCheckpointing: true });

const ADAMW_OPTION_KEYS = keysOf<AdamWOptions>()({ lr: true, beta1: true, beta2: true, eps: true, weightDecay: true, noDecay: true });

const ADAMW_HINTS: Readonly<Record<string, string>> = { learningRate: 'lr', weight_decay: 'weightDecay', betas: 'beta1 and beta2', epsilon: 'eps' };

const LR_SCHEDULE_OPTION_KEYS = keysOf<Parameters<typeof lrSchedule>[0]>()({ peak: true, warmup: true, total: true, decay: true, minRatio: true });

const SAVE_CHECKPOINT_OPTION_KEYS = keysOf<SaveCheckpointOptions>()({ optimizer: true, meta: true, files: true, tensorFiles: true, onFileWritten: true });

const VERIFY_CHECKPOINT_OPTION_KEYS = keysOf<NonNullable<Parameters<typeof verifyCheckpoint>[1]>>()({ expected: true, requireManifest: true });

const LOAD_PRETRAINED_OPTION_KEYS = keysOf<LoadPretrainedOptions>()({ maxBytes: true, tokenizer: true });

const SAVE_PRETRAINED_OPTION_KEYS = keysOf<SavePretrainedOptions>()({ dtype: true, maxShardSize: true, generationConfig: true, tokenizer: true, files: true });

const POLICY_OPTION_KEYS = keysOf<NonNullable<ConstructorParameters<typeof DeepSeekPolicy>[2]>>()({ chatTemplate: true, biasUpdateGamma: true });

/** Each checked option bag: its keys, how the error names it, and likely-meant keys for foreign spellings. */
const BAGS = {
  DeepSeekModel: { keys: MODEL_OPTION_KEYS, where: 'DeepSeekModel options', hints: {} },
  DenseModel: { keys: DENSE_MODEL_OPTION_KEYS, where: 'DenseModel options', hints: {} },
  generate: { keys: GENERATE_OPTION_KEYS, where: 'generate options', hints: SAMPLING_HINTS },
  logProbs: { keys: LOG_PROBS_OPTION_KEYS, where: 'logProbs options', hints: { attentionMask: 'keyMask', position_ids: 'positions' } },
  trainStep: { keys: TRAIN_STEP_OPTION_KEYS, where: 'trainStep options', hints: { maxGradNorm: 'clipNorm', max_grad_norm: 'clipNorm' } },
  AdamW: { keys: ADAMW_OPTION_KEYS, where: 'AdamW options', hints: ADAMW_HINTS },
  lrSchedule: { keys: LR_SCHEDULE_OPTION_KEYS, where: 'lrSchedule options', hints: { lr: 'peak', warmupSteps: 'warmup', totalSteps: 'total' } },
  saveCheckpoint: { keys: SAVE_CHECKPOINT_OPTION_KEYS, where: 'saveCheckpoint options', hints: { metadata: 'meta' } },
  verifyCheckpoint: { keys: VERIFY_CHECKPOINT_OPTION_KEYS, where: 'verifyCheckpoint options', hints: {} },
  loadPretrained: { keys: LOAD_PRETRAINED_OPTION_KEYS, where: 'loadPretrained options', hints: {} },
  savePretrained: { keys: SAVE_PRETRAINED_OPTION_KEYS, where: 'savePretrained options', hints: { max_shard_size: 'maxShardSize', torch_dtype: 'dtype' } },
  DeepSeekPolicy: { keys: POLICY_OPTION_KEYS, where: 'DeepSeekPolicy options', hints: {} },
} satisfies Record<string, { keys: readonly string[]; where: string; hints: Readonly<Record<string, string>> }>;

/**
 * Throws a ConfigError when `options` has a key the named option bag does not define (one line at the
 * top of each public function that takes one).
 */
export function checkOptionKeys(options: object | undefined, bag: keyof typeof BAGS): void {
  const { keys, where, hints } = BAGS[bag];
  if (options) rejectUnknownKeys(options, keys, where, hints);
}
