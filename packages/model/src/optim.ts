import * as tf from '@tensorflow/tfjs';
import { ConfigError, adamwUpdate, scaleAll, sumOfSquares } from '@r1-ts/tensor-kernels';
import type { StoredTensor } from '@r1-ts/tensor-kernels';
import { checkOptionKeys } from './option_keys';

/**
 * Gradients by parameter name.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { clipGradNorm, type NamedGrads } from '@r1-ts/model';
 * const grads: NamedGrads = new Map([['w', tf.tensor1d([3, 4])]]);
 * console.log(clipGradNorm(grads, 1), grads.get('w')!.dataSync()); // 5 Float32Array [0.6, 0.8]
 * ```
 */
export type NamedGrads = Map<string, tf.Tensor>;

/**
 * Loss and gradients of `lossFn` with respect to the named trainable parameters. Parameters that do
 * not influence the loss get no entry.
 *
 * @param lossFn - Computes the scalar loss from the parameters (run under a gradient tape).
 * @param params - The parameters to differentiate by, by name.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { valueAndNamedGrads } from '@r1-ts/model';
 * const w = tf.variable(tf.scalar(3));
 * const { loss, grads } = valueAndNamedGrads(() => tf.square(w) as tf.Scalar, new Map([['w', w]]));
 * console.log(loss, grads.get('w')!.dataSync()[0]); // 9 6
 * ```
 */
export function valueAndNamedGrads(
  lossFn: () => tf.Scalar,
  params: Map<string, tf.Variable>,
): { loss: number; grads: NamedGrads } {
  const trainable = [...params].filter(([, v]) => v.trainable);
  const byVar = new Map(trainable.map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(lossFn, trainable.map(([, v]) => v));
  const loss = value.dataSync()[0];
  value.dispose();
  const named: NamedGrads = new Map();
  for (const [varName, g] of Object.entries(grads)) named.set(byVar.get(varName)!, g);
  return { loss, grads: named };
}

/**
 * Global L2 norm of the gradients; when it exceeds `maxNorm`, the gradients are scaled in place
 * (replaced in the map) so that it equals `maxNorm`. Returns the norm before clipping.
 *
 * @param grads - Parameter name → gradient; entries are replaced by their scaled copies (the old tensors are disposed).
 * @param maxNorm - Largest allowed global L2 norm, > 0.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { clipGradNorm } from '@r1-ts/model';
 * const grads = new Map([['w', tf.tensor1d([3, 4])]]);
 * console.log(clipGradNorm(grads, 1)); // 5, and grads.get('w') is now [0.6, 0.8]
 * ```
 */
export function clipGradNorm(grads: NamedGrads, maxNorm: number): number {
  const total = sumOfSquares([...grads.values()]); // one fused dispatch for every gradient
  const norm = Math.sqrt(total.dataSync()[0]);
  total.dispose();
  if (Number.isFinite(norm) && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    const names = [...grads.keys()];
    const scaled = scaleAll([...grads.values()], scale);
    names.forEach((name, i) => {
      grads.get(name)!.dispose();
      grads.set(name, scaled[i]);
    });
  }
  return norm;
}

/**
 * Learning rate as a function of the optimizer step (0-based).
 *
 * @example
 * ```ts
 * import { AdamW, type LrSchedule } from '@r1-ts/model';
 * const stepDecay: LrSchedule = (step) => (step < 100 ? 1e-3 : 1e-4); // any function of the 0-based step
 * const opt = new AdamW(new Map(), { lr: stepDecay });
 * console.log(opt.currentLr()); // 0.001
 * ```
 */
export type LrSchedule = (step: number) => number;

/**
 * Linear warm-up to `peak`, then cosine decay to `peak·minRatio` at `total` steps (or constant).
 *
 * @param options - `peak` learning rate; `warmup` steps of linear warm-up (default 0); `total` steps, where the cosine ends (default 0); `decay` `cosine` or `constant` (default `constant`); `minRatio`: the final rate as a fraction of the peak (default 0.1).
 *
 * @example
 * ```ts
 * import { lrSchedule } from '@r1-ts/model';
 * const lr = lrSchedule({ peak: 1e-3, warmup: 10, total: 100, decay: 'cosine' });
 * console.log(lr(0), lr(10), lr(100)); // 1e-4 0.001 1e-4
 * ```
 */
export function lrSchedule(options: { peak: number; warmup?: number; total?: number; decay?: 'cosine' | 'constant'; minRatio?: number }): LrSchedule {
  checkOptionKeys(options, 'lrSchedule');
  const { peak, warmup = 0, total = 0, decay = 'constant', minRatio = 0.1 } = options;
  if (!(peak > 0)) throw new ConfigError(`lr peak must be > 0, got ${peak}`, ['lr']);
  if (decay === 'cosine' && !(total > warmup)) {
    throw new ConfigError(`cosine schedule needs total (${total}) > warmup (${warmup})`, ['total']);
  }
  return (step) => {
    if (step < warmup) return (peak * (step + 1)) / warmup;
    if (decay === 'constant') return peak;
    const t = Math.min(1, (step - warmup) / (total - warmup));
    return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * t)));
  };
}

