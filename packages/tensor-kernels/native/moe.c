// The MoE experts for the native addon (module.c): forward, backward and dx, each in one call —
// every expert's SwiGLU on its own rows (DeepSeek-V3 eq. 12), the gathers, the products (system BLAS)
// and the weighted combine — instead of a dozen tfjs kernels and JS loops per expert. Mirrors
// @r1-ts/moe's experts.ts: same cache layout, same combine order. Experts run in parallel, each one on
// one thread with single-threaded products (BLAS's own pool would wake and sleep per small product),
// taken largest first by whichever thread is free; each writes only its own rows and gradients, and
// the combine runs afterwards in block order, so results never depend on the thread count.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "r1_native.h"

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

/** One call's blocks, resolved on the main thread (workers make no Node-API calls). */
typedef struct {
  size_t E, T, D, max_rows, max_width;
  const int32_t *tokens, *starts, *widths, *pairs;
  const double *offsets;
  const float *rw;
  float **W;  // gate, up, down of each block
  float **dW; // their gradients (backward)
  int kind;   // 0 forward, 1 backward, 2 dx
  const float *X, *DY, *C, *DGU;
  float *Y, *out, *DWT, *DGUout;
  int shared_first; // block index whose output goes straight to Y / dx, or −1
  const int *sorted; // blocks by cost, largest first: the order workers take them in
  size_t *next;      // shared: the next position in `sorted` to take
  int worker;
  r1_scratch *scratch; // the call's reusable buffers: slot 0 the combine's rows, 1 + w and 1 + R1_MAX_WORKERS + w worker w's
  bool *failed; // set by a worker that could not allocate its scratch
} moe_call;

/**
 * Blocks by cost (rows × width), largest first, ties by index → idx. Workers take them in this order as
 * they come free (longest first, then the small ones fill in), so a slow or descheduled thread holds up
 * at most one block; which thread runs a block never changes its result (each block writes only its
 * own rows, gradients and cache, with products on the thread that runs it).
 */
static void by_cost(const moe_call *c, int *idx) {
  size_t E = c->E;
  for (size_t e = 0; e < E; e++) idx[e] = (int)e;
  for (size_t i = 1; i < E; i++) { // insertion sort: E is small
    int v = idx[i];
    double cv = (double)(c->starts[v + 1] - c->starts[v]) * c->widths[v];
    size_t j = i;
    while (j > 0) {
      int u = idx[j - 1];
      double cu = (double)(c->starts[u + 1] - c->starts[u]) * c->widths[u];
      if (cu > cv || (cu == cv && u < v)) break;
      idx[j] = u;
      j--;
    }
    idx[j] = v;
  }
}

