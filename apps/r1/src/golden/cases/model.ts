import type { GoldenCaseRunner } from '../fixture';

/** Golden case `model`: not implemented yet. */
export const run: GoldenCaseRunner | null = null;
