import { readdirSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One vitest project per workspace package. Sibling packages resolve to their TypeScript source
// through the `@r1-ts/source` export condition, so tests need no build.
const conditions = ['@r1-ts/source', 'import', 'module', 'node', 'default'];
const dirs = [
  ...['packages', 'apps'].flatMap((root) => (existsSync(root) ? readdirSync(root).map((name) => `${root}/${name}`) : [])),
  'docs',
];

export default defineConfig({
  test: {
    projects: dirs.map((dir) => ({
      resolve: { conditions },
      ssr: { resolve: { conditions, externalConditions: conditions } },
      test: {
        name: dir.split('/').pop()!,
        root: dir,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        environment: 'node',
        pool: 'forks',
        testTimeout: 120_000,
        hookTimeout: 120_000,
      },
    })),
  },
});
