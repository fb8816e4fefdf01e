// Continuous batching over one shared decode cache (any CausalLM: MLA latents, dense KV; the row
// surgery is @r1-ts/model's cache_rows): every scheduler step decodes one token for each running
// sequence in a single forward pass, then admits waiting sequences (one left-padded prefill, merged
// into the running cache) and drops finished ones. Each sequence samples with its own settings
// and its own seeded RNG, so a completion depends on (prompt, settings, seed), not on what else shares
// the batch. Steps yield to the event loop, so HTTP I/O (new requests, disconnects) interleaves.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@r1-ts/tensor-kernels';
import { cacheLength, eosTokenIds, lastPositionLogits, leftPad, mergeCacheRows, resolveSampling, sampleToken, selectCacheRows } from '@r1-ts/model';
import type { CausalLM, DecodeCache, SamplingOptions, Tokenizer } from '@r1-ts/model';

/** One sequence to complete. */
export interface SequenceRequest {
  /** Prompt token ids (non-empty). */
  prompt: number[];
  /** Completion token budget (≥ 1; prompt + budget ≤ max_position_embeddings). */
  maxTokens: number;
  /** Temperature (0 = greedy), top-p, top-k. */
  sampling?: SamplingOptions;
  /** Seed of this sequence's sampling RNG. */
  seed: number;
  /** Strings that end the completion; the text is cut before the first one (OpenAI convention). */
  stop?: string[];
  /** Abort: the sequence leaves the batch at the next step and resolves with finishReason 'abort'. */
  signal?: AbortSignal;
  /** Streamed text as it becomes final (held back while it could still be the start of a stop string). */
  onText?: (delta: string) => void;
}

/** A finished sequence. */
export interface SequenceResult {
  /** Sampled ids (the eos id included when one ended the completion). */
  tokens: number[];
  /** log-prob of each sampled id under softmax(logits / temperature), before top-p (what GRPO calls log π_old). */
  logProbs: number[];
  /** Completion text, special tokens dropped, cut before a stop string. */
  text: string;
  finishReason: 'stop' | 'length' | 'abort';
}

/** Options of {@link Engine}. */
export interface EngineOptions {
  /** Most sequences decoded together (batch rows). Default 16. */
  maxBatch?: number;
  /**
   * Ids that end a completion (kept in `tokens`). Default: the tokenizer's eos and the model
   * config's `eos_token_id`s; pass generation_config.json's with {@link eosTokenIds}.
   */
  stopIds?: readonly number[];
  /** Called when a sequence leaves the batch (tests and metrics). */
  onFinish?: (result: SequenceResult) => void;
}

/** Counters of an {@link Engine}. */
export interface EngineStats {
  running: number;
  waiting: number;
  /** Forward passes (prefills + decode steps). */
  steps: number;
  /** Tokens sampled so far. */
  tokens: number;
  /** Seconds spent in model steps. */
  busySeconds: number;
}

