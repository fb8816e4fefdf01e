// The MoE experts' forward for the native addon (module.c): every expert's SwiGLU on its own rows
// (DeepSeek-V3 eq. 12), the gather, the products (system BLAS) and the weighted combine in one call,
// instead of a dozen tfjs kernels and JS loops per expert. Mirrors @r1-ts/moe's expertsForward
// (packages/moe/src/kernels/experts.ts): same cache layout, same combine order and rounding.
#include <stdlib.h>
#include <string.h>
#include "r1_native.h"

/** Element i of a JS array argument as a Float32Array's data. */
static float *f32_element(r1_args *a, size_t arg, uint32_t i, size_t *len) {
  napi_value v;
  bool is_ta = false;
  napi_typedarray_type type;
  size_t offset;
  void *ptr;
  napi_value ab;
  if (!a->ok) return NULL;
  if (napi_get_element(a->env, a->argv[arg], i, &v) != napi_ok || napi_is_typedarray(a->env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(a->env, v, &type, len, &ptr, &ab, &offset) != napi_ok || type != napi_float32_array) {
    r1_fail(a, "weights must be an array of Float32Arrays");
    return NULL;
  }
  return ptr;
}

/** Whether a block's n rows are tokens 0…T−1 in order (the shared experts' block): no gather needed. */
static bool every_token(const int32_t *tok, size_t n, size_t T) {
  if (n != T) return false;
  for (size_t r = 0; r < n; r++)
    if ((size_t)tok[r] != r) return false;
  return true;
}

/** A[r, i] = g·σ(g)·u for the n rows of g|u at C (row stride 2I). */
R1_VECTOR static void silu_mul_rows(const float *C, float *A, size_t n, size_t I) {
  for (size_t r = 0; r < n; r++) {
    const float *g = C + r * 2 * I, *u = g + I;
    float *o = A + r * I;
    for (size_t i = 0; i < I; i++) o[i] = g[i] * (1.0f / (1.0f + r1_expf(-g[i]))) * u[i];
  }
}

/** Y[t] += w·O[r] in float64 then rounded, as the JS combine. */
R1_VECTOR static void add_row(float *Y, const float *O, double w, size_t D) {
  for (size_t d = 0; d < D; d++) Y[d] = (float)((double)Y[d] + w * O[d]);
}

/**
 * moeForward(x, y, cache, weights, tokens, starts, offsets, widths, rowWeights, order, D)
 *   x [T, D], y [T, D] (every element written), cache: g|u of each block's rows at offsets[e] (n·2I floats);
 *   weights: [gate [I, D], up [I, D], down [D, I]] of each block, flattened (3 per block);
 *   block e's rows: tokens[starts[e] .. starts[e+1]) with routing weights rowWeights[same]; widths[e] = I;
 *   order: blocks in processing order; a block with starts range covering all T tokens in order and
 *   listed first is the shared experts' (its output initialises y; y starts at 0 otherwise).
 */
static napi_value moe_forward(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "moeForward", 12)) return NULL;
  size_t nx, ny, nc, nt, ns, no, nw, nr, nord;
  float *X = r1_f32(&a, 0, &nx, false), *Y = r1_f32(&a, 1, &ny, false), *C = r1_f32(&a, 2, &nc, false);
  int32_t *tokens = r1_i32(&a, 4, &nt, false), *starts = r1_i32(&a, 5, &ns, false);
  double *offsets = r1_f64(&a, 6, &no);
  int32_t *widths = r1_i32(&a, 7, &nw, false);
  float *rw = r1_f32(&a, 8, &nr, false);
  int32_t *order = r1_i32(&a, 9, &nord, false);
  int64_t D = r1_int(&a, 10);
  bool init_shared = r1_bool(&a, 11);
  if (!a.ok) return NULL;
  if (!r1_have_blas()) return (void)r1_fail(&a, "needs a system BLAS"), NULL;
  size_t E = nw;
  if (D == 0 || nx % D || ny != nx || ns != E + 1 || no != E || nr < nt) return (void)r1_fail(&a, "inconsistent sizes"), NULL;
  uint32_t nweights = 0;
  napi_get_array_length(env, a.argv[3], &nweights);
  if (nweights != 3 * E) return (void)r1_fail(&a, "weights must hold 3 arrays per block"), NULL;
  const size_t T = nx / D;
  size_t max_rows = 0, max_width = 0;
  for (size_t e = 0; e < E; e++) {
    int32_t n = starts[e + 1] - starts[e];
    if (starts[e] < 0 || n < 0 || (size_t)starts[e + 1] > nt || widths[e] <= 0) return (void)r1_fail(&a, "bad block layout"), NULL;
    if (offsets[e] < 0 || (uint64_t)offsets[e] + (uint64_t)n * 2 * widths[e] > nc) return (void)r1_fail(&a, "cache is too short"), NULL;
    if ((size_t)n > max_rows) max_rows = n;
    if ((size_t)widths[e] > max_width) max_width = widths[e];
  }
  for (size_t j = 0; j < nt; j++)
    if (tokens[j] < 0 || (size_t)tokens[j] >= T) return (void)r1_fail(&a, "token index out of range"), NULL;
  for (size_t j = 0; j < nord; j++)
    if (order[j] < 0 || (size_t)order[j] >= E) return (void)r1_fail(&a, "order names a missing block"), NULL;
  float *xe = malloc(sizeof(float) * (max_rows * D + max_rows * max_width + max_rows * D + 1));
  if (!xe) return (void)r1_fail(&a, "out of memory"), NULL;
  float *act = xe + max_rows * D, *out = act + max_rows * max_width;
  if (!init_shared) memset(Y, 0, sizeof(float) * T * D);
  for (size_t j = 0; j < nord && a.ok; j++) {
    const size_t e = order[j];
    const size_t n = starts[e + 1] - starts[e], I = widths[e];
    if (n == 0) continue;
    size_t lg, lu, ld;
    float *Wg = f32_element(&a, 3, 3 * e, &lg), *Wu = f32_element(&a, 3, 3 * e + 1, &lu), *Wd = f32_element(&a, 3, 3 * e + 2, &ld);
    if (!a.ok) break;
    if (lg < I * D || lu < I * D || ld < D * I) {
      r1_fail(&a, "an expert weight is shorter than its width × D");
      break;
    }
    const int32_t *tok = tokens + starts[e];
    const bool shared_first = init_shared && j == 0;
    if (shared_first && !every_token(tok, n, T)) {
      r1_fail(&a, "the first block must hold every token in order when sharedFirst");
      break;
    }
    const float *src = X;
    if (!shared_first) {
      for (size_t r = 0; r < n; r++) memcpy(xe + r * D, X + (size_t)tok[r] * D, sizeof(float) * D);
      src = xe;
    }
    float *cache = C + (size_t)offsets[e];
    r1_sgemm(false, false, true, (int)n, (int)I, (int)D, src, (int)D, Wg, (int)D, cache, (int)(2 * I));     // g [n, I]
    r1_sgemm(false, false, true, (int)n, (int)I, (int)D, src, (int)D, Wu, (int)D, cache + I, (int)(2 * I)); // u [n, I]
    silu_mul_rows(cache, act, n, I);
    if (shared_first) {
      r1_sgemm(false, false, true, (int)n, (int)D, (int)I, act, (int)I, Wd, (int)I, Y, (int)D); // y = shared(x)
    } else {
      r1_sgemm(false, false, true, (int)n, (int)D, (int)I, act, (int)I, Wd, (int)I, out, (int)D);
      const float *w = rw + starts[e];
      for (size_t r = 0; r < n; r++) add_row(Y + (size_t)tok[r] * D, out + r * D, w[r], D);
    }
  }
  free(xe);
  return NULL;
}

