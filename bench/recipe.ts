// `npm run bench:recipe -- --seeds 0-4 --settings blas,builtin [--config file.json] [--preset demo]
// [--jobs 1] [--out dir]`: runs the demo recipe (issue #24) once per seed × compute setting, each in
// its own process (the settings are chosen by environment variables when a process starts), then prints
// per stage the mean, sd and min of held-out pass@1 over all runs, and per R1 finding how many runs
// show it. Figures only: nothing here is asserted (test:learning asserts the findings on a reduced recipe).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Compute settings: the environment a run's process starts with. */
const SETTINGS: Record<string, Record<string, string>> = {
  // The machine's BLAS with the kernels OpenBLAS picks for this CPU, and the C loops.
  blas: { R1_GEMM: 'auto', R1_NATIVE: 'on' },
  'blas-haswell': { R1_GEMM: 'auto', R1_NATIVE: 'on', OPENBLAS_CORETYPE: 'Haswell' },
  'blas-skylakex': { R1_GEMM: 'auto', R1_NATIVE: 'on', OPENBLAS_CORETYPE: 'SkylakeX' },
  // tfjs's own GEMM and the JS loops.
  builtin: { R1_GEMM: 'builtin', R1_NATIVE: 'off' },
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseSeeds(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`--seeds: expected e.g. 0-4 or 0,2,5, got ${JSON.stringify(s)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** What one run's child process writes (bench.json in its run directory). */
interface RunResult {
  seed: number;
  setting: string;
  eval: Record<string, { passAt1: number; formatRate: number; passAt1Se?: number; problems: number; k: number }>;
  wallS: number;
  cpuS: number;
}

/** Child: one recipe run in this process; writes bench.json. */
async function child(): Promise<void> {
  const { resolveRecipeConfig, runRecipe } = await import('@r1-ts/pipeline');
  const { currentGemm, nativeKernels, disposeBackend } = await import('@r1-ts/tensor-kernels');
  const out = flag('out', '');
  const seed = Number(flag('seed', '0'));
  const configPath = flag('config', '');
  const preset = flag('preset', 'demo') as 'demo' | 'quick';
  const file = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : undefined;
  const cfg = resolveRecipeConfig(preset, file, { seed });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // A run cut short (this harness stopped) continues from its checkpoints, with the config it started with.
  const summary = await runRecipe(cfg, { out, resume: existsSync(join(out, 'state.json')) });
  const cpu = process.cpuUsage(c0);
  const gemm = currentGemm();
  const result: RunResult & { gemm: string; native: boolean } = {
    seed,
    setting: flag('setting', ''),
    eval: summary.eval,
    wallS: (performance.now() - t0) / 1000,
    cpuS: (cpu.user + cpu.system) / 1e6,
    gemm: gemm.name === 'blas' ? `blas ${gemm.library} ${gemm.core}` : 'builtin',
    native: nativeKernels() !== null,
  };
  writeFileSync(join(out, 'bench.json'), JSON.stringify(result, null, 1));
  await disposeBackend();
}

function runChild(args: string[], env: Record<string, string>, log: string): Promise<number> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      if (code !== 0) console.error(`${log}: exit ${code}\n${err.slice(-2000)}`);
      done(code ?? 1);
    });
  });
}

async function main(): Promise<void> {
  const { recipeFindings, meanSdMin, recipeStages, resolveRecipeConfig } = await import('@r1-ts/pipeline');
  const seeds = parseSeeds(flag('seeds', '0-4'));
  const settings = flag('settings', 'blas,builtin').split(',').map((s) => s.trim());
  for (const s of settings) if (!SETTINGS[s]) throw new Error(`--settings: unknown ${JSON.stringify(s)}; expected ${Object.keys(SETTINGS).join(', ')}`);
  const preset = flag('preset', 'demo');
  const config = flag('config', '');
  const jobs = Math.max(1, Number(flag('jobs', '1')));
  const outRoot = resolve(flag('out', join(root, 'runs', `bench-recipe-${new Date().toISOString().replace(/[:.]/g, '-')}`)));
  mkdirSync(outRoot, { recursive: true });
  const cfg = resolveRecipeConfig(preset as 'demo', config ? JSON.parse(readFileSync(config, 'utf8')) : undefined);
  const n = cfg.task.evalProblems;
  console.log(`# bench:recipe ${preset}: seeds ${seeds.join(',')} × settings ${settings.join(',')} → ${outRoot}`);
  console.log(`# held-out eval: ${n} problems × k ${cfg.eval.k}; one run's pass@1 has standard error ≤ 0.5/√${n} = ${(50 / Math.sqrt(n)).toFixed(1)} points`);
  const todo = settings.flatMap((setting) => seeds.map((seed) => ({ setting, seed })));
  const results: RunResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const { setting, seed } = todo[next++];
      const dir = join(outRoot, `${setting}-seed${seed}`);
      const benchFile = join(dir, 'bench.json');
      if (!existsSync(benchFile)) {
        const args = ['--out', dir, '--seed', String(seed), '--setting', setting, '--preset', preset, ...(config ? ['--config', resolve(config)] : [])];
        await runChild(args, SETTINGS[setting], `${setting} seed ${seed}`);
      }
      if (!existsSync(benchFile)) continue;
      const r = JSON.parse(readFileSync(benchFile, 'utf8')) as RunResult & { gemm: string };
      results.push(r);
      const line = Object.entries(r.eval).map(([s, e]) => `${s} ${(100 * e.passAt1).toFixed(1)}`).join('  ');
      const f = recipeFindings(r.eval as never).map((x) => (x.holds ? '✓' : '✗')).join('');
      console.log(`${setting.padEnd(13)} seed ${seed}: ${line} | findings ${f} | ${r.wallS.toFixed(0)} s wall, ${r.cpuS.toFixed(0)} s cpu (${r.gemm})`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  if (!results.length) return;
  const out: string[] = [];
  const stages = recipeStages(cfg).filter((s) => results[0].eval[s]);
  out.push(`\nstage            pass@1 mean ± sd    min   (over ${results.length} runs)`);
  for (const s of stages) {
    const v = meanSdMin(results.map((r) => r.eval[s]?.passAt1 ?? NaN).filter(Number.isFinite));
    out.push(`${s.padEnd(16)} ${(100 * v.mean).toFixed(1).padStart(6)} ± ${(100 * v.sd).toFixed(1).padStart(4)}   ${(100 * v.min).toFixed(1).padStart(5)}`);
  }
  const findings = results.map((r) => recipeFindings(r.eval as never));
  out.push('\nfinding                                                      runs showing it');
  for (const [i, f] of findings[0].entries()) {
    const held = findings.filter((fs) => fs[i].holds).length;
    const missed = results.filter((_, j) => !findings[j][i].holds).map((r) => `${r.setting}/${r.seed}`);
    out.push(`${f.id}. ${f.claim.padEnd(56)} ${held}/${results.length}${missed.length ? `  (not: ${missed.join(', ')})` : ''}`);
  }
  const wall = meanSdMin(results.map((r) => r.wallS));
  const cpu = meanSdMin(results.map((r) => r.cpuS));
  const se = Math.max(...results.flatMap((r) => Object.values(r.eval).map((e) => e.passAt1Se ?? 0)));
  out.push(`\nper run: ${wall.mean.toFixed(0)} s wall (max ${Math.max(...results.map((r) => r.wallS)).toFixed(0)}), ${cpu.mean.toFixed(0)} s cpu (max ${Math.max(...results.map((r) => r.cpuS)).toFixed(0)}); largest measured pass@1 standard error ${(100 * se).toFixed(1)} points`);
  console.log(out.join('\n'));
  writeFileSync(join(outRoot, 'table.md'), `${out.join('\n')}\n`);
  writeFileSync(join(outRoot, 'summary.json'), JSON.stringify({ seeds, settings, results }, null, 1));
}

if (process.argv.includes('--child')) await child();
else await main();