/**
 * Options of {@link AdamW}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { AdamW, lrSchedule, type AdamWOptions } from '@r1-ts/model';
 * const options: AdamWOptions = {
 *   lr: lrSchedule({ peak: 3e-4, warmup: 100, total: 1000, decay: 'cosine' }),
 *   beta1: 0.9, beta2: 0.95, weightDecay: 0.1,
 *   noDecay: (name, shape) => shape.length === 1 || name.endsWith('norm.weight'),
 * };
 * const opt = new AdamW(new Map([['w', tf.variable(tf.ones([2, 2]))]]), options);
 * ```
 */
export interface AdamWOptions {
  /** Learning rate or schedule. */
  lr: number | LrSchedule;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (Loshchilov & Hutter); default 0.1 as DeepSeek-V3. */
  weightDecay?: number;
  /** Parameters exempt from weight decay (default: norms, biases, 1-D tensors). */
  noDecay?: (name: string, shape: number[]) => boolean;
}

/**
 * AdamW with decoupled weight decay over named parameters. Its state (moments, step) is plain
 * named tensors so it can be saved next to a checkpoint and restored exactly.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { AdamW } from '@r1-ts/model';
 * const w = tf.variable(tf.tensor1d([1, 2]));
 * const opt = new AdamW(new Map([['w', w]]), { lr: 0.1, weightDecay: 0 });
 * opt.step(new Map([['w', tf.tensor1d([1, -1])]]));
 * console.log(w.dataSync()); // ≈ [0.9, 2.1]
 * ```
 */
export class AdamW {
  /** Optimizer steps taken. */
  stepCount = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly opts: Required<Omit<AdamWOptions, 'lr'>> & { lr: LrSchedule };

  /**
   * An AdamW optimizer over the given variables (decoupled weight decay, PyTorch's update order).
   *
   * @param params - The trainable variables by name, e.g. `model.namedParameters()`; only these are updated.
   * @param options - `lr`: a number > 0 or a schedule (step → rate); `beta1` (default 0.9), `beta2` (default 0.95), `eps` (default 1e-8), decoupled `weightDecay` (default 0.1) and `noDecay`, which exempts parameters by name and shape (default: tensors of fewer than 2 dims and names containing `norm` or `bias`). Unknown keys are a ConfigError.
   */
  constructor(
    private readonly params: Map<string, tf.Variable>,
    options: AdamWOptions,
  ) {
    checkOptionKeys(options, 'AdamW');
    const lr = options.lr;
    if (typeof lr === 'number' && !(lr > 0)) throw new ConfigError(`lr must be > 0, got ${lr}`, ['lr']);
    this.opts = {
      lr: typeof lr === 'number' ? () => lr : lr,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.95,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0.1,
      noDecay: options.noDecay ?? ((name, shape) => shape.length < 2 || /norm|bias/.test(name)),
    };
  }

