// Activation checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost";
// torch.utils.checkpoint): a block runs forward without recording its intermediates on the gradient
// tape, and is run again during backward to get them. Memory of a backward drops from every block's
// intermediates to the blocks' inputs plus one block's intermediates, for one extra forward.
//
// tfjs's tape keeps, per kernel, the tensors its gradient needs (engine.saveTensorsForBackwardMode).
// Here the whole block becomes one tape node whose forward runs with the tape paused and whose
// gradient re-runs the block under a nested tape. tf.customGrad cannot express it: one output only,
// and gradients only for the tensors passed in, while a block reads its weights from its closure.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors';
import { engine } from './engine_internals';
import type { BackwardsFunc, EngineInternals } from './engine_internals';
import { setLinearAdaptersEnabled } from './ops/linear';
import { Rng } from './rng';
import type { RngSnapshot } from './rng';

/**
 * Options of {@link checkpoint}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import type { CheckpointOptions } from '@r1-ts/tensor-kernels';
 * const opts: CheckpointOptions = { constants: [tf.ones([1, 4])] }; // e.g. a key mask
 * ```
 */
export interface CheckpointOptions {
  /**
   * Tensors `fn` reads that need no gradient (RoPE tables, masks, positions): kept alive until the
   * backward and passed to `fn` again there. Default none.
   */
  constants?: tf.Tensor[];
}

/**
 * The block: differentiable inputs and constants in, every output it wants to hand out.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import type { CheckpointFn } from '@r1-ts/tensor-kernels';
 * const block: CheckpointFn = ([x], [mask]) => [tf.mul(tf.relu(x), mask)];
 * ```
 */
export type CheckpointFn = (inputs: tf.Tensor[], constants: tf.Tensor[]) => tf.Tensor[];

/** What the first forward saw, so the recompute computes the same function. */
interface ForwardRecord {
  /** Trainable variables `fn` read: they become inputs of the tape node and get gradients. */
  variables: tf.Variable[];
  /** Each generator `fn` drew from, at its position before the first draw. */
  rngs: Map<Rng, RngSnapshot>;
  /** Tensors created outside `fn` and read by it (other than inputs, constants, variables). */
  captured: tf.Tensor[];
  adaptersEnabled: boolean;
}

/** Runs `fn` once with the tape paused, recording the variables it reads and the RNGs it draws from. */
function recordForward(e: EngineInternals, fn: CheckpointFn, inputs: tf.Tensor[], constants: tf.Tensor[]): { outs: tf.Tensor[]; record: ForwardRecord } {
  const firstNewId = tensorIdAfter();
  const passed = new Set<number>([...inputs, ...constants].map((t) => t.id));
  const variables = new Map<number, tf.Variable>();
  const captured = new Map<number, tf.Tensor>();
  const rngs = new Map<Rng, RngSnapshot>();
  const adaptersEnabled = setLinearAdaptersEnabled(true);
  setLinearAdaptersEnabled(adaptersEnabled);

  const hadOwnRunKernel = Object.prototype.hasOwnProperty.call(e, 'runKernel');
  const runKernel = e.runKernel;
  const observer = Rng.drawObserver;
  // Every op a block issues (tfjs's and ours) goes through engine.runKernel: its inputs tell which
  // variables and outside tensors the block reads.
  e.runKernel = function spy(name, kernelInputs, attrs) {
    for (const t of Object.values(kernelInputs)) {
      if (!(t instanceof tf.Tensor) || t.id >= firstNewId || passed.has(t.id)) continue;
      if (t instanceof tf.Variable) {
        if (t.trainable) variables.set(t.id, t);
      } else captured.set(t.id, t);
    }
    return runKernel.call(this, name, kernelInputs, attrs);
  };
  Rng.drawObserver = (rng) => {
    observer?.(rng);
    if (!rngs.has(rng)) rngs.set(rng, rng.snapshot());
  };
  e.state.kernelDepth++; // tape paused: nothing is saved for backward inside the block
  try {
    const outs = tf.tidy(() => fn(inputs, constants).map((o) => (o.id < firstNewId ? tf.clone(o) : o)));
    return { outs, record: { variables: [...variables.values()], rngs, captured: [...captured.values()], adaptersEnabled } };
  } finally {
    e.state.kernelDepth--;
    Rng.drawObserver = observer;
    if (hadOwnRunKernel) e.runKernel = runKernel;
    else delete (e as Partial<EngineInternals>).runKernel;
  }
}

/** The id the next tensor will get (tfjs numbers tensors in creation order). */
function tensorIdAfter(): number {
  const probe = tf.scalar(0);
  probe.dispose();
  return probe.id + 1;
}

/**
 * Runs `fn` again with the same RNG draws and adapter mode, and returns the gradients of
 * Σᵢ ⟨outᵢ, dyᵢ⟩ (the vector-Jacobian product) w.r.t. `xs`, zeros where `fn` does not depend on one.
 */
