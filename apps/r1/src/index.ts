// Public API of @r1-ts/r1 (the CLI's building blocks).
export { checkFixture, formatResult } from './golden/check';
export type { GoldenResult } from './golden/check';
export { loadFixture } from './golden/fixture';
export type { Fixture, CaseOutputs, GoldenCaseRunner } from './golden/fixture';
export { compareFixture } from './golden/compare';
export type { Comparison } from './golden/compare';