  /** The learning rate the next step will use. */
  currentLr(): number {
    return this.opts.lr(this.stepCount);
  }

  /** Applies one update from the gradients (consumed: they are disposed). */
  step(grads: NamedGrads): void {
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.opts;
    const lr = this.currentLr();
    const t = ++this.stepCount;
    const ps: tf.Variable[] = [];
    const ms: tf.Variable[] = [];
    const vs: tf.Variable[] = [];
    const gs: tf.Tensor[] = [];
    const decays: number[] = [];
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`gradient for unknown parameter "${name}"`);
      if (!this.m.has(name)) {
        this.m.set(name, stateVariable(new Float32Array(p.size), p.shape));
        this.v.set(name, stateVariable(new Float32Array(p.size), p.shape));
      }
      ps.push(p);
      ms.push(this.m.get(name)!);
      vs.push(this.v.get(name)!);
      gs.push(g);
      decays.push(this.opts.noDecay(name, p.shape) ? 0 : weightDecay);
    }
    // One fused multi-tensor kernel for every parameter (tfjs ops on backends without it).
    tf.tidy(() => {
      const next = adamwUpdate(ps, gs, ms, vs, { lr, beta1: b1, beta2: b2, eps, step: t, decays });
      next.forEach((r, i) => {
        ms[i].assign(r.m);
        vs[i].assign(r.v);
        ps[i].assign(r.p);
      });
    });
    for (const g of gs) g.dispose();
  }

  /** Moments by `<param>.exp_avg` / `<param>.exp_avg_sq` plus the step, for a safetensors file. */
  stateTensors(): { tensors: Record<string, tf.Tensor>; step: number } {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, m] of this.m) {
      tensors[`${name}.exp_avg`] = m;
      tensors[`${name}.exp_avg_sq`] = this.v.get(name)!;
    }
    return { tensors, step: this.stepCount };
  }

  /** Restores {@link AdamW.stateTensors} output. */
  loadState(tensors: Map<string, StoredTensor>, step: number): void {
    this.disposeState();
    for (const [name, p] of this.params) {
      const m = tensors.get(`${name}.exp_avg`);
      const v = tensors.get(`${name}.exp_avg_sq`);
      if (!m || !v) continue;
      this.m.set(name, stateVariable(m.data, p.shape));
      this.v.set(name, stateVariable(v.data, p.shape));
    }
    this.stepCount = step;
  }

  /** Frees the moments. */
  disposeState(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/** A non-trainable variable holding optimizer state (the initial tensor is released). */
function stateVariable(values: Float32Array | Int32Array, shape: number[]): tf.Variable {
  const init = tf.tensor(Float32Array.from(values), shape, 'float32');
  const v = tf.variable(init, false);
  init.dispose();
  return v;
}

/**
 * Sums gradients over micro-batches; `take()` returns their mean and resets.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { GradAccumulator } from '@r1-ts/model';
 * const acc = new GradAccumulator();
 * acc.add(new Map([['w', tf.scalar(1)]]));
 * acc.add(new Map([['w', tf.scalar(3)]]));
 * console.log(acc.take().get('w')!.dataSync()[0]); // 2
 * ```
 */
export class GradAccumulator {
  private sum: NamedGrads = new Map();
  private count = 0;

  /** Adds (and disposes) one micro-batch's gradients. */
  add(grads: NamedGrads): void {
    for (const [name, g] of grads) {
      const prev = this.sum.get(name);
      if (prev) {
        this.sum.set(name, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      } else {
        this.sum.set(name, g);
      }
    }
    this.count++;
  }

  /** Number of micro-batches added since the last take. */
  get size(): number {
    return this.count;
  }

  /** Mean gradients; the accumulator is empty afterwards. */
  take(): NamedGrads {
    const out: NamedGrads = new Map();
    for (const [name, g] of this.sum) {
      out.set(name, this.count === 1 ? g : tf.div(g, this.count));
      if (this.count !== 1) g.dispose();
    }
    this.sum = new Map();
    this.count = 0;
    return out;
  }
}
