import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, rejectUnknownKeys } from '@r1-ts/tensor-kernels';
import { sftBatch } from './batch';
import type { SftExample, TokenBatch } from './batch';
import type { CausalLM } from './causal_lm';
import type { DeepSeekModel, LossOptions } from './model';
import { AdamW, clipGradNorm, lrSchedule, valueAndNamedGrads } from './optim';
import type { LrSchedule } from './optim';
import type { Tokenizer } from './tokenizer';

/**
 * What one optimizer step reports.
 *
 * @example
 * ```ts
 * import type { StepStats } from '@r1-ts/model';
 * const logLine = (s: StepStats) =>
 *   `step ${s.step} loss ${s.loss.toFixed(3)} |g| ${s.gradNorm.toFixed(2)} lr ${s.lr}${s.skipped ? ' (skipped: not finite)' : ''}`;
 * ```
 */
export interface StepStats {
  step: number;
  loss: number;
  ce: number;
  mtp: number | null;
  gradNorm: number;
  lr: number;
  /** Tokens that counted in the loss. */
  tokens: number;
  /** True when the loss or a gradient was not finite: the update was skipped. */
  skipped: boolean;
  /** Expert loads per MoE layer (summed over the step). */
  expertLoad: { layer: number; load: number[] }[];
}

/**
 * Options of {@link trainStep} (the loss mask comes from the batch).
 *
 * @example
 * ```ts
 * import { trainStep, type AdamW, type DeepSeekModel, type TokenBatch, type TrainStepOptions } from '@r1-ts/model';
 * const options: TrainStepOptions = { clipNorm: 1, biasUpdateGamma: 0.001, mtpLambda: 0.1 };
 * const step = (model: DeepSeekModel, opt: AdamW, batch: TokenBatch) => trainStep(model, opt, batch, options);
 * ```
 */
export interface TrainStepOptions extends Omit<LossOptions, 'lossMask'> {
  /** Clip the global gradient norm to this (default 1). */
  clipNorm?: number;
  /** Aux-loss-free bias update speed γ (default 0.001; 0 disables). */
  biasUpdateGamma?: number;
}

/**
 * One optimizer step on a token batch: loss → gradients → clip → AdamW → MoE bias update from the
 * step's expert loads. A non-finite loss or gradient skips the update (nothing changes) and is
 * reported in `skipped`.
 *
 * @param model - The causal LM being trained.
 * @param optimizer - AdamW over the model's trainable parameters.
 * @param batch - A token batch (tokens [B, S], loss mask [B, S]), e.g. from {@link sftBatch}.
 * @param options - `clipNorm`: global gradient norm limit (default 1); `biasUpdateGamma`: MoE load-balancing bias step γ, 0 turns it off (default 0.001); and the loss options (`mtpLambda`, `balanceAlpha`, `keyMask`, `indexerLoss`).
 *
 * @example
 * ```ts
 * import { AdamW, CharTokenizer, DeepSeekModel, presets, sftBatch, trainStep } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['1+1?', '2']);
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }, { seed: 0 });
 * const opt = new AdamW(model.namedParameters(), { lr: 1e-3 });
 * const stats = trainStep(model, opt, sftBatch(tok, [{ prompt: '1+1?', completion: '2' }]));
 * console.log(stats.loss > 0);
 * ```
 */
export function trainStep(model: CausalLM<any>, optimizer: AdamW, batch: TokenBatch, options: TrainStepOptions = {}): StepStats {
  const { clipNorm = 1, biasUpdateGamma = 0.001, ...lossOptions } = options;
  let parts = { ce: 0, mtp: null as number | null };
  let loads: { layer: number; expertLoad: Int32Array }[] = [];
  const { loss, grads } = valueAndNamedGrads(() => {
    const res = model.loss(batch.tokens, { ...lossOptions, lossMask: batch.lossMask });
    // Read the parts once the tape has run; these are tiny scalars.
    parts = { ce: res.ce.dataSync()[0], mtp: res.mtp ? res.mtp.dataSync()[0] : null };
    loads = res.routing.map((r) => ({ layer: r.layer, expertLoad: r.expertLoad }));
    return res.total;
  }, model.namedParameters());
  const gradNorm = clipGradNorm(grads, clipNorm);
  const tokens = tf.tidy(() => tf.sum(batch.lossMask).dataSync()[0]);
  const lr = optimizer.currentLr();
  const skipped = !Number.isFinite(loss) || !Number.isFinite(gradNorm);
  if (skipped) for (const g of grads.values()) g.dispose();
  else {
    optimizer.step(grads);
    if (biasUpdateGamma > 0) model.updateMoeBiases(loads, biasUpdateGamma);
  }
  return {
    step: optimizer.stepCount,
    loss,
    ce: parts.ce,
    mtp: parts.mtp,
    gradNorm,
    lr,
    tokens,
    skipped,
    expertLoad: loads.map((l) => ({ layer: l.layer, load: [...l.expertLoad] })),
  };
}

/**
 * Options of {@link SftTrainer}.
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, SftTrainer, lrSchedule, presets, type SftOptions } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['1+1?', '2']);
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }, { seed: 0 });
 * const options: SftOptions = { lr: lrSchedule({ peak: 3e-3, warmup: 10 }), batchSize: 8, maxLength: 128, seed: 1 };
 * const trainer = new SftTrainer(model, tok, options);
 * ```
 */
