import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { TaskConfigError } from './errors.js';

/**
 * Seeded generator for task sampling (xoroshiro128+ from pure-rand, integer-only draws), so one seed
 * gives the same problems on every platform.
 *
 * @example
 * ```ts
 * import { TaskRng } from '@r1-ts/tasks';
 * const rng = new TaskRng(7);
 * console.log(rng.int(1, 6), rng.pick(['+', '-', '*']));
 * ```
 */
export class TaskRng {
  private readonly gen: RandomGenerator;

  /**
   * Starts the stream at `seed`; the same seed gives the same draws.
   *
   * @param seed - Any safe integer; anything else is a TaskConfigError.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new TaskConfigError(`seed must be a safe integer, got ${JSON.stringify(seed)}`, ['seed']);
    }
    this.gen = xoroshiro128plus(seed | 0);
  }

  /** Uniform integer in [from, to] (both included). */
  int(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** True with probability `num / den` (integer draw, no floats). */
  chance(num: number, den: number): boolean {
    return this.int(1, den) <= num;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
