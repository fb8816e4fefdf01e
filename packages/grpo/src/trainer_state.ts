import * as tf from '@tensorflow/tfjs';
import { CheckpointError, toTensor } from '@r1-ts/tensor-kernels';
import type { RngState, StoredTensor } from '@r1-ts/tensor-kernels';

/**
 * Everything of a {@link GrpoTrainer} that influences its future steps, as plain JSON; the tensors
 * (optimizer moments) travel next to it in {@link GrpoTrainerSnapshot.tensors}. What is *not* here:
 * the policy's weights (the caller checkpoints the model, non-trainable buffers such as the MoE
 * `e_score_correction_bias` included) and the reference model's weights (the caller saves
 * `trainer.reference` and hands it back to `setState`).
 *
 * @example
 * ```ts
 * import type { GrpoTrainer, GrpoTrainerState } from '@r1-ts/grpo';
 * declare const trainer: GrpoTrainer;
 * const { state }: { state: GrpoTrainerState } = await trainer.getState();
 * console.log(`step ${state.steps}, ${state.optimizer.iterations} optimizer updates, cursor ${state.cursor}/${state.order.length}`);
 * ```
 */
export interface GrpoTrainerState {
  format: 'r1-ts/grpo-trainer-state@1';
  /** Trainer steps taken. */
  steps: number;
  /** Optimizer updates applied. */
  updates: number;
  /** Prompt + completion tokens seen (the `num_tokens` metric). */
  tokensSeen: number;
  /** The current epoch's shuffled dataset order and the position in it. */
  order: number[];
  cursor: number;
  /** Dataset length the order indexes (checked on restore). */
  datasetSize: number;
  /** Prompt-order / mini-batch shuffling stream. */
  orderRng: RngState;
  /** Sampling stream. */
  sampleRng: RngState;
  /**
   * Async mode: the next step's prompts, whose rollouts were being generated when the state was
   * taken (dataset indices, already past `cursor`), and the sampling stream as it was when they were
   * dispatched. Those rollouts are lost with the process, so a resumed trainer regenerates them for
   * its first step: it trains on the prompt sequence an uninterrupted run does. Absent or null: none.
   */
  inFlight?: { indices: number[]; sampleRng: RngState } | null;
  /** The reference model: the trainer step it was copied from the policy at (0 = construction), or null without one. */
  reference: { createdAtStep: number } | null;
  /** The optimizer: class, update count, and the names of its tensors in the snapshot. */
  optimizer: OptimizerStateInfo;
}

/**
 * A tf.Optimizer's state besides its tensors: `slots` are the keys of its `getWeights()` tensors
 * (moments, in order) in the snapshot; `variables` those of scalar variables it keeps outside them
 * (Adam's β-power accumulators `accBeta1`/`accBeta2`, which `setWeights` would recompute with
 * `pow` and so not restore bit for bit).
 *
 * @example
 * ```ts
 * import type { OptimizerStateInfo } from '@r1-ts/grpo';
 * const info: OptimizerStateInfo = { className: 'Adam', iterations: 3, slots: ['optimizer.slot.0'], variables: ['optimizer.accBeta1'] };
 * ```
 */
export interface OptimizerStateInfo {
  className: string;
  iterations: number;
  /** Keys of the slot tensors, in the optimizer's order (the slots' own names embed process-dependent variable ids, so they are not kept). */
  slots: string[];
  variables: string[];
}

/**
 * What {@link GrpoTrainer.getState} returns: the JSON state and the tensors it refers to. The tensors
 * are the trainer's live variables: read (save) them before the next step, never dispose them.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { writeSafetensors } from '@r1-ts/tensor-kernels';
 * import type { GrpoTrainer, GrpoTrainerSnapshot } from '@r1-ts/grpo';
 * declare const trainer: GrpoTrainer;
 * const snap: GrpoTrainerSnapshot = await trainer.getState();
 * writeSafetensors('trainer.safetensors', snap.tensors);
 * writeFileSync('trainer.json', JSON.stringify(snap.state));
 * ```
 */
export interface GrpoTrainerSnapshot {
  state: GrpoTrainerState;
  tensors: Record<string, tf.Tensor>;
}

/** Reads an optimizer's full state: its slot tensors (live) and extra scalar variables. */
export async function optimizerSnapshot(opt: tf.Optimizer): Promise<{ info: OptimizerStateInfo; tensors: Record<string, tf.Tensor> }> {
  const weights = await opt.getWeights();
  const [iter, ...slots] = weights;
  const iterations = iter ? (await iter.tensor.data())[0] : 0;
  if (iter) iter.tensor.dispose(); // saveIterations() made a fresh scalar
  const tensors: Record<string, tf.Tensor> = {};
  const info: OptimizerStateInfo = { className: opt.getClassName(), iterations, slots: [], variables: [] };
  slots.forEach((w, i) => {
    const key = `optimizer.slot.${i}`;
    tensors[key] = w.tensor;
    info.slots.push(key);
  });
  for (const [prop, v] of ownVariables(opt)) {
    const key = `optimizer.${prop}`;
    tensors[key] = v;
    info.variables.push(key);
  }
  return { info, tensors };
}

/**
 * Restores {@link optimizerSnapshot} output into a freshly created optimizer of the same class
 * (one that has not applied an update yet).
 */
export async function restoreOptimizer(
  opt: tf.Optimizer,
  info: OptimizerStateInfo,
  tensors: ReadonlyMap<string, tf.Tensor | StoredTensor>,
): Promise<void> {
  if (opt.getClassName() !== info.className) {
    throw new CheckpointError(`trainer state: optimizer class ${info.className} cannot be restored into ${opt.getClassName()}`);
  }
  const made: tf.Tensor[] = [];
  const get = (key: string): tf.Tensor => {
    const t = tensors.get(key);
    if (!t) throw new CheckpointError(`trainer state: tensor ${key} is missing`);
    if (t instanceof tf.Tensor) return t;
    const out = toTensor(t);
    made.push(out);
    return out;
  };
  const iter = tf.scalar(info.iterations, 'int32');
  made.push(iter);
  try {
    await opt.setWeights([{ name: 'iter', tensor: iter }, ...info.slots.map((key) => ({ name: key, tensor: get(key) }))]);
    const own = new Map(ownVariables(opt));
    for (const key of info.variables) {
      const v = own.get(key.slice('optimizer.'.length));
      if (!v) throw new CheckpointError(`trainer state: ${info.className} has no variable ${key}`);
      v.assign(get(key));
    }
  } finally {
    tf.dispose(made); // setWeights made variables of their own (they keep the data)
  }
}

/** A tf optimizer's scalar variables kept outside getWeights (e.g. Adam's accBeta1/accBeta2), by property. */
function ownVariables(opt: tf.Optimizer): [string, tf.Variable][] {
  return Object.entries(opt as unknown as Record<string, unknown>)
    .filter((e): e is [string, tf.Variable] => e[1] instanceof tf.Variable)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
