import type { GoldenCaseRunner } from '../fixture';

/**
 * The implemented golden cases. Each case's runner lives in its own file so it can be developed
 * alongside its package; a case missing here prints TODO and fails.
 */
export const goldenCases: Record<string, () => Promise<GoldenCaseRunner>> = {
  kernels: async () => (await import('./kernels')).runKernelsCase,
};
