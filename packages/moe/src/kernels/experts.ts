// The math of the fused MoeExperts kernels: every expert's SwiGLU (V3 eq. 12) on its own rows, with the
// gather, the weighted combine and the scatter done in place on backend buffers. Each expert runs two
// GEMMs forward (x·[W_gate; W_up]ᵀ, then ·W_downᵀ) and three (+ one for dx) backward; σ runs once
// over the whole batch (one call of the backend's vectorised Sigmoid, not one per expert).
import type { TensorInfo } from '@tensorflow/tfjs';
import type { Memory } from './memory';
import { planExperts } from './experts_layout';
import type { ExpertBlock, ExpertPlan } from './experts_layout';

/** Weight triple of one expert: gate [I, D], up [I, D], down [D, I]. */
export type ExpertWeights = [TensorInfo, TensorInfo, TensorInfo];

/** Floats of the activation cache (g|u of every row): 2·I per (token, slot) pair and 2·I_shared per token. */
export function cacheSize(T: number, K: number, routedWidth: number, sharedWidth: number): number {
  return T * (K * 2 * routedWidth + 2 * sharedWidth);
}

/** The last plan made, by indices buffer: the forward, backward and dx kernels of one step share it. */
let lastPlan: { dataId: object; shared: boolean; widths: number[]; plan: ExpertPlan; flat: FlatPlan | null } | null = null;

/**
 * The plan of a batch from its inputs. The plan depends only on the indices buffer (tfjs buffers are
 * immutable; a new tensor gets a new dataId), so the backward and dx kernels reuse the forward's.
 */
export function planOf(mem: Memory, indices: TensorInfo, weights: ExpertWeights[], shared: boolean): ExpertPlan {
  return cachedPlan(mem, indices, weights, shared).plan;
}

function cachedPlan(mem: Memory, indices: TensorInfo, weights: ExpertWeights[], shared: boolean): NonNullable<typeof lastPlan> {
  const widths = weights.map((w) => w[0].shape[0]);
  const hit = lastPlan && lastPlan.dataId === indices.dataId && lastPlan.shared === shared &&
    lastPlan.widths.length === widths.length && lastPlan.widths.every((w, i) => w === widths[i]);
  if (!hit) {
    const [T, K] = indices.shape;
    lastPlan = { dataId: indices.dataId, shared, widths, plan: planExperts(mem.i32(indices).slice(), T, K, widths, shared), flat: null };
  }
  return lastPlan!;
}

/** Rows `tokens` of a [T, D] buffer, gathered into a new [n, D] buffer. */
function gatherRows(mem: Memory, src: TensorInfo, tokens: Int32Array): TensorInfo {
  const D = src.shape[1];
  const out = mem.alloc([tokens.length, D]);
  const s = mem.f32(src);
  const o = mem.f32(out);
  for (let r = 0; r < tokens.length; r++) o.set(s.subarray(tokens[r] * D, (tokens[r] + 1) * D), r * D);
  return out;
}

/** [W_gate; W_up] stacked into one [2I, D] buffer, so gate and up are one GEMM. */
function stackGateUp(mem: Memory, [gate, up]: ExpertWeights): TensorInfo {
  const [I, D] = gate.shape;
  const out = mem.alloc([2 * I, D]);
  const o = mem.f32(out);
  o.set(mem.f32(gate));
  o.set(mem.f32(up), I * D);
  return out;
}

/** Block indices in processing order: the shared block (all tokens, in order) first. */
function blockOrder(plan: ExpertPlan): number[] {
  const order = plan.blocks.map((_, e) => e);
  const shared = plan.blocks.findIndex((b) => b.pairs === null);
  return shared < 0 ? order : [shared, ...order.filter((e) => e !== shared)];
}

/** Routing weight of each row of a block (1 for the shared experts). [n] */
function rowWeights(block: ExpertBlock, w: Float32Array): Float32Array {
  const pairs = block.pairs;
  const out = new Float32Array(block.tokens.length);
  if (!pairs) return out.fill(1);
  for (let r = 0; r < pairs.length; r++) out[r] = w[pairs[r]]; // a plain loop: Float32Array.from with a map callback is ~10× slower
  return out;
}

// Row loops as small monomorphic functions (typed arrays and numbers only), so V8 optimises each once.

