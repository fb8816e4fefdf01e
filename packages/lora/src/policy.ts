import type * as tf from '@tensorflow/tfjs';
import { withoutLinearAdapters } from '@r1-ts/tensor-kernels';
import type { LoraModel } from './lora';

/**
 * The part of `@r1-ts/grpo`'s `Policy` a LoRA policy delegates to the model's own policy (this
 * package does not depend on grpo; the shapes match structurally).
 *
 * @example
 * ```ts
 * import type { BasePolicy } from '@r1-ts/lora';
 * declare const base: BasePolicy; // e.g. @r1-ts/model's policy over a Qwen2 model
 * ```
 */
export interface BasePolicy<P = unknown, S = unknown, O = unknown, C = unknown, B = unknown> {
  /** Samples one completion per prompt (synchronously, so the adapter switches stay in force). */
  generate(prompts: readonly P[], options: S): C[] | Promise<C[]>;
  /** Per-token log-probs [N, T] of completions, differentiable. */
  logProbs(batch: B, options?: O): tf.Tensor2D;
  /** Optional per-token entropy [N, T]. */
  entropy?(batch: B, options?: O): tf.Tensor2D;
  /** Frees the model. */
  dispose(): void;
}

/**
 * A GRPO `Policy` that trains only LoRA adapters on top of a base policy's model. Its reference
 * model (`clone()`) is the same model with the adapters switched off — no second copy of the
 * weights — which is exactly the base model the KL term of R1 eq. 3 needs. Sampling and entropy run
 * without dropout.
 *
 * @example
 * ```ts
 * import { LoraModel, LoraPolicy, type BasePolicy } from '@r1-ts/lora';
 * declare const model: { namedParameters(): Map<string, import('@tensorflow/tfjs').Variable> };
 * declare const base: BasePolicy;
 * const policy = new LoraPolicy(base, LoraModel.attach(model, { r: 16, lora_alpha: 32 }));
 * console.log(policy.trainableVariables().length); // only the adapters
 * const ref = policy.clone(); // the base model: adapters off
 * ```
 */
export class LoraPolicy<P = unknown, S = unknown, O = unknown, C = unknown, B = unknown> {
  private frozen = false;

  /**
   * @param base - The policy over the full model (its sampling, log-probs and chat template are reused).
   * @param lora - The adapters attached to that model; only their variables are trained.
   * @param role - `policy` (default): adapters on and trainable; `reference`: adapters off and nothing trainable (what `clone()` returns).
   */
  constructor(
    /** The model's own policy (tokenizer, generation, log-probs). */
    readonly base: BasePolicy<P, S, O, C, B>,
    /** The adapters on the base policy's model. */
    readonly lora: LoraModel,
    /** `reference`: a view with the adapters off (what clone() returns). */
    private readonly role: 'policy' | 'reference' = 'policy',
  ) {}

  /** Samples with the adapters on (off for the reference view), without dropout. */
  generate(prompts: readonly P[], options: S): C[] | Promise<C[]> {
    return this.run(() => this.lora.evalMode(() => this.base.generate(prompts, options)));
  }

  /** The base policy's log-probs with the adapters on (off for the reference view). */
  logProbs(batch: B, options?: O): tf.Tensor2D {
    return this.run(() => this.base.logProbs(batch, options));
  }

  /** The base policy's entropy, without dropout. */
  entropy(batch: B, options?: O): tf.Tensor2D {
    if (!this.base.entropy) throw new Error('LoraPolicy.entropy: the base policy has no entropy()');
    return this.run(() => this.lora.evalMode(() => this.base.entropy!(batch, options)));
  }

  /** The adapter variables (none for the reference view or once frozen). */
  trainableVariables(): tf.Variable[] {
    return this.frozen || this.role === 'reference' ? [] : this.lora.trainableVariables();
  }

  /** The reference model: the same weights with the adapters off (shares everything; disposing it frees nothing). */
  clone(): LoraPolicy<P, S, O, C, B> {
    return new LoraPolicy(this.base, this.lora, 'reference');
  }

  /** No trainable variables from now on. */
  freeze(): void {
    this.frozen = true;
  }

  /** Frees the adapters and the base policy (the reference view frees nothing). */
  dispose(): void {
    if (this.role === 'reference') return;
    this.lora.dispose();
    this.base.dispose();
  }

  private run<T>(fn: () => T): T {
    return this.role === 'reference' ? withoutLinearAdapters(fn) : fn();
  }
}