/**
 * SwiGLU backward on n rows (experts.ts's swigluBackRows): with q = dy·W_d, a = silu(g)·u:
 * WA = w·a, dg|du rows of G = (w·q)·∂(silu(g)·u), and dots[r] = q·a (float64).
 */
R1_VECTOR static void swiglu_back_rows(const float *C, const float *Q, const float *w, float *WA, float *G, double *dots,
                                       size_t n, size_t I) {
  for (size_t r = 0; r < n; r++) {
    const float *g = C + r * 2 * I, *u = g + I, *q = Q + r * I;
    float *wa = WA + r * I, *dg = G + r * 2 * I, *du = dg + I;
    const double wr = w[r];
    double dot = 0;
#pragma omp simd reduction(+ : dot)
    for (size_t i = 0; i < I; i++) {
      const double gi = g[i], ui = u[i], s = 1.0f / (1.0f + r1_expf(-g[i]));
      const double a = gi * s * ui, qi = q[i];
      dot += a * qi;
      wa[i] = (float)(wr * a);
      const double da = wr * qi;
      dg[i] = (float)(da * ui * s * (1 + gi * (1 - s)));
      du[i] = (float)(da * gi * s);
    }
    dots[r] = dot;
  }
}

/** Shared argument checks of moeBackward and moeGradX: the block layout against T, the cache and the weights. */
static bool check_blocks(r1_args *a, const int32_t *tokens, size_t nt, const int32_t *starts, size_t ns, const double *offsets,
                         size_t no, const int32_t *widths, size_t E, size_t T, size_t cache_len, size_t *max_rows, size_t *max_width) {
  if (ns != E + 1 || no != E) return r1_fail(a, "inconsistent block arrays");
  *max_rows = *max_width = 0;
  for (size_t e = 0; e < E; e++) {
    int32_t n = starts[e + 1] - starts[e];
    if (starts[e] < 0 || n < 0 || (size_t)starts[e + 1] > nt || widths[e] <= 0) return r1_fail(a, "bad block layout");
    if (offsets[e] < 0 || (uint64_t)offsets[e] + (uint64_t)n * 2 * widths[e] > cache_len) return r1_fail(a, "cache is too short");
    if ((size_t)n > *max_rows) *max_rows = n;
    if ((size_t)widths[e] > *max_width) *max_width = widths[e];
  }
  for (size_t j = 0; j < nt; j++)
    if (tokens[j] < 0 || (size_t)tokens[j] >= T) return r1_fail(a, "token index out of range");
  return true;
}

