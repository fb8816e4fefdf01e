// A Policy whose rollouts come from inference servers while the trainer keeps its own copy of the
// weights for log-probs and gradients. After every trainer step the trainer calls syncWeights and the
// servers load the new version; each completion records the version it was sampled from.
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';
import type {
  Completion, LogProbOptions, OptimizerStepStats, Policy, PromptInput, SamplingOptions, SequenceBatch,
} from '../policy';
import { EngineClient } from './client';
import type { EngineClientOptions } from './client';
import type { EngineRequest } from './protocol';
import type { WeightSync } from './sync';

/**
 * A completion sampled by a rollout engine: the weights version it came from, and the server.
 *
 * @example
 * ```ts
 * import type { EngineCompletion } from '@r1-ts/grpo';
 * const c: EngineCompletion = { promptIds: [5], completionIds: [7, 2], text: '7', logProbs: [-0.2, -0.1], truncated: false, weightsVersion: 3, server: 'http://127.0.0.1:8000' };
 * ```
 */
export interface EngineCompletion extends Completion {
  /** The weights version the server sampled it from. */
  weightsVersion: number;
  /** The server that answered. */
  server: string;
}

/**
 * A policy whose samples come from versioned weights that the trainer pushes after each step
 * ({@link EnginePolicy}). {@link GrpoTrainer} detects it and syncs, tracks staleness and, with
 * `maxStaleness > 0`, generates the next step's rollouts while the current one trains.
 *
 * @example
 * ```ts
 * import { isVersionedPolicy } from '@r1-ts/grpo';
 * import type { Policy } from '@r1-ts/grpo';
 * declare const policy: Policy;
 * if (isVersionedPolicy(policy)) console.log('engine weights version', policy.weightsVersion);
 * ```
 */
export interface VersionedPolicy extends Policy {
  /** The version the servers hold (null before the first sync). */
  readonly weightsVersion: number | null;
  /**
   * Pushes the trainer's current weights to the servers as `version`; resolves when they serve it,
   * with warnings to report (e.g. a server that missed the sync and was taken out of rotation).
   */
  syncWeights(version: number): Promise<string[] | void>;
  /** Resolves once the requests of the latest `generate` call have been sent (so they run while the caller computes). */
  whenDispatched(): Promise<void>;
}

/**
 * True when `p` is a {@link VersionedPolicy}.
 *
 * @param p - Any value, usually a trainer's `policy` option.
 *
 * @example
 * ```ts
 * import { isVersionedPolicy } from '@r1-ts/grpo';
 * console.log(isVersionedPolicy({})); // false
 * ```
 */
export function isVersionedPolicy(p: unknown): p is VersionedPolicy {
  const q = p as Partial<VersionedPolicy> | null;
  return !!q && typeof q.syncWeights === 'function' && typeof q.whenDispatched === 'function' && 'weightsVersion' in q;
}

/**
 * Options of {@link EnginePolicy}.
 *
 * @example
 * ```ts
 * import type { EnginePolicyOptions, Policy, WeightSync } from '@r1-ts/grpo';
 * declare const local: Policy;
 * declare const sync: WeightSync;
 * const o: EnginePolicyOptions = {
 *   policy: local, sync, engine: { urls: ['http://127.0.0.1:8000'], vocabSize: 32000 },
 *   encode: (p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : [...p]),
 *   decode: (_prompt, ids) => String.fromCharCode(...ids),
 * };
 * ```
 */
export interface EnginePolicyOptions {
  /** The trainer-side policy: log-probs, gradients, the reference copy. Its weights are what gets synced. */
  policy: Policy;
  /** The servers (an {@link EngineClient} or its options). */
  engine: EngineClient | EngineClientOptions;
  /** How weights reach the servers. */
  sync: WeightSync;
  /** A prompt's token ids (a text prompt through the chat template, as the local policy would). */
  encode: (prompt: PromptInput) => number[];
  /** The text reward functions read for a completion. */
  decode: (promptIds: readonly number[], completionIds: readonly number[]) => string;
}

/**
 * {@link Policy} with generation on rollout servers (vLLM, SGLang, `r1 serve`): prompts go out as
 * token ids, G completions of a prompt in one request (`n = G`), each completion comes back as
 * token ids with the engine's per-token log-probs and the weights version it was sampled from.
 * Everything else (log-probs, gradients, reference model) runs on the local policy.
 *
 * @example
 * ```ts
 * import { DiskWeightSync, EnginePolicy, GrpoTrainer } from '@r1-ts/grpo';
 * import { DeepSeekPolicy, openThinkSuffix, saveCheckpoint } from '@r1-ts/model';
 * declare const local: DeepSeekPolicy;
 * const policy = new EnginePolicy({
 *   policy: local,
 *   engine: { urls: ['http://127.0.0.1:8000', 'http://127.0.0.1:8001'], vocabSize: local.tokenizer.vocabSize },
 *   sync: new DiskWeightSync({ dir: 'runs/x/weights', modelName: 'r1-ts', save: (d) => { saveCheckpoint(d, local.model, local.tokenizer); } }),
 *   encode: (p) => local.encodePrompt(p),
 *   decode: (p, c) => openThinkSuffix(local.tokenizer.decode([...p])) + local.tokenizer.decode([...c], { skipSpecial: true }),
 * });
 * const trainer = new GrpoTrainer({ policy, dataset: [{ prompt: '1+1=' }], rewardFunctions: [() => 1], beta: 0 });
 * await trainer.step(); // sampled on the servers, trained here, weights pushed back
 * ```
 */
