// Issue #23: a package's `sideEffects` field tells bundlers which modules they may drop when nothing is
// imported from them. A bare `import './x'` (imported only for its side effects) of a module the field
// marks side-effect free is dropped from the build — the built CLI lost the wasm backend's
// UnsortedSegmentSum that way while every source-resolved test passed. This test reads every
// workspace package's sources and fails on any bare relative import whose target the field does not
// list; the build fails on the same thing (tsup.base.ts makes esbuild's warning an error).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

/** Whether `file` (relative to the package, `./src/…`) is declared to have side effects. */
function declared(sideEffects: unknown, file: string): boolean {
  if (sideEffects === undefined || sideEffects === true) return true;
  if (!Array.isArray(sideEffects)) return false;
  return sideEffects.some((pattern: string) => {
    const re = new RegExp(`^${pattern.replace(/^\.\//, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*')}$`);
    return re.test(file.replace(/^\.\//, ''));
  });
}

const packages = ['packages', 'apps'].flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
  .filter((dir) => statSync(join(dir, 'package.json'), { throwIfNoEntry: false })?.isFile());

describe('side-effect imports are declared (issue #23)', () => {
  it.each(packages.map((dir) => [relative(root, dir), dir]))('%s', (_name, dir) => {
    const { sideEffects } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const undeclared: string[] = [];
    for (const file of sourceFiles(join(dir, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
        const target = relative(dir, resolve(dirname(file), m[1])).replace(/\.(ts|js)$/, '');
        if (!declared(sideEffects, `${target}.ts`)) undeclared.push(`${relative(dir, file)}: import '${m[1]}'`);
      }
    }
    expect(undeclared, 'bare imports of modules the package.json "sideEffects" field marks side-effect free (bundlers drop them); register through a called function instead').toEqual([]);
  });

  it('the check sees a bare import of an undeclared module', () => {
    expect(declared(false, 'src/register_all.ts')).toBe(false);
    expect(declared(['./src/index.ts'], 'src/backend/missing_kernels.ts')).toBe(false);
    expect(declared(['./src/**/*.ts'], 'src/backend/missing_kernels.ts')).toBe(true);
    expect(declared(['./src/index.ts'], 'src/index.ts')).toBe(true);
  });
});
