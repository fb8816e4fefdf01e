// Public API of @r1-ts/grpo.
export { groupRelativeAdvantages } from './advantages';
export type { ScaleRewards, AdvantageOptions } from './advantages';
export { policyLoss } from './policy_loss';
export type {
  ImportanceSampling, LossType, PolicyLossInputs, PolicyLossOptions, PolicyLossMetrics, PolicyLossResult,
} from './policy_loss';
export { stopGradient } from './stop_gradient';
export { GrpoTrainer } from './trainer';
export type { GrpoTrainerState, GrpoTrainerSnapshot, OptimizerStateInfo } from './trainer_state';
export { lengthWeightingWarning, describeObjective } from './options';
export { grpoOptionsSchema } from './options';
export type { GrpoTrainerOptions, ResolvedGrpoOptions } from './options';
export type { StepMetrics, RolloutRecord, StepResult, TrainerEvent } from './events';
export { scoreCompletions } from './rewards';
export type { PromptSample, RewardFunction, ScoredRewards } from './rewards';
export type {
  Policy, PromptInput, SamplingOptions, Completion, SequenceBatch, LogProbOptions, OptimizerStepStats,
} from './policy';
export { rolloutCorrectionWeights } from './mismatch';
export type { RolloutCorrection, MismatchMetrics } from './mismatch';
export { EngineClient } from './engine/client';
export type { EngineClientOptions } from './engine/client';
export { EngineError } from './engine/errors';
export type { EngineApi, EngineRequest, EngineSampling, EngineSample } from './engine/protocol';
export { EnginePolicy, isVersionedPolicy } from './engine/policy';
export type { EnginePolicyOptions, EngineCompletion, VersionedPolicy } from './engine/policy';
export { DiskWeightSync, LoraWeightSync } from './engine/sync';
export type { WeightSync, DiskWeightSyncOptions, LoraWeightSyncOptions } from './engine/sync';
export { parseEngineFlags } from './engine/flags';
export type { EngineFlags } from './engine/flags';
