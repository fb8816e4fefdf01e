// GrpoTrainer with an EnginePolicy against fake rollout servers in this process that sample the toy
// bigram policy from the weights the trainer syncs to them by disk. Checks versions (sync and async),
// stale rollouts dropped and regenerated, mismatch metrics, and flat tensor counts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, initBackend } from '@r1-ts/tensor-kernels';
import { GrpoTrainer } from '../trainer';
import { EOS, ToyPolicy, fractionB } from '../testing/toy_policy';
import { EnginePolicy } from './policy';
import { DiskWeightSync } from './sync';

const dir = mkdtempSync(join(tmpdir(), 'r1-engine-trainer-'));
const CHARS = ['a', 'b', 'c', ''];

interface ToyServer {
  url: string;
  server: Server;
  version: number;
  /** Tables by version, so a test can make the server answer from an old one. */
  tables: Map<number, number[][]>;
  /** Completion requests answered so far. */
  requests: number;
  /** Request numbers (1-based) answered from the version before the previous one. */
  lagAt: Set<number>;
  /** Ignore weight updates (answer 200 but keep serving the old version). */
  frozen: boolean;
}

const servers: ToyServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

/** A bigram sampler written independently of ToyPolicy: float64 softmax(table[prev] / T). */
function sampleToy(table: number[][], prompt: number[], temperature: number, maxTokens: number, seed: number) {
  const rng = new Rng(seed);
  const ids: number[] = [];
  const lps: number[] = [];
  let prev = prompt[prompt.length - 1];
  while (ids.length < maxTokens) {
    const z = table[prev].map((l) => l / temperature);
    const m = Math.max(...z);
    const logZ = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    let u = rng.uniform();
    let tok = 3;
    for (let k = 0; k < 4; k++) {
      u -= Math.exp(z[k] - logZ);
      if (u < 0) {
        tok = k;
        break;
      }
    }
    ids.push(tok);
    lps.push(z[tok] - logZ);
    prev = tok;
    if (tok === EOS) break;
  }
  return { ids, lps, finish: ids.at(-1) === EOS ? 'stop' : 'length' };
}

async function toyServer(initial: number[][]): Promise<ToyServer> {
  const s: ToyServer = { url: '', server: null as never, version: 0, tables: new Map([[0, initial]]), requests: 0, lagAt: new Set(), frozen: false };
  s.server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text);
      if (req.url === '/update_weights_from_disk') {
        if (!s.frozen) {
          s.version = Number(body.weight_version);
          s.tables.set(s.version, JSON.parse(readFileSync(join(body.model_path, 'table.json'), 'utf8')));
        }
        return void res.writeHead(200).end(JSON.stringify({ success: true }));
      }
      const k = ++s.requests;
      const v = s.lagAt.has(k) ? Math.max(0, s.version - 2) : s.version;
      const table = s.tables.get(v)!;
      const choices = Array.from({ length: body.n }, (_, j) => {
        const r = sampleToy(table, body.prompt, body.temperature, body.max_tokens, body.seed + j);
        return { index: j, text: '', finish_reason: r.finish, logprobs: { tokens: r.ids.map((i) => `token_id:${i}`), token_logprobs: r.lps } };
      });
      // Answer after a short delay, like a real engine (lets the trainer's step overlap in async mode).
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices, weights_version: v })), 5);
    });
  });
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', () => r()));
  s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
  servers.push(s);
  return s;
}

type Sample = { prompt: number[] };
const dataset: Sample[] = [{ prompt: [0] }, { prompt: [1] }, { prompt: [2] }];

