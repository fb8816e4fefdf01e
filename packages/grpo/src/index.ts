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
export { lengthWeightingWarning } from './options';
export { grpoOptionsSchema } from './options';
export type { GrpoTrainerOptions, ResolvedGrpoOptions } from './options';
export type { StepMetrics, RolloutRecord, StepResult, TrainerEvent } from './events';
export { scoreCompletions } from './rewards';
export type { PromptSample, RewardFunction, ScoredRewards } from './rewards';
export type {
  Policy, PromptInput, SamplingOptions, Completion, SequenceBatch, LogProbOptions, OptimizerStepStats,
} from './policy';
