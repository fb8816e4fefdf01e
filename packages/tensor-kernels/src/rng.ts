import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * Serializable state of an {@link Rng}: pass it to {@link Rng.fromState} to continue the same stream.
 *
 * @example
 * ```ts
 * import { Rng, type RngState } from '@r1-ts/tensor-kernels';
 * const rng = new Rng(7);
 * const json = JSON.stringify(rng.getState()); // e.g. saved in a checkpoint
 * const state: RngState = JSON.parse(json);
 * console.log(Rng.fromState(state).int(0, 9) === rng.int(0, 9)); // true
 * ```
 */
export interface RngState {
  algorithm: 'xoroshiro128plus';
  state: number[];
}

/** @internal What {@link Rng.snapshot} captures: generator state and the pending normal spare. */
export interface RngSnapshot {
  state: number[];
  spareNormal: number | null;
}

/**
 * Seeded random number generator (xoroshiro128+ from pure-rand). One seed gives one reproducible
 * stream for initialisation, data order and sampling; the state can be saved and restored exactly.
 *
 * @example
 * ```ts
 * import { Rng } from '@r1-ts/tensor-kernels';
 * const rng = new Rng(42);
 * const saved = rng.getState();
 * const a = rng.uniform();
 * const b = Rng.fromState(saved).uniform();
 * console.log(a === b); // true
 * ```
 */
export class Rng {
  private gen: JumpableRandomGenerator;
  private spareNormal: number | null = null;

  /**
   * @internal Called before every draw from any Rng, with the generator about to advance.
   * Activation checkpointing sets it to learn which generators a block used, so its recompute
   * replays the same draws (see `checkpoint`).
   */
  static drawObserver: ((rng: Rng) => void) | null = null;

  /**
   * Starts the generator at `seed`; the same seed gives the same stream.
   *
   * @param seed - The seed; an integer, else a RangeError.
   */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.gen = xoroshiro128plus(seed | 0);
  }

  /** Restores a generator from {@link Rng.getState}. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.gen = xoroshiro128plusFromState(state.state);
    return rng;
  }

  /** A snapshot of the stream position (plain JSON). */
  getState(): RngState {
    // A pending Box–Muller spare would be lost on restore; drop it so restore is exact.
    this.spareNormal = null;
    return { algorithm: 'xoroshiro128plus', state: [...this.gen.getState()] };
  }

  /** @internal The exact stream position, pending Box–Muller spare included (unlike getState). */
  snapshot(): RngSnapshot {
    return { state: [...this.gen.getState()], spareNormal: this.spareNormal };
  }

  /** @internal Returns the stream to a {@link Rng.snapshot}. */
  restore(s: RngSnapshot): void {
    this.gen = xoroshiro128plusFromState(s.state);
    this.spareNormal = s.spareNormal;
  }

  /** Uniform float in [0, 1). */
  uniform(): number {
    Rng.drawObserver?.(this);
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [from, to] (both included). */
  int(from: number, to: number): number {
    Rng.drawObserver?.(this);
    return uniformInt(this.gen, from, to);
  }

  /** Standard normal sample (Box–Muller). */
  normal(): number {
    Rng.drawObserver?.(this); // before the spare is consumed, so a snapshot taken here includes it
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fills a Float32Array with N(mean, std²) samples. */
  normalArray(n: number, std = 1, mean = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** An independent generator 2^64 steps ahead (for parallel streams); this one advances too. */
  fork(): Rng {
    Rng.drawObserver?.(this);
    const child = Rng.fromState(this.getState());
    child.gen.jump();
    this.gen.jump();
    this.gen.jump();
    return child;
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
