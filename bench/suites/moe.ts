// MoE layer vs a dense SwiGLU FFN with the same ACTIVATED parameters, forward + backward, on the
// `small` preset sizes. Dense width = (K + n_shared)·moe_intermediate_size, so both do about the
// same expert FLOPs per token; the gap is routing + dispatch overhead and the smaller per-expert
// GEMMs. Also prints the kernels (engine kernel calls) one forward + backward launches.
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@r1-ts/tensor-kernels';
import { DenseMlp, MoE } from '@r1-ts/moe';
import type { MoeConfig } from '@r1-ts/moe';
import { report } from '../lib';

const config: MoeConfig = {
  hidden_size: 256, n_routed_experts: 16, num_experts_per_tok: 2, n_group: 8, topk_group: 4,
  scoring_func: 'sigmoid', topk_method: 'noaux_tc', norm_topk_prob: true, routed_scaling_factor: 2.5,
  moe_intermediate_size: 128, n_shared_experts: 1,
};
const B = 8;
const S = 256;
const REPS = 9;

/** One forward + backward (gradients of mean(y²) w.r.t. every trainable variable), in ms. */
function fwdBwdOnce(forward: (x: tf.Tensor3D) => tf.Tensor, vars: tf.Variable[], x: tf.Tensor3D): number {
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(forward(x))) as tf.Scalar, vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
  return performance.now() - t0;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Kernels one forward + backward launches (engine kernel calls, as tf.profile counts them). */
async function kernelCount(forward: (x: tf.Tensor3D) => tf.Tensor, vars: tf.Variable[], x: tf.Tensor3D): Promise<number> {
  const info = await tf.profile(() => void fwdBwdOnce(forward, vars, x));
  return info.kernels.length;
}

export async function run(): Promise<void> {
  const info = await initBackend({ quiet: true });
  const rng = new Rng(0);
  const moe = new MoE(config, rng);
  const denseWidth = (config.num_experts_per_tok + config.n_shared_experts) * config.moe_intermediate_size;
  const dense = new DenseMlp({ hidden_size: config.hidden_size, intermediate_size: denseWidth }, rng);
  const x = tf.tensor3d(rng.normalArray(B * S * config.hidden_size), [B, S, config.hidden_size]);
  const tokens = B * S;
  const runMoe = () => fwdBwdOnce((a) => moe.forward(a), moe.trainableVariables(), x);
  const runDense = () => fwdBwdOnce((a) => dense.forward(a), dense.trainableVariables(), x);

  // Interleaved, so both see the same machine load; the ratio is the median of per-pair ratios.
  runMoe();
  runDense();
  const moeTimes: number[] = [];
  const denseTimes: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < REPS; i++) {
    moeTimes.push(runMoe());
    denseTimes.push(runDense());
    ratios.push(moeTimes[i] / denseTimes[i]);
  }
  const moeMs = median(moeTimes);
  const denseMs = median(denseTimes);
  const common = { backend: info.name, tokens: String(tokens), shape: `E${config.n_routed_experts}xK${config.num_experts_per_tok}xD${config.hidden_size}` };
  report('moe.fwd_bwd.moe', (tokens / moeMs) * 1000, 'tokens/s', { ...common, ms: moeMs, kernels: await kernelCount((a) => moe.forward(a), moe.trainableVariables(), x) });
  report('moe.fwd_bwd.dense_same_activated', (tokens / denseMs) * 1000, 'tokens/s', { ...common, width: String(denseWidth), ms: denseMs, kernels: await kernelCount((a) => dense.forward(a), dense.trainableVariables(), x) });
  report('moe.fwd_bwd.moe_over_dense_time', median(ratios), 'ratio', { ...common, reps: REPS });
  // Best of each: what the two cost when the (shared) machine leaves them alone.
  report('moe.fwd_bwd.moe_over_dense_time_best', Math.min(...moeTimes) / Math.min(...denseTimes), 'ratio', { ...common, reps: REPS });
  tf.dispose(x);
  moe.dispose();
  dense.dispose();
}
