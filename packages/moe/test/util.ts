// Test helpers: a randomly initialised MoE and its parameters as float64 arrays for the reference.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@r1-ts/tensor-kernels';
import { MoE } from '../src/moe';
import type { MoeConfig } from '../src/config';

/** The tiny config of golden §5 moe, with a wider init so routing decisions have clear margins. */
export const tinyConfig: MoeConfig = {
  hidden_size: 12, n_routed_experts: 8, num_experts_per_tok: 2, n_group: 4, topk_group: 2,
  scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true, routed_scaling_factor: 2.5,
  moe_intermediate_size: 6, n_shared_experts: 1, initializer_range: 0.4,
};

/** A MoE with random weights; for noaux_tc a random bias with a negative mean (so 0 vs −inf masking differs). */
export function randomMoe(config: MoeConfig, seed: number): MoE {
  const moe = new MoE(config, new Rng(seed));
  const bias = moe.gate.eScoreCorrectionBias;
  if (bias) {
    const rng = new Rng(seed + 1000);
    tf.tidy(() => bias.assign(tf.tensor1d(rng.normalArray(config.n_routed_experts, 0.3, -1))));
  }
  return moe;
}

/** The module's parameters as float64 arrays, by checkpoint name under `mlp.`. */
export function paramsOf(moe: MoE): Map<string, Float64Array> {
  return new Map([...moe.namedParameters('mlp.')].map(([k, v]) => [k, Float64Array.from(v.dataSync())]));
}

/** Float32 normal samples of a seeded stream. */
export function randn(n: number, seed: number, std = 1): Float32Array {
  return new Rng(seed).normalArray(n, std);
}