async function setup(over: Record<string, unknown> = {}, nServers = 2) {
  const local = new ToyPolicy();
  const initial = local.table.arraySync() as number[][];
  const fleet = await Promise.all(Array.from({ length: nServers }, () => toyServer(initial)));
  const policy = new EnginePolicy({
    policy: local,
    engine: { urls: fleet.map((s) => s.url), vocabSize: 4, timeoutMs: 5000 },
    sync: new DiskWeightSync({
      dir: join(dir, `w-${Math.random().toString(36).slice(2)}`), modelName: 'toy',
      save: (d) => {
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'table.json'), JSON.stringify(local.table.arraySync()));
      },
    }),
    encode: (p) => (typeof p === 'string' ? [...p].map((c) => Math.max(0, CHARS.indexOf(c))) : [...p]),
    decode: (_p, ids) => ids.map((k) => CHARS[k]).join(''),
  });
  const trainer = new GrpoTrainer<Sample>({
    policy, dataset, rewardFunctions: [fractionB], numGenerations: 4, promptsPerStep: 3,
    maxCompletionLength: 5, learningRate: 0.1, beta: 0, seed: 3, quiet: true, ...over,
  });
  return { trainer, policy, local, fleet };
}

describe('GrpoTrainer with an EnginePolicy (toy servers, disk sync)', () => {
  it('synchronous: every rollout comes from the weights being trained, engine logprobs agree with the trainer', async () => {
    const { trainer, policy, local, fleet } = await setup({ rolloutCorrection: 'token_truncate', rolloutCorrectionCap: 2 });
    let before = 0;
    for (let step = 1; step <= 4; step++) {
      const { rollouts, metrics } = await trainer.step();
      expect(rollouts).toHaveLength(12);
      expect(rollouts.every((r) => r.weightsVersion === step - 1)).toBe(true);
      expect(metrics.weights_version).toBe(step);
      expect(metrics['async/staleness_mean']).toBe(0);
      expect(metrics['sampling/sampling_logp_difference/max']).toBeLessThan(1e-5);
      expect(metrics['sampling/importance_sampling_ratio/mean']).toBeCloseTo(1, 5);
      expect(metrics['sampling/is_capped_frac']).toBe(0);
      // the optimizer's slots appear at the first update; from then on the count stays flat
      if (step === 1) before = tf.memory().numTensors;
      else expect(tf.memory().numTensors).toBe(before);
    }
    expect(tf.memory().numTensors).toBe(before);
    // every server holds the last synced table, and both served requests
    for (const s of fleet) {
      expect(s.version).toBe(4);
      expect(s.tables.get(4)).toEqual(local.table.arraySync());
      expect(s.requests).toBeGreaterThan(0);
    }
    trainer.dispose();
    policy.dispose();
    local.dispose();
  });

  it('async (maxStaleness 1): next step’s rollouts come from the previous weights, never older', async () => {
    const { trainer, policy, local } = await setup({ maxStaleness: 1 });
    for (let step = 1; step <= 4; step++) {
      const { rollouts, metrics } = await trainer.step();
      const versions = new Set(rollouts.map((r) => r.weightsVersion));
      // step 1 samples fresh; later steps train on what was generated during the previous step (one version old)
      expect([...versions]).toEqual([step === 1 ? 0 : step - 2]);
      expect(metrics['async/staleness_mean']).toBe(step === 1 ? 0 : 1);
    }
    trainer.dispose();
    policy.dispose();
    local.dispose();
  });

  it('async: a rollout older than maxStaleness is dropped and regenerated, never trained on', async () => {
    const { trainer, policy, local, fleet } = await setup({ maxStaleness: 1 }, 1);
    // One server, 3 requests per round (3 prompts × n = 4): 1–3 step 1, 4–6 the step-2 prefetch, 7–12 the
    // prefetches of steps 3 and 4, answered two versions back (staleness 2 > 1) until regenerated.
    for (let k = 7; k <= 12; k++) fleet[0].lagAt.add(k);
    let dropped = 0;
    for (let step = 1; step <= 5; step++) {
      const { rollouts, metrics } = await trainer.step();
      for (const r of rollouts) expect(r.weightsVersion!).toBeGreaterThanOrEqual(step - 1 - 1);
      dropped += metrics['async/stale_dropped'];
    }
    expect(dropped).toBeGreaterThan(0);
    trainer.dispose();
    policy.dispose();
    local.dispose();
  });

  it('async: servers that never load the synced weights → a clear error, not training on stale rollouts', async () => {
    const { trainer, policy, local, fleet } = await setup({ maxStaleness: 1 }, 1);
    fleet[0].frozen = true;
    await trainer.step();
    await trainer.step();
    await expect(trainer.step()).rejects.toThrow(/older than maxStaleness 1 after 3 regenerations/);
    trainer.dispose();
    policy.dispose();
    local.dispose();
  });

  it('resumes bit-identically: the restored weights are pushed before the first step', async () => {
    const full = await setup({ rolloutCorrection: 'token_truncate' });
    await full.trainer.step();
    await full.trainer.step();
    const live = await full.trainer.getState();
    // The snapshot holds the optimizer's live variables: copy them, as writing a checkpoint would.
    const snapshot = { state: live.state, tensors: Object.fromEntries(Object.entries(live.tensors).map(([k, t]) => [k, t.clone()])) };
    const table = full.local.table.arraySync() as number[][];
    const third = await full.trainer.step();
    const after = full.local.table.arraySync();

    // A fresh trainer, fresh servers still holding the initial weights, restored from the snapshot.
    const resumed = await setup({ rolloutCorrection: 'token_truncate' });
    resumed.local.table.assign(tf.tensor2d(table));
    await resumed.trainer.setState(snapshot);
    const again = await resumed.trainer.step();
    expect(again.rollouts.map((r) => [r.text, r.reward, r.weightsVersion])).toEqual(third.rollouts.map((r) => [r.text, r.reward, r.weightsVersion]));
    expect(again.rollouts.every((r) => r.weightsVersion === 2)).toBe(true);
    expect(resumed.local.table.arraySync()).toEqual(after);
    tf.dispose(Object.values(snapshot.tensors));
    for (const x of [full, resumed]) {
      x.trainer.dispose();
      x.policy.dispose();
      x.local.dispose();
    }
  });

  it('async resume: the prefetched step’s prompts are regenerated, the prompt sequence is the uninterrupted one', async () => {
    // 7 prompts, 3 a step: the order reshuffles across epochs, and a prefetch can straddle two of them.
    const many: Sample[] = Array.from({ length: 7 }, (_, i) => ({ prompt: [i % 3, Math.floor(i / 3)] }));
    const promptsOf = (r: { rollouts: { sample: Sample }[] }) => r.rollouts.filter((_, j) => j % 4 === 0).map((x) => x.sample.prompt.join(''));
    const full = await setup({ maxStaleness: 1, dataset: many });
    const uninterrupted: string[][] = [];
    let snapshot: { state: Awaited<ReturnType<GrpoTrainer['getState']>>['state']; tensors: Record<string, tf.Tensor> } | null = null;
    let table: number[][] = [];
    for (let step = 1; step <= 6; step++) {
      uninterrupted.push(promptsOf(await full.trainer.step()));
      if (step === 3) {
        // Killed here: step 4's rollouts are in flight. Copy the optimizer's live variables, as a checkpoint would.
        const live = await full.trainer.getState();
        snapshot = { state: live.state, tensors: Object.fromEntries(Object.entries(live.tensors).map(([k, t]) => [k, t.clone()])) };
        table = full.local.table.arraySync() as number[][];
      }
    }

    const resumed = await setup({ maxStaleness: 1, dataset: many });
    resumed.local.table.assign(tf.tensor2d(table));
    await resumed.trainer.setState(snapshot!);
    const again: string[][] = [];
    for (let step = 4; step <= 6; step++) {
      const r = await resumed.trainer.step();
      again.push(promptsOf(r));
      // The in-flight rollouts were lost: step 4 regenerates them from the restored weights (version 3),
      // later steps overlap again (one version old).
      expect(new Set(r.rollouts.map((x) => x.weightsVersion))).toEqual(new Set([step === 4 ? 3 : step - 2]));
    }
    expect(again).toEqual(uninterrupted.slice(3));
    tf.dispose(Object.values(snapshot!.tensors));
    for (const x of [full, resumed]) {
      x.trainer.dispose();
      x.policy.dispose();
      x.local.dispose();
    }
  });

  it('maxStaleness > 0 needs an engine policy', () => {
    const local = new ToyPolicy();
    expect(() => new GrpoTrainer<Sample>({ policy: local, dataset, rewardFunctions: [fractionB], maxStaleness: 1, quiet: true }))
      .toThrow(ConfigError);
    local.dispose();
  });
});