export interface SftOptions extends TrainStepOptions {
  /** Peak learning rate or a schedule (default 3e-3 constant, the cold-start lead of issue #7). */
  lr?: number | LrSchedule;
  /** Examples per step. Default 16. */
  batchSize?: number;
  /** Truncate examples to this many tokens. */
  maxLength?: number;
  /** AdamW weight decay. Default 0.1. */
  weightDecay?: number;
  /** Data-order seed. Default 0. */
  seed?: number;
}

/** Every key of {@link SftOptions} (with the loss and position options it extends). */
// Record<keyof …> makes this a compile error when SftOptions gains or loses a key.
const SFT_OPTION_KEYS = Object.keys({
  lr: true, batchSize: true, maxLength: true, weightDecay: true, seed: true, clipNorm: true,
  biasUpdateGamma: true, mtpLambda: true, balanceAlpha: true, keyMask: true, indexerLoss: true,
  startPos: true, positions: true,
} satisfies Record<keyof SftOptions, true>);

/**
 * Supervised fine-tuning on prompt/completion pairs with the loss on completion tokens only
 * (R1 §2.3.1 cold start, §2.3.3 rejection-sampling SFT). Shuffles by epoch with a seeded RNG whose
 * state, with the optimizer's, is what a checkpoint needs to resume.
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, SftTrainer, presets } from '@r1-ts/model';
 * const data = [{ prompt: '1+1?', completion: '<think>1+1=2</think><answer>2</answer>' }];
 * const tok = CharTokenizer.fromCorpus(data.flatMap((d) => [d.prompt, d.completion]));
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize }, { seed: 0 });
 * const trainer = new SftTrainer(model, tok, { lr: 3e-3, batchSize: 1 });
 * const stats = trainer.step(data);
 * ```
 */
export class SftTrainer<M extends CausalLM<any> = DeepSeekModel> {
  readonly optimizer: AdamW;
  /** Data-order RNG. */
  rng: Rng;
  private order: number[] = [];
  private cursor = 0;

  /**
   * Supervised fine-tuning of `model` on prompt/completion pairs (loss on completion tokens only).
   *
   * @param model - The causal LM to fine-tune (changed in place).
   * @param tokenizer - Its tokenizer, whose chat template renders the prompts.
   * @param options - `lr` (a number or schedule), `batchSize`, `maxLength` tokens per row, `weightDecay` and the shuffling `seed`; see {@link SftOptions}.
   */
  constructor(
    readonly model: M,
    readonly tokenizer: Tokenizer,
    readonly options: SftOptions = {},
  ) {
    rejectUnknownKeys(options, SFT_OPTION_KEYS, 'SftTrainer options', { learningRate: 'lr', steps: '(the count goes to train(data, steps))' });
    const batchSize = options.batchSize ?? 16;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`, ['batchSize']);
    const lr = options.lr ?? 3e-3;
    this.optimizer = new AdamW(model.namedParameters(), {
      lr: typeof lr === 'number' ? lrSchedule({ peak: lr }) : lr,
      weightDecay: options.weightDecay ?? 0.1,
    });
    this.rng = new Rng(options.seed ?? 0);
  }

  /** One step on the given examples. */
  step(examples: SftExample[]): StepStats {
    const batch = sftBatch(this.tokenizer, examples, this.options.maxLength);
    try {
      return trainStep(this.model, this.optimizer, batch, this.options);
    } finally {
      batch.tokens.dispose();
      batch.lossMask.dispose();
    }
  }

  /** The next batch of a seeded, epoch-wise shuffled pass over the dataset. */
  nextBatch(dataset: SftExample[]): SftExample[] {
    if (dataset.length === 0) throw new ConfigError('the SFT dataset is empty', ['dataset']);
    const n = this.options.batchSize ?? 16;
    const out: SftExample[] = [];
    while (out.length < n) {
      if (this.cursor >= this.order.length) {
        this.order = this.rng.shuffle(Array.from(dataset.keys()));
        this.cursor = 0;
      }
      out.push(dataset[this.order[this.cursor++]]);
    }
    return out;
  }

  /** Runs `steps` steps over the dataset, calling `onStep` after each. */
  train(dataset: SftExample[], steps: number, onStep?: (stats: StepStats) => void): StepStats[] {
    const history: StepStats[] = [];
    for (let i = 0; i < steps; i++) {
      const stats = this.step(this.nextBatch(dataset));
      history.push(stats);
      onStep?.(stats);
    }
    return history;
  }

  /** Data cursor and RNG state, for resuming. */
  getState(): { order: number[]; cursor: number; rng: ReturnType<Rng['getState']> } {
    return { order: [...this.order], cursor: this.cursor, rng: this.rng.getState() };
  }

  /** Restores {@link SftTrainer.getState} output. */
  setState(state: { order: number[]; cursor: number; rng: ReturnType<Rng['getState']> }): void {
    this.order = [...state.order];
    this.cursor = state.cursor;
    this.rng = Rng.fromState(state.rng);
  }
}
