import type { GoldenCaseRunner } from '../fixture';

/** Golden case `moe`: not implemented yet. */
export const run: GoldenCaseRunner | null = null;
