import * as tf from '@tensorflow/tfjs';
import { ConfigError, Module, linear, linearAdapterOf, siluMul, swiglu } from '@r1-ts/tensor-kernels';
import type { Rng } from '@r1-ts/tensor-kernels';
import { initStd, requireInt } from './config';
import type { DenseMlpConfig } from './config';

/**
 * One SwiGLU feed-forward network, down(silu(gate(x)) ⊙ up(x)) (V3 §2.1.2): a routed expert, the
 * fused shared experts, or a dense layer. Parameters `gate_proj.weight` [I,D], `up_proj.weight` [I,D],
 * `down_proj.weight` [D,I] as in Hugging Face checkpoints.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { Expert } from '@r1-ts/moe';
 * const expert = new Expert({ hidden_size: 16, intermediate_size: 32 }, new Rng(0));
 * const y = expert.forward(tf.ones([3, 16])); // [3, 16]
 * ```
 */
export class Expert extends Module {
  readonly gateProj: tf.Variable;
  readonly upProj: tf.Variable;
  readonly downProj: tf.Variable;

  /**
   * @param config - `hidden_size` D and `intermediate_size` F of this SwiGLU MLP: gate/up projections [F, D], down projection [D, F].
   * @param rng - Seeded generator of the three projections' initial values.
   */
  constructor(config: DenseMlpConfig, rng: Rng) {
    super(rng);
    if (typeof config !== 'object' || config === null) throw new ConfigError(`MLP config must be an object, got ${String(config)}`);
    const D = requireInt(config, 'hidden_size', 1);
    const I = requireInt(config, 'intermediate_size', 1);
    const std = initStd(config);
    this.gateProj = this.param('gate_proj.weight', [I, D], { normal: std });
    this.upProj = this.param('up_proj.weight', [I, D], { normal: std });
    this.downProj = this.param('down_proj.weight', [D, I], { normal: std });
  }

  /**
   * Whether a linear adapter (LoRA) is attached to one of the three projections: then the forward goes
   * through tensor-kernels' `linear`, which applies it, instead of the fused kernel.
   */
  get adapted(): boolean {
    return linearAdapterOf(this.gateProj) !== undefined || linearAdapterOf(this.upProj) !== undefined || linearAdapterOf(this.downProj) !== undefined;
  }

  /** x [..., D] → [..., D]: the fused SwiGLU kernel, or three `linear`s when an adapter is attached. */
  forward(x: tf.Tensor): tf.Tensor {
    if (!this.adapted) return swiglu(x, this.gateProj, this.upProj, this.downProj);
    return tf.tidy(() => {
      const g = linear(x, this.gateProj); // [..., I]
      const u = linear(x, this.upProj); // [..., I]
      return linear(siluMul(g, u), this.downProj); // [..., D]
    });
  }
}

/**
 * The dense SwiGLU feed-forward of the first `first_k_dense_replace` layers (width
 * `intermediate_size`). Same parameters and math as {@link Expert}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { DenseMlp } from '@r1-ts/moe';
 * const mlp = new DenseMlp({ hidden_size: 16, intermediate_size: 64 }, new Rng(0));
 * console.log([...mlp.namedParameters('mlp.').keys()]); // mlp.gate_proj.weight, mlp.up_proj.weight, mlp.down_proj.weight
 * const y = mlp.forward(tf.ones([2, 5, 16])); // [2, 5, 16]
 * ```
 */
export class DenseMlp extends Expert {}
