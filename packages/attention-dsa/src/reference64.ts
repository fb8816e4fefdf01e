// Test-only: a plain float64 reference of golden/README §4.6 (nested loops), built on the MLA
// package's float64 reference. Not exported from the package.
import { freqs64, matVec, mlaRow64, project64 } from '../../attention-mla/src/reference64';
import type { Params } from '../../attention-mla/src/reference64';
import type { DsaConfig } from './config';

function ropeHalfFirst(x: number[], pos: number, f: number[]): number[] {
  const y = x.slice();
  const h = f.length;
  for (let i = 0; i < h; i++) {
    const c = Math.cos(pos * f[i]);
    const s = Math.sin(pos * f[i]);
    y[i] = x[i] * c - x[i + h] * s;
    y[i + h] = x[i] * s + x[i + h] * c;
  }
  return y;
}

function layerNorm64(x: number[], w: Float64Array, b: Float64Array): number[] {
  const mu = x.reduce((a, v) => a + v, 0) / x.length;
  const v = x.reduce((a, t) => a + (t - mu) ** 2, 0) / x.length;
  return x.map((t, i) => (w[i] * (t - mu)) / Math.sqrt(v + 1e-6) + b[i]);
}

/** One row of DSA: index scores [S][S] (NaN above the diagonal), selected sets, y and probabilities. */
export function dsaRow64(cfg: DsaConfig, p: Params, x: number[][], pos: number[]) {
  const { index_n_heads: Hi, index_head_dim: Di, index_topk: k } = cfg;
  const f = freqs64(cfg);
  const tok = project64(cfg, p, x, pos);
  const keys = x.map((xt, t) => ropeHalfFirst(layerNorm64(matVec(p['indexer.wk.weight'], xt, Di), p['indexer.k_norm.weight'], p['indexer.k_norm.bias']), pos[t], f));
  const S = x.length;
  const scores = x.map((xt, t) => {
    const q = matVec(p['indexer.wq_b.weight'], tok[t].qr!, Hi * Di);
    const w = matVec(p['indexer.weights_proj.weight'], xt, Hi).map((v) => v * Hi ** -0.5);
    const heads = Array.from({ length: Hi }, (_, h) => ropeHalfFirst(q.slice(h * Di, (h + 1) * Di), pos[t], f));
    return Array.from({ length: S }, (_, s) => {
      if (s > t) return NaN;
      return heads.reduce((a, qh, h) => a + w[h] * Di ** -0.5 * Math.max(0, qh.reduce((d, v, i) => d + v * keys[s][i], 0)), 0);
    });
  });
  const sets = scores.map((row, t) =>
    Array.from({ length: t + 1 }, (_, s) => s).sort((a, b) => row[b] - row[a]).slice(0, Math.min(k, t + 1)).sort((a, b) => a - b),
  );
  const sparse = mlaRow64(cfg, p, x, pos, (t, s) => sets[t].includes(s));
  const dense = mlaRow64(cfg, p, x, pos);
  return { scores, sets, y: sparse.y, sparseProbs: sparse.probs, denseProbs: dense.probs };
}

/** Mean over rows of KL(p‖softmax(I over `support`)), p = target restricted to support and renormalised. */
export function kl64(scores: number[][], target: number[][], support: number[][]): number {
  let total = 0;
  scores.forEach((row, t) => {
    const z = support[t].reduce((a, s) => a + target[t][s], 0);
    const mx = Math.max(...support[t].map((s) => row[s]));
    const lse = mx + Math.log(support[t].reduce((a, s) => a + Math.exp(row[s] - mx), 0));
    for (const s of support[t]) {
      const ps = target[t][s] / z;
      if (ps > 0) total += ps * (Math.log(ps) - (row[s] - lse));
    }
  });
  return total / scores.length;
}
