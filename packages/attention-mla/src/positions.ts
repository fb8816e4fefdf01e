import * as tf from '@tensorflow/tfjs';
import { ConfigError, ropeCosSin } from '@r1-ts/tensor-kernels';
import type { RopeConfig } from '@r1-ts/tensor-kernels';

/**
 * Where the tokens of a call sit. Default: token s of every row at position `startPos + s`.
 * `positions` ([B][S] numbers or a [B, S] tensor) gives every row its own positions, e.g. for
 * left-padded batches where row b's first real token sits at position 0.
 *
 * @example
 * ```ts
 * import type { PositionOptions } from '@r1-ts/attention-mla';
 * const shifted: PositionOptions = { startPos: 5 };
 * const leftPadded: PositionOptions = { positions: [[0, 0, 1], [0, 1, 2]] };
 * ```
 */
export interface PositionOptions {
  /** Position of token 0 (shared by all rows). Default 0. */
  startPos?: number;
  /** Per-row positions [B][S] or a [B, S] tensor; overrides `startPos`. */
  positions?: number[][] | tf.Tensor;
}

/**
 * The per-token positions of a [B, S] call: one shared list [S], or per-row lists [B][S].
 *
 * @param B - Batch size of the call.
 * @param S - Number of new tokens per row in the call.
 * @param opts - `positions` (per-row [B][S] numbers or a [B, S] tensor) or `startPos` (first position shared by all rows, default 0: positions startPos … startPos+S−1).
 *
 * @example
 * ```ts
 * import { resolvePositions } from '@r1-ts/attention-mla';
 * console.log(resolvePositions(2, 3, { startPos: 4 })); // [4, 5, 6]
 * ```
 */
export function resolvePositions(B: number, S: number, opts: PositionOptions = {}): number[] | number[][] {
  const p = opts.positions;
  if (p === undefined) {
    const start = opts.startPos ?? 0;
    if (!Number.isInteger(start) || start < 0) throw new ConfigError(`startPos must be a non-negative integer, got ${start}`, ['startPos']);
    return Array.from({ length: S }, (_, s) => start + s);
  }
  const rows = p instanceof tf.Tensor ? (p.arraySync() as number[][]) : p;
  if (rows.length !== B || rows.some((r) => r.length !== S)) {
    throw new ConfigError(`positions must have shape [${B}, ${S}], got [${rows.length}, ${rows[0]?.length}]`, ['positions']);
  }
  return rows;
}

/**
 * RoPE cos/sin tables for a [B, S] call: [S, d/2] when rows share positions, [B, S, d/2] otherwise
 * (both layouts are accepted by `applyRope`). d = `qk_rope_head_dim`; YaRN frequencies per golden §4.2.
 *
 * @param config - `qk_rope_head_dim` d, `rope_theta`, `rope_scaling` (YaRN or null) and `max_position_embeddings`.
 * @param B - Batch size of the call.
 * @param S - Number of new tokens per row.
 * @param opts - Positions as for {@link resolvePositions}: explicit `positions` or a shared `startPos` (default 0).
 *
 * @example
 * ```ts
 * import { ropeTables } from '@r1-ts/attention-mla';
 * const cfg = { qk_rope_head_dim: 8, rope_theta: 10000, rope_scaling: null, max_position_embeddings: 64 };
 * const { cos, sin } = ropeTables(cfg, 2, 3, { positions: [[0, 0, 1], [0, 1, 2]] }); // [2, 3, 4] each
 * ```
 */
export function ropeTables(config: RopeConfig, B: number, S: number, opts: PositionOptions = {}): { cos: tf.Tensor; sin: tf.Tensor } {
  const pos = resolvePositions(B, S, opts);
  if (typeof pos[0] === 'number' || pos.length === 0) return ropeCosSin(config, pos as number[]);
  const flat = (pos as number[][]).flat();
  const half = config.qk_rope_head_dim / 2;
  return tf.tidy(() => {
    const { cos, sin } = ropeCosSin(config, flat); // [B·S, d/2]
    return { cos: cos.reshape([B, S, half]), sin: sin.reshape([B, S, half]) };
  });
}
