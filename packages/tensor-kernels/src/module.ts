import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from './errors';
import { Rng } from './rng';
import type { StoredTensor } from './safetensors';

/**
 * How a parameter starts: N(0, std²) from the module's Rng, a constant, or given values.
 *
 * @example
 * ```ts
 * import { Module, Rng, type Init } from '@r1-ts/tensor-kernels';
 * const ones: Init = { constant: 1 };
 * class Norm extends Module {
 *   readonly weight = this.param('weight', [4], ones);
 * }
 * console.log(new Norm(new Rng(0)).weight.dataSync()); // Float32Array [1, 1, 1, 1]
 * ```
 */
export type Init = { normal: number } | { constant: number } | Float32Array;

/**
 * A tensor to load: a tfjs tensor or a stored safetensors entry.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Module, Rng, type LoadableTensor } from '@r1-ts/tensor-kernels';
 * class Bias extends Module {
 *   readonly bias = this.param('bias', [2], { constant: 0 });
 * }
 * const state = new Map<string, LoadableTensor>([
 *   ['bias', { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }],
 * ]);
 * const m = new Bias(new Rng(0));
 * m.loadState(state);
 * console.log(m.bias.dataSync()); // Float32Array [1, 2]
 * const fromTf: LoadableTensor = tf.zeros([2]);
 * m.loadState(new Map([['bias', fromTf]]));
 * ```
 */
export type LoadableTensor = tf.Tensor | StoredTensor;

/**
 * A tree of named parameters, named as in Hugging Face checkpoints (`self_attn.q_a_proj.weight`).
 * Layers extend it, declare parameters with {@link Module.param} and sub-modules with
 * {@link Module.child}; the full names then match checkpoint tensor names under a prefix.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Module, Rng } from '@r1-ts/tensor-kernels';
 * class Linear extends Module {
 *   readonly weight = this.param('weight', [4, 8], { normal: 0.02 });
 *   forward(x: tf.Tensor2D) { return tf.matMul(x, this.weight, false, true); }
 * }
 * const lin = new Linear(new Rng(0));
 * console.log([...lin.namedParameters('proj.').keys()]); // ['proj.weight']
 * ```
 */
export abstract class Module {
  private readonly params = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();

  /**
   * Child modules share the parent's `rng`.
   *
   * @param rng - Source of initial values, shared by the whole tree.
   */
  constructor(
    /** Source of initial values; shared by the whole tree. */
    protected readonly rng: Rng,
  ) {}

  /** Declares a parameter. `trainable: false` for buffers such as the MoE correction bias. */
  protected param(name: string, shape: number[], init: Init, trainable = true): tf.Variable {
    if (this.params.has(name)) throw new Error(`parameter "${name}" declared twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (init instanceof Float32Array) {
      if (init.length !== size) throw new Error(`parameter "${name}": ${init.length} values for shape [${shape}]`);
      values = init;
    } else if ('normal' in init) {
      values = this.rng.normalArray(size, init.normal);
    } else {
      values = new Float32Array(size).fill(init.constant);
    }
    // No tfjs name: tfjs names must be unique per process and a policy and its reference share HF names.
    const initial = tf.tensor(values, shape);
    const v = tf.variable(initial, trainable);
    initial.dispose(); // the variable holds its own reference to the data

    this.params.set(name, v);
    return v;
  }

  /** Registers a sub-module under a name segment (`self_attn`, `experts.3`). */
  protected child<M extends Module>(name: string, module: M): M {
    if (this.children.has(name)) throw new Error(`child "${name}" declared twice`);
    this.children.set(name, module);
    return module;
  }

  /** Every parameter under its full name (prefix + dotted path), in declaration order. */
  namedParameters(prefix = ''): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, v] of this.params) out.set(prefix + name, v);
    for (const [name, m] of this.children) for (const [k, v] of m.namedParameters(`${prefix}${name}.`)) out.set(k, v);
    return out;
  }

  /** The trainable variables (what an optimizer updates). */
  trainableVariables(): tf.Variable[] {
    return [...this.namedParameters().values()].filter((v) => v.trainable);
  }

  /** Number of scalar parameters. */
  parameterCount(): number {
    let n = 0;
    for (const v of this.namedParameters().values()) n += v.size;
    return n;
  }

  /**
   * Assigns parameters from a name → tensor map (names under `prefix`). Every missing tensor and
   * every shape mismatch is collected and reported at once as a {@link CheckpointError}; with
   * `strict` (default) unexpected names under the prefix are errors too. Parameters for which
   * `allowMissing` returns true keep their current values when absent (e.g. a new DSA indexer).
   */
  loadState(
    state: Map<string, LoadableTensor>,
    options: { prefix?: string; strict?: boolean; allowMissing?: (name: string) => boolean } = {},
  ): void {
    const prefix = options.prefix ?? '';
    const problems: string[] = [];
    const own = this.namedParameters(prefix);
    for (const [name, v] of own) {
      const t = state.get(name);
      if (!t && options.allowMissing?.(name)) continue;
      if (!t) {
        problems.push(`missing tensor "${name}" (expected shape [${v.shape}])`);
        continue;
      }
      const shape = t.shape as number[];
      if (shape.length !== v.shape.length || shape.some((d, i) => d !== v.shape[i])) {
        problems.push(`tensor "${name}" has shape [${shape}], expected [${v.shape}]`);
      }
    }
    if (options.strict ?? true) {
      for (const name of state.keys()) {
        if (name.startsWith(prefix) && !own.has(name)) problems.push(`unexpected tensor "${name}"`);
      }
    }
    if (problems.length) throw new CheckpointError(`cannot load parameters:\n  ${problems.join('\n  ')}`);
    for (const [name, v] of own) {
      const t = state.get(name);
      if (!t) continue; // allowed to be missing: keeps its initial value
      if (t instanceof tf.Tensor) v.assign(t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
      else tf.tidy(() => v.assign(tf.tensor(Float32Array.from(t.data), t.shape, 'float32')));
    }
  }

  /** Frees every parameter. */
  dispose(): void {
    for (const v of this.namedParameters().values()) v.dispose();
  }
}
