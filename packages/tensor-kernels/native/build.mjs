// Builds the optional native addon (native/*.c: BLAS GEMM and fused kernels) with node-gyp. Never
// fails the install: without a compiler, Node's headers or network for them, it says why and r1-ts
// keeps tfjs's GEMM and its JS kernels. `R1_SKIP_NATIVE=1` skips it; a source newer than the built
// addon, or `node native/build.mjs --force`, rebuilds it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, 'build', 'Release', 'r1_native.node');
const say = (msg) => console.log(`[r1-ts] native addon: ${msg}`);

/** Whether the built addon is older than one of its sources. */
function stale() {
  const built = statSync(target).mtimeMs;
  return readdirSync(here).some((f) => /\.(c|h|gyp)$/.test(f) && statSync(join(here, f)).mtimeMs > built);
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  const bundled = join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

/** Node's headers next to the running node (distribution tarballs and Debian's nodejs ship them). */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

function main() {
  if (process.env.R1_SKIP_NATIVE === '1') return say('skipped (R1_SKIP_NATIVE=1)');
  if (existsSync(target) && !stale() && !process.argv.includes('--force')) return say('already built');
  const gyp = nodeGyp();
  if (!gyp) return say('node-gyp not found; using tfjs GEMM and JS kernels');
  const dir = nodeDir();
  const args = [gyp, 'rebuild', '--directory', here, ...(dir ? [`--nodedir=${dir}`] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 180_000 });
  if (r.status === 0 && existsSync(target)) return say('built');
  rmSync(join(here, 'build'), { recursive: true, force: true });
  const why = `${r.stderr ?? ''}${r.error ?? ''}`.split('\n').find((l) => /error|ERR!/i.test(l)) ?? `exit ${r.status}`;
  say(`not built (${why.trim()}); using tfjs GEMM and JS kernels`);
}

try {
  main();
} catch (e) {
  say(`not built (${e?.message ?? e}); using tfjs GEMM and JS kernels`);
}
