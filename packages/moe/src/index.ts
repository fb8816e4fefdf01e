// Public API of @r1-ts/moe.
export { validateMoeConfig } from './config';
export type { MoeConfig, DenseMlpConfig, ScoringFunc, TopkMethod } from './config';
export { Gate } from './gate';
export type { Routing } from './gate';
export { Expert, DenseMlp } from './expert';
export { MoE, BIAS_UPDATE_GAMMA } from './moe';
export type { MoeOutput } from './moe';
export { sequenceBalanceLoss, expertLoadStats, ExpertLoadTracker, SEQ_AUX_ALPHA } from './balance';
export type { ExpertLoadStats } from './balance';
