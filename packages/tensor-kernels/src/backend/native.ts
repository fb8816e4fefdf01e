// Detects whether tfjs-node(-gpu) can load, without importing it.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const requireFromHere = createRequire(import.meta.url);

/**
 * Whether a tfjs-node package is installed with its native binding. Checked before importing: a
 * package installed with its install script denied has no binding, and importing it would register
 * half its kernels before throwing.
 *
 * @example
 * ```ts
 * const { ok, why } = nativeBindingPresent('@tensorflow/tfjs-node');
 * if (!ok) console.log(`tfjs-node ${why}`);
 * ```
 */
export function nativeBindingPresent(pkg: string): { ok: boolean; why: string } {
  let dir: string;
  try {
    dir = dirname(requireFromHere.resolve(`${pkg}/package.json`));
  } catch {
    return { ok: false, why: 'not installed' };
  }
  const lib = join(dir, 'lib');
  const found = existsSync(lib) && readdirSync(lib).some((d) => existsSync(join(lib, d, 'tfjs_binding.node')));
  return found ? { ok: true, why: '' } : { ok: false, why: 'installed without its native binding (install script denied)' };
}
