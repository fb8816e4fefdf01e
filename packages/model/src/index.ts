// Public API of @r1-ts/model.
export { parseConfig, presets, withAttention, usesDsa } from './config';
export type { DeepSeekConfig, DeepSeekConfigInput } from './config';
export { DeepSeekModel, Block, MtpModule } from './model';
export type { SequenceOptions, LayerRouting, ForwardResult, ModelCache, LossOptions, LossResult } from './model';
export { CharTokenizer, HfTokenizer, tokenizerFromJSON, renderChat, SPECIAL_TOKENS } from './tokenizer';
export type { Tokenizer, SpecialTokenName, ChatMessage } from './tokenizer';
export { AdamW, GradAccumulator, clipGradNorm, lrSchedule, valueAndNamedGrads } from './optim';
export type { AdamWOptions, LrSchedule, NamedGrads } from './optim';
export { sampleToken, resolveSampling } from './sampling';
export type { SamplingOptions, SampledToken } from './sampling';
export { collate, encodeExample, sftBatch } from './batch';
export type { SftExample, TokenBatch } from './batch';
export { generate, logProbs, leftPad } from './generate';
export type { GenerateOptions, GenerationResult, TokenEvent } from './generate';
export { trainStep, SftTrainer } from './train';
export type { StepStats, TrainStepOptions, SftOptions } from './train';
export { saveCheckpoint, loadCheckpoint, loadOptimizerState } from './checkpoint';
export type { Checkpoint } from './checkpoint';
