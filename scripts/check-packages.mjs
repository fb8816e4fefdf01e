#!/usr/bin/env node
// Packaging check for every packages/* workspace, as a user receives it from npm:
//   1. build (turbo, --continue) unless --no-build;
//   2. `npm pack` each package (and so every sibling it depends on) into a temporary directory;
//   3. `publint --strict` and `attw` (node16 profile: Node-only dual ESM/CJS packages) on each tarball;
//   4. install the tarball into an empty project outside the repository with only its declared
//      dependencies — sibling @r1-ts packages come from their tarballs, since they are not published —
//      plus @tensorflow/tfjs where it is a peer; then `import` (ESM) and `require` (CJS) it in two
//      fresh Node processes, check that every export is defined and the same in both, and call one
//      function from the SMOKE table below;
//   5. run the package README's first code example in that project, as an ES module and as CommonJS
//      (TypeScript examples are transpiled with the repository's TypeScript), and for the tensor packages
//      in TRAIN a short training step on the wasm backend (the default backend: a kernel the bundle
//      failed to register shows up there, issue #23).
// Exits non-zero with a summary table when any check fails.
//
// Usage: node scripts/check-packages.mjs [--no-build] [--keep] [--jobs N] [package-dir ...]
//   package-dir: e.g. `moe` or `packages/moe` (default: all); --keep leaves the temporary directory.
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const execFile = promisify(execFileCb);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules/.bin', name);

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const jobsAt = argv.indexOf('--jobs');
const jobs = jobsAt >= 0 ? Number(argv[jobsAt + 1]) : 2;
const only = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--jobs').map((a) => basename(a));

/**
 * One function call per package, run against the installed package in both module systems. `m` is the
 * package's namespace (ESM) or exports object (CJS), `tf` is @tensorflow/tfjs when it is a peer.
 * The body returns a value; `expect` is compared with it by JSON equality. Packages without an entry
 * only get the "every export is defined" check.
 */
const SMOKE = {
  'tensor-kernels': {
    body: `await m.initBackend({ backend: 'cpu', quiet: true });
      return m.rmsNorm(tf.ones([1, 4]), tf.ones([4])).shape;`,
    expect: [1, 4],
  },
  'attention-mla': {
    body: `return m.kvCacheBytesPerToken({ hidden_size: 7168, num_attention_heads: 128, q_lora_rank: 1536,
      kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128, rope_theta: 10000,
      rope_scaling: null, max_position_embeddings: 4096, rms_norm_eps: 1e-6 });`,
    expect: 2304,
  },
  'attention-dsa': {
    body: `await tf.setBackend('cpu'); return Array.from(m.causalAllowed(1, 3, 3).sum().dataSync());`,
    expect: [6],
  },
  moe: {
    // An invalid config must throw the typed ConfigError (its class comes from the tensor-kernels tarball).
    body: `try {
        m.validateMoeConfig({ hidden_size: 64, n_routed_experts: 8, num_experts_per_tok: 2, n_group: 4,
          topk_group: 5, scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true,
          routed_scaling_factor: 1, moe_intermediate_size: 32, n_shared_experts: 1 });
        return 'no error';
      } catch (e) { return e.name; }`,
    expect: 'ConfigError',
  },
  grpo: {
    body: `return Array.from(m.groupRelativeAdvantages([1, 0, 0, 1, 2, 2], 2, { scaleRewards: 'group' }),
      (a) => Math.round(a * 1000) / 1000);`,
    expect: [0.707, -0.707, -0.707, 0.707, 0, 0],
  },
  gspo: {
    body: `return [m.gspoDefaults.epsilonLow, typeof m.gspoObjective];`,
    expect: [0.0003, 'function'],
  },
  rewards: {
    body: `return m.formatReward('<think>2+2=4</think>\\n<answer>4</answer>', { prompt: '' });`,
    expect: 1,
  },
  tasks: {
    body: `return m.parseR1Completion('<think>1+1=2</think><answer>2</answer>');`,
    expect: { think: '1+1=2', answer: '2' },
  },
  model: {
    body: `return m.parseConfig({ ...m.presets.tiny, num_hidden_layers: 2 }).num_hidden_layers;`,
    expect: 2,
  },
  lora: {
    body: `return [m.loraScale({ r: 16, lora_alpha: 32, use_rslora: false }), m.loraScale({ r: 16, lora_alpha: 32, use_rslora: true })];`,
    expect: [2, 8],
  },
};

