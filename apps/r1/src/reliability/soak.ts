// Issue #11's serving soak: N concurrent streaming clients (the `openai` package, as a user would
// connect) against `r1 serve` on loopback for a fixed time, then a summary line per figure. The first
// half runs only fast clients; in the second half some clients read their streams slowly (a pause
// after the first chunk, then a delay per chunk), so the fast clients' time-to-first-token with and
// without slow readers shows whether a slow client can stall the engine loop. Bounded: every client
// stops starting requests when its phase ends, and the run ends when the last request does.
//
//   tsx --conditions=@r1-ts/source apps/r1/src/reliability/soak.ts [--seconds 60] [--clients 32]
//
// Exits 1 when any request failed, tensors leaked, RSS grew past the bound or slow clients stalled
// fast ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@r1-ts/tensor-kernels';
import { loadCheckpoint } from '@r1-ts/model';
import { startServer } from '../serve/server';
import { makeTinyCheckpoint } from '../serve/tiny_checkpoint';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Wall time of the load, split into a fast-only half and a mixed half. Default 60. */
  seconds?: number;
  /** Concurrent streaming clients. Default 32. */
  clients?: number;
  /** Share of clients that read slowly in the second half. Default 0.25. */
  slowFraction?: number;
  /** Completion tokens per request. Default 32. */
  maxTokens?: number;
  /** Engine batch rows. Default 16. */
  maxBatch?: number;
  /** A slow client's pause after its first chunk, then its delay per chunk (ms). Default 1000 and 40. */
  slowPauseMs?: number;
  slowChunkDelayMs?: number;
  /** Largest allowed RSS growth over the run, from the sample after warm-up (MB). Default 256. */
  maxRssGrowthMb?: number;
  /** Largest allowed ratio of fast-client TTFT p50 with slow clients to without (plus 100 ms). Default 2. */
  maxTtftRatio?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** Percentiles of a fast client's time to first token (ms). */
export interface TtftFigures {
  p50: number;
  p99: number;
  n: number;
}

/** What {@link runSoak} measured, and the bounds it failed (empty when it passed). */
export interface SoakResult {
  errors: number;
  /** The first few error messages. */
  errorSamples: string[];
  requests: number;
  tokens: number;
  rssMb: { start: number; warm: number; max: number; end: number };
  tensors: { start: number; end: number; max: number };
  ttftFast: TtftFigures;
  ttftFastWithSlow: TtftFigures;
  seconds: number;
  failures: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentiles(xs: number[]): TtftFigures {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : Number.NaN);
  return { p50: at(0.5), p99: at(0.99), n: s.length };
}

/**
 * Starts `r1 serve` on an ephemeral loopback port with a freshly trained tiny checkpoint, runs the
 * soak, drains the server and returns the figures (never throws for a failed request: it counts it).
 *
 * @example
 * ```ts
 * const r = await runSoak({ seconds: 8, clients: 8 });
 * console.log(formatSoak(r).join('\n'), r.failures.length === 0);
 * ```
 */
