/** Shared helpers for benchmark suites: timing and one-line reports tools can parse. */

/** Median wall time in ms of `fn` over `reps` runs after `warmup` runs. */
export async function timeMs(fn: () => unknown | Promise<unknown>, reps = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  return times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2; // as Python's statistics.median
}

/** Prints `<benchmark> value=<v> unit=<unit> [k=v ...]`. */
export function report(name: string, value: number, unit: string, extra: Record<string, string | number> = {}): void {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  const rest = Object.entries(extra).map(([k, v]) => ` ${k}=${typeof v === 'number' ? fmt(v) : v}`).join('');
  console.log(`${name} value=${fmt(value)} unit=${unit}${rest}`);
}

/** A benchmark suite: one file in bench/suites exporting `run`. */
export interface BenchSuite {
  run(): Promise<void>;
}
