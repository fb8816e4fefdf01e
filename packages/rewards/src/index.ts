// Public API of @r1-ts/rewards: R1's rule-based rewards (R1 §2.2.2) and open-r1's additions.
export type { CodeTest, RewardFunction, RewardSample } from './types.js';
export { RewardConfigError } from './errors.js';
export { combineRewards } from './combine.js';
export type { CombinedReward, CombineRewardsOptions, WeightedReward } from './combine.js';

export { accuracyReward, createAccuracyReward } from './accuracy.js';
export type { AccuracyRewardOptions } from './accuracy.js';
export { anchoredAnswer, answerBlock, boxedAnswer, extractAnswer, lastBoxed, lastMathEnvironment, referenceAnswer } from './extract.js';
export type { AnswerExtractor } from './extract.js';
export { isMathEquivalent } from './equivalence.js';
export type { MathEquivalenceOptions } from './equivalence.js';

export { formatReward, tagCountReward } from './format.js';
export { languageConsistencyReward, SUPPORTED_LANGUAGES, targetLanguageFraction } from './language.js';
export { cosineLengthReward, createCosineLengthReward, createSoftOverlongPunishment, softOverlongPunishment } from './length.js';
export type { CosineLengthRewardOptions, SoftOverlongOptions } from './length.js';
export { createRepetitionPenalty, repetitionPenalty } from './repetition.js';
export type { RepetitionPenaltyOptions } from './repetition.js';

export { codeReward, codeRewardDetailed, createCodeReward, createCodeRewardDetailed } from './code/code-reward.js';
export type { CodeRewardDetails, CodeRewardOptions } from './code/code-reward.js';
export { lastJavaScriptBlock } from './code/extract-code.js';
export type { CodeFailureKind, CodeTestResult } from './code/sandbox.js';
export { createPythonCodeReward, createPythonCodeRewardDetailed, pythonCodeReward, warmPythonSandbox } from './code/python/python-reward.js';
export type { PythonCodeRewardOptions, PythonCodeTest } from './code/python/python-reward.js';
export type { OutputComparison } from './code/python/compare.js';
export { lastPythonBlock } from './code/extract-code.js';
