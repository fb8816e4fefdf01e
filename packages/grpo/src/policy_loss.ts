import * as tf from '@tensorflow/tfjs';
import { ConfigError, rejectUnknownKeys } from '@r1-ts/tensor-kernels';
import { stopGradient } from './stop_gradient';

/**
 * Where the importance ratio lives (SPEC-R1 §2; golden §4.8): `token` (GRPO / PPO),
 * `sequence` (GSPO: exp of the masked mean of ℓ, shared by the row) or `sequence_token`
 * (GSPO-token: the sequence value with a per-token gradient).
 *
 * @example
 * ```ts
 * import type { ImportanceSampling } from '@r1-ts/grpo';
 * const gspo: ImportanceSampling = 'sequence';
 * ```
 */
export type ImportanceSampling = 'token' | 'sequence' | 'sequence_token';

/**
 * How per-token losses are aggregated (SPEC-R1 §2): `grpo` = mean over sequences of each
 * sequence's token mean; `bnpo` = token mean over this call's tokens; `dapo` = token sum over the
 * global token count of the whole accumulated batch ({@link PolicyLossInputs.numItemsInBatch});
 * `dr_grpo` = token sum / (N · maxCompletionLength).
 *
 * @example
 * ```ts
 * import type { LossType } from '@r1-ts/grpo';
 * const drGrpo: LossType = 'dr_grpo';
 * ```
 */
export type LossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';

/**
 * Tensors of {@link policyLoss}. Every [N, T] tensor is row-aligned with `advantages`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import type { PolicyLossInputs } from '@r1-ts/grpo';
 * const logp = tf.tensor2d([[-1, -2]]);
 * const inputs: PolicyLossInputs = { logp, oldLogp: logp, mask: tf.ones([1, 2]), advantages: [0.5], numItemsInBatch: 8 };
 * ```
 */
export interface PolicyLossInputs {
  /** log π_θ of each completion token, [N, T]; the loss is differentiable with respect to it. */
  logp: tf.Tensor2D;
  /** log π_old (the sampling policy), [N, T]; a constant. */
  oldLogp: tf.Tensor2D;
  /** log π_ref (the reference policy), [N, T]; required when `beta` ≠ 0, otherwise only used for the `kl` metric. */
  refLogp?: tf.Tensor2D;
  /** 1 for a completion token, 0 for padding, [N, T] float32. Padded entries of the other tensors are ignored. */
  mask: tf.Tensor2D;
  /** Â per sequence, [N] (broadcast to every token of the row); a constant. */
  advantages: tf.Tensor1D | ArrayLike<number>;
  /**
   * `dapo` only: the number of completion tokens (Σ mask) over the WHOLE batch that one optimizer
   * step accumulates (every micro-batch, every process). Each micro-batch's loss is then
   * Σ m·L / numItemsInBatch, so the accumulated gradients add up to the batch's token mean.
   * Default: this call's Σ mask (then `dapo` = `bnpo`).
   */
  numItemsInBatch?: number;
  /**
   * Rollout-correction weights ρ, [N, T], a constant (see `rolloutCorrectionWeights`): each token's
   * policy-gradient term is multiplied by it before the KL term is added, as TRL does with
   * `vllm_importance_sampling_correction`. Default: none (ρ = 1).
   */
  rolloutWeights?: tf.Tensor2D;
}

/**
 * Options of {@link policyLoss}.
 *
 * @example
 * ```ts
 * import type { PolicyLossOptions } from '@r1-ts/grpo';
 * const dapo: PolicyLossOptions = { lossType: 'dapo', epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0 };
 * ```
 */
export interface PolicyLossOptions {
  /** Ratio level. Default `token`. */
  importanceSampling?: ImportanceSampling;
  /** Aggregation. Default `grpo`. */
  lossType?: LossType;
  /** Lower clip: w is clipped at 1 − epsilonLow. > 0. Default 0.2. */
  epsilonLow?: number;
  /** Upper clip: w is clipped at 1 + epsilonHigh. > 0. Default = epsilonLow (0.28 for DAPO clip-higher). */
  epsilonHigh?: number;
  /** KL coefficient β (R1 eq. 1). 0 = no KL term. Default 0. */
  beta?: number;
  /** L_max, the denominator of `dr_grpo` (required for it): the configured maximum completion length. */
  maxCompletionLength?: number;
  /** Compute {@link PolicyLossMetrics} (one small device→host read). Default true. */
  metrics?: boolean;
}

