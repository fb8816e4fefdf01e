// A plain float64 forward of the dense families (golden/README §7.2–7.4), written with loops and
// independent of the tfjs code, for tests only (not exported from the package).

/** Weights by HF name as flat float64 arrays. */
export type Weights64 = Map<string, Float64Array>;

interface Cfg64 {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  tie_word_embeddings: boolean;
}

const rms = (x: Float64Array, w: Float64Array, eps: number): Float64Array => {
  let ms = 0;
  for (const v of x) ms += v * v;
  const r = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * r * w[i]);
};

/** y = W·x (+ b), W [out, in] row-major. */
const lin = (W: Float64Array, x: Float64Array, b?: Float64Array): Float64Array => {
  const n = x.length;
  const out = new Float64Array(W.length / n);
  for (let o = 0; o < out.length; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < n; i++) s += W[o * n + i] * x[i];
    out[o] = s;
  }
  return out;
};

/**
 * Logits [S][V] of one row: tokens, per-token positions, key mask (1 real), inverse frequencies and
 * attention factor a (cos, sin multiplied by a).
 */
export function denseForward64(
  c: Cfg64, w: Weights64, tokens: number[], positions: number[], mask: number[], invFreq: ArrayLike<number>, a: number,
): Float64Array[] {
  const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: hd, rms_norm_eps: eps } = c;
  const S = tokens.length;
  const E = w.get('model.embed_tokens.weight')!;
  let h = tokens.map((t) => E.slice(t * D, (t + 1) * D));
  const rope = (x: Float64Array, p: number) => {
    const y = new Float64Array(hd);
    for (let i = 0; i < hd / 2; i++) {
      const cs = a * Math.cos(p * invFreq[i]);
      const sn = a * Math.sin(p * invFreq[i]);
      y[i] = x[i] * cs - x[i + hd / 2] * sn;
      y[i + hd / 2] = x[i + hd / 2] * cs + x[i] * sn;
    }
    return y;
  };
  for (let L = 0; L < c.num_hidden_layers; L++) {
    const P = (n: string) => w.get(`model.layers.${L}.${n}`);
    const x = h.map((v) => rms(v, P('input_layernorm.weight')!, eps));
    const heads = (v: Float64Array, n: number) => Array.from({ length: n }, (_, j) => v.slice(j * hd, (j + 1) * hd));
    const q = x.map((v) => heads(lin(P('self_attn.q_proj.weight')!, v, P('self_attn.q_proj.bias')), H));
    const k = x.map((v) => heads(lin(P('self_attn.k_proj.weight')!, v, P('self_attn.k_proj.bias')), Hkv));
    const vv = x.map((v) => heads(lin(P('self_attn.v_proj.weight')!, v, P('self_attn.v_proj.bias')), Hkv));
    const qn = P('self_attn.q_norm.weight');
    const kn = P('self_attn.k_norm.weight');
    for (let t = 0; t < S; t++) {
      q[t] = q[t].map((u) => rope(qn ? rms(u, qn, eps) : u, positions[t]));
      k[t] = k[t].map((u) => rope(kn ? rms(u, kn, eps) : u, positions[t]));
    }
    const h1: Float64Array[] = [];
    for (let t = 0; t < S; t++) {
      const o = new Float64Array(H * hd);
      for (let j = 0; j < H; j++) {
        const kv = Math.floor(j / (H / Hkv));
        const allowed = Array.from({ length: t + 1 }, (_, s) => s).filter((s) => mask[s] === 1);
        if (mask[t] !== 1) continue; // padding query: output unused
        const sc = allowed.map((s) => q[t][j].reduce((acc, qi, i) => acc + qi * k[s][kv][i], 0) / Math.sqrt(hd));
        const m = Math.max(...sc);
        const e = sc.map((z) => Math.exp(z - m));
        const Z = e.reduce((p, z) => p + z, 0);
        allowed.forEach((s, n) => {
          for (let i = 0; i < hd; i++) o[j * hd + i] += (e[n] / Z) * vv[s][kv][i];
        });
      }
      const y = lin(P('self_attn.o_proj.weight')!, o, P('self_attn.o_proj.bias'));
      h1.push(h[t].map((v, i) => v + y[i]));
    }
    h = h1.map((v) => {
      const m = rms(v, P('post_attention_layernorm.weight')!, eps);
      const g = lin(P('mlp.gate_proj.weight')!, m, P('mlp.gate_proj.bias'));
      const u = lin(P('mlp.up_proj.weight')!, m, P('mlp.up_proj.bias'));
      const y = lin(P('mlp.down_proj.weight')!, g.map((z, i) => (z / (1 + Math.exp(-z))) * u[i]), P('mlp.down_proj.bias'));
      return v.map((z, i) => z + y[i]);
    });
  }
  const head = c.tie_word_embeddings ? E : w.get('lm_head.weight')!;
  return h.map((v) => lin(head, rms(v, w.get('model.norm.weight')!, eps)));
}
