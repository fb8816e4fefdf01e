// Public API of @r1-ts/pipeline.
export { resolveRecipeConfig, recipePresets, recipeConfigSchema } from './config';
export type { RecipeConfig, RecipeConfigInput } from './config';
export { runRecipe, recipeStages, stageModelConfig } from './recipe';
export type { RunRecipeOptions, RecipeSummary } from './recipe';
export { RunDir } from './rundir';
export type { RunState } from './rundir';
export { evaluateModel } from './evaluate';
export type { EvalOptions, EvalResult } from './evaluate';
export { buildRunData, coldStartData, generalSft, taskSplit } from './corpus';
export type { RunData } from './corpus';
export { PreferenceRewardModel } from './reward_model';
export type { PipelineEvent } from './events';
export { renderReport, writeReport, stageLabel } from './report';
export { recipeFindings, meanSdMin, passAt1StandardError, FINDING_MARGINS } from './findings';
export type { Finding } from './findings';
