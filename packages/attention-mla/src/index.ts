// Public API of @r1-ts/attention-mla.
export { Mla } from './mla';
export type { MlaForwardOptions, MlaMaskOptions, MlaProjection } from './mla';
export { MlaCache } from './cache';
export { validateMlaConfig } from './config';
export type { MlaConfig } from './config';
export { kvCacheBytesPerToken, mhaKvCacheBytesPerToken } from './cache_bytes';
export { resolvePositions, ropeTables } from './positions';
export type { PositionOptions } from './positions';