/**
 * A training step on the wasm backend per tensor package: gradients through the kernels r1-ts registers
 * (UnsortedSegmentSum, the gradient of gather, which wasm lacks; fused RMSNorm; AdamW). Returns
 * [backend, loss is finite, loss decreased].
 */
const TRAIN = {
  'tensor-kernels': `await m.initBackend({ backend: 'wasm', quiet: true });
    const table = tf.variable(tf.randomNormal([10, 8], 0, 1, 'float32', 1));
    const ids = tf.tensor1d([1, 3, 3, 7], 'int32');
    const opt = tf.train.adam(0.05);
    const loss = () => tf.mean(tf.square(m.rmsNorm(tf.gather(table, ids), tf.ones([8])).sub(0.5)));
    const first = opt.minimize(loss, true).dataSync()[0];
    for (let i = 0; i < 5; i++) opt.minimize(loss);
    const last = loss().dataSync()[0];
    const backend = tf.getBackend();
    await m.disposeBackend();
    return [backend, Number.isFinite(last), last < first];`,
  model: `const k = await import('@r1-ts/tensor-kernels').then((x) => x.default ?? x);
    await k.initBackend({ backend: 'wasm', quiet: true });
    const backend = tf.getBackend();
    const model = new m.DeepSeekModel(m.presets.tiny, { seed: 0 });
    const opt = new m.AdamW(new Map([...model.namedParameters()].filter(([, v]) => v.trainable)), { lr: 1e-2 });
    const batch = m.collate([[1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]], [1, 1], 0);
    const first = m.trainStep(model, opt, batch);
    let last = first;
    for (let i = 0; i < 3; i++) last = m.trainStep(model, opt, batch);
    await k.disposeBackend();
    return [backend, Number.isFinite(last.loss), last.loss < first.loss];`,
};

/** The first ```ts/```js block of a README, or null. */
function readmeExample(dir) {
  const path = join(root, 'packages', dir, 'README.md');
  if (!existsSync(path)) return null;
  const m = /^```(?:ts|js|typescript|javascript|mjs)\s*\n([\s\S]*?)^```/m.exec(readFileSync(path, 'utf8'));
  return m ? m[1] : null;
}

/** The example as an ES module and as a CommonJS script (its body in an async function: top-level await). */
function exampleSources(code) {
  const js = (module) => ts.transpileModule(code, {
    compilerOptions: { module, target: ts.ScriptTarget.ES2022, esModuleInterop: true, verbatimModuleSyntax: false },
  }).outputText;
  const cjs = js(ts.ModuleKind.CommonJS);
  return {
    esm: js(ts.ModuleKind.ESNext),
    cjs: `(async () => {\n${cjs}\n})().catch((e) => { console.error(e); process.exit(1); });\n`,
  };
}

function readPackages() {
  const dirs = readdirSync(join(root, 'packages')).sort()
    .filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
  const all = dirs.map((dir) => {
    const json = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    return { dir, name: json.name, json };
  });
  const unknown = only.filter((d) => !dirs.includes(d));
  if (unknown.length) {
    console.error(`unknown package(s): ${unknown.join(', ')}; have ${dirs.join(', ')}`);
    process.exit(2);
  }
  return { all, selected: all.filter((p) => !p.json.private && (only.length === 0 || only.includes(p.dir))) };
}

