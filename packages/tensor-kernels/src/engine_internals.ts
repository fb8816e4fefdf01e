// The members of tfjs-core's engine that r1-ts's custom tape nodes use (activation checkpointing,
// the fused head log-probs): tfjs 4.22 has them but does not type them as public.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors';

// Engine members tfjs 4.22 has but does not type as public (the project pins that exact version).
export type BackwardsFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
export interface EngineInternals {
  state: { kernelDepth: number; activeTape: unknown[] | null };
  isTapeOn(): boolean;
  runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: (tensors: tf.Tensor[]) => void) => tf.Tensor[];
    backwardsFunc: BackwardsFunc;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor[];
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

/** The engine with the internals above; a ConfigError naming the version when they are missing. */
export function engine(): EngineInternals {
  const e = tf.engine() as unknown as EngineInternals;
  if (typeof e.runKernelFunc !== 'function' || typeof e.state?.kernelDepth !== 'number') {
    throw new ConfigError(`r1-ts's custom gradients (checkpoint, linearTokenLogProbs) need @tensorflow/tfjs-core 4.22's engine (runKernelFunc, state.kernelDepth); got version ${tf.version_core}`, ['@tensorflow/tfjs']);
  }
  return e;
}
