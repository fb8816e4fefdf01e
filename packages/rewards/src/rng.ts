// A tiny seeded generator (mulberry32) for the random evaluation points of the equivalence check and
// the sandbox's Math.random. Local so the package has no dependency on tensor-kernels.

/** Returns a function yielding uniform floats in [0, 1) from a 32-bit seed; same seed, same stream. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
