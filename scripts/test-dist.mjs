#!/usr/bin/env node
// Runs the built `r1` CLI — what `npm i -g @r1-ts/r1` or `npx r1` gives a user — through its main paths,
// from dist, with nothing resolved from TypeScript sources (issue #23: the sources passed while the
// bundle had dropped a kernel registration):
//   1. `r1 run --preset quick` exits 0 and writes the run directory with report.html;
//   2. the same run SIGKILLed at about half its time and resumed with `--resume` ends with every stage's
//      final model.safetensors identical to the uninterrupted run's;
//   3. `r1 golden` passes on the golden fixtures;
//   4. `r1 serve` on the run's final checkpoint answers one chat completion.
// The CLI is the `node_modules/.bin/r1` link `npm ci` makes (the README's `npx r1`), so a missing link
// fails here too. Exit 0 iff every check passes.
//
// Usage: node scripts/test-dist.mjs [--keep]   (after `npm run build`)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'node_modules/.bin/r1');
const tmp = mkdtempSync(join(tmpdir(), 'r1-dist-'));
const results = [];

function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
}

/** Runs the CLI; resolves with exit code, signal, output and seconds. `killAfterMs` SIGKILLs it. */
function r1(args, { killAfterMs, onLine } = {}) {
  return new Promise((done) => {
    const t0 = Date.now();
    // Sources must not be reachable: no --conditions flag, no tsx loader in NODE_OPTIONS.
    const env = { ...process.env, NODE_OPTIONS: '' };
    const child = spawn(cli, args, { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d) => {
      out += d.toString();
      if (onLine) for (const line of d.toString().split('\n')) if (line) onLine(line, child);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      done({ code, signal, out, secs: (Date.now() - t0) / 1000 });
    });
  });
}

const tail = (text, n = 15) => text.trim().split('\n').slice(-n).map((l) => `    ${l}`).join('\n');
const sha = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Final model of each stage: `<stage>/ckpt-<max>/model.safetensors` → sha256. */
function finalModels(runDir) {
  const out = {};
  for (const stage of readdirSync(runDir, { withFileTypes: true })) {
    if (!stage.isDirectory()) continue;
    const ckpts = readdirSync(join(runDir, stage.name)).filter((d) => /^ckpt-\d+$/.test(d))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    const last = ckpts.at(-1);
    if (last && existsSync(join(runDir, stage.name, last, 'model.safetensors'))) {
      out[`${stage.name}/${last}`] = sha(join(runDir, stage.name, last, 'model.safetensors'));
    }
  }
  return out;
}

async function main() {
  if (!existsSync(cli)) {
    check('node_modules/.bin/r1 exists (npm ci links the CLI)', false, `missing ${cli}`);
    return;
  }
  // 1. The quick recipe.
  const full = join(tmp, 'full');
  const a = await r1(['run', '--preset', 'quick', '--out', full]);
  check('r1 run --preset quick exits 0', a.code === 0, a.code === 0 ? `${a.secs.toFixed(1)} s` : `exit ${a.code}\n${tail(a.out)}`);
  check('the run directory has report.html', existsSync(join(full, 'report.html')));
  const want = existsSync(full) ? finalModels(full) : {};
  check('the run wrote final checkpoints', Object.keys(want).length >= 5, `${Object.keys(want).length} stage(s)`);

  // 2. Killed at about half its time, then resumed.
  if (a.code === 0) {
    const killed = join(tmp, 'killed');
    const k = await r1(['run', '--preset', 'quick', '--out', killed], { killAfterMs: Math.round((a.secs * 1000) / 2) });
    check('the second run was killed mid-way', k.signal === 'SIGKILL', k.signal ? `${k.signal} after ${k.secs.toFixed(1)} s` : `exit ${k.code} before the kill`);
    const r = await r1(['run', '--resume', killed]);
    check('r1 run --resume exits 0', r.code === 0, r.code === 0 ? '' : `exit ${r.code}\n${tail(r.out)}`);
    const got = existsSync(killed) ? finalModels(killed) : {};
    const differ = Object.keys(want).filter((k) => got[k] !== want[k]);
    check('resumed run: every stage\'s final model.safetensors identical to the uninterrupted run',
      differ.length === 0 && Object.keys(got).length === Object.keys(want).length, differ.length ? `differ: ${differ.join(', ')}` : `${Object.keys(got).length} file(s)`);
  }

  // 3. Golden fixtures.
  const fixtures = readdirSync(join(root, 'test/fixtures/golden')).filter((f) => f.endsWith('.safetensors'))
    .map((f) => join(root, 'test/fixtures/golden', f));
  const g = await r1(['golden', ...fixtures]);
  const passes = (g.out.match(/^PASS /gm) ?? []).length;
  check('r1 golden passes on the fixtures', g.code === 0 && passes > 0, g.code === 0 ? `${passes} PASS line(s)` : `exit ${g.code}\n${tail(g.out)}`);

  // 4. Serve the final model and ask once.
  const finalCkpt = Object.keys(want).find((k) => k.startsWith('rl-all/')) ?? Object.keys(want).at(-1);
  if (finalCkpt) {
    let url = null;
    let server = null;
    const started = new Promise((ok) => {
      const s = r1(['serve', join(full, finalCkpt), '--port', '0'], {
        onLine: (line, child) => {
          server = child;
          const m = /on (http:\/\/\S+)\/v1/.exec(line);
          if (m && !url) {
            url = m[1];
            ok(true);
          }
        },
      });
      s.then((res) => ok(res));
    });
    const outcome = await Promise.race([started, new Promise((ok) => setTimeout(() => ok('timeout'), 120_000))]);
    if (url) {
      try {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'r1-ts', messages: [{ role: 'user', content: '12+34' }], max_tokens: 8, seed: 1 }),
        });
        const body = await res.json();
        const msg = body?.choices?.[0]?.message;
        check('r1 serve answers a chat completion', res.status === 200 && typeof msg?.content === 'string' && body.usage?.completion_tokens > 0,
          `HTTP ${res.status}, ${body.usage?.completion_tokens ?? '?'} token(s)`);
      } catch (e) {
        check('r1 serve answers a chat completion', false, String(e));
      }
      server?.kill('SIGTERM');
    } else {
      check('r1 serve starts', false, outcome === 'timeout' ? 'no listening line in 120 s' : `exit ${outcome.code}\n${tail(outcome.out)}`);
      server?.kill('SIGKILL');
    }
  }
}

await main();
if (process.argv.includes('--keep')) console.log(`kept ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
const failed = results.filter((r) => !r.ok);
console.log(`\n${failed.length === 0 ? 'all' : `${results.length - failed.length} of`} ${results.length} dist check(s) pass`);
process.exit(failed.length === 0 ? 0 : 1);
