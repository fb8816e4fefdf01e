import * as tf from '@tensorflow/tfjs';
import { CheckpointError, ConfigError, R1Error, Rng } from '@r1-ts/tensor-kernels';
import type { StoredTensor } from '@r1-ts/tensor-kernels';
import { groupRelativeAdvantages } from './advantages';
import type { RolloutRecord, StepMetrics, StepResult, TrainerEvent } from './events';
import { LossMetricsMean, rolloutMetrics } from './metrics';
import { isVersionedPolicy } from './engine/policy';
import type { VersionedPolicy } from './engine/policy';
import { rolloutCorrectionWeights } from './mismatch';
import { describeObjective, lengthWeightingWarning, resolveGrpoOptions } from './options';
import type { GrpoTrainerOptions, ResolvedGrpoOptions } from './options';
import type { Completion, Policy, SequenceBatch } from './policy';
import { policyLoss } from './policy_loss';
import type { PolicyLossMetrics } from './policy_loss';
import type { PromptSample, RewardFunction } from './rewards';
import { hasZeroRewardStd, sampleGroups } from './rollout';
import type { Group } from './rollout';
import { stopGradient } from './stop_gradient';
import { optimizerSnapshot, restoreOptimizer } from './trainer_state';
import type { GrpoTrainerSnapshot, GrpoTrainerState } from './trainer_state';

const warned = new Set<string>();
const announced = new Set<string>();

/**
 * GRPO (DeepSeekMath §4.1; R1 §2.2.1, eq. 1–3): each {@link GrpoTrainer.step} samples prompts, G
 * completions each, scores them, computes group-relative advantages and runs μ passes of
 * clipped-objective updates over mini-batches, calling `policy.afterOptimizerStep` after each
 * update. The same trainer runs GSPO with `importanceSampling: 'sequence'` (or `@r1-ts/gspo`).
 *
 * @example
 * ```ts
 * import { GrpoTrainer } from '@r1-ts/grpo';
 * import type { Policy } from '@r1-ts/grpo';
 * declare const policy: Policy; // e.g. new DeepSeekPolicy(model, tokenizer) from @r1-ts/model
 * const dataset = [{ prompt: '2+3=', answer: '5' }];
 * const correct = (c: string, s: { answer: string }) => (c.trim() === s.answer ? 1 : 0);
 * const trainer = new GrpoTrainer({ policy, dataset, rewardFunctions: [correct], numGenerations: 8, learningRate: 1e-5 });
 * const { metrics } = await trainer.step();
 * console.log(metrics.reward, metrics['clip_ratio/region_mean']);
 * trainer.dispose();
 * ```
 */
export class GrpoTrainer<S extends PromptSample = PromptSample> {
  /** The validated options, every default filled in. */
  readonly options: Readonly<ResolvedGrpoOptions>;
  /** Reward-function names as they appear in `rewards/<name>/mean`. */
  readonly rewardNames: readonly string[];
  private readonly policy: Policy;
  private readonly dataset: readonly S[];
  private readonly rewardFunctions: ReadonlyArray<RewardFunction<S>>;
  private readonly optimizer: tf.Optimizer;
  private readonly ownsOptimizer: boolean;
  private readonly onEvent?: (e: TrainerEvent) => void;
  private orderRng: Rng;
  private sampleRng: Rng;
  private ref: Policy | null = null;
  /** The trainer step the reference model was copied from the policy at. */
  private refStep = 0;
  private order: number[] = [];
  private cursor = 0;
  private steps = 0;
  private updates = 0;
  private tokensSeen = 0;
  /** A rollout engine's policy (null for a local one): synced after each step, versions tracked. */
  private readonly engine: VersionedPolicy | null;
  /** Async mode: the next step's first rollout round, generating while this step trains. */
  private pending: Promise<Group<S>[]> | null = null;

