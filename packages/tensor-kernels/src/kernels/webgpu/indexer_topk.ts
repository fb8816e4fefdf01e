// DSA's lightning-indexer top-k in WGSL, in three passes that need no sort: (1) every allowed key's
// score Σ_h scale·w_h·ReLU(q_h·k); (2) a key is selected when fewer than topk allowed keys beat it
// (higher score, or equal score and lower index: the cpu kernel's tie rule); (3) output slot j of a
// query holds its j-th selected key in ascending order, −1 when fewer were selected. Pass 2 is
// O(Sk²) per query: plain, and parallel over every (query, key).
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { IndexerTopK } from '../indexer_topk';
import type { IndexerTopKAttrs } from '../indexer_topk';
import { elementwiseProgram, f32, i32, run } from './program';
import type { WebGPURunner } from './program';

const UNIFORMS = 'Sq : i32, Sk : i32, Hi : i32, Di : i32, topk : i32, scale : f32,';

/** WGSL `fn allowedKey(row, s)`: causal (query t sits at Sk − Sq + t) and not padding. */
const allowedFn = (keyMask: boolean) => `
  fn allowedKey(row : i32, s : i32) -> bool {
    let t = row % uniforms.Sq;
    let b = row / uniforms.Sq;
    ${keyMask ? 'if (f32(keyMask[b * uniforms.Sk + s]) == 0.0) { return false; }' : ''}
    return s <= uniforms.Sk - uniforms.Sq + t;
  }`;

/** Inputs q [B, Sq, Hi, Di], w [B, Sq, Hi], k [B, Sk, Di] (+ keyMask [B, Sk]) → indices [B, Sq, topk] int32. */
export const indexerTopKWebGPU: KernelConfig = {
  kernelName: IndexerTopK,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { q, w, k, keyMask } = inputs as { q: TensorInfo; w: TensorInfo; k: TensorInfo; keyMask?: TensorInfo };
    const { topk, scale } = attrs as unknown as IndexerTopKAttrs;
    const [B, Sq, Hi, Di] = q.shape;
    const Sk = k.shape[1];
    const gpu = backend as unknown as WebGPURunner;
    const u = [i32(Sq), i32(Sk), i32(Hi), i32(Di), i32(topk), f32(scale)];
    const mask = keyMask ? [keyMask] : [];
    const maskName = keyMask ? ['keyMask'] : [];
    const withAllowed = (p: ReturnType<typeof elementwiseProgram>) => {
      const base = p.getUserCode;
      p.getUserCode = () => `${allowedFn(!!keyMask)}\n${base()}`;
      return p;
    };
    const scores = run(gpu, withAllowed(elementwiseProgram(`r1IndexerScores_${!!keyMask}`, ['q', 'w', 'k', ...maskName], [B, Sq, Sk], UNIFORMS, `
      let s = index % uniforms.Sk;
      let row = index / uniforms.Sk;
      let b = row / uniforms.Sq;
      var score = 0.0;
      if (allowedKey(row, s)) {
        for (var h = 0; h < uniforms.Hi; h = h + 1) {
          var dot = 0.0;
          for (var c = 0; c < uniforms.Di; c = c + 1) { dot = dot + q[(row * uniforms.Hi + h) * uniforms.Di + c] * k[(b * uniforms.Sk + s) * uniforms.Di + c]; }
          score = score + w[row * uniforms.Hi + h] * max(dot, 0.0);
        }
      }
      setOutputAtIndex(index, score * uniforms.scale);`)), [q, w, k, ...mask], u);
    const selected = run(gpu, withAllowed(elementwiseProgram(`r1IndexerSelect_${!!keyMask}`, ['scores', ...maskName], [B, Sq, Sk], UNIFORMS, `
      let s = index % uniforms.Sk;
      let row = index / uniforms.Sk;
      var better = 0;
      if (allowedKey(row, s)) {
        let mine = scores[index];
        for (var s2 = 0; s2 < uniforms.Sk; s2 = s2 + 1) {
          let other = scores[row * uniforms.Sk + s2];
          if (allowedKey(row, s2) && (other > mine || (other == mine && s2 < s))) { better = better + 1; }
        }
      }
      setOutputAtIndexI32(index, select(0, 1, allowedKey(row, s) && better < uniforms.topk));`)), [scores, ...mask], u, 'int32');
    const out = run(gpu, elementwiseProgram('r1IndexerSlots', ['selected'], [B, Sq, topk], UNIFORMS, `
      let j = index % uniforms.topk;
      let row = index / uniforms.topk;
      var seen = 0;
      var key = -1;
      for (var s = 0; s < uniforms.Sk; s = s + 1) {
        if (selected[row * uniforms.Sk + s] == 1) {
          if (seen == j) { key = s; break; }
          seen = seen + 1;
        }
      }
      setOutputAtIndexI32(index, key);`), [selected], u, 'int32');
    gpu.disposeData(scores.dataId);
    gpu.disposeData(selected.dataId);
    return out;
  },
};
