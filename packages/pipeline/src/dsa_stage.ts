import { ConfigError } from '@r1-ts/tensor-kernels';
import type { RecipeConfig } from './config';
import type { StageContext } from './sft_stage';

/** DSA conversion stages (indexer warm-up, sparse training): wired once @r1-ts/model exposes them. */
export async function dsaStage(_ctx: StageContext, stage: string, _from: string, _cfg: RecipeConfig): Promise<string> {
  throw new ConfigError(`stage ${stage}: attention 'dsa' is not available in the recipe yet; use attention 'mla'`, ['attention']);
}
