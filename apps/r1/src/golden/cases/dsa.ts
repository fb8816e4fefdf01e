import type { GoldenCaseRunner } from '../fixture';

/** Golden case `dsa`: not implemented yet. */
export const run: GoldenCaseRunner | null = null;