/**
 * Diagnostics of one {@link policyLoss} call, plain numbers (no tensors to dispose). Means are
 * over masked (completion) tokens; a sequence-level ratio counts once per token of its row.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { policyLoss } from '@r1-ts/grpo';
 * const logp = tf.tensor2d([[-1, -2]]);
 * const { loss, metrics } = policyLoss({ logp, oldLogp: logp, mask: tf.ones([1, 2]), advantages: [1] });
 * console.log(metrics.ratioMean, metrics.clipRatioRegion); // 1 0
 * loss.dispose();
 * ```
 */
export interface PolicyLossMetrics {
  /** Mean k3 KL(π_θ ‖ π_ref) per token; present when `refLogp` was given. */
  kl?: number;
  /** Fraction of tokens with w < 1 − ε_low and Â < 0 (TRL `clip_ratio/low_mean`). */
  clipRatioLow: number;
  /** Fraction of tokens with w > 1 + ε_high and Â > 0 (TRL `clip_ratio/high_mean`). */
  clipRatioHigh: number;
  /** Fraction of tokens clipped either way (TRL `clip_ratio/region_mean`). */
  clipRatioRegion: number;
  /** Mean importance ratio w. */
  ratioMean: number;
  /** Smallest w over masked tokens. */
  ratioMin: number;
  /** Largest w over masked tokens. */
  ratioMax: number;
  /** Σ mask: the number of completion tokens these metrics average over. */
  tokens: number;
}

/**
 * Result of {@link policyLoss}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { policyLoss } from '@r1-ts/grpo';
 * import type { PolicyLossResult } from '@r1-ts/grpo';
 * const logp = tf.tensor2d([[-1, -2]]);
 * const r: PolicyLossResult = policyLoss({ logp, oldLogp: logp, mask: tf.ones([1, 2]), advantages: [1] });
 * console.log(r.loss.dataSync()[0]); // -1
 * ```
 */
export interface PolicyLossResult {
  /** The scalar objective to minimise. */
  loss: tf.Scalar;
  /** Diagnostics (zeros when `metrics: false`). */
  metrics: PolicyLossMetrics;
}

// Record<keyof …> makes this a compile error when PolicyLossOptions gains or loses a key.
const POLICY_LOSS_KEYS = Object.keys({
  importanceSampling: true, lossType: true, epsilonLow: true, epsilonHigh: true, beta: true,
  maxCompletionLength: true, metrics: true,
} satisfies Record<keyof PolicyLossOptions, true>);

interface Resolved {
  level: ImportanceSampling;
  lossType: LossType;
  epsLow: number;
  epsHigh: number;
  beta: number;
  lMax: number;
}

/** Validates {@link PolicyLossOptions}; a bad value → ConfigError naming the field. */
export function resolvePolicyLossOptions(o: PolicyLossOptions): Resolved {
  rejectUnknownKeys(o, POLICY_LOSS_KEYS, 'policyLoss options', { level: 'importanceSampling', lr: 'learningRate (a trainer option)' });
  const level = o.importanceSampling ?? 'token';
  const lossType = o.lossType ?? 'grpo';
  const epsLow = o.epsilonLow ?? 0.2;
  const epsHigh = o.epsilonHigh ?? epsLow;
  const beta = o.beta ?? 0;
  if (!['token', 'sequence', 'sequence_token'].includes(level)) {
    throw new ConfigError(`importanceSampling must be 'token', 'sequence' or 'sequence_token', got ${String(level)}`, ['importanceSampling']);
  }
  if (!['grpo', 'bnpo', 'dr_grpo', 'dapo'].includes(lossType)) {
    throw new ConfigError(`lossType must be 'grpo', 'bnpo', 'dr_grpo' or 'dapo', got ${String(lossType)}`, ['lossType']);
  }
  if (!(epsLow > 0)) throw new ConfigError(`epsilonLow must be > 0, got ${epsLow}`, ['epsilonLow']);
  if (!(epsHigh > 0)) throw new ConfigError(`epsilonHigh must be > 0, got ${epsHigh}`, ['epsilonHigh']);
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new ConfigError(`beta must be a finite number ≥ 0, got ${beta}`, ['beta']);
  const lMax = o.maxCompletionLength ?? NaN;
  if (lossType === 'dr_grpo' && !(Number.isInteger(lMax) && lMax > 0)) {
    throw new ConfigError(`maxCompletionLength must be a positive integer for lossType 'dr_grpo', got ${o.maxCompletionLength}`, ['maxCompletionLength']);
  }
  return { level, lossType, epsLow, epsHigh, beta, lMax };
}

