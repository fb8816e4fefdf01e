import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, rejectUnknownKeys, setLinearAdapter } from '@r1-ts/tensor-kernels';
import type { RngState } from '@r1-ts/tensor-kernels';
import { loraScale, parseLoraConfig } from './config';
import type { LoraConfig, LoraConfigInput } from './config';
import { resolveTargets } from './targets';

/**
 * Anything with Hugging Face-named parameters: every `@r1-ts` model (a tensor-kernels `Module`).
 *
 * @example
 * ```ts
 * import type { NamedParameters } from '@r1-ts/lora';
 * declare const model: NamedParameters;
 * console.log([...model.namedParameters().keys()].slice(0, 2));
 * ```
 */
export interface NamedParameters {
  namedParameters(): Map<string, tf.Variable>;
}

/**
 * One adapted linear layer: y = x·Wᵀ + scale · (dropout(x)·Aᵀ)·Bᵀ (LoRA, Hu et al. 2021, eq. 3).
 *
 * @example
 * ```ts
 * import type { LoraLayer } from '@r1-ts/lora';
 * declare const layer: LoraLayer;
 * console.log(layer.module, layer.loraA.shape, layer.loraB.shape); // …q_proj [r, in] [out, r]
 * ```
 */
export interface LoraLayer {
  /** HF module name, e.g. `model.layers.0.self_attn.q_proj`. */
  readonly module: string;
  /** The base weight W [out, in] (owned by the model). */
  readonly weight: tf.Variable;
  /** A [r, in], kaiming-uniform at init as PEFT. */
  readonly loraA: tf.Variable;
  /** B [out, r], zeros at init, so the adapted model starts as the base. */
  readonly loraB: tf.Variable;
}

/**
 * Options of {@link LoraModel.attach}.
 *
 * @example
 * ```ts
 * import type { LoraAttachOptions } from '@r1-ts/lora';
 * const o: LoraAttachOptions = { seed: 1 };
 * ```
 */
export interface LoraAttachOptions {
  /** Seed of A's initialisation and of the dropout masks. Default 0. */
  seed?: number;
}

/**
 * LoRA adapters attached to a model's linear layers through tensor-kernels' `linear` adapter hook:
 * the model's code is unchanged, its weights are frozen (`trainable = false`) while attached, and
 * only the adapters are trainable. Adapters off (`withoutLinearAdapters`) is the base model.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { LoraModel, saveAdapter } from '@r1-ts/lora';
 * declare const model: { namedParameters(): Map<string, tf.Variable> }; // e.g. a Qwen2 model
 * const lora = LoraModel.attach(model, { r: 16, lora_alpha: 32, target_modules: 'all-linear' });
 * const optimizer = tf.train.adam(1e-4);
 * console.log(lora.trainableVariables().length); // 2 per adapted layer (A and B)
 * saveAdapter(lora, 'out/adapter');
 * lora.dispose(); // the model is its base again
 * ```
 */
export class LoraModel {
  /** The adapted layers, in the model's parameter order. */
  readonly layers: readonly LoraLayer[];
  /** Whether dropout is applied (training mode, PEFT's `model.train()`). Default true. */
  training = true;
  private rng: Rng;
  private isMerged = false;
  private disposed = false;
  private readonly wasTrainable = new Map<tf.Variable, boolean>();
  /** Modules whose adapter has run at least once (a projection outside `linear` never does). */
  private readonly used = new Set<string>();

  private constructor(
    /** The validated configuration. */
    readonly config: LoraConfig,
    parameters: Map<string, tf.Variable>,
    seed: number,
  ) {
    const targets = resolveTargets(parameters, config);
    const init = new Rng(seed);
    this.layers = targets.map(({ module, weight }) => {
      const [out, inp] = weight.shape as [number, number];
      // kaiming_uniform_(a = √5) on [r, in]: bound = gain·√(3/in) with gain = √(2/(1+5)) → 1/√in.
      const bound = 1 / Math.sqrt(inp);
      const a = new Float32Array(config.r * inp);
      for (let i = 0; i < a.length; i++) a[i] = (2 * init.uniform() - 1) * bound;
      const loraA = tf.variable(tf.tensor2d(a, [config.r, inp]), true); // [r, in]
      const loraB = tf.variable(tf.zeros([out, config.r]), true); // [out, r]
      return { module, weight, loraA, loraB };
    });
    this.rng = init.fork();
    for (const v of parameters.values()) {
      this.wasTrainable.set(v, v.trainable);
      v.trainable = false;
    }
    for (const layer of this.layers) this.hook(layer);
  }

  /**
   * Adds fresh adapters (A random, B = 0) to `model`'s targeted linear layers and freezes its
   * weights. Throws ConfigError for a bad config or a target module the model does not have.
   */
  static attach(model: NamedParameters, config: LoraConfigInput | LoraConfig, options: LoraAttachOptions = {}): LoraModel {
    rejectUnknownKeys(options, ['seed'] satisfies (keyof LoraAttachOptions)[], 'LoraModel.attach options', { rng: 'seed' });
    return new LoraModel(parseLoraConfig(config), model.namedParameters(), options.seed ?? 0);
  }

  /** The scale α/r (α/√r with rsLoRA) applied to B·A. */
  get scale(): number {
    return loraScale(this.config);
  }

