// Builds the optional native GEMM addon (native/r1_gemm.c) with node-gyp. Never fails the install:
// without a compiler, Node's headers or network for them, it says why and r1-ts keeps tfjs's GEMM.
// `R1_SKIP_NATIVE=1` skips it; `node native/build.mjs --force` rebuilds.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, 'build', 'Release', 'r1_gemm.node');
const say = (msg) => console.log(`[r1-ts] native GEMM: ${msg}`);

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
  if (existsSync(target) && !process.argv.includes('--force')) return say('already built');
  const gyp = nodeGyp();
  if (!gyp) return say('node-gyp not found; using tfjs GEMM');
  const dir = nodeDir();
  const args = [gyp, 'rebuild', '--directory', here, ...(dir ? [`--nodedir=${dir}`] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 180_000 });
  if (r.status === 0 && existsSync(target)) return say('built');
  rmSync(join(here, 'build'), { recursive: true, force: true });
  const why = `${r.stderr ?? ''}${r.error ?? ''}`.split('\n').find((l) => /error|ERR!/i.test(l)) ?? `exit ${r.status}`;
  say(`not built (${why.trim()}); using tfjs GEMM`);
}

try {
  main();
} catch (e) {
  say(`not built (${e?.message ?? e}); using tfjs GEMM`);
}