function checkShapes(x: PolicyLossInputs): number {
  const [n, t] = x.logp.shape;
  const same = (name: string, s: number[] | undefined) => {
    if (s && (s.length !== 2 || s[0] !== n || s[1] !== t)) {
      throw new ConfigError(`inputs.${name} must have shape [${n}, ${t}] like inputs.logp, got [${s}]`, [name]);
    }
  };
  same('oldLogp', x.oldLogp.shape);
  same('refLogp', x.refLogp?.shape);
  same('mask', x.mask.shape);
  same('rolloutWeights', x.rolloutWeights?.shape);
  const advLen = x.advantages instanceof tf.Tensor ? x.advantages.size : x.advantages.length;
  if (advLen !== n) throw new ConfigError(`inputs.advantages must have ${n} entries (one per row), got ${advLen}`, ['advantages']);
  return n;
}

/**
 * The clipped group-relative policy objective (R1 eq. 1–2; GSPO eq. 5–7; golden §4.8):
 *
 * $$
 * L_{i,t} = -\min\bigl(w\,\hat A_i,\; \operatorname{clip}(w,\, 1-\varepsilon_{\text{low}},\, 1+\varepsilon_{\text{high}})\,\hat A_i\bigr)
 *   + \beta\bigl(e^{\text{ref}-\text{logp}} - (\text{ref}-\text{logp}) - 1\bigr)
 * $$
 *
 * with w per `importanceSampling`, aggregated per `lossType`, every denominator guarded by max(1, ·).
 * Differentiable with respect to `logp` (old, ref and Â are constants). Call it inside
 * `tf.variableGrads` / `tf.grad`; dispose `loss` yourself.
 *
 * @param inputs - The batch: `logp` [N, T] (differentiable), `oldLogp` [N, T], optional `refLogp` [N, T] (needed when β > 0), `mask` [N, T] (1 on completion tokens), `advantages` (N numbers), optional `numItemsInBatch` (for `dapo`).
 * @param options - The objective: `importanceSampling`, `lossType`, `epsilonLow`, `epsilonHigh`, `beta`, `maxCompletionLength` (for `dr_grpo`), `metrics`. Unknown keys are a ConfigError.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { policyLoss } from '@r1-ts/grpo';
 * const logp = tf.tensor2d([[-1.0, -0.5], [-2.0, -0.1]]);
 * const oldLogp = tf.tensor2d([[-1.1, -0.5], [-1.9, -0.3]]);
 * const mask = tf.tensor2d([[1, 1], [1, 0]]);
 * const { loss, metrics } = policyLoss({ logp, oldLogp, mask, advantages: [1, -1] }, { epsilonLow: 0.2, epsilonHigh: 0.28 });
 * console.log(loss.dataSync()[0], metrics.clipRatioHigh);
 * ```
 */
