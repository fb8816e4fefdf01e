// The routing weights of the selected experts (V3 eqs. 13 and 16): g = s at the selection, divided by
// its sum when normalising, × ρ. Float32 rounding follows the tfjs ops it replaces (sum, div, mul).
import type { TensorInfo } from '@tensorflow/tfjs';
import type { Memory } from './memory';

const f32 = Math.fround;

/** w [T, K] from scores [T, E] and the selection [T, K]. */
export function topkWeightForward(mem: Memory, scores: TensorInfo, indices: TensorInfo, normalize: boolean, scale: number): TensorInfo {
  const [T, E] = scores.shape;
  const K = indices.shape[1];
  const out = mem.alloc([T, K]);
  const S = mem.f32(scores);
  const idx = mem.i32(indices);
  const W = mem.f32(out);
  for (let t = 0; t < T; t++) {
    let sum = 0;
    if (normalize) for (let k = 0; k < K; k++) sum = f32(sum + S[t * E + idx[t * K + k]]);
    for (let k = 0; k < K; k++) {
      const s = S[t * E + idx[t * K + k]];
      W[t * K + k] = f32((normalize ? f32(s / sum) : s) * scale);
    }
  }
  return out;
}

/** dscores [T, E]: ρ·dw at the selection, minus ρ·Σ_k dw_k·s_k/Σs² on all selected when normalising. */
export function topkWeightBackward(mem: Memory, dw: TensorInfo, scores: TensorInfo, indices: TensorInfo, normalize: boolean, scale: number): TensorInfo {
  const [T, E] = scores.shape;
  const K = indices.shape[1];
  const out = mem.alloc([T, E]);
  const S = mem.f32(scores);
  const idx = mem.i32(indices);
  const DW = mem.f32(dw);
  const D = mem.f32(out);
  D.fill(0);
  for (let t = 0; t < T; t++) {
    let sum = 0;
    let dot = 0;
    for (let k = 0; k < K; k++) {
      const s = S[t * E + idx[t * K + k]];
      sum += s;
      dot += DW[t * K + k] * s;
    }
    for (let k = 0; k < K; k++) {
      const g = DW[t * K + k];
      D[t * E + idx[t * K + k]] = normalize ? scale * (g / sum - dot / (sum * sum)) : scale * g;
    }
  }
  return out;
}
