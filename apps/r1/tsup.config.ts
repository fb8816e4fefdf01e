import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig([
  packageBuild,
  // bin/r1.js (the `r1` command) imports this; same fatal warnings as the library build.
  { entry: ['src/bin.ts'], format: ['esm'], sourcemap: true, target: 'node20', esbuildOptions: packageBuild.esbuildOptions },
]);
