import type { Options } from 'tsup';

/** Build options every @r1-ts package shares: dual ESM + CJS with .d.ts/.d.cts, Node 20. */
export const packageBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
};
