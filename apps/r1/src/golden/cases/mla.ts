import type { GoldenCaseRunner } from '../fixture';

/** Golden case `mla`: not implemented yet. */
export const run: GoldenCaseRunner | null = null;
