import type { Init } from '@r1-ts/tensor-kernels';

/**
 * The initial values of a parameter by its name under the part that asks (and its shape, known to
 * the part): a part passes its default init as `fallback`; a model built from a checkpoint returns
 * the stored values instead. Prefixes compose with {@link initUnder}, so every part sees its own
 * local names and the loader sees the full checkpoint names.
 *
 * @example
 * ```ts
 * import type { InitAt } from '@r1-ts/model';
 * const zeros: InitAt = (_name, fallback) => ('normal' in fallback ? { constant: 0 } : fallback);
 * ```
 */
export type InitAt = (name: string, fallback: Init, shape?: number[]) => Init;

/**
 * The parts' defaults: each parameter keeps its fallback init.
 *
 * @param _name - Parameter name (unused: every parameter keeps its default).
 * @param fallback - The part's default init, returned as is.
 *
 * @example
 * ```ts
 * import { initDefault } from '@r1-ts/model';
 * console.log(initDefault('q_proj.weight', { normal: 0.02 })); // { normal: 0.02 }
 * ```
 */
export const initDefault: InitAt = (_name, fallback) => fallback;

/**
 * `at` seen from a child part: local names gain the child's prefix.
 *
 * @param at - The parent's init function.
 * @param prefix - The child's name prefix, e.g. `model.layers.0.`.
 *
 * @example
 * ```ts
 * import { initUnder, type InitAt } from '@r1-ts/model';
 * const seen: string[] = [];
 * const at: InitAt = (name, fallback) => (seen.push(name), fallback);
 * initUnder(at, 'model.layers.0.')('mlp.up_proj.weight', { normal: 0.02 });
 * console.log(seen); // ['model.layers.0.mlp.up_proj.weight']
 * ```
 */
export function initUnder(at: InitAt, prefix: string): InitAt {
  return (name, fallback, shape) => at(prefix + name, fallback, shape);
}