export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const seconds = options.seconds ?? 60;
  const clients = options.clients ?? 32;
  const maxTokens = options.maxTokens ?? 32;
  const slowCount = Math.max(1, Math.round(clients * (options.slowFraction ?? 0.25)));
  const slowPauseMs = options.slowPauseMs ?? 1000;
  const slowChunkDelayMs = options.slowChunkDelayMs ?? 40;
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'r1-soak-'));
  try {
    const { evalProblems } = makeTinyCheckpoint(join(dir, 'ckpt'), { steps: 8 });
    const { model, tokenizer } = loadCheckpoint(join(dir, 'ckpt'));
    const tensorsStart = tf.memory().numTensors;
    const srv = await startServer({ model, tokenizer: tokenizer!, port: 0, modelName: 'tiny', maxBatch: options.maxBatch ?? 16 });
    const client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 60_000 });
    const rss = () => process.memoryUsage().rss / 2 ** 20;
    const samples: Array<{ t: number; rss: number; tensors: number }> = [];
    const t0 = performance.now();
    const sample = () => samples.push({ t: (performance.now() - t0) / 1000, rss: rss(), tensors: tf.memory().numTensors });
    sample();
    const sampler = setInterval(() => {
      sample();
      const s = samples[samples.length - 1];
      const st = srv.stats();
      log(`[soak] t=${s.t.toFixed(0)}s rss=${s.rss.toFixed(0)}MB tensors=${s.tensors} requests=${st.requests} running=${st.running} waiting=${st.waiting}`);
    }, 1000);
    const counts = { errors: 0, requests: 0, tokens: 0 };
    const errorSamples: string[] = [];
    const ttft = { fast: [] as number[], fastWithSlow: [] as number[] };
    const half = t0 + (seconds * 1000) / 2;
    const end = t0 + seconds * 1000;

    /** One streamed request; returns the time to its first token (ms) or throws. */
    const stream = async (i: number, seed: number, slow: boolean): Promise<number> => {
      const start = performance.now();
      const res = await client.chat.completions.create({
        model: 'tiny', messages: [{ role: 'user', content: evalProblems[(i + seed) % evalProblems.length].prompt }],
        max_tokens: maxTokens, temperature: 1, seed, stream: true,
      });
      let first = Number.NaN;
      let finish: string | null = null;
      let chunks = 0;
      for await (const c of res) {
        const ch = c.choices[0];
        if (!ch) continue;
        const d = ch.delta as { content?: string | null; reasoning_content?: string | null };
        if (Number.isNaN(first) && (d.content || d.reasoning_content || ch.finish_reason)) first = performance.now() - start;
        if (ch.finish_reason) finish = ch.finish_reason;
        chunks++;
        if (slow) await sleep(chunks === 1 ? slowPauseMs : slowChunkDelayMs);
      }
      if (finish !== 'stop' && finish !== 'length') throw new Error(`stream ended without a finish_reason (got ${finish}, ${chunks} chunks)`);
      counts.tokens += chunks;
      return first;
    };

    const worker = async (i: number) => {
      for (let k = 0; performance.now() < end; k++) {
        const mixed = performance.now() >= half;
        const slow = mixed && i < slowCount;
        try {
          counts.requests++;
          const first = await stream(i, 1000 * i + k, slow);
          if (!slow) (mixed ? ttft.fastWithSlow : ttft.fast).push(first);
        } catch (e) {
          counts.errors++;
          if (errorSamples.length < 5) errorSamples.push(`client ${i}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
    await srv.engine.idle();
    await srv.drain();
    clearInterval(sampler);
    sample();
    const elapsed = (performance.now() - t0) / 1000;
    model.dispose();

    // Warm RSS: the largest sample in the first fifth (allocator and JIT settle under load first).
    const warmSamples = samples.filter((s) => s.t <= Math.max(2, seconds / 5));
    const result: SoakResult = {
      ...counts,
      errorSamples,
      rssMb: {
        start: samples[0].rss,
        warm: Math.max(...warmSamples.map((s) => s.rss)),
        max: Math.max(...samples.map((s) => s.rss)),
        end: samples[samples.length - 1].rss,
      },
      tensors: { start: tensorsStart, end: samples[samples.length - 1].tensors, max: Math.max(...samples.map((s) => s.tensors)) },
      ttftFast: percentiles(ttft.fast),
      ttftFastWithSlow: percentiles(ttft.fastWithSlow),
      seconds: elapsed,
      failures: [],
    };
    const f = result.failures;
    if (result.errors > 0) f.push(`${result.errors} requests failed: ${errorSamples.join('; ')}`);
    if (result.tensors.end !== result.tensors.start) f.push(`tensors leaked: ${result.tensors.start} before, ${result.tensors.end} after`);
    const growth = result.rssMb.max - result.rssMb.warm;
    if (growth > (options.maxRssGrowthMb ?? 256)) f.push(`RSS grew ${growth.toFixed(0)} MB after warm-up (bound ${options.maxRssGrowthMb ?? 256})`);
    if (result.ttftFast.n === 0 || result.ttftFastWithSlow.n === 0) f.push('a phase completed no fast request');
    const ratio = options.maxTtftRatio ?? 2;
    if (result.ttftFastWithSlow.p50 > ratio * result.ttftFast.p50 + 100) {
      f.push(`slow clients stalled fast ones: TTFT p50 ${result.ttftFastWithSlow.p50.toFixed(0)} ms with, ${result.ttftFast.p50.toFixed(0)} ms without`);
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The summary, one `name=value` line per figure.
 *
 * @example
 * ```ts
 * for (const line of formatSoak(await runSoak({ seconds: 8, clients: 8 }))) console.log(line);
 * // soak_errors=0
 * // soak_requests=…
 * ```
 */
export function formatSoak(r: SoakResult): string[] {
  const ms = (x: number) => x.toFixed(0);
  return [
    `soak_errors=${r.errors}`,
    `soak_requests=${r.requests}`,
    `soak_stream_chunks=${r.tokens}`,
    `soak_seconds=${r.seconds.toFixed(1)}`,
    `soak_rss_mb_start=${r.rssMb.start.toFixed(0)}`,
    `soak_rss_mb_warm=${r.rssMb.warm.toFixed(0)}`,
    `soak_rss_mb_max=${r.rssMb.max.toFixed(0)}`,
    `soak_rss_mb_end=${r.rssMb.end.toFixed(0)}`,
    `soak_tensors_start=${r.tensors.start}`,
    `soak_tensors_max=${r.tensors.max}`,
    `soak_tensors_end=${r.tensors.end}`,
    `fast_client_ttft_p50_ms=${ms(r.ttftFast.p50)} fast_client_ttft_p99_ms=${ms(r.ttftFast.p99)} n=${r.ttftFast.n} (no slow clients)`,
    `fast_client_ttft_with_slow_p50_ms=${ms(r.ttftFastWithSlow.p50)} fast_client_ttft_with_slow_p99_ms=${ms(r.ttftFastWithSlow.p99)} n=${r.ttftFastWithSlow.n} (with slow clients)`,
    `soak_result=${r.failures.length === 0 ? 'PASS' : `FAIL ${r.failures.join(' | ')}`}`,
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      clients: { type: 'string', default: '32' },
      backend: { type: 'string', default: 'wasm' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const clients = Number(values.clients);
  if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);
  if (!Number.isInteger(clients) || clients < 2) throw new Error(`--clients must be an integer ≥ 2, got ${values.clients}`);
  await initBackend({ backend: values.backend as 'wasm' | 'cpu' | 'auto', quiet: true });
  const r = await runSoak({ seconds, clients, log: values.quiet ? undefined : (l) => console.error(l) });
  for (const line of formatSoak(r)) console.log(line);
  process.exitCode = r.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
