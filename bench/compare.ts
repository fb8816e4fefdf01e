// `npm run bench:compare [-- --preset small] [-- --only gemm,train,generate,layers,dsa] [-- --lengths 512,1024]`
//
// r1-ts against the PyTorch reference (../shared/bench/torch_reference.py) on the same preset, batch and
// sequence length, alternating (PyTorch, then r1-ts, per benchmark) so both see the same machine load.
// Prints one line per benchmark:
//   <benchmark> r1-ts=<value> pytorch=<value> unit=<unit> ratio=<r1-ts/pytorch, higher is better>
// (for times and "lower is better" figures the ratio is pytorch/r1-ts, so higher is still better).
// PyTorch is never installed by this script: when `/usr/bin/python3 -c "import torch"` fails it says how
// to install it and prints the r1-ts figures with pytorch=n/a.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { Rng, disposeBackend, indexerTopK, initBackend } from '@r1-ts/tensor-kernels';
import { Mla, ropeTables } from '@r1-ts/attention-mla';
import type { MlaConfig } from '@r1-ts/attention-mla';
import { SparseMla } from '@r1-ts/attention-dsa';
import type { DsaConfig } from '@r1-ts/attention-dsa';
import { DenseMlp, MoE } from '@r1-ts/moe';
import type { MoeConfig } from '@r1-ts/moe';
import { presets, withAttention } from '@r1-ts/model';
import { timeMs } from './lib';
import { denseConfig, gemmGflops, generateTokensPerSec, opsPerTrainStep, trainTokensPerSec } from './suites/model';
import type { PresetName } from './suites/model';

const PYTHON = '/usr/bin/python3';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------- options

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}
const preset = (option('preset') ?? 'small') as PresetName;
if (!(preset in presets)) throw new Error(`--preset must be one of ${Object.keys(presets).join(', ')}, got ${preset}`);
const only = (option('only') ?? 'gemm,train,generate,layers,dsa').split(',');
const lengths = (option('lengths') ?? '512,1024,2048,4096').split(',').map(Number);

// ---------------------------------------------------------------------------------------------- PyTorch side

/** The reference script: $R1_TORCH_REFERENCE, ../shared/bench, or bench/ in the repository. */
function referenceScript(): string | null {
  const candidates = [process.env.R1_TORCH_REFERENCE, join(root, '..', 'shared', 'bench', 'torch_reference.py'), join(root, 'bench', 'torch_reference.py')];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

const script = referenceScript();
const torchOk = script !== null && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!torchOk) {
  console.log(script
    ? `# PyTorch not importable by ${PYTHON}; install it (Debian, benchmarks only):\n#   apt-get install -y python3-torch python3-numpy libopenblas0-pthread\n# r1-ts figures follow with pytorch=n/a.`
    : '# torch_reference.py not found (set R1_TORCH_REFERENCE=/path/to/torch_reference.py); r1-ts figures follow with pytorch=n/a.');
}

/** Runs one reference benchmark group; returns figures by the reference's benchmark name. */
function pytorch(group: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!torchOk) return out;
  const r = spawnSync(PYTHON, [script!, '--preset', preset, '--only', group, '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`# pytorch ${group} failed: ${(r.stderr || '').trim().split('\n').pop()}`);
    return out;
  }
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const row = JSON.parse(line) as { bench: string; value: number };
    out.set(row.bench, row.value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- output

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : Number(v.toPrecision(4)).toString());

/**
 * Prints one comparison line. `higherIsBetter`: throughputs (ratio r1-ts/pytorch); otherwise times or
 * overhead factors (ratio pytorch/r1-ts).
 */
function line(name: string, r1: number, pt: number | undefined, unit: string, higherIsBetter: boolean): void {
  const ratio = pt === undefined ? undefined : higherIsBetter ? r1 / pt : pt / r1;
  console.log(`${name} r1-ts=${fmt(r1)} pytorch=${fmt(pt)} unit=${unit} ratio=${fmt(ratio)}`);
}

// ---------------------------------------------------------------------------------------------- r1-ts layers

const config = denseConfig(preset);

/** Median ms of forward + backward of mean(f(x)²) w.r.t. `vars` (a sum-like scalar, as the reference). */
function fwdBwd(f: (x: tf.Tensor3D) => tf.Tensor, vars: tf.Variable[], x: tf.Tensor3D, reps: number, warmup = 1): Promise<number> {
  return timeMs(async () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(f(x)) as tf.Scalar, vars);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  }, reps, warmup);
}