function recompute(e: EngineInternals, fn: CheckpointFn, inputs: tf.Tensor[], constants: tf.Tensor[], xs: tf.Tensor[], dys: tf.Tensor[], record: ForwardRecord): tf.Tensor[] {
  const disposed = record.captured.find((t) => t.isDisposed);
  if (disposed) {
    throw new ConfigError(`checkpoint: the block read a tensor of shape [${disposed.shape}] from outside (not in inputs or constants) that was disposed before the backward; pass it in options.constants`, ['constants']);
  }
  const now = [...record.rngs.keys()].map((rng) => [rng, rng.snapshot()] as const);
  for (const [rng, before] of record.rngs) rng.restore(before);
  const adapters = setLinearAdaptersEnabled(record.adaptersEnabled);
  // engine.gradients at depth 0 replaces the tape and then nulls it; the outer backward still
  // needs its own to free the tensors it saved.
  const outerTape = e.state.activeTape;
  try {
    const { value, grads } = e.gradients(() => {
      const outs = fn(inputs, constants);
      const terms = outs.flatMap((o, i) => (o.dtype === 'float32' ? [tf.sum(tf.mul(o, dys[i]))] : []));
      return terms.length ? tf.addN(terms) : tf.scalar(0);
    }, xs, undefined, true);
    value.dispose();
    return xs.map((x, i) => grads[i] ?? tf.zerosLike(x));
  } finally {
    e.state.activeTape = outerTape;
    setLinearAdaptersEnabled(adapters);
    for (const [rng, s] of now) rng.restore(s);
  }
}

/**
 * Activation checkpointing of one block: returns `fn(inputs, constants)`, but under a gradient
 * tape (`tf.variableGrads`, `tf.grads`) the block's intermediates are not kept for backward: the
 * backward runs `fn` again to get them. Gradients flow to the float32 `inputs` and to every
 * trainable variable `fn` reads (found as it runs: a LoRA adapter's A and B, not the frozen base
 * weights), and from every float32 output (e.g. MoE router scores for a balance loss). Random draws
 * from any {@link Rng} inside `fn` (dropout masks) replay identically in the recompute, and the
 * linear-adapter mode (`withoutLinearAdapters`) is replayed too. Without an active tape `fn` simply
 * runs. `fn` must be a pure function of its arguments, the variables and its RNG draws; a tensor it
 * reads from its closure must outlive the backward (else pass it in `constants`).
 *
 * @param fn - the block: `(inputs, constants) → outputs`
 * @param inputs - differentiable tensors `fn` takes (the hidden state)
 * @param options - `constants`: tensors `fn` reads that need no gradient (RoPE tables, masks), kept alive until the backward.
 * @returns `fn`'s outputs, one tape node for all of them
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { checkpoint } from '@r1-ts/tensor-kernels';
 * const w = tf.variable(tf.randomNormal([4, 4]));
 * const block = ([x]: tf.Tensor[]) => [tf.relu(tf.matMul(x, w))];
 * const { grads } = tf.variableGrads(() => tf.sum(checkpoint(block, [tf.ones([2, 4])])[0]), [w]);
 * console.log(grads[w.name].shape); // [4, 4]
 * ```
 */
export function checkpoint(fn: CheckpointFn, inputs: tf.Tensor[], options: CheckpointOptions = {}): tf.Tensor[] {
  const constants = options.constants ?? [];
  const e = engine();
  if (!e.isTapeOn()) return fn(inputs, constants);
  const { outs, record } = recordForward(e, fn, inputs, constants);
  const grad = inputs.map((t) => t.dtype === 'float32');
  const xsOf = (saved: tf.Tensor[]) => [...saved.slice(0, inputs.length).filter((_, i) => grad[i]), ...record.variables];
  const named: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (named[`x${i}`] = t));
  record.variables.forEach((v, i) => (named[`v${i}`] = v));
  const backwardsFunc: BackwardsFunc = (dy, saved) => {
    const dys = Array.isArray(dy) ? dy : [dy];
    const savedInputs = saved.slice(0, inputs.length);
    const grads = recompute(e, fn, savedInputs, saved.slice(inputs.length), xsOf(saved), dys, record);
    const map: Record<string, () => tf.Tensor> = {};
    let k = 0;
    // Integer inputs get no gradient; tfjs never asks for one (nothing float flows into them).
    inputs.forEach((t, i) => (map[`x${i}`] = grad[i] ? ((g) => () => g)(grads[k++]) : () => tf.zerosLike(t).toFloat()));
    record.variables.forEach((_, i) => (map[`v${i}`] = ((g) => () => g)(grads[k++])));
    return map;
  };
  return e.runKernelFunc({
    forwardFunc: (_backend, save) => {
      save([...inputs, ...constants]); // alive until the backward, as the recompute's arguments
      return outs;
    },
    backwardsFunc,
    inputs: named,
  });
}
