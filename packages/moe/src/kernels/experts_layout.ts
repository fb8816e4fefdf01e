// Where each expert's rows come from and where its activations are cached: the integer plan shared by
// the forward, backward and dx kernels of MoeExperts.
import { groupByExpert } from '../dispatch';

/** One expert's share of the batch. */
export interface ExpertBlock {
  /** Token (row of x) of each of the expert's rows, ascending. [n] */
  tokens: Int32Array;
  /** Flat (t·K + k) index of each row's routing weight; null for the shared experts (weight 1). [n] */
  pairs: Int32Array | null;
  /** Intermediate width I of this expert. */
  width: number;
  /** Start of this block (n rows of g|u, n·2I floats) in the activation cache and in the flat d(g|u). */
  offset: number;
}

/** The plan for one batch: blocks of the routed experts (in expert order), then the shared block. */
export interface ExpertPlan {
  blocks: ExpertBlock[];
  /** Floats in the activation cache and in the flat d(g|u): Σ n·2I. */
  size: number;
}

/**
 * Groups the T·K (token, slot) pairs by expert (counting sort, token order kept inside a block) and
 * lays out the caches. `widths` has one entry per weight triple: the E routed experts, then the
 * shared experts when `shared`.
 */
export function planExperts(indices: Int32Array, T: number, K: number, widths: number[], shared: boolean): ExpertPlan {
  const E = widths.length - (shared ? 1 : 0);
  for (let j = 0; j < indices.length; j++) {
    const e = indices[j];
    if (!(e >= 0 && e < E)) throw new RangeError(`MoeExperts: expert index ${e} at pair ${j} is outside [0, ${E})`);
  }
  const groups = groupByExpert(indices, E);
  const blocks: ExpertBlock[] = [];
  let size = 0;
  const add = (tokens: Int32Array, pairs: Int32Array | null, width: number) => {
    blocks.push({ tokens, pairs, width, offset: size });
    size += tokens.length * 2 * width;
  };
  for (let e = 0; e < E; e++) {
    const pairs = groups.perm.slice(groups.offsets[e], groups.offsets[e + 1]);
    const tokens = new Int32Array(pairs.length); // plain loops: typed-array map/from with a callback are several times slower
    for (let r = 0; r < pairs.length; r++) tokens[r] = (pairs[r] / K) | 0;
    add(tokens, pairs, widths[e]);
  }
  if (shared) {
    const all = new Int32Array(T);
    for (let t = 0; t < T; t++) all[t] = t;
    add(all, null, widths[E]);
  }
  return { blocks, size };
}