export class EnginePolicy implements VersionedPolicy {
  /** The client that talks to the servers. */
  readonly client: EngineClient;
  private version: number | null = null;
  private model: string;
  private dispatched: Promise<void> = Promise.resolve();
  private readonly ownsClient: boolean;

  /**
   * @param options - The local `policy` that scores and trains, the `engine` (a client or its options) that generates, the weight `sync`, and `encode`/`decode` between prompts, token ids and text; see {@link EnginePolicyOptions}.
   */
  constructor(private readonly options: EnginePolicyOptions) {
    for (const k of ['encode', 'decode'] as const) {
      if (typeof options?.[k] !== 'function') throw new ConfigError(`EnginePolicy: options.${k} must be a function`, [k]);
    }
    if (!options.sync || typeof options.sync.push !== 'function') throw new ConfigError('EnginePolicy: options.sync must be a WeightSync (DiskWeightSync, LoraWeightSync)', ['sync']);
    this.ownsClient = !(options.engine instanceof EngineClient);
    this.client = options.engine instanceof EngineClient ? options.engine : new EngineClient(options.engine);
    this.model = options.sync.initialModel;
  }

  /** The weights version the servers hold (null before the first sync). */
  get weightsVersion(): number | null {
    return this.version;
  }

  /** The model id requests name now (the latest adapter with LoRA sync). */
  get servedModel(): string {
    return this.model;
  }

  /** Pushes the local policy's weights as `version` through the {@link WeightSync}; returns warnings for servers it missed. */
  async syncWeights(version: number): Promise<string[]> {
    this.model = await this.options.sync.push(this.client, version);
    this.version = version;
    return this.client.stats().filter((s) => s.outOfSync)
      .map((s) => `weights version ${version} did not reach ${s.url}; it gets no rollout requests until a later sync does`);
  }

  /** Resolves once the latest `generate` call's requests are on the wire. */
  whenDispatched(): Promise<void> {
    return this.dispatched;
  }

  /**
   * Samples on the servers. Consecutive equal prompts (the trainer's G copies) become one request
   * with `n` = their count; each request's seed is drawn from `options.rng`, so a retried request
   * draws the same samples and a run is reproducible given the servers' weights.
   */
  async generate(prompts: readonly PromptInput[], o: SamplingOptions): Promise<EngineCompletion[]> {
    const ids = prompts.map((p) => this.options.encode(p));
    const requests: EngineRequest[] = [];
    ids.forEach((p, i) => {
      const last = requests.at(-1);
      if (last && i > 0 && sameIds(ids[i - 1], p)) last.n++;
      else requests.push({ promptIds: p, n: 1, seed: o.rng.int(0, 2 ** 31 - 1) });
    });
    const expected = this.version;
    const { done, dispatched } = this.client.sample(requests, this.model, { temperature: o.temperature, topP: o.topP, maxTokens: o.maxNewTokens });
    this.dispatched = dispatched;
    const answers = await done;
    return requests.flatMap((req, r) => answers[r].map((s) => ({
      promptIds: [...req.promptIds],
      completionIds: s.completionIds,
      text: this.options.decode(req.promptIds, s.completionIds),
      logProbs: s.logProbs,
      truncated: s.finishReason === 'length',
      // A server that reports no version (stock vLLM) serves what the sync loaded: with LoRA sync the
      // request named that version's adapter, with disk sync the load returned before sampling began.
      weightsVersion: s.weightsVersion ?? expected ?? 0,
      server: s.server,
    })));
  }

  /** The local policy's log-probs (see {@link Policy.logProbs}). */
  logProbs(batch: SequenceBatch, options?: LogProbOptions): tf.Tensor2D {
    return this.options.policy.logProbs(batch, options);
  }

  /** The local policy's entropy (see {@link Policy.entropy}). */
  entropy(batch: SequenceBatch, options?: LogProbOptions): tf.Tensor2D {
    if (!this.options.policy.entropy) throw new ConfigError('EnginePolicy: the local policy has no entropy()', ['policy']);
    return this.options.policy.entropy(batch, options);
  }

  /** The local policy's trainable variables. */
  trainableVariables(): tf.Variable[] {
    return this.options.policy.trainableVariables();
  }

  /** The reference model: a frozen copy of the local policy (it never generates). */
  clone(): Policy {
    return this.options.policy.clone();
  }

  /** Freezes the local policy. */
  freeze(): void {
    this.options.policy.freeze();
  }

  /** Forwards to the local policy's hook. */
  afterOptimizerStep(stats: OptimizerStepStats): void {
    this.options.policy.afterOptimizerStep?.(stats);
  }

  /** Closes the client's sockets (when it created the client); the local policy stays the caller's. */
  dispose(): void {
    if (this.ownsClient) this.client.close();
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
