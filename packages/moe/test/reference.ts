// Plain float64 JavaScript reference of the router and the MoE forward (golden/README.md §4.5),
// written independently of src/ for tests: loops and arrays, no tfjs.
import type { MoeConfig } from '../src/config';

/** Parameters by Hugging Face name (under `mlp.`), row-major. */
export type RefParams = Map<string, ArrayLike<number>>;

export interface RefRouting {
  scores: number[][]; // [T][E]
  topkIdx: number[][]; // [T][K], ascending
  topkWeight: number[][]; // [T][K]
  load: number[]; // [E]
  /** Smallest gap between the K-th and (K+1)-th expert, and between kept and dropped groups. */
  minMargin: number;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function matVec(w: ArrayLike<number>, rows: number, cols: number, x: ArrayLike<number>, xOff = 0): number[] {
  const out = new Array<number>(rows).fill(0);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let c = 0; c < cols; c++) acc += w[r * cols + c] * x[xOff + c];
    out[r] = acc;
  }
  return out;
}

/** down(silu(gate·x) ⊙ up·x) for one token. */
export function refSwiglu(p: RefParams, prefix: string, D: number, I: number, x: ArrayLike<number>, xOff = 0): number[] {
  const g = matVec(p.get(`${prefix}gate_proj.weight`)!, I, D, x, xOff);
  const u = matVec(p.get(`${prefix}up_proj.weight`)!, I, D, x, xOff);
  const h = g.map((gi, i) => gi * sigmoid(gi) * u[i]);
  return matVec(p.get(`${prefix}down_proj.weight`)!, D, I, h);
}

/** Indices sorted by descending value (stable). */
const order = (v: number[]) => v.map((_, i) => i).sort((a, b) => v[b] - v[a] || a - b);

/** Router decision for T tokens x [T·D]. */
export function refRoute(c: MoeConfig, p: RefParams, x: ArrayLike<number>, T: number): RefRouting {
  const D = c.hidden_size;
  const E = c.n_routed_experts;
  const K = c.num_experts_per_tok;
  const W = p.get('mlp.gate.weight')!;
  const bias = c.topk_method === 'noaux_tc' ? p.get('mlp.gate.e_score_correction_bias') : undefined;
  const res: RefRouting = { scores: [], topkIdx: [], topkWeight: [], load: new Array(E).fill(0), minMargin: Infinity };
  for (let t = 0; t < T; t++) {
    const logits = matVec(W, E, D, x, t * D);
    let s: number[];
    if (c.scoring_func === 'sigmoid') s = logits.map(sigmoid);
    else {
      const m = Math.max(...logits);
      const ex = logits.map((l) => Math.exp(l - m));
      const z = ex.reduce((a, b) => a + b, 0);
      s = ex.map((v) => v / z);
    }
    const u = s.map((v, e) => v + (bias ? bias[e] : 0));
    if (c.n_group > 1) {
      const g = E / c.n_group;
      const groupScore: number[] = [];
      for (let gi = 0; gi < c.n_group; gi++) {
        const members = u.slice(gi * g, (gi + 1) * g).sort((a, b) => b - a);
        groupScore.push(c.topk_method === 'noaux_tc' ? members[0] + (members[1] ?? 0) : members[0]);
      }
      const ranked = order(groupScore);
      if (c.topk_group < c.n_group) {
        res.minMargin = Math.min(res.minMargin, groupScore[ranked[c.topk_group - 1]] - groupScore[ranked[c.topk_group]]);
      }
      const kept = new Set(ranked.slice(0, c.topk_group));
      for (let e = 0; e < E; e++) if (!kept.has(Math.floor(e / g))) u[e] = -Infinity;
    }
    const ranked = order(u);
    if (K < E && Number.isFinite(u[ranked[K]])) res.minMargin = Math.min(res.minMargin, u[ranked[K - 1]] - u[ranked[K]]);
    const idx = ranked.slice(0, K).sort((a, b) => a - b);
    let w = idx.map((e) => s[e]);
    if (c.norm_topk_prob) {
      const z = w.reduce((a, b) => a + b, 0);
      w = w.map((v) => v / z);
    }
    w = w.map((v) => v * c.routed_scaling_factor);
    for (const e of idx) res.load[e]++;
    res.scores.push(s);
    res.topkIdx.push(idx);
    res.topkWeight.push(w);
  }
  return res;
}

/** MoE output y [T·D] for x [T·D]. */
export function refMoe(c: MoeConfig, p: RefParams, x: ArrayLike<number>, T: number): { y: number[]; routing: RefRouting } {
  const D = c.hidden_size;
  const routing = refRoute(c, p, x, T);
  const y = new Array<number>(T * D).fill(0);
  for (let t = 0; t < T; t++) {
    routing.topkIdx[t].forEach((e, k) => {
      const h = refSwiglu(p, `mlp.experts.${e}.`, D, c.moe_intermediate_size, x, t * D);
      for (let d = 0; d < D; d++) y[t * D + d] += routing.topkWeight[t][k] * h[d];
    });
    if (c.n_shared_experts > 0) {
      const h = refSwiglu(p, 'mlp.shared_experts.', D, c.n_shared_experts * c.moe_intermediate_size, x, t * D);
      for (let d = 0; d < D; d++) y[t * D + d] += h[d];
    }
  }
  return { y, routing };
}

/** Sequence-wise balance loss: mean over sequences of α·Σ_e f_e·P_e (golden §4.5). */
export function refSeqAuxLoss(c: MoeConfig, routing: RefRouting, B: number, S: number, alpha: number): number {
  const E = c.n_routed_experts;
  const K = c.num_experts_per_tok;
  let total = 0;
  for (let b = 0; b < B; b++) {
    const f = new Array(E).fill(0);
    const P = new Array(E).fill(0);
    for (let t = b * S; t < (b + 1) * S; t++) {
      for (const e of routing.topkIdx[t]) f[e] += E / (K * S);
      const z = routing.scores[t].reduce((a, v) => a + v, 0);
      routing.scores[t].forEach((v, e) => (P[e] += v / z / S));
    }
    total += alpha * f.reduce((a, fe, e) => a + fe * P[e], 0);
  }
  return total / B;
}

/** ‖a − b‖₂ / ‖b‖₂. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
