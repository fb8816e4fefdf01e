// The workspace packages, read from packages/*/package.json at build time, so a new package gets its
// page and sidebar entry without editing the site.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface PackageInfo {
  /** Directory name under packages/, e.g. `moe`. */
  dir: string;
  /** npm name, e.g. `@r1-ts/moe`. */
  name: string;
  description: string;
  /** README.md text ('' when missing). */
  readme: string;
  /** Names of peer dependencies (e.g. `@tensorflow/tfjs` for tensor packages). */
  peers: string[];
}

export function listPackages(): PackageInfo[] {
  const root = join(repoRoot, 'packages');
  return readdirSync(root)
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .sort()
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      const readmePath = join(root, dir, 'README.md');
      return {
        dir,
        name: pkg.name as string,
        description: (pkg.description as string) ?? '',
        readme: existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '',
        peers: Object.keys(pkg.peerDependencies ?? {}),
      };
    });
}

/** Link of a package's TypeDoc page (typedoc writes docs/api/<npm name>/index.md). */
export function apiLink(name: string): string {
  return `/api/${name}/`;
}
