import { readdirSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One vitest project per workspace package. Sibling packages resolve to their TypeScript source
// through the `@r1-ts/source` export condition, so tests need no build.
//
// `npm test` is the fast suite. End-to-end tests that spawn whole recipe runs, servers, browsers or
// interpreters (`*.e2e.test.ts`) run with `npm run test:e2e` (R1_E2E=1); CI runs both.
const e2e = process.env.R1_E2E === '1';
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
        include: e2e ? ['src/**/*.e2e.test.ts', 'test/**/*.e2e.test.ts'] : ['src/**/*.test.ts', 'test/**/*.test.ts'],
        exclude: e2e ? ['**/node_modules/**'] : ['**/node_modules/**', '**/*.e2e.test.ts'],
        environment: 'node',
        pool: 'forks',
        testTimeout: 120_000,
        hookTimeout: 120_000,
      },
    })),
  },
});