/** One worker: its blocks of the call, start to finish. */
static void *moe_work(void *arg) {
  const moe_call *c = arg;
  const size_t D = c->D, R = c->max_rows, Wd = c->max_width;
  float *buf = r1_scratch_get(c->scratch, 1 + c->worker, sizeof(float) * (2 * R * D + 2 * R * Wd + 1));
  double *dots = r1_scratch_get(c->scratch, 1 + R1_MAX_WORKERS + c->worker, sizeof(double) * (R + 1));
  float *xe = buf, *dye = xe + R * D, *t1 = dye + R * D, *t2 = t1 + R * Wd;
  if (!buf || !dots) *c->failed = true;
  for (size_t k = buf && dots ? __atomic_fetch_add(c->next, 1, __ATOMIC_RELAXED) : c->E; k < c->E;
       k = __atomic_fetch_add(c->next, 1, __ATOMIC_RELAXED)) {
    const size_t e = (size_t)c->sorted[k];
    const size_t n = c->starts[e + 1] - c->starts[e], I = c->widths[e];
    if (n == 0) continue;
    const int32_t *tok = c->tokens + c->starts[e];
    const bool all = every_token(tok, n, c->T);
    float *Wg = c->W[3 * e], *Wu = c->W[3 * e + 1], *Wdn = c->W[3 * e + 2];
    const size_t off = (size_t)c->offsets[e];
    if (c->kind == 0) { // forward
      const float *src = all ? c->X : xe;
      if (!all)
        for (size_t r = 0; r < n; r++) memcpy(xe + r * D, c->X + (size_t)tok[r] * D, sizeof(float) * D);
      float *cache = (float *)c->C + off;
      r1_sgemm(true, false, true, (int)n, (int)I, (int)D, src, (int)D, Wg, (int)D, cache, (int)(2 * I));     // g
      r1_sgemm(true, false, true, (int)n, (int)I, (int)D, src, (int)D, Wu, (int)D, cache + I, (int)(2 * I)); // u
      silu_mul_rows(cache, t1, n, I);
      float *dst = (int)e == c->shared_first ? c->Y : c->out + (size_t)c->starts[e] * D;
      r1_sgemm(true, false, true, (int)n, (int)D, (int)I, t1, (int)I, Wdn, (int)I, dst, (int)D);
    } else if (c->kind == 1) { // backward without dx
      const float *dyb = all ? c->DY : dye, *xb = all ? c->X : xe;
      if (!all)
        for (size_t r = 0; r < n; r++) {
          memcpy(dye + r * D, c->DY + (size_t)tok[r] * D, sizeof(float) * D);
          memcpy(xe + r * D, c->X + (size_t)tok[r] * D, sizeof(float) * D);
        }
      r1_sgemm(true, false, false, (int)n, (int)I, (int)D, dyb, (int)D, Wdn, (int)I, t1, (int)I); // q = dy·W_d
      float *dg = c->DGUout + off;
      swiglu_back_rows(c->C + off, t1, c->rw + c->starts[e], t2, dg, dots, n, I);
      for (size_t r = 0; r < n; r++)
        if (c->pairs[c->starts[e] + r] >= 0) c->DWT[c->pairs[c->starts[e] + r]] = (float)dots[r];
      float *dGate = c->dW[3 * e], *dUp = c->dW[3 * e + 1], *dDown = c->dW[3 * e + 2];
      r1_sgemm(true, true, false, (int)D, (int)I, (int)n, dyb, (int)D, t2, (int)I, dDown, (int)I);        // dyᵀ·(w⊙a)
      r1_sgemm(true, true, false, (int)I, (int)D, (int)n, dg, (int)(2 * I), xb, (int)D, dGate, (int)D);   // dgᵀ·x
      r1_sgemm(true, true, false, (int)I, (int)D, (int)n, dg + I, (int)(2 * I), xb, (int)D, dUp, (int)D); // duᵀ·x
    } else { // dx rows: dg·W_g + du·W_u
      const float *dg = c->DGU + off;
      float *dst = (int)e == c->shared_first ? c->Y : c->out + (size_t)c->starts[e] * D;
      r1_sgemm(true, false, false, (int)n, (int)D, (int)I, dg, (int)(2 * I), Wg, (int)D, xe, (int)D);
      r1_sgemm(true, false, false, (int)n, (int)D, (int)I, dg + I, (int)(2 * I), Wu, (int)D, dye, (int)D);
      for (size_t i = 0; i < n * D; i++) dst[i] = xe[i] + dye[i];
    }
  }
  return NULL;
}

/** Runs a call's blocks over the workers (BLAS products single-threaded); false when a worker ran out of memory. */
static bool run_call(moe_call *c) {
  bool failed = false;
  c->failed = &failed;
  double work = 0;
  for (size_t e = 0; e < c->E; e++) work += (double)(c->starts[e + 1] - c->starts[e]) * c->widths[e] * c->D * 3;
  int workers = r1_workers(work);
  if ((size_t)workers > c->E) workers = c->E < 1 ? 1 : (int)c->E;
  int *sorted = malloc(sizeof(int) * (c->E + 1));
  if (!sorted) return false;
  by_cost(c, sorted);
  size_t next = 0;
  c->sorted = sorted;
  c->next = &next;
  moe_call jobs[R1_MAX_WORKERS];
  for (int w = 0; w < workers; w++) {
    jobs[w] = *c;
    jobs[w].worker = w;
  }
  r1_blas_serial();
  r1_run_workers(moe_work, jobs, sizeof(moe_call), workers);
  free(sorted);
  return !failed;
}