/** The three weights of block e (gate [I, D], up [I, D], down [D, I]) from a JS array, length-checked. */
static bool block_weights(r1_args *a, size_t arg, size_t e, size_t I, size_t D, float **Wg, float **Wu, float **Wd) {
  size_t lg, lu, ld;
  *Wg = f32_element(a, arg, 3 * e, &lg);
  *Wu = f32_element(a, arg, 3 * e + 1, &lu);
  *Wd = f32_element(a, arg, 3 * e + 2, &ld);
  if (!a->ok) return false;
  if (lg < I * D || lu < I * D || ld < D * I) return r1_fail(a, "an expert weight is shorter than its width × D");
  return true;
}

/**
 * moeBackward(dy, x, cache, weights, tokens, starts, offsets, widths, rowWeights, pairs, dweight, dgu, dW, D)
 * Backward of moeForward except dx (experts.ts's expertsBackward): dweight[pairs[j]] = q·a per routed row,
 * dgu (the flat d(g|u), cache layout), and dW = [dGate, dUp, dDown] per block (zeros for an empty block).
 * pairs[j] < 0 marks a shared-experts row (weight 1, no dweight).
 */
static napi_value moe_backward(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "moeBackward", 14)) return NULL;
  size_t ndy, nx, nc, nt, ns, no, nw, nr, np, ndw, ndgu;
  float *DY = r1_f32(&a, 0, &ndy, false), *X = r1_f32(&a, 1, &nx, false), *C = r1_f32(&a, 2, &nc, false);
  int32_t *tokens = r1_i32(&a, 4, &nt, false), *starts = r1_i32(&a, 5, &ns, false);
  double *offsets = r1_f64(&a, 6, &no);
  int32_t *widths = r1_i32(&a, 7, &nw, false);
  float *rw = r1_f32(&a, 8, &nr, false);
  int32_t *pairs = r1_i32(&a, 9, &np, false);
  float *DWT = r1_f32(&a, 10, &ndw, false), *DGU = r1_f32(&a, 11, &ndgu, false);
  int64_t D = r1_int(&a, 13);
  if (!a.ok) return NULL;
  if (!r1_have_blas()) return (void)r1_fail(&a, "needs a system BLAS"), NULL;
  const size_t E = nw;
  if (D == 0 || nx % D || ndy != nx || nr < nt || np < nt || ndgu != nc) return (void)r1_fail(&a, "inconsistent sizes"), NULL;
  uint32_t nweights = 0, ngrads = 0;
  napi_get_array_length(env, a.argv[3], &nweights);
  napi_get_array_length(env, a.argv[12], &ngrads);
  if (nweights != 3 * E || ngrads != 3 * E) return (void)r1_fail(&a, "weights and dW must hold 3 arrays per block"), NULL;
  const size_t T = nx / D;
  size_t max_rows, max_width;
  if (!check_blocks(&a, tokens, nt, starts, ns, offsets, no, widths, E, T, nc, &max_rows, &max_width)) return NULL;
  for (size_t j = 0; j < nt; j++)
    if (pairs[j] >= (int64_t)ndw) return (void)r1_fail(&a, "a pair index is outside dweight"), NULL;
  const size_t R = max_rows, W = max_width;
  float *buf = malloc(sizeof(float) * (2 * R * D + 2 * R * W + 1));
  double *dots = malloc(sizeof(double) * (R + 1));
  if (!buf || !dots) {
    free(buf);
    free(dots);
    return (void)r1_fail(&a, "out of memory"), NULL;
  }
  float *dye = buf, *xe = dye + R * D, *q = xe + R * D, *wa = q + R * W;
  memset(DWT, 0, sizeof(float) * ndw);
  for (size_t e = 0; e < E && a.ok; e++) {
    const size_t n = starts[e + 1] - starts[e], I = widths[e];
    float *Wg, *Wu, *Wd, *dGate, *dUp, *dDown;
    size_t l1, l2, l3;
    if (!block_weights(&a, 3, e, I, D, &Wg, &Wu, &Wd)) break;
    dGate = f32_element(&a, 12, 3 * e, &l1);
    dUp = f32_element(&a, 12, 3 * e + 1, &l2);
    dDown = f32_element(&a, 12, 3 * e + 2, &l3);
    if (!a.ok) break;
    if (l1 < I * D || l2 < I * D || l3 < D * I) {
      r1_fail(&a, "a dW array is shorter than its weight");
      break;
    }
    if (n == 0) {
      memset(dGate, 0, sizeof(float) * I * D);
      memset(dUp, 0, sizeof(float) * I * D);
      memset(dDown, 0, sizeof(float) * D * I);
      continue;
    }
    const int32_t *tok = tokens + starts[e];
    const bool all = every_token(tok, n, T); // the shared block: no gather
    const float *dyb = DY, *xb = X;
    if (!all) {
      for (size_t r = 0; r < n; r++) {
        memcpy(dye + r * D, DY + (size_t)tok[r] * D, sizeof(float) * D);
        memcpy(xe + r * D, X + (size_t)tok[r] * D, sizeof(float) * D);
      }
      dyb = dye;
      xb = xe;
    }
    r1_sgemm(false, false, false, (int)n, (int)I, (int)D, dyb, (int)D, Wd, (int)I, q, (int)I); // q = dy·W_d [n, I]
    float *cache = C + (size_t)offsets[e], *dg = DGU + (size_t)offsets[e];
    swiglu_back_rows(cache, q, rw + starts[e], wa, dg, dots, n, I);
    for (size_t r = 0; r < n; r++)
      if (pairs[starts[e] + r] >= 0) DWT[pairs[starts[e] + r]] = (float)dots[r];
    r1_sgemm(false, true, false, (int)D, (int)I, (int)n, dyb, (int)D, wa, (int)I, dDown, (int)I);          // dyᵀ·(w⊙a) [D, I]
    r1_sgemm(false, true, false, (int)I, (int)D, (int)n, dg, (int)(2 * I), xb, (int)D, dGate, (int)D);     // dgᵀ·x [I, D]
    r1_sgemm(false, true, false, (int)I, (int)D, (int)n, dg + I, (int)(2 * I), xb, (int)D, dUp, (int)D);   // duᵀ·x [I, D]
  }
  free(buf);
  free(dots);
  return NULL;
}

