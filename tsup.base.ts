import type { Options } from 'tsup';

/**
 * esbuild warnings that mean the bundle silently differs from the sources; each fails the build.
 * `ignored-bare-import`: a bare `import './x'` of a module its package marks side-effect free is
 * dropped — the built CLI once lost a kernel registration that way (issue #23).
 */
export const fatalWarnings = {
  'ignored-bare-import': 'error',
  'ignored-bare-import-in-require': 'error',
  'import-is-undefined': 'error',
  'commonjs-variable-in-esm': 'error',
} as const;

/** Build options every @r1-ts package shares: dual ESM + CJS with .d.ts/.d.cts, Node 20. */
export const packageBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  esbuildOptions(options) {
    options.logOverride = { ...options.logOverride, ...fatalWarnings };
  },
};