/** A[r] = silu(g_r) ⊙ u_r = g·σ(g)·u for n rows of g|u (and σ) starting at `off`. */
function siluMulRows(C: Float32Array, SG: Float32Array, off: number, A: Float32Array, n: number, I: number): void {
  for (let r = 0; r < n; r++) {
    const row = off + r * 2 * I;
    const ar = r * I;
    for (let i = 0; i < I; i++) A[ar + i] = C[row + i] * SG[row + i] * C[row + I + i];
  }
}

/** Y[tokens[r]] += w[r]·O[r] (w null: 1). */
function scatterAddRows(Y: Float32Array, O: Float32Array, tokens: Int32Array, w: Float32Array | null, D: number): void {
  for (let r = 0; r < tokens.length; r++) {
    const wr = w ? w[r] : 1;
    const yo = tokens[r] * D;
    const oo = r * D;
    for (let d = 0; d < D; d++) Y[yo + d] += wr * O[oo + d];
  }
}

/**
 * SwiGLU backward on n rows: with q = dy·W_d, a = silu(g)·u, da = w·q: writes WA = w·a, G = dg | du
 * (∂silu(g)/∂g = σ(g)·(1 + g·(1 − σ(g)))) and returns q·a per row (∂y/∂w along dy).
 */
function swigluBackRows(C: Float32Array, SG: Float32Array, off: number, Q: Float32Array, w: Float32Array, WA: Float32Array, G: Float32Array, n: number, I: number): Float64Array {
  const dots = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const wr = w[r];
    const row = off + r * 2 * I;
    const qr = r * I;
    const gr = r * 2 * I;
    let dot = 0;
    for (let i = 0; i < I; i++) {
      const g = C[row + i];
      const u = C[row + I + i];
      const s = SG[row + i];
      const a = g * s * u;
      const qi = Q[qr + i];
      dot += a * qi;
      WA[qr + i] = wr * a;
      const da = wr * qi;
      G[gr + i] = da * u * s * (1 + g * (1 - s));
      G[gr + I + i] = da * g * s;
    }
    dots[r] = dot;
  }
  return dots;
}

/**
 * Below this many rows an expert's gate and up products run separately: stacking [W_g; W_u] copies
 * 2·I·D floats, more than the products' own work when a block has a few rows (decoding).
 */
const STACK_MIN_ROWS = 32;

/** g|u = x·[W_g; W_u]ᵀ of every block's rows, written into `cache` ([Σ n, 2I] blocks). */
function gateUp(mem: Memory, x: TensorInfo, plan: ExpertPlan, weights: ExpertWeights[], cache: TensorInfo): void {
  plan.blocks.forEach((block, e) => {
    const n = block.tokens.length;
    if (n === 0) return;
    const xe = block.pairs ? gatherRows(mem, x, block.tokens) : x; // [n, D]
    if (n >= STACK_MIN_ROWS) {
      const wgu = stackGateUp(mem, weights[e]); // [2I, D]
      const gu = mem.matMul(xe, wgu, false, true); // [n, 2I]
      mem.f32(cache).set(mem.f32(gu), block.offset);
      mem.free(wgu, gu);
    } else {
      const I = block.width;
      const g = mem.matMul(xe, weights[e][0], false, true); // [n, I]
      const u = mem.matMul(xe, weights[e][1], false, true); // [n, I]
      const [C, G, U] = [mem.f32(cache), mem.f32(g), mem.f32(u)];
      for (let r = 0; r < n; r++) {
        C.set(G.subarray(r * I, (r + 1) * I), block.offset + r * 2 * I);
        C.set(U.subarray(r * I, (r + 1) * I), block.offset + r * 2 * I + I);
      }
      mem.free(g, u);
    }
    if (block.pairs) mem.free(xe);
  });
}

/**
 * Forward: y[t] = Σ_k w[t,k]·E_{idx[t,k]}(x[t]) + E_shared(x[t]), E(x) = (silu(x·W_gᵀ) ⊙ x·W_uᵀ)·W_dᵀ.
 * Fills `cache` (a scratch input of {@link cacheSize} floats) with g|u of every row for the backward,
 * so the cache is no kernel output (the engine would build a zero gradient for it on the way back).
 * Returns y [T, D].
 */
