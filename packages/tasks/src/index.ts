// Public API of @r1-ts/tasks: verifiable task generators, R1-format worked solutions, JSONL datasets.
export type { CodeTest, TaskSample, Verbosity, CompletionOptions, TaskGenerator } from './sample.js';
export { TaskRng } from './rng.js';
export { DatasetError, TaskConfigError, type DatasetProblem } from './errors.js';
export { R1_TAGS, r1Completion, parseR1Completion } from './r1-format.js';
export { arithmeticTask, type ArithmeticOptions, type ArithmeticOp } from './arithmetic.js';
export { linearEquationTask, type LinearEquationOptions } from './linear.js';
export { countdownTask, type CountdownOptions } from './countdown.js';
export { verifyCountdown, type CountdownVerifyOptions, type CountdownVerdict } from './countdown-verify.js';
export { codeTask, type CodeTaskOptions } from './code.js';
export { generalTask, type GeneralKind, type GeneralOptions } from './general.js';
export { syntheticFacts, type SyntheticFact } from './facts.js';
export { preferencePairs, type PreferencePair, type PreferenceOptions } from './preference.js';
export { generateSamples, coldStartExamples, mixTasks, type ColdStartExample } from './generate.js';
export { makeSplit, type SplitOptions, type Split } from './split.js';
export { taskAlphabet } from './alphabet.js';
export { loadJsonl, writeJsonl, appendJsonl, type LoadJsonlOptions } from './jsonl.js';
export { loadMathJsonl, lastBoxed } from './math-jsonl.js';
