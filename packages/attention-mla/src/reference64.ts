// Test-only: a plain float64 reference of golden/README §4.2–4.4, written independently of the
// tensor code (nested loops over plain arrays). Not exported from the package.
import type { MlaConfig } from './config';

export type Params = Record<string, Float64Array>;

/** ‖a − b‖₂ / ‖b‖₂ (golden/README §2), with b the reference; arrays of different lengths throw. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: length ${a.length} vs reference ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** RoPE frequencies with YaRN (golden §4.2). */
export function freqs64(cfg: MlaConfig): number[] {
  const d = cfg.qk_rope_head_dim;
  const f = Array.from({ length: d / 2 }, (_, i) => cfg.rope_theta ** (-(2 * i) / d));
  const s = cfg.rope_scaling;
  if (!s) return f;
  const c = (r: number) => (d * Math.log(s.original_max_position_embeddings / (2 * Math.PI * r))) / (2 * Math.log(cfg.rope_theta));
  const low = Math.max(Math.floor(c(s.beta_fast)), 0);
  let high = Math.min(Math.ceil(c(s.beta_slow)), d - 1);
  if (low === high) high += 0.001;
  return f.map((fi, i) => {
    const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
    return (1 - ramp) * fi + (ramp * fi) / s.factor;
  });
}

export function scale64(cfg: MlaConfig): number {
  const s = cfg.rope_scaling;
  const m = s && s.factor > 1 ? 0.1 * s.mscale_all_dim * Math.log(s.factor) + 1 : 1;
  return (cfg.qk_nope_head_dim + cfg.qk_rope_head_dim) ** -0.5 * m * m;
}

/** y = W·x for W [out, in] stored row-major. */
export function matVec(w: Float64Array, x: number[], out: number): number[] {
  const inp = x.length;
  const y = new Array(out).fill(0);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) y[o] += w[o * inp + i] * x[i];
  return y;
}

export function rms64(x: number[], w: Float64Array, eps: number): number[] {
  const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
  return x.map((v, i) => (w[i] * v) / Math.sqrt(ms + eps));
}

export function ropeInterleaved64(x: number[], pos: number, f: number[]): number[] {
  const y = x.slice();
  for (let i = 0; i < f.length; i++) {
    const c = Math.cos(pos * f[i]);
    const s = Math.sin(pos * f[i]);
    y[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
    y[2 * i + 1] = x[2 * i] * s + x[2 * i + 1] * c;
  }
  return y;
}

export interface Token64 {
  qr: number[] | null;
  qNope: number[][]; // [H][dn]
  qPe: number[][]; // [H][dr]
  c: number[]; // [C]
  kPe: number[]; // [dr]
  kNope: number[][]; // [H][dn]
  v: number[][]; // [H][dv]
}

/** Per-token projections of one row x [S][D] at the given positions (golden §4.4 steps 1–3). */
export function project64(cfg: MlaConfig, p: Params, x: number[][], pos: number[]): Token64[] {
  const { num_attention_heads: H, kv_lora_rank: C, qk_nope_head_dim: dn, qk_rope_head_dim: dr, v_head_dim: dv } = cfg;
  const f = freqs64(cfg);
  return x.map((xt, t) => {
    let q: number[];
    let qr: number[] | null = null;
    if (cfg.q_lora_rank === null) q = matVec(p['q_proj.weight'], xt, H * (dn + dr));
    else {
      qr = rms64(matVec(p['q_a_proj.weight'], xt, cfg.q_lora_rank), p['q_a_layernorm.weight'], cfg.rms_norm_eps);
      q = matVec(p['q_b_proj.weight'], qr, H * (dn + dr));
    }
    const a = matVec(p['kv_a_proj_with_mqa.weight'], xt, C + dr);
    const c = rms64(a.slice(0, C), p['kv_a_layernorm.weight'], cfg.rms_norm_eps);
    const kv = matVec(p['kv_b_proj.weight'], c, H * (dn + dv));
    const heads = Array.from({ length: H }, (_, h) => h);
    return {
      qr,
      qNope: heads.map((h) => q.slice(h * (dn + dr), h * (dn + dr) + dn)),
      qPe: heads.map((h) => ropeInterleaved64(q.slice(h * (dn + dr) + dn, (h + 1) * (dn + dr)), pos[t], f)),
      c,
      kPe: ropeInterleaved64(a.slice(C), pos[t], f),
      kNope: heads.map((h) => kv.slice(h * (dn + dv), h * (dn + dv) + dn)),
      v: heads.map((h) => kv.slice(h * (dn + dv) + dn, (h + 1) * (dn + dv))),
    };
  });
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

/**
 * One row of MLA (golden §4.4 steps 4–5): y [S][D] and the attention probabilities [H][S][S].
 * `allowed(t, s)` restricts keys beyond causality (padding, DSA sets); rows with no key give o = 0.
 */
export function mlaRow64(
  cfg: MlaConfig, p: Params, x: number[][], pos: number[], allowed: (t: number, s: number) => boolean = () => true,
): { y: number[][]; probs: number[][][]; tokens: Token64[] } {
  const { num_attention_heads: H, v_head_dim: dv, hidden_size: D } = cfg;
  const tok = project64(cfg, p, x, pos);
  const scale = scale64(cfg);
  const S = x.length;
  const probs = Array.from({ length: H }, () => Array.from({ length: S }, () => new Array(S).fill(0)));
  const y = tok.map((tt, t) => {
    const o: number[] = [];
    for (let h = 0; h < H; h++) {
      const keys = Array.from({ length: t + 1 }, (_, s) => s).filter((s) => allowed(t, s));
      const sc = keys.map((s) => (dot(tt.qNope[h], tok[s].kNope[h]) + dot(tt.qPe[h], tok[s].kPe)) * scale);
      const mx = Math.max(...sc);
      const e = sc.map((v) => Math.exp(v - mx));
      const z = e.reduce((a, b) => a + b, 0);
      const oh = new Array(dv).fill(0);
      keys.forEach((s, j) => {
        probs[h][t][s] = e[j] / z;
        for (let i = 0; i < dv; i++) oh[i] += (e[j] / z) * tok[s].v[h][i];
      });
      o.push(...oh);
    }
    return matVec(p['o_proj.weight'], o, D);
  });
  return { y, probs, tokens: tok };
}