  constructor(options: GrpoTrainerOptions<S>) {
    this.options = resolveGrpoOptions(options);
    const o = this.options;
    this.policy = options.policy;
    this.dataset = options.dataset;
    this.rewardFunctions = options.rewardFunctions;
    this.onEvent = options.onEvent;
    this.engine = isVersionedPolicy(options.policy) ? options.policy : null;
    if (o.maxStaleness > 0 && !this.engine) {
      throw new ConfigError(`options.maxStaleness ${o.maxStaleness} needs a rollout engine policy (EnginePolicy); a local policy generates synchronously, use 0`, ['maxStaleness']);
    }
    const seen = new Map<string, number>();
    this.rewardNames = this.rewardFunctions.map((f, k) => {
      const base = f.name || `reward_${k}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return n === 1 ? base : `${base}_${n}`;
    });
    this.orderRng = new Rng(o.seed);
    this.sampleRng = this.orderRng.fork();
    this.ownsOptimizer = !options.optimizer;
    this.optimizer = options.optimizer ?? tf.train.adam(o.learningRate);
    // Say once which objective runs with which options: a GRPO → GSPO swap prints a different line.
    const { objective, summary } = describeObjective(o);
    this.emit({ type: 'resolved', objective, options: o, summary });
    if (!o.quiet && !announced.has(summary)) {
      announced.add(summary);
      console.info(`[r1-ts/grpo] ${summary}`);
    }
    const warning = lengthWeightingWarning(o.importanceSampling, o.lossType);
    if (warning) this.warn(warning);
    if (o.beta > 0) this.ref = this.makeReference();
  }

  /** Trainer steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** Optimizer updates taken so far. */
  get optimizerStepCount(): number {
    return this.updates;
  }

  /**
   * One GRPO step: rollouts → rewards → advantages → μ × mini-batch updates. Returns the step's
   * metrics and its scored completions.
   */
  async step(): Promise<StepResult<S>> {
    const o = this.options;
    const started = performance.now();
    const step = ++this.steps;
    this.emit({ type: 'step_start', step });
    // The engines serve version step − 1 (the updates of the steps before): push it if they do not (first step, resume).
    if (this.engine && this.engine.weightsVersion !== step - 1) await this.syncEngine(step - 1);
    let staleDropped = 0;

    // Rollouts; DAPO dynamic sampling refills the batch with groups that carry signal.
    const all: Group<S>[] = [];
    const kept: Group<S>[] = [];
    let round = 0;
    do {
      round++;
      const need = o.promptsPerStep - kept.length;
      const sampling = { temperature: o.temperature, topP: o.topP, maxNewTokens: o.maxCompletionLength, rng: this.sampleRng };
      let groups: Group<S>[];
      if (round === 1 && this.pending) {
        groups = await this.pending;
        this.pending = null;
      } else {
        groups = await sampleGroups(this.policy, this.nextSamples(need), o.numGenerations, sampling, this.rewardFunctions, o.rewardWeights);
      }
      // Rollouts more than maxStaleness versions behind the weights being trained (step − 1) are
      // regenerated: a prefetch that waited too long, or a server that missed a sync.
      if (this.engine) {
        for (let tries = 0; ; tries++) {
          const stale = groups.flatMap((g, k) => (rolloutVersion(g) < step - 1 - o.maxStaleness ? [k] : []));
          if (!stale.length) break;
          if (tries >= 3) throw new R1Error('E_ENGINE', `step ${step}: rollouts still older than maxStaleness ${o.maxStaleness} after 3 regenerations (versions ${stale.map((k) => rolloutVersion(groups[k]))}, training version ${step - 1}); do the servers load the synced weights?`);
          staleDropped += stale.length;
          const fresh = await sampleGroups(this.policy, stale.map((k) => groups[k].sample), o.numGenerations, sampling, this.rewardFunctions, o.rewardWeights);
          stale.forEach((k, j) => (groups[k] = fresh[j]));
        }
      }
      all.push(...groups);
      kept.push(...(o.dynamicSampling ? groups.filter((g) => !hasZeroRewardStd(g)) : groups));
      this.emit({ type: 'rollout', step, completions: groups.length * o.numGenerations, keptGroups: kept.length, round });
    } while (o.dynamicSampling && kept.length < o.promptsPerStep && round < o.dynamicSamplingMaxTries);

    const advantages = groupRelativeAdvantages(kept.flatMap((g) => g.total), o.numGenerations, { scaleRewards: o.scaleRewards });
    const metrics: StepMetrics = rolloutMetrics(all, this.rewardNames);
    if (o.dynamicSampling) {
      metrics['dynamic_sampling/tries'] = round;
      metrics['dynamic_sampling/dropped_groups'] = all.length - kept.length;
    }
    if (this.engine && o.maxStaleness > 0) {
      // Async: the next step's rollouts are generated from the current weights while this step trains.
      const sampling = { temperature: o.temperature, topP: o.topP, maxNewTokens: o.maxCompletionLength, rng: this.sampleRng };
      this.pending = sampleGroups(this.policy, this.nextSamples(o.promptsPerStep), o.numGenerations, sampling, this.rewardFunctions, o.rewardWeights);
      this.pending.catch(() => {}); // awaited (and rethrown) by the next step
      await this.engine.whenDispatched();
    }
    if (this.engine) {
      const versions = all.flatMap((g) => g.completions.map((c) => (c as { weightsVersion?: number }).weightsVersion ?? step - 1));
      metrics['async/staleness_mean'] = versions.reduce((a, v) => a + (step - 1 - v), 0) / Math.max(1, versions.length);
      metrics['async/stale_dropped'] = staleDropped;
    }
    if (kept.length > 0) Object.assign(metrics, this.optimise(kept, advantages, step));
    if (this.engine) {
      await this.syncEngine(step);
      metrics.weights_version = step;
    }

    if (this.ref && o.refModelSyncSteps > 0 && step % o.refModelSyncSteps === 0) {
      this.ref.dispose();
      this.ref = this.makeReference();
      this.refStep = step;
    }
    const completions = all.flatMap((g) => g.completions);
    const generated = completions.reduce((a, c) => a + c.completionIds.length, 0);
    this.tokensSeen += generated + completions.reduce((a, c) => a + c.promptIds.length, 0);
    metrics.num_tokens = this.tokensSeen;
    metrics['tokens/s'] = generated / Math.max(1e-9, (performance.now() - started) / 1000);
    this.emit({ type: 'step_end', step, metrics });
    return { step, metrics, rollouts: this.records(all, kept, advantages) };
  }

  /**
   * Runs `steps` trainer steps and returns their metrics.
   *
   * @example
   * ```ts
   * import { GrpoTrainer } from '@r1-ts/grpo';
   * declare const trainer: GrpoTrainer;
   * const history = await trainer.train(200);
   * console.log(history.at(-1)?.reward);
   * ```
   */
  async train(steps: number): Promise<StepMetrics[]> {
    const out: StepMetrics[] = [];
    for (let i = 0; i < steps; i++) out.push((await this.step()).metrics);
    return out;
  }

  /**
   * The frozen reference model of the KL term (null when β = 0). Checkpoint its weights with the
   * trainer state: on resume it is not the policy's copy any more, and {@link GrpoTrainer.setState}
   * takes it back. Owned by the trainer; do not dispose.
   *
   * @example
   * ```ts
   * import type { GrpoTrainer } from '@r1-ts/grpo';
   * declare const trainer: GrpoTrainer;
   * console.log(trainer.reference === null ? 'no KL term' : 'reference model present');
   * ```
   */
  get reference(): Policy | null {
    return this.ref;
  }

  /**
   * Everything that decides the trainer's future steps besides the policy's weights: RNG streams,
   * the dataset order and cursor, step counters, the optimizer's moments, step count and bias
   * accumulators, and when the reference model was taken. Restoring it (into a trainer built with
   * the same options on a policy with the same weights) continues bit-identically. The step-local
   * rollout and dynamic-sampling buffers are empty between steps, so nothing of them is saved.
   *
   * @example
   * ```ts
   * import type { GrpoTrainer } from '@r1-ts/grpo';
   * declare const trainer: GrpoTrainer;
   * const { state, tensors } = await trainer.getState();
   * console.log(state.steps, Object.keys(tensors)); // e.g. 20 ['optimizer.slot.0', …, 'optimizer.accBeta1', 'optimizer.accBeta2']
   * ```
   */
  async getState(): Promise<GrpoTrainerSnapshot> {
    const { info, tensors } = await optimizerSnapshot(this.optimizer);
    const state: GrpoTrainerState = {
      format: 'r1-ts/grpo-trainer-state@1',
      steps: this.steps,
      updates: this.updates,
      tokensSeen: this.tokensSeen,
      order: [...this.order],
      cursor: this.cursor,
      datasetSize: this.dataset.length,
      orderRng: this.orderRng.getState(),
      sampleRng: this.sampleRng.getState(),
      reference: this.ref ? { createdAtStep: this.refStep } : null,
      optimizer: info,
    };
    return { state, tensors };
  }

  /**
   * Restores {@link GrpoTrainer.getState} output into a trainer freshly built with the same options
   * (before its first step). With a reference model, pass the saved one as `reference` (the trainer
   * takes ownership and freezes it). Throws CheckpointError when the state does not fit this trainer.
   *
   * @example
   * ```ts
   * import { GrpoTrainer } from '@r1-ts/grpo';
   * import type { GrpoTrainerOptions, GrpoTrainerSnapshot } from '@r1-ts/grpo';
   * declare const options: GrpoTrainerOptions;
   * declare const saved: GrpoTrainerSnapshot;
   * const trainer = new GrpoTrainer(options); // policy loaded from the same checkpoint
   * await trainer.setState(saved);
   * await trainer.step(); // the step the interrupted run would have taken
   * ```
   */
  async setState(
    snapshot: { state: GrpoTrainerState; tensors: ReadonlyMap<string, tf.Tensor | StoredTensor> | Record<string, tf.Tensor | StoredTensor> },
    options: { reference?: Policy } = {},
  ): Promise<void> {
    const s = snapshot.state;
    if (s?.format !== 'r1-ts/grpo-trainer-state@1') throw new CheckpointError(`trainer state: unknown format ${JSON.stringify(s?.format)}`);
    if (this.steps > 0) throw new ConfigError('GrpoTrainer.setState must be called before the first step', ['state']);
    if (s.datasetSize !== this.dataset.length || s.order.some((i) => !(i >= 0 && i < this.dataset.length))) {
      throw new CheckpointError(`trainer state: saved for a dataset of ${s.datasetSize} samples, this trainer has ${this.dataset.length}`);
    }
    if (s.reference && !options.reference) {
      throw new ConfigError('GrpoTrainer.setState: the state has a reference model; pass the saved one as options.reference', ['reference']);
    }
    const tensors = snapshot.tensors instanceof Map ? snapshot.tensors : new Map(Object.entries(snapshot.tensors));
    await restoreOptimizer(this.optimizer, s.optimizer, tensors);
    this.steps = s.steps;
    this.updates = s.updates;
    this.tokensSeen = s.tokensSeen;
    this.order = [...s.order];
    this.cursor = s.cursor;
    this.orderRng = Rng.fromState(s.orderRng);
    this.sampleRng = Rng.fromState(s.sampleRng);
    this.ref?.dispose();
    this.ref = null;
    if (s.reference && options.reference) {
      options.reference.freeze();
      this.ref = options.reference;
      this.refStep = s.reference.createdAtStep;
    }
  }

  /** Frees the reference model and the trainer-created optimizer (not the policy). */
  dispose(): void {
    this.ref?.dispose();
    this.ref = null;
    if (this.ownsOptimizer) this.optimizer.dispose();
  }

  private async syncEngine(version: number): Promise<void> {
    for (const w of (await this.engine!.syncWeights(version)) ?? []) this.warn(w);
  }

  private makeReference(): Policy {
    const ref = this.policy.clone();
    ref.freeze();
    return ref;
  }

  private nextSamples(n: number): S[] {
    const out: S[] = [];
    for (let i = 0; i < n; i++) {
      if (this.cursor >= this.order.length) {
        this.order = this.orderRng.shuffle(this.dataset.map((_, j) => j));
        this.cursor = 0;
      }
      out.push(this.dataset[this.order[this.cursor++]]);
    }
    return out;
  }

  /** μ passes of mini-batch updates over the kept groups; returns the loss-side metrics. */
  private optimise(groups: Group<S>[], advantages: number[], step: number): StepMetrics {
    const o = this.options;
    const rows: Completion[] = groups.flatMap((g) => g.completions);
    const n = rows.length;
    const width = Math.max(1, ...rows.map((c) => c.completionIds.length));
    const batch: SequenceBatch = { promptIds: rows.map((c) => c.promptIds), completionIds: rows.map((c) => c.completionIds), width };
    const maskValues = new Float32Array(n * width);
    rows.forEach((c, i) => {
      if (!(o.maskTruncatedCompletions && c.truncated)) maskValues.fill(1, i * width, i * width + c.completionIds.length);
    });
    const mask = tf.tensor2d(maskValues, [n, width]); // [N, T]
    const logOpts = { temperature: o.temperature };
    const multiUpdate = o.numIterations > 1 || o.miniBatchSize < n;
    let oldLogp: tf.Tensor2D | null = null;
    if (multiUpdate) {
      oldLogp = o.oldLogProbs === 'recompute'
        ? tf.tidy(() => this.policy.logProbs(batch, logOpts)) // [N, T]
        : tf.tensor2d(padRows(rows.map((c) => c.logProbs), width), [n, width]);
    }
    const refLogp = this.ref ? tf.tidy(() => this.ref!.logProbs(batch, logOpts)) : null; // [N, T]
    const out: StepMetrics = {};
    let rolloutWeights: tf.Tensor2D | null = null;
    if (o.rolloutCorrection !== 'none') {
      // ρ = π_old(trainer) / π(engine) per token: the trainer's log-probs before this step's first update.
      const trainerOld = (oldLogp && o.oldLogProbs === 'recompute' ? oldLogp : tf.tidy(() => this.policy.logProbs(batch, logOpts))); // [N, T]
      const flat = trainerOld.dataSync();
      if (trainerOld !== oldLogp) trainerOld.dispose();
      const L = rows.map((c) => c.completionIds.length);
      const { weights, metrics } = rolloutCorrectionWeights(
        L.map((l, i) => flat.subarray(i * width, i * width + l)),
        rows.map((c) => c.logProbs),
        { mode: o.rolloutCorrection, cap: o.rolloutCorrectionCap, mask: L.map((l, i) => maskValues.subarray(i * width, i * width + l)) },
      );
      rolloutWeights = tf.tensor2d(padRows(weights, width), [n, width]); // [N, T]
      Object.assign(out, metrics);
    }
    if (this.policy.entropy) {
      out.entropy = readScalar(() => tf.div(tf.sum(tf.mul(this.policy.entropy!(batch, logOpts), mask)), tf.maximum(tf.sum(mask), 1)));
    }

    const lossMean = new LossMetricsMean();
    let lossSum = 0;
    let normSum = 0;
    let updatesThisStep = 0;
    let skipped = 0;
    const order = rows.map((_, i) => i);
    for (let iteration = 0; iteration < o.numIterations; iteration++) {
      if (o.miniBatchSize < n) this.orderRng.shuffle(order);
      for (let s = 0; s < n; s += o.miniBatchSize) {
        const mini = order.slice(s, s + o.miniBatchSize);
        // Before the first update π_old is the current policy: sg(logp) makes w = 1 exactly.
        const old = updatesThisStep === 0 ? null : oldLogp;
        const r = this.update(mini, batch, mask, maskValues, old, refLogp, advantages, rolloutWeights);
        lossSum += r.loss;
        normSum += r.gradNorm;
        updatesThisStep++;
        if (r.skipped) {
          // Non-finite loss or gradient: nothing was applied (weights and optimizer state unchanged).
          skipped++;
          this.emit({ type: 'warning', message: `step ${step}: update skipped, loss ${r.loss}, grad_norm ${r.gradNorm} (not finite)` });
          continue;
        }
        lossMean.add(r.metrics);
        this.updates++;
        this.policy.afterOptimizerStep?.({ optimizerStep: this.updates, trainerStep: step });
        this.emit({ type: 'optimizer_step', step, iteration, optimizerStep: this.updates, loss: r.loss, gradNorm: r.gradNorm, metrics: r.metrics });
      }
    }
    tf.dispose([mask, oldLogp ?? [], refLogp ?? [], rolloutWeights ?? []]);

    const lm = lossMean.value();
    out.loss = lossSum / updatesThisStep;
    out.grad_norm = normSum / updatesThisStep;
    out.skipped = skipped;
    if (lm.kl !== undefined) out.kl = lm.kl;
    out['clip_ratio/low_mean'] = lm.clipRatioLow;
    out['clip_ratio/high_mean'] = lm.clipRatioHigh;
    out['clip_ratio/region_mean'] = lm.clipRatioRegion;
    return out;
  }

  /** One optimizer update over a mini-batch, gradients accumulated over micro-batches. */
  private update(
    mini: number[], batch: SequenceBatch, mask: tf.Tensor2D, maskValues: Float32Array,
    oldLogp: tf.Tensor2D | null, refLogp: tf.Tensor2D | null, advantages: number[], rolloutWeights: tf.Tensor2D | null = null,
  ): { loss: number; gradNorm: number; skipped: boolean; metrics: PolicyLossMetrics } {
    const o = this.options;
    const vars = this.policy.trainableVariables();
    const width = batch.width;
    // dapo normalises by the tokens of the whole mini-batch; the others by rows, so that the
    // accumulated gradient is the mini-batch loss's gradient.
    let miniTokens = 0;
    for (const i of mini) for (let t = 0; t < width; t++) miniTokens += maskValues[i * width + t];
    const metrics = new LossMetricsMean();
    const accum = new Map<string, tf.Tensor>();
    let loss = 0;
    for (let u = 0; u < mini.length; u += o.microBatchSize) {
      const idx = mini.slice(u, u + o.microBatchSize);
      const sub: SequenceBatch = { promptIds: idx.map((i) => batch.promptIds[i]), completionIds: idx.map((i) => batch.completionIds[i]), width };
      const scale = o.lossType === 'dapo' ? 1 : idx.length / mini.length;
      const idxT = tf.tensor1d(idx, 'int32');
      const subMask = tf.gather(mask, idxT) as tf.Tensor2D; // [n, T]
      const subOld = oldLogp ? (tf.gather(oldLogp, idxT) as tf.Tensor2D) : null; // [n, T]
      const subRef = refLogp ? (tf.gather(refLogp, idxT) as tf.Tensor2D) : null; // [n, T]
      const subRho = rolloutWeights ? (tf.gather(rolloutWeights, idxT) as tf.Tensor2D) : null; // [n, T]
      const { value, grads } = tf.variableGrads(() => {
        const logp = this.policy.logProbs(sub, { temperature: o.temperature }); // [n, T]
        const res = policyLoss(
          { logp, oldLogp: subOld ?? stopGradient(logp), refLogp: subRef ?? undefined, mask: subMask, advantages: idx.map((i) => advantages[i]), numItemsInBatch: miniTokens, ...(subRho ? { rolloutWeights: subRho } : {}) },
          { importanceSampling: o.importanceSampling, lossType: o.lossType, epsilonLow: o.epsilonLow, epsilonHigh: o.epsilonHigh, beta: o.beta, maxCompletionLength: o.maxCompletionLength },
        );
        metrics.add(res.metrics);
        return tf.mul(res.loss, scale) as tf.Scalar;
      }, vars);
      loss += value.dataSync()[0];
      tf.dispose([value, idxT, subMask, subOld ?? [], subRef ?? [], subRho ?? []]);
      for (const [name, g] of Object.entries(grads)) {
        const prev = accum.get(name);
        accum.set(name, prev ? tf.add(prev, g) : g);
        if (prev) tf.dispose([prev, g]);
      }
    }
    // Every variable, in a fixed order: tf.train's optimizers key their slots by position, so a
    // variable without a gradient this update (an MoE expert no token was routed to) must get zeros,
    // or the next update's slots shift and the optimizer crashes on a shape mismatch.
    const full = new Map(vars.map((v) => [v.name, accum.get(v.name) ?? tf.zerosLike(v)]));
    const { norm: gradNorm, applied } = this.applyClipped(full, Number.isFinite(loss));
    return { loss, gradNorm, skipped: !applied, metrics: metrics.value() };
  }

  /**
   * Clips to maxGradNorm (global L2), applies, disposes; returns the norm before clipping. Nothing is
   * applied when the loss or the norm is not finite (a NaN gradient would poison Adam's moments).
   */
  private applyClipped(grads: Map<string, tf.Tensor>, lossFinite = true): { norm: number; applied: boolean } {
    const list = [...grads.values()];
    const norm = list.length ? readScalar(() => tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))))) : 0;
    if (!lossFinite || !Number.isFinite(norm)) {
      tf.dispose(list);
      return { norm, applied: false };
    }
    const max = this.options.maxGradNorm;
    const named: tf.NamedTensorMap = {};
    const scale = max > 0 && norm > max ? max / (norm + 1e-6) : 1;
    for (const [name, g] of grads) named[name] = scale === 1 ? g : tf.mul(g, scale);
    this.optimizer.applyGradients(named);
    tf.dispose(list);
    if (scale !== 1) tf.dispose(Object.values(named));
    return { norm, applied: true };
  }

  private records(all: Group<S>[], kept: Group<S>[], advantages: number[]): RolloutRecord<S>[] {
    const G = this.options.numGenerations;
    const adv = new Map(kept.map((g, k) => [g, advantages.slice(k * G, k * G + G)]));
    return all.flatMap((g) => g.completions.map((c, j) => ({
      sample: g.sample,
      text: c.text,
      length: c.completionIds.length,
      truncated: c.truncated,
      reward: g.total[j],
      rewards: Object.fromEntries(this.rewardNames.map((name, k) => [name, g.perFunction[k][j]])),
      advantage: adv.get(g)?.[j] ?? 0,
      ...((c as { weightsVersion?: number }).weightsVersion !== undefined ? { weightsVersion: (c as { weightsVersion?: number }).weightsVersion } : {}),
    })));
  }

  /** Reports a warning: a `warning` event, and console.warn once per message unless `quiet`. */
  protected warn(message: string): void {
    this.emit({ type: 'warning', message });
    if (!this.options.quiet && !warned.has(message)) {
      warned.add(message);
      console.warn(`[r1-ts/grpo] ${message}`);
    }
  }

  private emit(e: TrainerEvent): void {
    this.onEvent?.(e);
  }
}

/** The oldest weights version any completion of a group was sampled from (0 for a completion that records none). */
function rolloutVersion(g: Group<unknown>): number {
  return Math.min(...g.completions.map((c) => (c as { weightsVersion?: number }).weightsVersion ?? 0));
}

/** Computes a scalar in a tidy scope and reads it back, leaving no tensor behind. */
function readScalar(f: () => tf.Tensor): number {
  const t = tf.tidy(f);
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** Right-pads ragged rows with zeros into a flat [N·T] array. */
function padRows(rows: ReadonlyArray<ArrayLike<number>>, width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(Array.from(r), i * width));
  return out;
}
