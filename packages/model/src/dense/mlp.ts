import * as tf from '@tensorflow/tfjs';
import { Module, linear, siluMul } from '@r1-ts/tensor-kernels';
import type { Init, Rng } from '@r1-ts/tensor-kernels';
import type { InitAt } from './init';
import { initDefault } from './init';

/**
 * The SwiGLU feed-forward of the dense families: down(silu(gate(x)) ⊙ up(x)) (golden/README §4.1),
 * each projection through `linear` so adapters can attach; biases only for Llama's `mlp_bias`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { SwiGluMlp } from '@r1-ts/model';
 * const mlp = new SwiGluMlp(16, 32, false, new Rng(0));
 * console.log(mlp.forward(tf.ones([1, 3, 16])).shape); // [1, 3, 16]
 * ```
 */
export class SwiGluMlp extends Module {
  readonly gateProj: tf.Variable;
  readonly upProj: tf.Variable;
  readonly downProj: tf.Variable;
  readonly biases: { gate: tf.Variable; up: tf.Variable; down: tf.Variable } | null;

  /**
   * A SwiGLU MLP: down(silu(gate(x)) · up(x)).
   *
   * @param hidden - Model width D.
   * @param intermediate - Hidden width F of the MLP (gate/up [F, D], down [D, F]).
   * @param bias - Whether the projections have biases.
   * @param rng - Generator of the initial weights.
   * @param at - Init per parameter name. Default: the fallback init.
   */
  constructor(hidden: number, intermediate: number, bias: boolean, rng: Rng, at: InitAt = initDefault) {
    super(rng);
    const init: Init = { normal: 0.02 };
    const p = (name: string, shape: number[], fallback: Init) => this.param(name, shape, at(name, fallback, shape));
    this.gateProj = p('gate_proj.weight', [intermediate, hidden], init);
    this.upProj = p('up_proj.weight', [intermediate, hidden], init);
    this.downProj = p('down_proj.weight', [hidden, intermediate], init);
    const zero = { constant: 0 };
    this.biases = bias
      ? { gate: p('gate_proj.bias', [intermediate], zero), up: p('up_proj.bias', [intermediate], zero), down: p('down_proj.bias', [hidden], zero) }
      : null;
  }

  /** x [..., D] → [..., D]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const g = linear(x, this.gateProj, this.biases?.gate); // [..., I]
      const u = linear(x, this.upProj, this.biases?.up); // [..., I]
      return linear(siluMul(g, u), this.downProj, this.biases?.down); // [..., D]
    });
  }
}