/** Weight (or gradient) pointers of every block from a JS array, length-checked; NULL after a failure. */
static float **pointers(r1_args *a, size_t arg, size_t E, const int32_t *widths, size_t D, bool grads) {
  uint32_t count = 0;
  if (napi_get_array_length(a->env, a->argv[arg], &count) != napi_ok || count != 3 * E) {
    r1_fail(a, grads ? "dW must hold 3 arrays per block" : "weights must hold 3 arrays per block");
    return NULL;
  }
  float **p = malloc(sizeof(float *) * (3 * E + 1));
  if (!p) return (void)r1_fail(a, "out of memory"), NULL;
  for (size_t e = 0; e < E && a->ok; e++) {
    const size_t I = widths[e];
    for (int j = 0; j < 3; j++) {
      size_t len;
      p[3 * e + j] = r1_f32_element(a, arg, 3 * e + j, &len);
      if (a->ok && len < I * D) r1_fail(a, grads ? "a dW array is shorter than its weight" : "an expert weight is shorter than its width × D");
    }
  }
  if (!a->ok) {
    free(p);
    return NULL;
  }
  return p;
}

/**
 * Checks `order` (blocks in combine order) and returns its shared-first block — order[0], which must hold
 * every token in order — when `init_shared`, else −1. After a failure a->ok is false.
 */
static int shared_first_block(r1_args *a, bool init_shared, const int32_t *order, size_t nord, size_t E, const int32_t *tokens,
                              const int32_t *starts, size_t T) {
  for (size_t j = 0; j < nord; j++)
    if (order[j] < 0 || (size_t)order[j] >= E) return r1_fail(a, "order names a missing block"), -1;
  if (!init_shared) return -1;
  if (nord == 0 || !every_token(tokens + starts[order[0]], starts[order[0] + 1] - starts[order[0]], T))
    return r1_fail(a, "the first block must hold every token in order when sharedFirst"), -1;
  return order[0];
}

/**
 * Runs a call whose blocks write one output row per block row (forward, dx), then adds the rows into
 * c->Y at their tokens in block `order`, weighted by rw (NULL: 1). The shared-first block writes c->Y
 * itself; without one c->Y starts at 0. False (a JS exception pending) after a failure.
 */
static bool run_and_combine(r1_args *a, moe_call *c, const int32_t *order, size_t nord, const float *rw) {
  const size_t D = c->D;
  r1_scratch sc;
  r1_scratch_begin(&sc);
  c->scratch = &sc;
  float *out = r1_scratch_get(&sc, 0, sizeof(float) * ((size_t)c->starts[c->E] * D + 1));
  bool ok = out != NULL;
  if (ok) {
    c->out = out;
    if (c->shared_first < 0) memset(c->Y, 0, sizeof(float) * c->T * D);
    ok = run_call(c);
  }
  for (size_t j = 0; ok && j < nord; j++) {
    const int e = order[j];
    if (e == c->shared_first) continue;
    for (int32_t r = c->starts[e]; r < c->starts[e + 1]; r++) add_row(c->Y + (size_t)c->tokens[r] * D, out + (size_t)r * D, rw ? rw[r] : 1.0, D);
  }
  r1_scratch_end(&sc);
  return ok || r1_fail(a, "out of memory");
}

/**
 * The common part of moeForward and moeGradX, for a call whose E, T, D, block arrays and operands are
 * set: checks the blocks (nt tokens, ns starts, no offsets, a cache of cache_len floats) and `order`,
 * takes the weights from argument weights_arg, runs and combines (run_and_combine). After a failure a
 * JS exception is pending.
 */
