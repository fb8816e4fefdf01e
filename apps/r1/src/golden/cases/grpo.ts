import type { GoldenCaseRunner } from '../fixture';

/** Golden case `grpo`: not implemented yet. */
export const run: GoldenCaseRunner | null = null;
