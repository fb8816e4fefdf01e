#!/usr/bin/env node
// Scaffolds a workspace package with the layout every @r1-ts package shares:
// package.json (exports map with the source condition first), tsconfig, tsup config, typedoc config,
// README and an explicit src/index.ts barrel. Usage: node scripts/new-package.mjs <dir> "<description>"
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [dir, description = ''] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/new-package.mjs packages/<name> "<description>"');
  process.exit(2);
}
const name = `@r1-ts/${basename(dir)}`;
const write = (file, text) => {
  const path = join(dir, file);
  if (existsSync(path)) return;
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};

write('package.json', JSON.stringify({
  name,
  version: '0.0.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20' },
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': {
      '@r1-ts/source': './src/index.ts',
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  files: ['dist', 'src', '!src/**/*.test.ts'],
  scripts: {
    build: 'tsup',
    typecheck: 'tsc -p tsconfig.json',
  },
  publishConfig: { access: 'public' },
}, null, 2) + '\n');

write('tsconfig.json', JSON.stringify({
  extends: '../../tsconfig.base.json',
  include: ['src'],
}, null, 2) + '\n');

write('tsup.config.ts', `import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(packageBuild);
`);

write('typedoc.json', JSON.stringify({
  $schema: 'https://typedoc.org/schema.json',
  entryPoints: ['src/index.ts'],
  tsconfig: 'tsconfig.json',
}, null, 2) + '\n');

write('README.md', `# ${name}\n\n${description}\n`);
write('src/index.ts', `// Public API of ${name}.\nexport {};\n`);
console.log(`scaffolded ${name} in ${dir}`);