static void combined_call(r1_args *a, moe_call *c, size_t nt, size_t ns, size_t no, size_t cache_len, size_t weights_arg,
                          bool init_shared, const int32_t *order, size_t nord, const float *rw) {
  if (!check_blocks(a, c->tokens, nt, c->starts, ns, c->offsets, no, c->widths, c->E, c->T, cache_len, &c->max_rows, &c->max_width)) return;
  c->shared_first = shared_first_block(a, init_shared, order, nord, c->E, c->tokens, c->starts, c->T);
  c->W = a->ok ? pointers(a, weights_arg, c->E, c->widths, c->D, false) : NULL;
  if (!c->W) return;
  run_and_combine(a, c, order, nord, rw);
  free(c->W);
}

/**
 * moeForward(x, y, cache, weights, tokens, starts, offsets, widths, rowWeights, order, D, sharedFirst)
 *   x [T, D], y [T, D] (every element written), cache: g|u of each block's rows at offsets[e] (n·2I floats);
 *   weights: [gate [I, D], up [I, D], down [D, I]] of each block, flattened (3 per block);
 *   block e's rows: tokens[starts[e] .. starts[e+1]) with routing weights rowWeights[same]; widths[e] = I;
 *   order: blocks in combine order; with sharedFirst, order[0] holds every token in order (the shared
 *   experts) and its output initialises y, which starts at 0 otherwise.
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
  const size_t E = nw;
  if (D == 0 || nx % D || ny != nx || nr < nt) return (void)r1_fail(&a, "inconsistent sizes"), NULL;
  moe_call c = {.E = E, .T = nx / D, .D = D, .tokens = tokens, .starts = starts, .widths = widths, .offsets = offsets, .rw = rw,
                .kind = 0, .X = X, .C = C, .Y = Y};
  combined_call(&a, &c, nt, ns, no, nc, 3, init_shared, order, nord, rw); // the weighted combine
  return NULL;
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
  const size_t T = nx / D;
  size_t R, Wmax;
  if (!check_blocks(&a, tokens, nt, starts, ns, offsets, no, widths, E, T, nc, &R, &Wmax)) return NULL;
  for (size_t j = 0; j < nt; j++)
    if (pairs[j] >= (int64_t)ndw) return (void)r1_fail(&a, "a pair index is outside dweight"), NULL;
  float **W = pointers(&a, 3, E, widths, D, false);
  float **dW = W ? pointers(&a, 12, E, widths, D, true) : NULL;
  if (!dW) {
    free(W);
    return NULL;
  }
  memset(DWT, 0, sizeof(float) * ndw);
  for (size_t e = 0; e < E; e++)
    if (starts[e + 1] == starts[e])
      for (int j = 0; j < 3; j++) memset(dW[3 * e + j], 0, sizeof(float) * widths[e] * D);
  moe_call c = {.E = E, .T = T, .D = D, .max_rows = R, .max_width = Wmax, .tokens = tokens, .starts = starts, .widths = widths,
                .pairs = pairs, .offsets = offsets, .rw = rw, .W = W, .dW = dW, .kind = 1, .X = X, .DY = DY, .C = C,
                .DWT = DWT, .DGUout = DGU, .shared_first = -1};
  r1_scratch sc;
  r1_scratch_begin(&sc);
  c.scratch = &sc;
  const bool ok = run_call(&c);
  r1_scratch_end(&sc);
  free(W);
  free(dW);
  if (!ok) r1_fail(&a, "out of memory");
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
  moe_call c = {.E = E, .T = ndx / D, .D = D, .tokens = tokens, .starts = starts, .widths = widths, .offsets = offsets, .kind = 2,
                .DGU = DGU, .Y = DX};
  combined_call(&a, &c, nt, ns, no, ng, 1, init_shared, order, nord, NULL); // the scatter-add (weight 1: the same float32 sum)
  return NULL;
}

/**
 * The first index i < n with flag[i] == want whose v[i] no other such index beats (the higher value;
 * ties, and NaN, to the lower index: select.ts's order), or −1. Branch-free over i.
 */