export function policyLoss(inputs: PolicyLossInputs, options: PolicyLossOptions = {}): PolicyLossResult {
  const o = resolvePolicyLossOptions(options);
  const n = checkShapes(inputs);
  if (o.beta !== 0 && !inputs.refLogp) throw new ConfigError(`inputs.refLogp is required when beta ≠ 0 (beta = ${o.beta})`, ['refLogp']);
  const nItems = inputs.numItemsInBatch;
  if (nItems !== undefined && !(nItems >= 0)) throw new ConfigError(`inputs.numItemsInBatch must be ≥ 0, got ${nItems}`, ['numItemsInBatch']);

  interface Parts { loss: tf.Scalar; w: tf.Tensor; adv: tf.Tensor; kl?: tf.Tensor }
  const parts: Parts = tf.tidy((): Parts & tf.TensorContainerObject => {
    const { logp, oldLogp, mask } = inputs;
    const adv = (inputs.advantages instanceof tf.Tensor
      ? inputs.advantages.reshape([n, 1])
      : tf.tensor2d(Array.from(inputs.advantages), [n, 1])) as tf.Tensor2D; // [N, 1]
    const ell = tf.sub(logp, oldLogp); // [N, T] ℓ = logp − old
    const len = tf.sum(mask, 1, true); // [N, 1]
    const lenSafe = tf.maximum(len, 1); // [N, 1]
    // log w: [N, T] (token, sequence_token) or [N, 1] (sequence)
    let logW: tf.Tensor;
    if (o.level === 'token') {
      logW = ell;
    } else {
      const seqMean = tf.div(tf.sum(tf.mul(ell, mask), 1, true), lenSafe); // [N, 1] GSPO eq. 7
      logW = o.level === 'sequence'
        ? seqMean
        : tf.add(tf.sub(logp, stopGradient(logp)), stopGradient(seqMean)); // [N, T] GSPO-token eq. 13
    }
    const w = tf.exp(logW);
    const clipped = tf.clipByValue(w, 1 - o.epsLow, 1 + o.epsHigh);
    let perToken = tf.neg(tf.minimum(tf.mul(w, adv), tf.mul(clipped, adv))); // [N, T] or [N, 1]
    if (inputs.rolloutWeights) perToken = tf.mul(perToken, inputs.rolloutWeights); // [N, T] ρ·L (TIS / MIS)
    let kl: tf.Tensor | undefined;
    if (inputs.refLogp) {
      const d = tf.sub(inputs.refLogp, logp); // [N, T]
      kl = tf.sub(tf.sub(tf.exp(d), d), 1); // [N, T] k3 estimator, R1 eq. 2
      if (o.beta !== 0) perToken = tf.add(perToken, tf.mul(kl, o.beta));
    }
    const masked = tf.mul(perToken, mask); // [N, T]
    let loss: tf.Scalar;
    if (o.lossType === 'grpo') {
      loss = tf.mean(tf.div(tf.sum(masked, 1, true), lenSafe));
    } else if (o.lossType === 'bnpo') {
      loss = tf.div(tf.sum(masked), tf.maximum(tf.sum(mask), 1));
    } else if (o.lossType === 'dapo') {
      loss = tf.div(tf.sum(masked), nItems === undefined ? tf.maximum(tf.sum(mask), 1) : Math.max(1, nItems));
    } else {
      loss = tf.div(tf.sum(masked), n * o.lMax);
    }
    return kl ? { loss, w, adv, kl } : { loss, w, adv };
  });

  let metrics: PolicyLossMetrics = {
    clipRatioLow: 0, clipRatioHigh: 0, clipRatioRegion: 0, ratioMean: 0, ratioMin: 0, ratioMax: 0, tokens: 0,
  };
  if (options.metrics ?? true) metrics = lossMetrics(parts.w, parts.adv, parts.kl, inputs.mask, o);
  tf.dispose([parts.w, parts.adv, parts.kl ?? []]);
  return { loss: parts.loss, metrics };
}

function lossMetrics(
  w: tf.Tensor, adv: tf.Tensor, kl: tf.Tensor | undefined, mask: tf.Tensor2D, o: Resolved,
): PolicyLossMetrics {
  const values = tf.tidy(() => {
    const wFull = tf.broadcastTo(w, mask.shape); // [N, T]
    const nTok = tf.sum(mask);
    const denom = tf.maximum(nTok, 1);
    const mmean = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(x, mask)), denom);
    const low = tf.logicalAnd(tf.less(wFull, 1 - o.epsLow), tf.less(adv, 0)).toFloat(); // [N, T]
    const high = tf.logicalAnd(tf.greater(wFull, 1 + o.epsHigh), tf.greater(adv, 0)).toFloat(); // [N, T]
    const on = tf.greater(mask, 0);
    const wMin = tf.min(tf.where(on, wFull, tf.fill(mask.shape, Infinity)));
    const wMax = tf.max(tf.where(on, wFull, tf.fill(mask.shape, -Infinity)));
    const klMean = kl ? mmean(tf.broadcastTo(kl, mask.shape)) : tf.scalar(NaN);
    return tf.stack([mmean(low), mmean(high), mmean(tf.maximum(low, high)), mmean(wFull), wMin, wMax, nTok, klMean]);
  });
  const v = values.dataSync();
  values.dispose();
  const m: PolicyLossMetrics = {
    clipRatioLow: v[0], clipRatioHigh: v[1], clipRatioRegion: v[2], ratioMean: v[3], ratioMin: v[4], ratioMax: v[5], tokens: v[6],
  };
  if (kl) m.kl = v[7];
  return m;
}
