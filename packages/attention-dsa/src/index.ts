// Public API of @r1-ts/attention-dsa.
export { SparseMla } from './sparse_mla';
export type { DsaForwardOptions, DsaForwardResult, DsaTrainResult } from './sparse_mla';
export { Indexer } from './indexer';
export { DsaCache } from './cache';
export { validateDsaConfig } from './config';
export type { DsaConfig } from './config';
export { causalAllowed, selectTopK, selectionMask } from './select';
export { indexerKl, stopGradient } from './kl';