async function layers(): Promise<void> {
  const pt = pytorch('layers');
  const rng = new Rng(3);
  const x = tf.randomNormal([8, 256, config.hidden_size]) as tf.Tensor3D;
  const moe = new MoE(config as unknown as MoeConfig, rng);
  const width = config.moe_intermediate_size * (config.num_experts_per_tok + config.n_shared_experts);
  const dense = new DenseMlp({ hidden_size: config.hidden_size, intermediate_size: width }, rng);
  // Interleaved pairs (so both see the same machine load), two warm-ups each, each side the median of 3
  // calls (single calls of ~10–40 ms swing with the scheduler); the median ratio of 15 pairs (with 7,
  // two runs on an idle machine gave 1.35 and 1.19, the reference's own 5.8 and 1.1).
  const ratios: number[] = [];
  const pairs = 15;
  let moeMs = 0;
  let denseMs = 0;
  for (let r = 0; r < pairs; r++) {
    moeMs = await fwdBwd((a) => moe.forward(a), moe.trainableVariables(), x, 3, r === 0 ? 2 : 0);
    denseMs = await fwdBwd((a) => dense.forward(a), dense.trainableVariables(), x, 3, r === 0 ? 2 : 0);
    ratios.push(moeMs / denseMs);
  }
  ratios.sort((a, b) => a - b);
  const mid = ratios[(pairs - 1) / 2];
  console.log(`# r1-ts MoE/dense over ${pairs} interleaved pairs: min ${fmt(ratios[0])}, median ${fmt(mid)}, max ${fmt(ratios[pairs - 1])} (last pair: MoE ${fmt(moeMs)} ms, dense ${fmt(denseMs)} ms)`);
  line('moe_vs_dense_same_active_fwd_bwd', mid, pt.get('moe_vs_dense_same_active_fwd_bwd'), 'x(lower-is-better)', false);
  const mla = new Mla(config as unknown as MlaConfig, rng);
  const mlaMs = await fwdBwd((a) => mla.forward(a), mla.trainableVariables(), x, 3);
  line('mla_fwd_bwd_b8_s256', (8 * 256 * 1000) / mlaMs, pt.get('mla_fwd_bwd_b8_s256'), 'tokens/s', true);
  tf.dispose(x);
  [moe, dense, mla].forEach((m) => m.dispose());
}

/**
 * Waits for t without reading it back where the backend runs kernels synchronously (wasm, cpu: all
 * done when the op returns), as the reference times its layers; elsewhere reads it. Reading a
 * [4096, 256] result back costs 5–13 ms here (a fresh 4 MiB array, page faults and all).
 */
function settle(t: tf.Tensor): void {
  if (!['wasm', 'cpu'].includes(tf.getBackend())) t.dataSync();
}