/**
 * moeGradX(dgu, weights, tokens, starts, offsets, widths, order, dx, D, sharedFirst)
 * dx[t] = Σ over token t's rows of dg·W_g + du·W_u (experts.ts's expertsGradX), blocks in `order`;
 * the shared block first (sharedFirst) initialises dx, which starts at 0 otherwise.
 */
static napi_value moe_grad_x(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "moeGradX", 10)) return NULL;
  size_t ng, nt, ns, no, nw, nord, ndx;
  float *DGU = r1_f32(&a, 0, &ng, false);
  int32_t *tokens = r1_i32(&a, 2, &nt, false), *starts = r1_i32(&a, 3, &ns, false);
  double *offsets = r1_f64(&a, 4, &no);
  int32_t *widths = r1_i32(&a, 5, &nw, false), *order = r1_i32(&a, 6, &nord, false);
  float *DX = r1_f32(&a, 7, &ndx, false);
  int64_t D = r1_int(&a, 8);
  bool init_shared = r1_bool(&a, 9);
  if (!a.ok) return NULL;
  if (!r1_have_blas()) return (void)r1_fail(&a, "needs a system BLAS"), NULL;
  const size_t E = nw;
  if (D == 0 || ndx % D) return (void)r1_fail(&a, "dx's length must be a multiple of D"), NULL;
  uint32_t nweights = 0;
  napi_get_array_length(env, a.argv[1], &nweights);
  if (nweights != 3 * E) return (void)r1_fail(&a, "weights must hold 3 arrays per block"), NULL;
  const size_t T = ndx / D;
  size_t max_rows, max_width;
  if (!check_blocks(&a, tokens, nt, starts, ns, offsets, no, widths, E, T, ng, &max_rows, &max_width)) return NULL;
  for (size_t j = 0; j < nord; j++)
    if (order[j] < 0 || (size_t)order[j] >= E) return (void)r1_fail(&a, "order names a missing block"), NULL;
  float *buf = malloc(sizeof(float) * (2 * max_rows * D + 1));
  if (!buf) return (void)r1_fail(&a, "out of memory"), NULL;
  float *o1 = buf, *o2 = buf + max_rows * D;
  if (!init_shared) memset(DX, 0, sizeof(float) * T * D);
  for (size_t j = 0; j < nord && a.ok; j++) {
    const size_t e = order[j];
    const size_t n = starts[e + 1] - starts[e], I = widths[e];
    if (n == 0) continue;
    float *Wg, *Wu, *Wd;
    if (!block_weights(&a, 1, e, I, D, &Wg, &Wu, &Wd)) break;
    const float *dg = DGU + (size_t)offsets[e];
    r1_sgemm(false, false, false, (int)n, (int)D, (int)I, dg, (int)(2 * I), Wg, (int)D, o1, (int)D);     // dg·W_g
    r1_sgemm(false, false, false, (int)n, (int)D, (int)I, dg + I, (int)(2 * I), Wu, (int)D, o2, (int)D); // du·W_u
    const int32_t *tok = tokens + starts[e];
    if (init_shared && j == 0) {
      if (!every_token(tok, n, T)) {
        r1_fail(&a, "the first block must hold every token in order when sharedFirst");
        break;
      }
      for (size_t i = 0; i < n * D; i++) DX[i] = o1[i] + o2[i];
    } else {
      for (size_t r = 0; r < n; r++) {
        float *d = DX + (size_t)tok[r] * D;
        for (size_t c = 0; c < (size_t)D; c++) d[c] += o1[r * D + c] + o2[r * D + c];
      }
    }
  }
  free(buf);
  return NULL;
}

const r1_fn r1_moe_fns[] = {
    {"moeForward", moe_forward},
    {"moeBackward", moe_backward},
    {"moeGradX", moe_grad_x},
    {NULL, NULL},
};