static inline int64_t first_best(const double *v, const uint8_t *flag, int64_t n, uint8_t want) {
  int64_t bi = -1;
  double bv = 0;
  for (int64_t i = 0; i < n; i++) {
    const bool take = (flag[i] == want) & ((bi < 0) | (v[i] > bv));
    bi = take ? i : bi;
    bv = take ? v[i] : bv;
  }
  return bi;
}

/**
 * moeRoute(scores, bias, out, T, E, K, nGroup, topkGroup, pairGroupScore)
 * The top-K expert selection of @r1-ts/moe's select.ts on u = s (+ bias, rounded to float32): the
 * best `topkGroup` of `nGroup` groups (a group's score: its best u, or best + second rounded to
 * float32 when pairGroupScore), then the K best experts among them, ties to the lower index;
 * out [T, K] ascending per token. bias may be null.
 */
static napi_value moe_route(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "moeRoute", 9)) return NULL;
  size_t ns, nb = 0, no;
  float *S = r1_f32(&a, 0, &ns, false), *bias = r1_f32(&a, 1, &nb, true);
  int32_t *out = r1_i32(&a, 2, &no, false);
  int64_t T = r1_int(&a, 3), E = r1_int(&a, 4), K = r1_int(&a, 5), Gn = r1_int(&a, 6), Gk = r1_int(&a, 7);
  bool pair = r1_bool(&a, 8);
  if (!a.ok) return NULL;
  if (E < 1 || K < 1 || K > E || Gn < 1 || E % Gn || Gk < 1 || Gk > Gn || Gk * (E / Gn) < K)
    return (void)r1_fail(&a, "bad sizes: need 1 ≤ K ≤ E, nGroup dividing E, 1 ≤ topkGroup ≤ nGroup with K experts in topkGroup groups"), NULL;
  if (!r1_fits(&a, "scores", (uint64_t)T * E, ns) || !r1_fits(&a, "out", (uint64_t)T * K, no)) return NULL;
  if (bias && nb < (size_t)E) return (void)r1_fail(&a, "bias is shorter than E"), NULL;
  const int64_t g = E / Gn;
  const bool limited = Gn > 1 && Gk < Gn;
  double *u = malloc(sizeof(double) * (E + Gn)), *gs = u ? u + E : NULL;
  uint8_t *allowed = malloc(E + Gn), *kept = allowed ? allowed + E : NULL;
  if (!u || !allowed) {
    free(u), free(allowed);
    return (void)r1_fail(&a, "out of memory"), NULL;
  }
  for (int64_t t = 0; t < T; t++) {
    const float *s = S + t * E;
    for (int64_t e = 0; e < E; e++) u[e] = bias ? (double)(float)((double)s[e] + bias[e]) : s[e];
    memset(allowed, 1, E);
    if (limited) {
      for (int64_t q = 0; q < Gn; q++) {
        double best = -INFINITY, second = -INFINITY;
        for (int64_t e = q * g; e < (q + 1) * g; e++) { // branch-free: random scores mispredict
          const double v = u[e];
          const bool top = v > best;
          second = top ? best : (v > second ? v : second);
          best = top ? v : best;
        }
        gs[q] = pair && g >= 2 ? (double)(float)(best + second) : best;
      }
      memset(kept, 0, Gn);
      for (int64_t k = 0; k < Gk; k++) {
        kept[first_best(gs, kept, Gn, 0)] = 1;
      }
      for (int64_t q = 0; q < Gn; q++) memset(allowed + q * g, kept[q], g);
    }
    int32_t *o = out + t * K;
    for (int64_t k = 0; k < K; k++) {
      const int64_t pick = first_best(u, allowed, E, 1);
      allowed[pick] = 0;
      int64_t j = k; // insertion into the ascending picks so far
      for (; j > 0 && o[j - 1] > pick; j--) o[j] = o[j - 1];
      o[j] = (int32_t)pick;
    }
  }
  free(u), free(allowed);
  return NULL;
}

const r1_fn r1_moe_fns[] = {
    {"moeRoute", moe_route},
    {"moeForward", moe_forward},
    {"moeBackward", moe_backward},
    {"moeGradX", moe_grad_x},
    {NULL, NULL},
};
