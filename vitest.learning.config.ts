import { defineConfig } from 'vitest/config';

// `npm run test:learning`: slow tests that check training *effects* (fixed seeds and step counts,
// never wall-clock). Kept out of `npm test`; .ci/run runs them too.
const conditions = ['@r1-ts/source', 'import', 'module', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/learning/**/*.learning.ts', 'apps/*/test/learning/**/*.learning.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});