async function dsa(): Promise<void> {
  const pt = pytorch('dsa');
  const dsaConfig = { ...withAttention(presets[preset], 'dsa', { index_n_heads: 4, index_head_dim: 32, index_topk: 64 }), max_position_embeddings: 8192 } as unknown as DsaConfig;
  const k = dsaConfig.index_topk;
  const layer = new SparseMla(dsaConfig, new Rng(4));
  const gated: number[] = [];
  for (const L of lengths) {
    // 2 warm-ups (a first call pays one-off costs: heap growth, page faults), then the median of 5: with
    // the reference's median of 2, one scheduler hiccup moved a figure by 30% (gated attention at
    // L = 4096: 37 ms in one run, 51 in the next).
    const reps = 5;
    const warm = 2;
    const x = tf.randomNormal([1, L, config.hidden_size]);
    const p = layer.project(x);
    let indices: tf.Tensor3D | null = null;
    const indexer = await timeMs(() => {
      indices?.dispose();
      indices = tf.tidy(() => {
        // What SparseMla.forward runs: indexer queries/keys, then the fused O(L²)-compute, O(L·k)-memory top-k.
        const { cos, sin } = ropeTables(dsaConfig, 1, L, {});
        const { q, w } = layer.indexer.queries(p.qr!, x, cos, sin);
        return indexerTopK(q, w, layer.indexer.keys(x, cos, sin), k, { scale: dsaConfig.index_head_dim ** -0.5 }); // [1, L, k]
      });
    }, reps, warm);
    const sel = indices!;
    const attn = await timeMs(() => tf.tidy(() => settle(layer.attendExpanded(p, p.c, p.kPe, { indices: sel }).y)), reps, warm);
    const sparse = await timeMs(() => tf.tidy(() => settle(layer.forward(x))), reps, warm);
    const denseMs = await timeMs(() => tf.tidy(() => settle(Mla.prototype.forward.call(layer, x))), reps, warm);
    gated.push(attn);
    line(`dsa_prefill_L${L}_k${k}`, sparse, pt.get(`dsa_prefill_L${L}_k${k}`), 'ms', false);
    line(`dense_mla_prefill_L${L}`, denseMs, pt.get(`dense_mla_prefill_L${L}`), 'ms', false);
    console.log(`# r1-ts L=${L}: indexer+top-k ${fmt(indexer)} ms, gated attention ${fmt(attn)} ms (${fmt((attn / L) * 1000)} µs/query), dense/sparse ${fmt(denseMs / sparse)}×`);
    sel.dispose();
    tf.dispose([x, p.qr!, p.qNope, p.qPe, p.c, p.kPe]);
  }
  if (gated.length > 1) {
    const growth = gated[gated.length - 1] / gated[0] / (lengths[lengths.length - 1] / lengths[0]);
    console.log(`# r1-ts gated attention growth L=${lengths[0]}→${lengths[lengths.length - 1]}: ${fmt(growth)}× linear`);
  }
  layer.dispose();
}

// ---------------------------------------------------------------------------------------------- main

const info = await initBackend({ quiet: true });
console.log(`# preset=${preset} backend=${info.name} threads=${info.threads} torch=${torchOk ? 'yes' : 'no'}`);
for (const group of only) {
  if (group === 'gemm') {
    const pt = pytorch('gemm');
    line('gemm_1024', await gemmGflops(), pt.get('gemm_1024'), 'GFLOP/s', true);
  } else if (group === 'train') {
    const pt = pytorch('train');
    const ops = await opsPerTrainStep(preset);
    console.log(`# r1-ts ops per training step (b2 s32): ${ops.total} kernels`);
    // The reference's protocol (torch_reference.py's timed): 2 warm-up steps, the median of 5.
    line(`train_step_${preset}_b8_s256`, await trainTokensPerSec(preset, 8, 256, 5, 2), pt.get('train_step_b8_s256'), 'tokens/s', true);
  } else if (group === 'generate') {
    const pt = pytorch('generate');
    line(`generate_${preset}_b16_n128`, await generateTokensPerSec(preset, 16, 16, 128, 2), pt.get('generate_b16_new128'), 'tokens/s', true); // 1 warm-up, median of 2, as the reference
  } else if (group === 'layers') await layers();
  else if (group === 'dsa') await dsa();
  else throw new Error(`--only: unknown benchmark group ${group} (gemm, train, generate, layers, dsa)`);
}
await disposeBackend();
