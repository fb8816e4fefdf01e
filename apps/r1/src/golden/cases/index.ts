import type { GoldenCaseRunner } from '../fixture';

/**
 * The golden cases, one module per case. A module whose `run` is null is not implemented yet:
 * the checker prints TODO for it and fails.
 */
export const goldenCases: Record<string, () => Promise<{ run: GoldenCaseRunner | null }>> = {
  kernels: () => import('./kernels'),
  mla: () => import('./mla'),
  dsa: () => import('./dsa'),
  moe: () => import('./moe'),
  model: () => import('./model'),
  grpo: () => import('./grpo'),
  dense: () => import('./dense'),
};