export function expertsForward(mem: Memory, x: TensorInfo, weight: TensorInfo, indices: TensorInfo, cache: TensorInfo, weights: ExpertWeights[], shared: boolean): TensorInfo {
  const [T, D] = x.shape;
  const plan = planOf(mem, indices, weights, shared);
  if (cache.shape[0] !== plan.size) throw new RangeError(`MoeExperts: cache must hold ${plan.size} floats, got ${cache.shape[0]}`);
  const y = mem.alloc([T, D]);
  if (mem.native) {
    forwardNative(mem, x, y, weight, indices, cache, weights, shared);
    return y;
  }
  mem.f32(y).fill(0);
  gateUp(mem, x, plan, weights, cache);
  const sg = mem.sigmoid(cache); // σ(g) | σ(u) of every row; the σ(u) half is unused
  for (const e of blockOrder(plan)) {
    const block = plan.blocks[e];
    const n = block.tokens.length;
    if (n === 0) continue;
    const I = block.width;
    const act = mem.alloc([n, I]); // silu(g) ⊙ u
    siluMulRows(mem.f32(cache), mem.f32(sg), block.offset, mem.f32(act), n, I);
    const out = mem.matMul(act, weights[e][2], false, true); // [n, D]
    if (block.pairs) {
      scatterAddRows(mem.f32(y), mem.f32(out), block.tokens, rowWeights(block, mem.f32(weight)), D);
    } else {
      mem.f32(y).set(mem.f32(out)); // the shared block runs first, on every token in order
    }
    mem.free(act, out);
  }
  mem.free(sg);
  return y;
}

/** A plan flattened for the native addon: blocks' rows concatenated (tokens, pair indices, −1 for shared rows). */
interface FlatPlan {
  starts: Int32Array;
  tokens: Int32Array;
  pairs: Int32Array;
  order: Int32Array;
  sharedFirst: boolean;
  offsets: Float64Array;
  widths: Int32Array;
}

function flatten(plan: ExpertPlan): FlatPlan {
  const E = plan.blocks.length;
  const starts = new Int32Array(E + 1);
  plan.blocks.forEach((b, e) => (starts[e + 1] = starts[e] + b.tokens.length));
  const tokens = new Int32Array(starts[E]);
  const pairs = new Int32Array(starts[E]).fill(-1);
  plan.blocks.forEach((b, e) => {
    tokens.set(b.tokens, starts[e]);
    if (b.pairs) pairs.set(b.pairs, starts[e]);
  });
  const order = blockOrder(plan);
  return {
    starts, tokens, pairs,
    order: Int32Array.from(order),
    sharedFirst: plan.blocks[order[0]]?.pairs === null,
    offsets: Float64Array.from(plan.blocks, (b) => b.offset),
    widths: Int32Array.from(plan.blocks, (b) => b.width),
  };
}

/** The flat plan of a batch (cached with its plan). */
function flatPlanOf(mem: Memory, indices: TensorInfo, weights: ExpertWeights[], shared: boolean): FlatPlan {
  const entry = cachedPlan(mem, indices, weights, shared);
  entry.flat ??= flatten(entry.plan);
  return entry.flat;
}

/** Routing weight of each flat row: w[pair], 1 for a shared-experts row. */
function flatRowWeights(flat: FlatPlan, w: Float32Array): Float32Array {
  const out = new Float32Array(flat.pairs.length);
  for (let r = 0; r < out.length; r++) out[r] = flat.pairs[r] < 0 ? 1 : w[flat.pairs[r]];
  return out;
}

const viewsOf = (mem: Memory, ts: TensorInfo[][]) => ts.flatMap((triple) => triple.map((t) => mem.f32(t)));

/** {@link expertsForward}'s work in one native call (the addon's moeForward, on BLAS): same cache, same combine. */
function forwardNative(mem: Memory, x: TensorInfo, y: TensorInfo, weight: TensorInfo, indices: TensorInfo, cache: TensorInfo, weights: ExpertWeights[], shared: boolean): void {
  const f = flatPlanOf(mem, indices, weights, shared);
  const rowW = flatRowWeights(f, mem.f32(weight));
  mem.native!.moeForward(mem.f32(x), mem.f32(y), mem.f32(cache), viewsOf(mem, weights), f.tokens, f.starts, f.offsets, f.widths, rowW, f.order, x.shape[1], f.sharedFirst);
}

/**
 * Backward of {@link expertsForward} except dx: with q = dy[t]·W_d per row, da = w·q,
 * dw[t,k] = q·a, dW_d = dyᵀ·(w ⊙ a), (dg, du) = siluMul′(da), d[W_g; W_u] = (dg|du)ᵀ·x.
 * Returns dweight [T, K], the flat d(g|u) (input of {@link expertsGradX}), then dW_g, dW_u, dW_d per expert.
 */