  /** Whether the adapters are merged into the base weights (see {@link LoraModel.merge}). */
  get merged(): boolean {
    return this.isMerged;
  }

  /** The adapter variables (A then B per layer, in layer order): what the optimizer updates. */
  trainableVariables(): tf.Variable[] {
    this.alive();
    if (this.isMerged) throw new ConfigError('LoraModel: adapters are merged into the base weights; unmerge() before training', ['merged']);
    return this.layers.flatMap((l) => [l.loraA, l.loraB]);
  }

  /** The adapter tensors under PEFT's names (`base_model.model.<module>.lora_A.weight`, …). */
  namedAdapterParameters(): Map<string, tf.Variable> {
    this.alive();
    const out = new Map<string, tf.Variable>();
    for (const l of this.layers) {
      out.set(`base_model.model.${l.module}.lora_A.weight`, l.loraA);
      out.set(`base_model.model.${l.module}.lora_B.weight`, l.loraB);
    }
    return out;
  }

  /** Runs `fn` with dropout off (generation, evaluation), restoring the mode afterwards. */
  evalMode<T>(fn: () => T): T {
    const before = this.training;
    this.training = false;
    try {
      return fn();
    } finally {
      this.training = before;
    }
  }

  /**
   * Folds the adapters into the base weights, W ← W + scale·B·A, and detaches them, so a forward
   * costs what the base does (inference, or saving a merged checkpoint). While merged, adapters
   * off no longer gives the base model and nothing is trainable.
   */
  merge(): void {
    this.alive();
    if (this.isMerged) return;
    for (const l of this.layers) {
      tf.tidy(() => l.weight.assign(tf.add(l.weight, this.delta(l)))); // [out, in]
      setLinearAdapter(l.weight, null);
    }
    this.isMerged = true;
  }

  /** Undoes {@link LoraModel.merge}: W ← W − scale·B·A (exact up to float rounding) and re-attaches. */
  unmerge(): void {
    this.alive();
    if (!this.isMerged) return;
    for (const l of this.layers) {
      tf.tidy(() => l.weight.assign(tf.sub(l.weight, this.delta(l)))); // [out, in]
      this.hook(l);
    }
    this.isMerged = false;
  }

  /**
   * Adapted modules whose adapter has not run in any forward since {@link LoraModel.attach}: their
   * projection does not go through tensor-kernels' `linear` (so LoRA cannot reach it), or the
   * forwards so far skipped them (an MoE expert no token was routed to). Run one forward, then check.
   */
  unusedModules(): string[] {
    return this.layers.filter((l) => !this.used.has(l.module)).map((l) => l.module);
  }

  /** The dropout stream's position (checkpoint it for a bit-identical resume). */
  getRngState(): RngState {
    return this.rng.getState();
  }

  /** Restores {@link LoraModel.getRngState}. */
  setRngState(state: RngState): void {
    this.rng = Rng.fromState(state);
  }

  /**
   * Detaches the adapters (unmerging first if merged), restores the base weights' trainable flags
   * and frees A and B: the model is its base again.
   */
  dispose(): void {
    if (this.disposed) return;
    this.unmerge();
    for (const l of this.layers) {
      setLinearAdapter(l.weight, null);
      tf.dispose([l.loraA, l.loraB]);
    }
    for (const [v, t] of this.wasTrainable) if (!v.isDisposed) v.trainable = t;
    this.disposed = true;
  }

  /** scale·B·A [out, in]. */
  private delta(l: LoraLayer): tf.Tensor2D {
    return tf.mul(tf.matMul(l.loraB, l.loraA), this.scale) as tf.Tensor2D; // [out, r]·[r, in] → [out, in]
  }

  private hook(l: LoraLayer): void {
    const p = this.config.lora_dropout;
    const adapter = (x2: tf.Tensor2D): tf.Tensor2D => {
      this.used.add(l.module);
      let h: tf.Tensor2D = x2; // [N, in]
      if (p > 0 && this.training) {
        // A seed from our own stream (not tfjs's global one), so masks replay on resume.
        const keep = tf.step(tf.sub(tf.randomUniform(x2.shape, 0, 1, 'float32', this.rng.int(0, 2 ** 31 - 1)), p)); // [N, in] ∈ {0, 1}
        h = tf.mul(x2, tf.div(keep, 1 - p));
      }
      const xa = tf.matMul(h, l.loraA, false, true); // [N, r]
      return tf.mul(tf.matMul(xa, l.loraB, false, true), this.scale) as tf.Tensor2D; // [N, out]
    };
    // ΔW's factors for code that folds W into other matrices (MLA's absorbed decode): no dropout
    // there, as in eval.
    const lowRank = () => {
      this.used.add(l.module);
      return { a: l.loraA as tf.Tensor2D, b: l.loraB as tf.Tensor2D, scale: this.scale };
    };
    setLinearAdapter(l.weight, Object.assign(adapter, { lowRank }));
  }

  private alive(): void {
    if (this.disposed) throw new ConfigError('LoraModel has been disposed', []);
  }

  /** @internal Builds a LoraModel whose A/B values are then loaded (see loadAdapter). */
  static fromConfig(model: NamedParameters, config: LoraConfig, seed = 0): LoraModel {
    return new LoraModel(config, model.namedParameters(), seed);
  }
}