/** Sibling packages a package needs at run time, transitively (dependencies only, not dev). */
function siblingClosure(pkg, byName) {
  const seen = new Set();
  const visit = (p) => {
    for (const dep of Object.keys(p.json.dependencies ?? {})) {
      const sib = byName.get(dep);
      if (sib && !seen.has(dep)) {
        seen.add(dep);
        visit(sib);
      }
    }
  };
  visit(pkg);
  return [...seen].map((n) => byName.get(n));
}

async function sh(cmd, args, opts = {}) {
  try {
    const { stdout, stderr } = await execFile(cmd, args, { maxBuffer: 64 << 20, timeout: 300_000, ...opts });
    return { ok: true, out: `${stdout}${stderr}` };
  } catch (e) {
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}` };
  }
}

/** Runs tasks with at most `n` in flight. */
async function pool(items, n, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }));
  return results;
}

function smokeSource(pkg, kind, hasTf) {
  const smoke = SMOKE[pkg.dir];
  const load = kind === 'esm'
    ? `const m = await import(${JSON.stringify(pkg.name)});\nconst tf = ${hasTf ? "await import('@tensorflow/tfjs')" : 'null'};`
    : `const m = require(${JSON.stringify(pkg.name)});\nconst tf = ${hasTf ? "require('@tensorflow/tfjs')" : 'null'};`;
  const body = `
${load}
const names = Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule' && k !== 'module.exports').sort();
const undef = names.filter((k) => m[k] === undefined);
if (undef.length) throw new Error('exports that are undefined: ' + undef.join(', '));
let value = null;
${smoke ? `value = await (async () => { ${smoke.body} })();
const expected = ${JSON.stringify(smoke.expect)};
if (JSON.stringify(value) !== JSON.stringify(expected)) {
  throw new Error('smoke call returned ' + JSON.stringify(value) + ', expected ' + JSON.stringify(expected));
}` : ''}
console.log(JSON.stringify({ names, value }));
`;
  return kind === 'esm' ? body : `(async () => {${body}})().catch((e) => { console.error(e); process.exit(1); });\n`;
}

function lastJsonLine(out) {
  const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  return line ? JSON.parse(line) : null;
}

async function checkPackage(pkg, ctx) {
  const r = { pkg: pkg.name, publint: null, attw: null, install: null, esm: null, cjs: null, notes: [], secs: {} };
  const timed = async (key, promise) => {
    const t = Date.now();
    const out = await promise;
    r.secs[key] = Math.round((Date.now() - t) / 1000);
    return out;
  };
  const tarball = ctx.tarballs.get(pkg.name);
  if (!tarball) {
    Object.assign(r, { publint: false, attw: false, install: false, esm: false, cjs: false });
    r.notes.push('npm pack produced no tarball');
    return r;
  }
  if (!ctx.built.has(pkg.name)) r.notes.push('dist/ is incomplete: the build failed');

  const [pub, attw] = await Promise.all([
    timed('publint', sh(bin('publint'), ['run', tarball, '--strict'])),
    timed('attw', sh(bin('attw'), [tarball, '--profile', 'node16', '--format', 'ascii', '--no-emoji', '--no-color'])),
  ]);
  r.publint = pub.ok;
  if (!pub.ok) r.notes.push(`publint --strict:\n${indent(pub.out)}`);
  r.attw = attw.ok;
  if (!attw.ok) r.notes.push(`attw --profile node16:\n${indent(attw.out)}`);

  // An empty project outside the repository, so nothing resolves from the workspace's node_modules.
  const proj = join(ctx.tmp, `project-${pkg.dir}`);
  mkdirSync(proj, { recursive: true });
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: `check-${pkg.dir}`, private: true, version: '0.0.0' }));
  const siblings = siblingClosure(pkg, ctx.byName);
  const missing = siblings.filter((s) => !ctx.tarballs.has(s.name));
  if (missing.length) r.notes.push(`no tarball for sibling(s): ${missing.map((s) => s.name).join(', ')}`);
  const peers = Object.entries(pkg.json.peerDependencies ?? {})
    .concat(siblings.flatMap((s) => Object.entries(s.json.peerDependencies ?? {})))
    .filter(([name]) => !ctx.byName.has(name));
  const specs = [
    tarball,
    ...siblings.filter((s) => ctx.tarballs.has(s.name)).map((s) => ctx.tarballs.get(s.name)),
    ...[...new Map(peers)].map(([name, range]) => `${name}@${range}`),
  ];
  const install = await timed('install', sh('npm', [
    // Optional dependencies (tfjs-node, whose binary needs a download anyway) are left out for speed.
    'install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--no-package-lock',
    '--omit=optional',
    '--loglevel=error', ...specs,
  ], { cwd: proj, timeout: 600_000 }));
  r.install = install.ok;
  if (!install.ok) {
    r.notes.push(`npm install ${specs.map((s) => basename(s)).join(' ')}:\n${indent(install.out)}`);
    r.esm = r.cjs = false;
    return r;
  }
  const hasTf = peers.some(([name]) => name === '@tensorflow/tfjs');
  writeFileSync(join(proj, 'check.mjs'), smokeSource(pkg, 'esm', hasTf));
  writeFileSync(join(proj, 'check.cjs'), smokeSource(pkg, 'cjs', hasTf));
  const [esm, cjs] = [
    await timed('import', sh(process.execPath, ['check.mjs'], { cwd: proj, timeout: 120_000 })),
    await timed('require', sh(process.execPath, ['check.cjs'], { cwd: proj, timeout: 120_000 })),
  ];
  const esmOut = esm.ok ? lastJsonLine(esm.out) : null;
  const cjsOut = cjs.ok ? lastJsonLine(cjs.out) : null;
  r.esm = Boolean(esmOut);
  r.cjs = Boolean(cjsOut);
  if (!esm.ok) r.notes.push(`import (ESM):\n${indent(esm.out)}`);
  if (!cjs.ok) r.notes.push(`require (CJS):\n${indent(cjs.out)}`);
  if (esmOut && cjsOut && JSON.stringify(esmOut.names) !== JSON.stringify(cjsOut.names)) {
    r.cjs = false;
    const a = new Set(esmOut.names);
    const b = new Set(cjsOut.names);
    r.notes.push(`ESM and CJS export different names: only ESM ${esmOut.names.filter((n) => !b.has(n)).join(', ') || '-'}; only CJS ${cjsOut.names.filter((n) => !a.has(n)).join(', ') || '-'}`);
  }
  const example = readmeExample(pkg.dir);
  if (example) {
    const src = exampleSources(example);
    writeFileSync(join(proj, 'example.mjs'), src.esm);
    writeFileSync(join(proj, 'example.cjs'), src.cjs);
    const ex = [
      await timed('example-esm', sh(process.execPath, ['example.mjs'], { cwd: proj, timeout: 180_000 })),
      await timed('example-cjs', sh(process.execPath, ['example.cjs'], { cwd: proj, timeout: 180_000 })),
    ];
    r.example = ex.every((e) => e.ok);
    if (!ex[0].ok) r.notes.push(`README example (ESM):\n${indent(ex[0].out)}`);
    if (!ex[1].ok) r.notes.push(`README example (CJS):\n${indent(ex[1].out)}`);
  } else {
    r.example = false;
    r.notes.push('README.md has no ```ts or ```js example');
  }
  if (TRAIN[pkg.dir]) {
    writeFileSync(join(proj, 'train.mjs'), `const m = await import(${JSON.stringify(pkg.name)});\nconst tf = await import('@tensorflow/tfjs');\nconst v = await (async () => { ${TRAIN[pkg.dir]} })();\nconsole.log(JSON.stringify({ train: v }));\n`);
    const t = await timed('train', sh(process.execPath, ['train.mjs'], { cwd: proj, timeout: 180_000 }));
    const v = t.ok ? lastJsonLine(t.out) : null;
    r.train = Boolean(v && JSON.stringify(v.train) === JSON.stringify(['wasm', true, true]));
    if (!r.train) r.notes.push(`training step on wasm: expected ["wasm",true,true], got:\n${indent(t.out)}`);
  }
  if (esmOut) {
    r.exports = esmOut.names.length;
    if (!SMOKE[pkg.dir]) r.notes.push(`no smoke call in the SMOKE table; checked ${esmOut.names.length} export(s) are defined`);
  }
  return r;
}

/** Every check ran and passed (`train` only where the package has one). */
function passed(r) {
  return Boolean(r.publint && r.attw && r.install && r.esm && r.cjs && r.example && r.train !== false);
}

function indent(text, max = 40) {
  const lines = text.trim().split('\n');
  const kept = lines.length > max ? [...lines.slice(0, max), `… (${lines.length - max} more lines)`] : lines;
  return kept.map((l) => `      ${l}`).join('\n');
}

async function main() {
  const t0 = Date.now();
  const { all, selected } = readPackages();
  const byName = new Map(all.map((p) => [p.name, p]));
  // Pack the selected packages and every sibling they need.
  const toPack = new Map(selected.map((p) => [p.name, p]));
  for (const p of selected) for (const s of siblingClosure(p, byName)) toPack.set(s.name, s);

  const built = new Set();
  if (!flag('--no-build')) {
    console.log(`building ${toPack.size} package(s)…`);
    const filters = [...toPack.values()].flatMap((p) => ['--filter', p.name]);
    const build = await sh(bin('turbo'), ['run', 'build', '--continue', '--output-logs=errors-only', ...filters], { cwd: root, timeout: 1_200_000 });
    if (!build.ok) console.log(indent(build.out, 30));
  }
  for (const p of toPack.values()) {
    const dist = join(root, 'packages', p.dir, 'dist');
    if (['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts'].every((f) => existsSync(join(dist, f)))) built.add(p.name);
  }

  const tmp = mkdtempSync(join(tmpdir(), 'r1-ts-packages-'));
  const tarDir = join(tmp, 'tarballs');
  mkdirSync(tarDir);
  console.log(`packing ${toPack.size} package(s) into ${tarDir}…`);
  const pack = await sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarDir,
    ...[...toPack.values()].flatMap((p) => ['--workspace', `packages/${p.dir}`])], { cwd: root });
  const tarballs = new Map();
  if (pack.ok) {
    const json = JSON.parse(pack.out.slice(pack.out.indexOf('[')));
    for (const entry of json) tarballs.set(entry.name, join(tarDir, entry.filename));
  } else {
    console.log(indent(pack.out));
  }

  console.log(`checking ${selected.length} package(s), ${jobs} at a time…`);
  const ctx = { tmp, tarballs, byName, built };
  const results = await pool(selected, jobs, async (p) => {
    const r = await checkPackage(p, ctx);
    const ok = passed(r);
    const secs = Object.entries(r.secs).map(([k, v]) => `${k} ${v}s`).join(', ');
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${p.name} (${secs})`);
    return r;
  });

  const mark = (v) => (v ? 'ok' : v === null || v === undefined ? '-' : 'FAIL');
  const rows = [['package', 'publint', 'attw', 'install', 'import', 'require', 'example', 'train', 'exports']];
  for (const r of results) rows.push([r.pkg, mark(r.publint), mark(r.attw), mark(r.install), mark(r.esm), mark(r.cjs), mark(r.example), mark(r.train), String(r.exports ?? '-')]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  console.log('');
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  const failed = results.filter((r) => !passed(r));
  for (const r of results) {
    if (r.notes.length === 0) continue;
    console.log(`\n${r.pkg}:`);
    for (const n of r.notes) console.log(`  - ${n}`);
  }
  if (flag('--keep')) console.log(`\nkept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  console.log(`\n${failed.length === 0 ? 'all' : `${results.length - failed.length} of`} ${results.length} package(s) pass (${secs} s)`);
  process.exit(failed.length === 0 ? 0 : 1);
}

await main();