export function expertsBackward(mem: Memory, dy: TensorInfo, x: TensorInfo, weight: TensorInfo, indices: TensorInfo, weights: ExpertWeights[], cache: TensorInfo, shared: boolean): TensorInfo[] {
  const D = x.shape[1];
  const plan = planOf(mem, indices, weights, shared);
  const dweight = mem.alloc(weight.shape);
  const dgu = mem.alloc([plan.size]);
  if (mem.native) {
    const dW = weights.flatMap((triple) => triple.map((t) => mem.alloc(t.shape))); // every output first: views go stale as the heap grows
    const f = flatPlanOf(mem, indices, weights, shared);
    const rowW = flatRowWeights(f, mem.f32(weight));
    const dWv = dW.map((t) => mem.f32(t));
    mem.native.moeBackward(mem.f32(dy), mem.f32(x), mem.f32(cache), viewsOf(mem, weights), f.tokens, f.starts, f.offsets, f.widths, rowW, f.pairs, mem.f32(dweight), mem.f32(dgu), dWv, D);
    return [dweight, dgu, ...dW];
  }
  mem.f32(dweight).fill(0);
  const sg = mem.sigmoid(cache); // σ(g) | σ(u), recomputed in one call rather than cached
  const dW: TensorInfo[] = [];
  plan.blocks.forEach((block, e) => {
    const n = block.tokens.length;
    const I = block.width;
    const [gate, , down] = weights[e];
    if (n === 0) {
      for (const w of weights[e]) {
        const z = mem.alloc(w.shape);
        mem.f32(z).fill(0);
        dW.push(z);
      }
      return;
    }
    const dye = block.pairs ? gatherRows(mem, dy, block.tokens) : dy; // [n, D]
    const q = mem.matMul(dye, down, false, false); // [n, I] = dy·W_d
    const wa = mem.alloc([n, I]); // w ⊙ a
    const dgue = mem.alloc([n, 2 * I]); // dg | du
    const dots = swigluBackRows(mem.f32(cache), mem.f32(sg), block.offset, mem.f32(q), rowWeights(block, mem.f32(weight)), mem.f32(wa), mem.f32(dgue), n, I);
    if (block.pairs) {
      const DW = mem.f32(dweight);
      for (let r = 0; r < n; r++) DW[block.pairs[r]] = dots[r];
    }
    mem.f32(dgu).set(mem.f32(dgue), block.offset);
    const dDown = mem.matMul(dye, wa, true, false); // [D, I]
    const xe = block.pairs ? gatherRows(mem, x, block.tokens) : x; // [n, D]
    const dGateUp = mem.matMul(dgue, xe, true, false); // [2I, D]
    const dGate = mem.alloc(gate.shape);
    const dUp = mem.alloc(gate.shape);
    {
      const S = mem.f32(dGateUp);
      mem.f32(dGate).set(S.subarray(0, I * D));
      mem.f32(dUp).set(S.subarray(I * D));
    }
    dW.push(dGate, dUp, dDown);
    if (block.pairs) mem.free(dye, xe);
    mem.free(q, wa, dgue, dGateUp);
  });
  mem.free(sg);
  return [dweight, dgu, ...dW];
}

/** dx [T, D] = Σ over each token's rows of d(g|u)·[W_g; W_u]. */
export function expertsGradX(mem: Memory, dgu: TensorInfo, indices: TensorInfo, weights: ExpertWeights[], shared: boolean, T: number, D: number): TensorInfo {
  const plan = planOf(mem, indices, weights, shared);
  const dx = mem.alloc([T, D]);
  if (mem.native) {
    const f = flatPlanOf(mem, indices, weights, shared);
    mem.native.moeGradX(mem.f32(dgu), viewsOf(mem, weights), f.tokens, f.starts, f.offsets, f.widths, f.order, mem.f32(dx), D, f.sharedFirst);
    return dx;
  }
  mem.f32(dx).fill(0);
  for (const e of blockOrder(plan)) {
    const block = plan.blocks[e];
    const n = block.tokens.length;
    if (n === 0) continue;
    const I = block.width;
    const dgue = mem.alloc([n, 2 * I]);
    mem.f32(dgue).set(mem.f32(dgu).subarray(block.offset, block.offset + n * 2 * I));
    const wgu = stackGateUp(mem, weights[e]); // [2I, D]
    const dxe = mem.matMul(dgue, wgu, false, false); // [n, D]
    if (block.pairs) scatterAddRows(mem.f32(dx), mem.f32(dxe), block.tokens, null, D);
    else mem.f32(dx).set(mem.f32(dxe)); // the shared block runs first, on every token in order
    mem.free(dgue, wgu, dxe);
  }
  return dx;
}