interface Sequence {
  req: SequenceRequest;
  sampling: Required<SamplingOptions>;
  rng: Rng;
  tokens: number[];
  logProbs: number[];
  /** Real (non-padding) tokens this row has in the cache. */
  cached: number;
  emitted: number;
  text: string;
  finish: SequenceResult['finishReason'] | null;
  resolve: (r: SequenceResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Schedules sequences onto a model: queued, batched into shared decode steps, streamed.
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, presets, renderChat } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['What is 1+1?']);
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize });
 * const engine = new Engine(model, tok);
 * const prompt = tok.encode(renderChat([{ role: 'user', content: 'What is 1+1?' }]));
 * const res = await engine.submit({ prompt, maxTokens: 8, sampling: { temperature: 0.6 }, seed: 1 });
 * console.log(res.finishReason, res.tokens.length <= 8);
 * ```
 */
export class Engine {
  readonly maxBatch: number;
  /** Ids that end a completion. */
  readonly stopIds: ReadonlySet<number>;
  private readonly waiting: Sequence[] = [];
  private running: Sequence[] = [];
  private cache: DecodeCache | null = null;
  private loop: Promise<void> | null = null;
  private counters = { steps: 0, tokens: 0, busySeconds: 0 };
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly model: CausalLM,
    readonly tokenizer: Tokenizer,
    private readonly options: EngineOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 16;
    this.stopIds = new Set(options.stopIds ?? eosTokenIds(tokenizer, model.config));
  }

  /** Queues a sequence; resolves when it finishes (or is aborted), rejects on a model error. */
  submit(req: SequenceRequest): Promise<SequenceResult> {
    const sampling = resolveSampling(req.sampling);
    if (req.prompt.length === 0) throw new RangeError('prompt must have at least one token');
    if (!Number.isInteger(req.maxTokens) || req.maxTokens < 1) throw new RangeError(`maxTokens must be a positive integer, got ${req.maxTokens}`);
    const max = this.model.config.max_position_embeddings;
    if (req.prompt.length + req.maxTokens > max) {
      throw new RangeError(`prompt (${req.prompt.length}) + maxTokens (${req.maxTokens}) exceeds max_position_embeddings (${max})`);
    }
    return new Promise<SequenceResult>((resolve, reject) => {
      this.waiting.push({ req, sampling, rng: new Rng(req.seed | 0), tokens: [], logProbs: [], cached: 0, emitted: 0, text: '', finish: null, resolve, reject });
      this.kick();
    });
  }

  /** Resolves once nothing is running or waiting (used to drain on shutdown). */
  idle(): Promise<void> {
    if (!this.loop && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Current counters. */
  stats(): EngineStats {
    return { running: this.running.length, waiting: this.waiting.length, ...this.counters };
  }

  /** Starts the scheduler loop unless it runs; when it ends, restarts it for late arrivals or wakes `idle()`. */
  private kick(): void {
    this.loop ??= this.run().finally(() => {
      this.loop = null;
      if (this.waiting.length) this.kick();
      else this.idleWaiters.splice(0).forEach((f) => f());
    });
  }

  private async run(): Promise<void> {
    try {
      while (this.running.length || this.waiting.length) {
        for (const s of this.running) if (s.req.signal?.aborted) s.finish ??= 'abort';
        this.settle();
        if (this.running.length) this.decodeStep();
        this.admit();
        this.settle();
        await new Promise<void>((r) => setImmediate(r));
      }
    } catch (e) {
      for (const s of [...this.running, ...this.waiting.splice(0)]) s.reject(e);
      this.running = [];
      this.cache?.dispose();
      this.cache = null;
    }
  }

  /** One token for every running row: forward [B, 1] through the shared cache. */
  private decodeStep(): void {
    const B = this.running.length;
    const last = this.running.map((s) => s.tokens[s.tokens.length - 1]);
    const t0 = performance.now();
    const logits = tf.tidy(() => {
      const out = this.model.forward(tf.tensor2d(last, [B, 1], 'int32'), {}, this.cache!); // logits [B, 1, V]
      return tf.reshape(out.logits, [B, -1]) as tf.Tensor2D; // [B, V]
    });
    this.sampleRows(this.running, logits, t0);
    for (const s of this.running) s.cached++;
  }

  /** Prefills waiting sequences (as many as fit) into a fresh cache, samples their first tokens, merges. */
  private admit(): void {
    this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((s) => {
      if (!s.req.signal?.aborted) return true;
      s.finish = 'abort';
      this.finish(s);
      return false;
    }));
    const room = this.maxBatch - this.running.length;
    if (room <= 0 || this.waiting.length === 0) return;
    const group = this.waiting.splice(0, room);
    const padded = leftPad(group.map((s) => s.req.prompt), this.tokenizer.special.pad);
    const cache = this.model.newCache();
    const t0 = performance.now();
    let logits: tf.Tensor2D;
    try {
      logits = tf.tidy(() => {
        const { hidden } = this.model.forwardHidden(padded.tokens, { keyMask: padded.keyMask, positions: padded.positions }, cache); // [B, P, D]
        return lastPositionLogits(this.model, hidden); // [B, V]: the head on the last position only
      });
    } catch (e) {
      cache.dispose();
      group.forEach((s) => s.reject(e));
      throw e;
    } finally {
      padded.tokens.dispose();
      padded.keyMask.dispose();
    }
    this.sampleRows(group, logits, t0);
    for (const s of group) s.cached = s.req.prompt.length;
    if (this.cache) mergeCacheRows(this.cache, cache);
    else this.cache = cache;
    this.running.push(...group);
  }

  /** Samples one token per row from logits [B, V] (disposed), updates texts, streams, marks finished rows. */
  private sampleRows(rows: Sequence[], logits: tf.Tensor2D, t0: number): void {
    const values = logits.dataSync() as Float32Array;
    const V = logits.shape[1];
    logits.dispose();
    this.counters.steps++;
    this.counters.busySeconds += (performance.now() - t0) / 1000;
    rows.forEach((s, b) => {
      const { id, logProb } = sampleToken(values.subarray(b * V, (b + 1) * V), s.sampling, s.rng);
      s.tokens.push(id);
      s.logProbs.push(logProb);
      this.counters.tokens++;
      if (this.stopIds.has(id)) s.finish = 'stop';
      else {
        s.text = this.tokenizer.decode(s.tokens, { skipSpecial: true });
        const stops = s.req.stop ?? [];
        const hits = stops.map((st) => s.text.indexOf(st)).filter((i) => i >= 0);
        if (hits.length) {
          s.text = s.text.slice(0, Math.min(...hits));
          s.finish = 'stop';
        } else if (s.tokens.length >= s.req.maxTokens) s.finish = 'length';
      }
      this.emit(s);
    });
  }

  /** Streams the part of the text that can no longer change. */
  private emit(s: Sequence): void {
    if (!s.req.onText) return;
    let safe = s.text.length;
    if (!s.finish) {
      const hold = Math.max(0, ...(s.req.stop ?? []).map((st) => st.length - 1));
      safe -= hold;
      while (safe > s.emitted && s.text[safe - 1] === '\uFFFD') safe--; // an incomplete multi-byte char
    }
    if (safe > s.emitted) {
      const delta = s.text.slice(s.emitted, safe);
      s.emitted = safe;
      try {
        s.req.onText(delta);
      } catch {
        s.finish ??= 'abort'; // the consumer is gone
      }
    }
  }

  /** Removes finished rows from the batch and its cache (trimming padding no row needs any more). */
  private settle(): void {
    const keep: number[] = [];
    this.running.forEach((s, i) => (s.finish ? this.finish(s) : keep.push(i)));
    if (keep.length === this.running.length) return;
    this.running = keep.map((i) => this.running[i]);
    if (keep.length === 0) {
      this.cache?.dispose();
      this.cache = null;
      return;
    }
    const T = cacheLength(this.cache!);
    const trim = Math.min(...this.running.map((s) => T - s.cached));
    selectCacheRows(this.cache!, keep, trim);
  }

  private finish(s: Sequence): void {
    const result: SequenceResult = { tokens: s.tokens, logProbs: s.logProbs, text: s.text, finishReason: s.finish ?? 'abort' };
    this.options.onFinish?.(result);
    s.resolve(result);
  }
}

/**
 * The seed of choice `index` of a request seeded with `seed`: distinct per choice, the same on every
 * server and in-process run (so `r1 eval --endpoint` and `r1 eval CKPT` draw the same samples).
 *
 * @example
 * ```ts
 * console.log(choiceSeed(42, 0) === choiceSeed(42, 0), choiceSeed(42, 0) !== choiceSeed(42, 1)); // true true
 * ```
 */
export function choiceSeed(seed: number, index: number): number {
  // murmur3's 32-bit finaliser over seed ⊕ golden-ratio·index
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
