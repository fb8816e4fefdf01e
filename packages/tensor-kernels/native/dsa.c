// DeepSeek sparse attention kernels of the native addon (module.c): the lightning indexer's top-k
// (src/kernels/indexer_topk.ts) and the gathered sparse attention with its backward
// (src/kernels/sparse_attention.ts). Same selections and semantics as the JS loops (selections
// identical on finite scores); the attention runs in float32 (the JS in float64), so its outputs agree
// to float32 rounding. Large calls spread over worker threads with a fixed partition where every
// output element is computed by one thread in a fixed order: results never depend on the thread count.
//
// The v16 helpers are always inlined into their (target-cloned) callers: no vector ABI is ever crossed.
#pragma GCC diagnostic ignored "-Wpsabi"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "r1_native.h"

// Sixteen-lane float vectors (GCC/Clang vector extensions: one AVX-512 register, two AVX2 ones, and
// plain code elsewhere), so dots need no serial chain of adds and 16 keys' dots finish together.
#define VL 16
typedef float v16 __attribute__((vector_size(64)));
typedef int32_t i16 __attribute__((vector_size(64)));

static inline __attribute__((always_inline)) v16 load16(const float *p) {
  v16 v;
  memcpy(&v, p, sizeof v);
  return v;
}


/** Element strides of one [B, H, S, D]-like operand: batch, head (0 when one head is shared), position. */
typedef struct {
  size_t b, h, s;
} strides;

/** Strides of a (B, H, S, D) operand stored as [B, S, H, D] (`bshd`) or [B, H, S, D]; H = 1 is shared. */
static strides strides_of(size_t H, size_t S, size_t D, bool bshd) {
  strides st;
  st.b = H * S * D;
  st.h = H == 1 ? 0 : (bshd ? D : S * D);
  st.s = bshd ? H * D : D;
  return st;
}

// ------------------------------------------------------------------------------ worker threads

// Threads: r1_workers / r1_run_workers (module.c), shared with gemm.c's batch split.

// ------------------------------------------------------------------------------ indexer top-k
//
// Per query: the row of scores over its visible keys (one vectorised pass over the head dots), then an
// exact top-k without a heap: a threshold that cannot exceed the k-th best score (the k-th largest of
// 2k group maxima: k distinct keys reach it), the few keys at or above it as candidates (ascending),
// and a quickselect of the k-th best candidate in the order (score desc, key asc) — the JS heap's
// order, so the same set, ties to the lower key.

/** A candidate key and its score. */
typedef struct {
  double v;
  int32_t i;
} cand;

/** a ranks before b: higher score, or equal score and lower key (a total order: keys are distinct). */
static inline bool better(cand a, cand b) { return (a.v > b.v) | ((a.v == b.v) & (a.i < b.i)); }

/**
 * Reorders c[0..m) so that c[k] is the (k+1)-th best, the better ones before it (nth_element):
 * quickselect with a branch-free partition (candidates' order is data, so a branch would mispredict).
 */
static void nth_best(cand *c, size_t m, size_t k) {
  size_t lo = 0, hi = m - 1;
  while (hi > lo) {
    size_t mid = lo + (hi - lo) / 2;
    // Median of three as the pivot, moved to hi.
    if (better(c[mid], c[lo])) { cand t = c[mid]; c[mid] = c[lo]; c[lo] = t; }
    if (better(c[hi], c[lo])) { cand t = c[hi]; c[hi] = c[lo]; c[lo] = t; }
    if (better(c[mid], c[hi])) { cand t = c[mid]; c[mid] = c[hi]; c[hi] = t; }
    const cand pivot = c[hi];
    size_t store = lo;
    for (size_t j = lo; j < hi; j++) { // c[lo..store) better than the pivot, c[store..j) not
      const cand cur = c[j];
      c[j] = c[store];
      c[store] = cur;
      store += better(cur, pivot);
    }
    c[hi] = c[store];
    c[store] = pivot;
    if (store == k) return;
    if (store < k) lo = store + 1;
    else hi = store - 1;
  }
}

/** Scratch of one query row: its scores, candidates twice (ascending, and reordered by nth_best). */
typedef struct {
  double *row;
  double *wh;
  double *gmax;
  cand *asc;
  cand *work;
} topk_scratch;

static void scratch_free(topk_scratch *s) {
  free(s->row), free(s->wh), free(s->gmax), free(s->asc), free(s->work);
}

/** Scratch for rows of up to `width` keys, Hi heads, top `topk`; false when out of memory. */
static bool scratch_new(topk_scratch *s, size_t width, size_t Hi, size_t topk) {
  s->row = malloc(sizeof(double) * (width + 1));
  s->wh = malloc(sizeof(double) * (Hi + 1));
  s->gmax = malloc(sizeof(double) * (2 * topk + 1));
  s->asc = malloc(sizeof(cand) * (width + 1));
  s->work = malloc(sizeof(cand) * (width + 1));
  if (s->row && s->wh && s->gmax && s->asc && s->work) return true;
  scratch_free(s);
  return false;
}

/** row[s] = Σ_h wh[h]·(d_h[s] + |d_h[s]|) for s < n (wh = scale·w/2: w·ReLU(d) without a branch). */
R1_VECTOR static void score_row(const float *dots, size_t ld, size_t Hi, const double *wh, size_t n, double *row) {
  for (size_t s = 0; s < n; s++) row[s] = 0;
  for (size_t h = 0; h < Hi; h++) {
    const float *d = dots + h * ld;
    double w = wh[h];
#pragma omp simd
    for (size_t s = 0; s < n; s++) {
      double x = d[s];
      row[s] += w * (x + fabs(x));
    }
  }
}

/** Masked keys' scores → −∞; returns the number of allowed keys among s < n. */
R1_VECTOR static size_t mask_row(double *row, const float *mask, size_t n) {
  size_t allowed = 0;
#pragma omp simd reduction(+ : allowed)
  for (size_t s = 0; s < n; s++) {
    bool ok = mask[s] != 0;
    row[s] = ok ? row[s] : -INFINITY;
    allowed += ok;
  }
  return allowed;
}

/** gmax[g] = max of row over group g of G equal parts of [0, n). */
R1_VECTOR static void group_max(const double *row, size_t n, size_t G, double *gmax) {
  for (size_t g = 0; g < G; g++) {
    double m = -INFINITY;
    const size_t from = g * n / G, to = (g + 1) * n / G;
#pragma omp simd reduction(max : m)
    for (size_t s = from; s < to; s++) m = row[s] > m ? row[s] : m;
    gmax[g] = m;
  }
}

/** The (k+1)-th largest of x[0..m) (x reordered): quickselect with a branch-free partition. */
static double kth_largest(double *x, size_t m, size_t k) {
  size_t lo = 0, hi = m - 1;
  while (hi > lo) {
    size_t mid = lo + (hi - lo) / 2;
    if (x[mid] > x[lo]) { double t = x[mid]; x[mid] = x[lo]; x[lo] = t; }
    if (x[hi] > x[lo]) { double t = x[hi]; x[hi] = x[lo]; x[lo] = t; }
    if (x[mid] > x[hi]) { double t = x[mid]; x[mid] = x[hi]; x[hi] = t; }
    const double pivot = x[hi];
    size_t store = lo;
    for (size_t j = lo; j < hi; j++) {
      const double cur = x[j];
      x[j] = x[store];
      x[store] = cur;
      store += cur > pivot;
    }
    x[hi] = x[store];
    x[store] = pivot;
    if (store == k) break;
    if (store < k) lo = store + 1;
    else hi = store - 1;
  }
  return x[k];
}

/**
 * out[0..topk) = the best topk of the m candidates sc->asc (ascending keys, every one at or above a
 * threshold that the k-th best reaches), ascending, −1 padded.
 */
static void select_candidates(topk_scratch *sc, size_t m, size_t topk, int32_t *out) {
  size_t w = 0;
  if (m <= topk) { // only when scores are NaN (the threshold then proves nothing): keep what passed
    for (size_t j = 0; j < m; j++) out[w++] = sc->asc[j].i;
    for (; w < topk; w++) out[w] = -1;
    return;
  }
  memcpy(sc->work, sc->asc, m * sizeof(cand));
  nth_best(sc->work, m, topk - 1);
  const cand kth = sc->work[topk - 1];
  for (size_t j = 0; j < m && w < topk; j++)
    if (!better(kth, sc->asc[j])) out[w++] = sc->asc[j].i;
}

/**
 * Masks one row of n scores (masked keys → −∞; mask NULL = all allowed) and, when at most topk keys
 * are allowed, writes them all to out[0..topk) (ascending, −1 padded) and returns true.
 */
static bool mask_or_take_all(double *row, size_t n, const float *mask, size_t topk, int32_t *out) {
  const size_t allowed = mask ? mask_row(row, mask, n) : n;
  if (allowed > topk) return false;
  size_t w = 0;
  for (size_t s = 0; s < n; s++)
    if (!mask || mask[s] != 0) out[w++] = (int32_t)s;
  for (; w < topk; w++) out[w] = -1;
  return true;
}

/** The top-k of a masked row with more than topk allowed keys, thresholded by G ≥ topk group maxima. */
static void select_by_groups(topk_scratch *sc, size_t n, const float *mask, size_t topk, int32_t *out) {
  double *row = sc->row;
  // Threshold: the topk-th largest maximum of G ≥ topk groups; those topk groups' maxima are distinct
  // keys scoring ≥ it, so the k-th best score is ≥ it too.
  size_t G = n < 2 * topk ? n : 2 * topk;
  group_max(row, n, G, sc->gmax);
  const double thr = kth_largest(sc->gmax, G, topk - 1);
  size_t m = 0;
  for (size_t s = 0; s < n; s++) {
    if (row[s] >= thr && (!mask || mask[s] != 0)) sc->asc[m++] = (cand){row[s], (int32_t)s};
  }
  select_candidates(sc, m, topk, out);
}

/**
 * The top-k allowed keys of one row of n scores (keys 0..n−1; mask NULL = all allowed) → out[0..topk),
 * ascending, −1 padded.
 */
static void select_row(topk_scratch *sc, size_t n, const float *mask, size_t topk, int32_t *out) {
  if (!mask_or_take_all(sc->row, n, mask, topk, out)) select_by_groups(sc, n, mask, topk, out);
}

/**
 * Top-k of a chunk of Cq queries from head dots [Cq, Hi, ld] (q[r, h]·k[s] at column s < width): query r
 * sits at key position firstPos + r and sees keys s ≤ that (and not masked) → out[r·topk ..].
 */
static void chunk_rows(const float *dots, size_t ld, const float *W, size_t Cq, size_t Hi, long width, long firstPos,
                       size_t topk, double scale, const float *mask, int32_t *out, topk_scratch *sc) {
  for (size_t r = 0; r < Cq; r++) {
    int32_t *o = out + r * topk;
    long last = firstPos + (long)r < width - 1 ? firstPos + (long)r : width - 1;
    if (last < 0) {
      for (size_t j = 0; j < topk; j++) o[j] = -1;
      continue;
    }
    for (size_t h = 0; h < Hi; h++) sc->wh[h] = 0.5 * scale * W[r * Hi + h];
    score_row(dots + r * Hi * ld, ld, Hi, sc->wh, (size_t)last + 1, sc->row);
    select_row(sc, (size_t)last + 1, mask, topk, o);
  }
}

/**
 * chunkTopK(dots, w, mask, out, Cq, Hi, width, firstPos, topk, scale, outOff): chunkTopK of
 * indexer_topk.ts (the selection over one GEMM block dots [Cq, Hi, width]); mask [≥ width] or null.
 */
static napi_value chunk_top_k(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "chunkTopK", 11)) return NULL;
  size_t nd, nw, nm, no;
  float *D = r1_f32(&a, 0, &nd, false), *W = r1_f32(&a, 1, &nw, false), *M = r1_f32(&a, 2, &nm, true);
  int32_t *O = r1_i32(&a, 3, &no, false);
  int64_t Cq = r1_int(&a, 4), Hi = r1_int(&a, 5), width = r1_int(&a, 6), topk = r1_int(&a, 8);
  double first = r1_num(&a, 7); // negative when the chunk's first queries precede every key
  double scale = r1_num(&a, 9);
  int64_t outOff = r1_int(&a, 10);
  if (!a.ok) return NULL;
  if (topk < 1 || width > INT32_MAX || !(fabs(first) <= INT32_MAX) || first != (double)(long)first)
    return (void)r1_fail(&a, "topk must be ≥ 1, width a 32-bit size and firstPos a 32-bit integer"), NULL;
  if (!r1_fits(&a, "dots", (uint64_t)(Cq * Hi * width), nd) || !r1_fits(&a, "w", (uint64_t)(Cq * Hi), nw) ||
      (M && !r1_fits(&a, "mask", (uint64_t)width, nm)) || !r1_fits(&a, "out", (uint64_t)(outOff + Cq * topk), no))
    return NULL;
  topk_scratch sc;
  if (!scratch_new(&sc, width, Hi, topk)) return (void)r1_fail(&a, "out of memory"), NULL;
  chunk_rows(D, width, W, Cq, Hi, width, (long)first, topk, scale, M, O + outOff, &sc);
  scratch_free(&sc);
  return NULL;
}

// The fused indexer: each query's scores over its visible keys straight from q and the keys (no dots
// matrix in memory), 16 keys per vector, then the selection. Keys are packed once per call in blocks of
// 16, transposed (KT[block][c][lane] = k[16·block + lane][c]), so one vector load serves 16 keys; two
// blocks × four heads of accumulators keep eight independent chains of multiply-adds in flight. The
// block maxima come out of the same pass, and the top-k threshold (the topk-th largest block maximum:
// topk distinct keys reach it) leaves only the blocks holding a key at or above it to scan.

typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef int64_t v8l __attribute__((vector_size(64)));

/** Keys [Sk, Di] → KT [⌈Sk/16⌉, Di, 16] (zeros past Sk). */
static void pack_keys(const float *K, size_t Sk, size_t Di, float *KT) {
  const size_t nb = (Sk + VL - 1) / VL;
  for (size_t blk = 0; blk < nb; blk++)
    for (size_t l = 0; l < VL; l++) {
      const size_t s = blk * VL + l;
      float *dst = KT + blk * Di * VL + l;
      for (size_t c = 0; c < Di; c++) dst[c * VL] = s < Sk ? K[s * Di + c] : 0.0f;
    }
}

/** acc (two halves of 16 lanes, float64) += w·(x + |x|) for the 16 float32 dots x: w·2·ReLU(x) without a branch. */
static inline __attribute__((always_inline)) void add_relu(v8d *lo, v8d *hi, v16 x, double w) {
  v8f a, b;
  memcpy(&a, &x, sizeof a);
  memcpy(&b, (const char *)&x + sizeof a, sizeof b);
  const v8d xa = __builtin_convertvector(a, v8d), xb = __builtin_convertvector(b, v8d);
  const v8l abs_mask = (v8l){0} + 0x7fffffffffffffffLL;
  *lo += w * (xa + (v8d)((v8l)xa & abs_mask));
  *hi += w * (xb + (v8d)((v8l)xb & abs_mask));
}

#define IDX_HB 4 /* heads per pass of the score kernel */

/**
 * row[16·blk + l] = Σ_h wh[h]·(d + |d|), d = q_h·k (float32 multiply-adds over c in order, then float64
 * across heads in order), for key blocks blk < nblk of KT. q [Hi, Di].
 */
__attribute__((optimize("fp-contract=fast"))) R1_VECTOR static void index_scores(const float *q, const double *wh, size_t Hi,
                                                                                  size_t Di, const float *KT, size_t nblk,
                                                                                  double *row) {
  for (size_t blk = 0; blk < nblk; blk += 2) {
    const float *k0 = KT + blk * Di * VL, *k1 = blk + 1 < nblk ? k0 + Di * VL : k0;
    v8d s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    size_t h = 0;
    for (; h + IDX_HB <= Hi; h += IDX_HB) {
      v16 a0[IDX_HB], a1[IDX_HB];
      for (int hh = 0; hh < IDX_HB; hh++) a0[hh] = a1[hh] = (v16){0};
      const float *qh = q + h * Di;
      for (size_t c = 0; c < Di; c++) {
        const v16 x0 = load16(k0 + c * VL), x1 = load16(k1 + c * VL);
        for (int hh = 0; hh < IDX_HB; hh++) {
          const float qv = qh[hh * Di + c];
          a0[hh] += qv * x0;
          a1[hh] += qv * x1;
        }
      }
      for (int hh = 0; hh < IDX_HB; hh++) {
        add_relu(&s0, &s1, a0[hh], wh[h + hh]);
        add_relu(&s2, &s3, a1[hh], wh[h + hh]);
      }
    }
    for (; h < Hi; h++) {
      v16 a0 = {0}, a1 = {0};
      const float *qh = q + h * Di;
      for (size_t c = 0; c < Di; c++) {
        a0 += qh[c] * load16(k0 + c * VL);
        a1 += qh[c] * load16(k1 + c * VL);
      }
      add_relu(&s0, &s1, a0, wh[h]);
      add_relu(&s2, &s3, a1, wh[h]);
    }
    memcpy(row + blk * VL, &s0, sizeof s0);
    memcpy(row + blk * VL + 8, &s1, sizeof s1);
    if (blk + 1 < nblk) {
      memcpy(row + blk * VL + 16, &s2, sizeof s2);
      memcpy(row + blk * VL + 24, &s3, sizeof s3);
    }
  }
}

/** bmax[blk] = max of row's 16 entries of block blk (NaN skipped, as group_max). */
R1_VECTOR static void block_max(const double *row, size_t nblk, double *bmax) {
  for (size_t blk = 0; blk < nblk; blk++) {
    double m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (size_t l = 0; l < VL; l++) m = row[blk * VL + l] > m ? row[blk * VL + l] : m;
    bmax[blk] = m;
  }
}

/**
 * Top-k of one scored row (keys 0..n−1, row padded to whole blocks) → out[0..topk) ascending, −1
 * padded; select_row's result, with the threshold from the block maxima when there are ≥ topk blocks.
 */
static void select_blocks(topk_scratch *sc, size_t n, const float *mask, size_t topk, int32_t *out) {
  double *row = sc->row;
  const size_t nblk = (n + VL - 1) / VL;
  if (mask_or_take_all(row, n, mask, topk, out)) return;
  if (nblk < topk) return select_by_groups(sc, n, mask, topk, out); // too few blocks for their threshold
  for (size_t s = n; s < nblk * VL; s++) row[s] = -INFINITY;
  double *bmax = sc->gmax, *tmp = sc->gmax + nblk;
  block_max(row, nblk, bmax);
  memcpy(tmp, bmax, nblk * sizeof(double));
  const double thr = kth_largest(tmp, nblk, topk - 1);
  size_t m = 0;
  for (size_t blk = 0; blk < nblk; blk++) {
    if (!(bmax[blk] >= thr)) continue;
    const size_t end = blk * VL + VL < n ? blk * VL + VL : n;
    for (size_t s = blk * VL; s < end; s++) { // branch-free append: which keys pass is data
      sc->asc[m] = (cand){row[s], (int32_t)s};
      m += (row[s] >= thr) & (!mask || mask[s] != 0);
    }
  }
  select_candidates(sc, m, topk, out);
}

/** Queries per unit of work handed to a worker (units interleave: causal rows grow along the sequence). */
#define IDX_CHUNK 16

/** One worker's share of indexer_top_k: units u ≡ first (mod step) of the B·⌈Sq/IDX_CHUNK⌉ units. */
typedef struct {
  const float *Q, *W, *KT, *M;
  int32_t *O;
  size_t B, Sq, Sk, Hi, Di, topk, first, step;
  double scale;
  topk_scratch sc;
} idx_job;

static void *idx_work(void *arg) {
  idx_job *j = arg;
  const size_t per = (j->Sq + IDX_CHUNK - 1) / IDX_CHUNK, Hi = j->Hi, Di = j->Di, Sq = j->Sq, Sk = j->Sk;
  const size_t kblocks = (Sk + VL - 1) / VL;
  for (size_t u = j->first; u < j->B * per; u += j->step) {
    const size_t b = u / per, t0 = (u % per) * IDX_CHUNK, t1 = t0 + IDX_CHUNK < Sq ? t0 + IDX_CHUNK : Sq;
    for (size_t t = t0; t < t1; t++) {
      int32_t *o = j->O + (b * Sq + t) * j->topk;
      const long last = (long)Sk - (long)Sq + (long)t; // causal: query t sits at key position Sk − Sq + t
      if (last < 0) continue; // out is already −1
      const size_t n = (size_t)last + 1;
      for (size_t h = 0; h < Hi; h++) j->sc.wh[h] = 0.5 * j->scale * j->W[(b * Sq + t) * Hi + h];
      index_scores(j->Q + (b * Sq + t) * Hi * Di, j->sc.wh, Hi, Di, j->KT + b * kblocks * Di * VL, (n + VL - 1) / VL, j->sc.row);
      select_blocks(&j->sc, n, j->M ? j->M + b * Sk : NULL, j->topk, o);
    }
  }
  return NULL;
}

/**
 * indexerTopK(q, w, k, mask, out, B, Sq, Sk, Hi, Di, topk, scale): q [B, Sq, Hi, Di], w [B, Sq, Hi],
 * k [B, Sk, Di], mask [B, Sk] or null → out [B, Sq, topk] (ascending, −1 padded). Each query's scores
 * by the fused kernel, then its selection; chunks of queries spread over the worker threads (each
 * query's result is independent of who computes it).
 */
static napi_value indexer_top_k(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "indexerTopK", 12)) return NULL;
  size_t nq, nw, nk, nm, no;
  float *Q = r1_f32(&a, 0, &nq, false), *W = r1_f32(&a, 1, &nw, false), *K = r1_f32(&a, 2, &nk, false),
        *M = r1_f32(&a, 3, &nm, true);
  int32_t *O = r1_i32(&a, 4, &no, false);
  int64_t B = r1_int(&a, 5), Sq = r1_int(&a, 6), Sk = r1_int(&a, 7), Hi = r1_int(&a, 8), Di = r1_int(&a, 9),
          topk = r1_int(&a, 10);
  double scale = r1_num(&a, 11);
  if (!a.ok) return NULL;
  if (topk < 1 || Sk > INT32_MAX / 2 || Di > INT32_MAX || Hi > INT32_MAX)
    return (void)r1_fail(&a, "topk must be ≥ 1 and the sizes 32-bit"), NULL;
  if (!r1_fits(&a, "q", (uint64_t)(B * Sq * Hi * Di), nq) || !r1_fits(&a, "w", (uint64_t)(B * Sq * Hi), nw) ||
      !r1_fits(&a, "k", (uint64_t)(B * Sk * Di), nk) || (M && !r1_fits(&a, "mask", (uint64_t)(B * Sk), nm)) ||
      !r1_fits(&a, "out", (uint64_t)(B * Sq * topk), no))
    return NULL;
  for (int64_t e = 0; e < B * Sq * topk; e++) O[e] = -1;
  if (Sk == 0 || Sq == 0 || B == 0) return NULL;
  const size_t kblocks = (Sk + VL - 1) / VL, rowLen = kblocks * VL;
  r1_scratch scr;
  r1_scratch_begin(&scr);
  float *KT = r1_scratch_get(&scr, 0, sizeof(float) * ((size_t)B * kblocks * Di * VL + 1));
  if (!KT) {
    r1_scratch_end(&scr);
    return (void)r1_fail(&a, "out of memory"), NULL;
  }
  for (int64_t b = 0; b < B; b++) pack_keys(K + b * Sk * Di, Sk, Di, KT + b * kblocks * Di * VL);
  const int64_t units = B * ((Sq + IDX_CHUNK - 1) / IDX_CHUNK);
  int workers = r1_workers((double)B * Sq * Sk * (Hi * Di + 4) / 2);
  if (workers > units) workers = (int)units;
  idx_job jobs[R1_MAX_WORKERS];
  int made = 0;
  for (; made < workers; made++) {
    idx_job *j = &jobs[made];
    *j = (idx_job){Q, W, KT, M, O, B, Sq, Sk, Hi, Di, topk, made, workers, scale, {0}};
    // Block maxima and their copy share gmax (select_row needs 2·topk + 1 there).
    if (!scratch_new(&j->sc, rowLen, Hi, (kblocks > topk ? kblocks : topk) + 1)) break;
  }
  if (made == workers) r1_run_workers(idx_work, jobs, sizeof(idx_job), workers);
  for (int w = 0; w < made; w++) scratch_free(&jobs[w].sc);
  r1_scratch_end(&scr);
  if (made < workers) return (void)r1_fail(&a, "out of memory"), NULL;
  return NULL;
}

// ------------------------------------------------------------------- gathered sparse attention
//
// The gathers are cache-miss bound, so the loop order is chosen for the cache. Per-head keys: heads
// outer, each head's keys packed ([B, S, H, D] rows hold every head) and its queries run in two
// passes — scores with only its keys in L2, then values with only its values. One shared key head
// (MQA): queries outer, a query's gathered rows serving every head from L1. Dots and weighted sums
// use 16-lane vectors (16 keys' dots reduced together).

/** Shapes of one sparse attention call (see sparse_attention below). */
typedef struct {
  size_t B, H, Hk, Sq, Sk, Dk, Dv, kSel;
  bool bshd;
  strides q, k, v, o, p;
} sa_dims;

/** Reads the sizes shared by the forward and backward (arguments first..first+8) and checks them. */
static bool sa_read_dims(r1_args *a, size_t first, sa_dims *d) {
  int64_t v[8];
  for (int i = 0; i < 8; i++) v[i] = r1_int(a, first + i);
  d->bshd = r1_bool(a, first + 8);
  if (!a->ok) return false;
  d->B = v[0], d->H = v[1], d->Hk = v[2], d->Sq = v[3], d->Sk = v[4], d->Dk = v[5], d->Dv = v[6], d->kSel = v[7];
  if (d->Hk != 1 && d->Hk != d->H) return r1_fail(a, "the key heads must be 1 (shared) or H");
  if (d->Sk > INT32_MAX || d->kSel > INT32_MAX) return r1_fail(a, "Sk and k must be 32-bit sizes");
  d->q = strides_of(d->H, d->Sq, d->Dk, d->bshd);
  d->k = strides_of(d->Hk, d->Sk, d->Dk, d->bshd);
  d->v = strides_of(d->Hk, d->Sk, d->Dv, d->bshd);
  d->o = strides_of(d->H, d->Sq, d->Dv, d->bshd);
  d->p = strides_of(d->H, d->Sq, d->kSel, d->bshd);
  return true;
}

/** Whether heads run outer (per-head keys, several heads) or queries do (shared keys, or one head). */
static inline bool heads_outer(const sa_dims *d) { return d->Hk == d->H && d->H > 1; }

/**
 * The valid slots of every query of batch element b (in range, causal, not masked, first occurrence):
 * cnt[i] of them, slot numbers in slots[i·kSel ..], their keys in keys[i·kSel ..]. `seen` [Sk] holds
 * stamps below `stamp0` (deduplication without clearing).
 */
static void valid_slots(const sa_dims *d, const int32_t *I, const float *mask, bool causal, int64_t *seen,
                        int64_t stamp0, int32_t *cnt, int32_t *slots, int32_t *keys) {
  const size_t Sq = d->Sq, Sk = d->Sk, kSel = d->kSel;
  for (size_t i = 0; i < Sq; i++) {
    const int32_t *ir = I + i * kSel;
    const long maxKey = causal ? (long)Sk - (long)Sq + (long)i : (long)Sk - 1;
    const int64_t stamp = stamp0 + (int64_t)i;
    int32_t n = 0;
    for (size_t s = 0; s < kSel; s++) {
      int32_t j = ir[s];
      if (j < 0 || (size_t)j >= Sk || j > maxKey || seen[j] == stamp) continue;
      if (mask && mask[j] == 0) continue;
      seen[j] = stamp;
      slots[i * kSel + n] = (int32_t)s;
      keys[i * kSel + n] = j;
      n++;
    }
    cnt[i] = n;
  }
}

/** The work of one sparse attention call split into (head, query) units; see sa_unit. */
typedef struct {
  const sa_dims *d;
  const float *Q, *K, *V, *G;
  float *O, *P, *DQ, *DK, *DV;
  const int32_t *I;
  float scale;
  size_t b;
  const int32_t *cnt, *slots, *keys;
  size_t from, to; // units
  float *buf;      // scratch: kSel + VL floats (forward), 3·kSel + VL (backward); then the packed rows
  bool pack;       // per-head keys and values packed into buf + kSel + VL (Sk·max(Dk, Dv) floats)
} sa_job;

/** Unit u → (head, query): head-major when heads run outer, query-major otherwise. */
static inline void sa_unit(const sa_dims *d, size_t u, size_t *h, size_t *i) {
  if (heads_outer(d)) *h = u / d->Sq, *i = u % d->Sq;
  else *i = u / d->H, *h = u % d->H;
}

/** Lane l = Σ_{c ≡ l mod 16} a[c]·b[c] over c < n (a fixed order: same sums on every target). */
static inline __attribute__((always_inline)) v16 dot_lanes(const float *a, const float *b, size_t n) {
  v16 acc = {0};
  size_t c = 0;
  for (; c + VL <= n; c += VL) acc += load16(a + c) * load16(b + c);
  for (size_t l = 0; c + l < n; l++) acc[l] += a[c + l] * b[c + l];
  return acc;
}

/** Lane k of the result = Σ_l x[k][l]: 16 vectors' sums in 15 pairwise two-source shuffles. */
static inline __attribute__((always_inline)) v16 sum16(v16 *x) {
  const i16 a8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
  const i16 b8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
  const i16 a4 = {0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27};
  const i16 b4 = {4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31};
  const i16 a2 = {0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29};
  const i16 b2 = {2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31};
  const i16 a1 = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
  const i16 b1 = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
  for (int m = 0; m < 8; m++) x[m] = __builtin_shuffle(x[2 * m], x[2 * m + 1], a8) + __builtin_shuffle(x[2 * m], x[2 * m + 1], b8);
  for (int m = 0; m < 4; m++) x[m] = __builtin_shuffle(x[2 * m], x[2 * m + 1], a4) + __builtin_shuffle(x[2 * m], x[2 * m + 1], b4);
  for (int m = 0; m < 2; m++) x[m] = __builtin_shuffle(x[2 * m], x[2 * m + 1], a2) + __builtin_shuffle(x[2 * m], x[2 * m + 1], b2);
  return __builtin_shuffle(x[0], x[1], a1) + __builtin_shuffle(x[0], x[1], b1);
}

/** out[t] = a·X[rows[t]] for t < n (rows of X at stride xs, D floats), 16 rows at a time. */
static inline __attribute__((always_inline)) void dots16(const float *a, const float *X, size_t xs, size_t D, const int32_t *rows, size_t n, float *out) {
  v16 x[VL];
  for (size_t t0 = 0; t0 < n; t0 += VL) {
    size_t m = n - t0 < VL ? n - t0 : VL;
    for (size_t t = 0; t < m; t++) x[t] = dot_lanes(a, X + (size_t)rows[t0 + t] * xs, D);
    for (size_t t = m; t < VL; t++) x[t] = (v16){0};
    v16 s = sum16(x);
    for (size_t t = 0; t < m; t++) out[t0 + t] = s[t];
  }
}

/** out[c] = Σ_t w[t]·X[rows[t], c] for c < D (rows at stride xs), 16 columns at a time in a register. */
static inline __attribute__((always_inline)) void weighted_rows(const float *w, const float *X, size_t xs, size_t D, const int32_t *rows, size_t n, float *out) {
  size_t c0 = 0;
  for (; c0 + VL <= D; c0 += VL) {
    v16 acc = {0};
    for (size_t t = 0; t < n; t++) acc += w[t] * load16(X + (size_t)rows[t] * xs + c0);
    memcpy(out + c0, &acc, sizeof acc);
  }
  for (size_t c = c0; c < D; c++) {
    float acc = 0;
    for (size_t t = 0; t < n; t++) acc += w[t] * X[(size_t)rows[t] * xs + c];
    out[c] = acc;
  }
}

/** y[c] += s·x[c] for c < D. */
static inline __attribute__((always_inline)) void axpy(float s, const float *x, float *y, size_t D) {
  size_t c = 0;
  for (; c + VL <= D; c += VL) {
    v16 v = load16(y + c) + s * load16(x + c);
    memcpy(y + c, &v, sizeof v);
  }
  for (; c < D; c++) y[c] += s * x[c];
}

/**
 * Scores and softmax of one (head, query) over its n gathered keys (rows of K, stride ks): p's row
 * gets the probabilities in their slots (0 elsewhere), w[0..n) too; returns n.
 */
R1_VECTOR static size_t attend_scores(const sa_job *j, const float *K, size_t ks, size_t h, size_t i) {
  const sa_dims *d = j->d;
  const size_t Dk = d->Dk, kSel = d->kSel, b = j->b;
  const float *q = j->Q + b * d->q.b + h * d->q.h + i * d->q.s;
  float *p = j->P + b * d->p.b + h * d->p.h + i * d->p.s;
  const size_t n = (size_t)j->cnt[i];
  const int32_t *slots = j->slots + i * kSel, *keys = j->keys + i * kSel;
  for (size_t s = 0; s < kSel; s++) p[s] = 0;
  if (n == 0) return 0;
  float *w = j->buf;
  const float scale = j->scale;
  float mx = -INFINITY;
  dots16(q, K, ks, Dk, keys, n, w);
  for (size_t t = 0; t < n; t++) {
    float s = w[t] * scale;
    w[t] = s;
    mx = s > mx ? s : mx;
  }
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (size_t t = 0; t < n; t++) {
    float e = r1_expf(w[t] - mx);
    w[t] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  for (size_t t = 0; t < n; t++) {
    w[t] *= inv;
    p[slots[t]] = w[t];
  }
  return n;
}

/** o of one (head, query) = Σ_t w_t·V[keys_t] (rows of V, stride vs; zeros when n = 0), VL columns at a time in registers. */
R1_VECTOR static void attend_values(const sa_job *j, const float *V, size_t vs, size_t h, size_t i, const float *w,
                                    size_t n) {
  const sa_dims *d = j->d;
  const size_t Dv = d->Dv, b = j->b;
  const int32_t *keys = j->keys + i * d->kSel;
  weighted_rows(w, V, vs, Dv, keys, n, j->O + b * d->o.b + h * d->o.h + i * d->o.s);
}

/** Copies rows 0..rows of one head of X (row stride xs, D floats) into packed [rows, D]. */
static void pack_rows(const float *X, size_t xs, size_t D, size_t rows, float *packed) {
  for (size_t r = 0; r < rows; r++) memcpy(packed + r * D, X + r * xs, D * sizeof(float));
}

/**
 * Forward units [from, to). Heads outer: per head, one pass of scores over its keys, then one of
 * values (each operand alone stays in L2; [B, S, H, D] heads are packed first, so no line holds
 * another head's data). Queries outer (shared keys): scores and values per unit, the gathered rows
 * serving every head from L1.
 */
static void *attend_work(void *arg) {
  const sa_job *j = arg;
  const sa_dims *d = j->d;
  const size_t b = j->b, Sq = d->Sq, Sk = d->Sk, Dk = d->Dk, Dv = d->Dv;
  float *w = j->buf;
  if (!heads_outer(d)) {
    for (size_t u = j->from; u < j->to; u++) {
      size_t h, i;
      sa_unit(d, u, &h, &i);
      size_t n = attend_scores(j, j->K + b * d->k.b + h * d->k.h, d->k.s, h, i);
      attend_values(j, j->V + b * d->v.b + h * d->v.h, d->v.s, h, i, w, n);
    }
    return NULL;
  }
  float *packed = j->buf + d->kSel + VL;
  for (size_t u0 = j->from; u0 < j->to;) {
    const size_t h = u0 / Sq, i0 = u0 % Sq, i1 = (h + 1) * Sq < j->to ? Sq : j->to - h * Sq;
    const float *K = j->K + b * d->k.b + h * d->k.h, *V = j->V + b * d->v.b + h * d->v.h;
    size_t ks = d->k.s, vs = d->v.s;
    if (j->pack && ks != Dk) pack_rows(K, ks, Dk, Sk, packed), K = packed, ks = Dk;
    for (size_t i = i0; i < i1; i++) {
      attend_scores(j, K, ks, h, i);
    }
    if (j->pack && vs != Dv) pack_rows(V, vs, Dv, Sk, packed), V = packed, vs = Dv;
    const float *P = j->P + b * d->p.b + h * d->p.h;
    for (size_t i = i0; i < i1; i++) {
      // w from p's row: the slots' probabilities in order.
      const size_t n = (size_t)j->cnt[i];
      const int32_t *slots = j->slots + i * d->kSel;
      for (size_t t = 0; t < n; t++) w[t] = P[i * d->p.s + (size_t)slots[t]];
      attend_values(j, V, vs, h, i, w, n);
    }
    u0 = h * Sq + i1;
  }
  return NULL;
}

// Shared keys (MQA, the latent form): one query's heads at once. Its n gathered rows are read once
// (from L2) and serve every head from L1; scores run with 16 heads in the lanes of a vector (q
// transposed per query), eight keys' multiply-add chains in flight; the softmax runs across keys with
// heads in lanes; values accumulate four heads × four 16-column vectors per pass over the rows.

/** Scratch floats per query of attend_mqa: scores [kSel, Hp] (Hp = H rounded up to 16) and q transposed [Dk, 16]. */
static inline size_t mqa_scratch(const sa_dims *d) {
  const size_t Hp = (d->H + VL - 1) / VL * VL;
  return d->kSel * Hp + d->Dk * VL + VL;
}

__attribute__((optimize("fp-contract=fast"))) R1_VECTOR static void attend_mqa(const sa_job *j, size_t i) {
  const sa_dims *d = j->d;
  const size_t H = d->H, Dk = d->Dk, Dv = d->Dv, kSel = d->kSel, b = j->b, Hp = (H + VL - 1) / VL * VL;
  const size_t n = (size_t)j->cnt[i];
  const int32_t *slots = j->slots + i * kSel, *keys = j->keys + i * kSel;
  const float *Kb = j->K + b * d->k.b, *Vb = j->V + b * d->v.b;
  float *S = j->buf, *QT = S + kSel * Hp;
  for (size_t h = 0; h < H; h++) memset(j->P + b * d->p.b + h * d->p.h + i * d->p.s, 0, kSel * sizeof(float));
  if (n == 0) {
    for (size_t h = 0; h < H; h++) memset(j->O + b * d->o.b + h * d->o.h + i * d->o.s, 0, Dv * sizeof(float));
    return;
  }
  // Scores S[t, h] = scale·q_h·k_t, sixteen heads per vector.
  for (size_t h0 = 0; h0 < Hp; h0 += VL) {
    // Lanes past H keep what an earlier block left (zeros at the worker's start): never read back.
    for (size_t l = 0; l < VL && h0 + l < H; l++) {
      const float *q = j->Q + b * d->q.b + (h0 + l) * d->q.h + i * d->q.s;
      for (size_t c = 0; c < Dk; c++) QT[c * VL + l] = q[c];
    }
    size_t t = 0;
    for (; t + 8 <= n; t += 8) {
      const float *r[8];
      for (int u = 0; u < 8; u++) r[u] = Kb + (size_t)keys[t + u] * d->k.s;
      v16 acc[8];
      for (int u = 0; u < 8; u++) acc[u] = (v16){0};
      for (size_t c = 0; c < Dk; c++) {
        const v16 qv = load16(QT + c * VL);
        for (int u = 0; u < 8; u++) acc[u] += r[u][c] * qv;
      }
      for (int u = 0; u < 8; u++) {
        const v16 sv = acc[u] * j->scale;
        memcpy(S + (t + u) * Hp + h0, &sv, sizeof sv);
      }
    }
    for (; t < n; t++) {
      const float *r = Kb + (size_t)keys[t] * d->k.s;
      v16 acc = {0};
      for (size_t c = 0; c < Dk; c++) acc += r[c] * load16(QT + c * VL);
      const v16 sv = acc * j->scale;
      memcpy(S + t * Hp + h0, &sv, sizeof sv);
    }
  }
  // Softmax over the n keys, per head (lane).
  for (size_t h0 = 0; h0 < Hp; h0 += VL) {
    v16 mx = load16(S + h0);
    for (size_t t = 1; t < n; t++) {
      const v16 v = load16(S + t * Hp + h0);
      for (int l = 0; l < VL; l++) mx[l] = v[l] > mx[l] ? v[l] : mx[l];
    }
    v16 sum = {0};
    for (size_t t = 0; t < n; t++) {
      float *row = S + t * Hp + h0;
#pragma omp simd
      for (int l = 0; l < VL; l++) row[l] = r1_expf(row[l] - mx[l]);
      sum += load16(row);
    }
    const v16 inv = 1.0f / sum;
    for (size_t t = 0; t < n; t++) {
      const v16 pv = load16(S + t * Hp + h0) * inv;
      memcpy(S + t * Hp + h0, &pv, sizeof pv);
      for (size_t l = 0; l < VL && h0 + l < H; l++) j->P[b * d->p.b + (h0 + l) * d->p.h + i * d->p.s + (size_t)slots[t]] = pv[l];
    }
  }
  // o_h = Σ_t p[t, h]·v_t: four heads × four column vectors per pass (fixed counts: the 16
  // accumulators stay in registers), then what is left of the heads and columns.
  const size_t Hf = H / 4 * 4, Df = Dv / (4 * VL) * (4 * VL);
  for (size_t c0 = 0; c0 < Df; c0 += 4 * VL)
    for (size_t h0 = 0; h0 < Hf; h0 += 4) {
      v16 acc[4][4];
      for (int a = 0; a < 4; a++)
        for (int v = 0; v < 4; v++) acc[a][v] = (v16){0};
      for (size_t t = 0; t < n; t++) {
        const float *r = Vb + (size_t)keys[t] * d->v.s + c0;
        const v16 x0 = load16(r), x1 = load16(r + VL), x2 = load16(r + 2 * VL), x3 = load16(r + 3 * VL);
        for (int a = 0; a < 4; a++) {
          const float pw = S[t * Hp + h0 + a];
          acc[a][0] += pw * x0;
          acc[a][1] += pw * x1;
          acc[a][2] += pw * x2;
          acc[a][3] += pw * x3;
        }
      }
      for (int a = 0; a < 4; a++) memcpy(j->O + b * d->o.b + (h0 + a) * d->o.h + i * d->o.s + c0, acc[a], sizeof acc[a]);
    }
  for (size_t c0 = 0; c0 < Dv; c0 += 4 * VL) {
    const size_t nv = Dv - c0 >= 4 * VL ? 4 : (Dv - c0 + VL - 1) / VL; // column vectors this pass (the last may be partial)
    for (size_t h0 = c0 < Df ? Hf : 0; h0 < H; h0 += 4) { // the full block's heads are done
      const size_t nh = H - h0 < 4 ? H - h0 : 4;
      v16 acc[4][4];
      for (int a = 0; a < 4; a++)
        for (int v = 0; v < 4; v++) acc[a][v] = (v16){0};
      for (size_t t = 0; t < n; t++) {
        const float *r = Vb + (size_t)keys[t] * d->v.s + c0;
        v16 x[4];
        for (size_t v = 0; v < nv; v++) {
          if (c0 + v * VL + VL <= Dv) x[v] = load16(r + v * VL);
          else {
            x[v] = (v16){0};
            for (size_t l = 0; c0 + v * VL + l < Dv; l++) x[v][l] = r[v * VL + l];
          }
        }
        for (size_t a = 0; a < nh; a++) {
          const float pw = S[t * Hp + h0 + a];
          for (size_t v = 0; v < nv; v++) acc[a][v] += pw * x[v];
        }
      }
      for (size_t a = 0; a < nh; a++) {
        float *o = j->O + b * d->o.b + (h0 + a) * d->o.h + i * d->o.s + c0;
        for (size_t v = 0; v < nv; v++) {
          const size_t len = Dv - c0 - v * VL < VL ? Dv - c0 - v * VL : VL;
          memcpy(o + v * VL, &acc[a][v], len * sizeof(float));
        }
      }
    }
  }
}

static void *attend_mqa_work(void *arg) {
  const sa_job *j = arg;
  memset(j->buf, 0, mqa_scratch(j->d) * sizeof(float)); // q's padding lanes start at 0
  for (size_t i = j->from; i < j->to; i++) attend_mqa(j, i);
  return NULL;
}

/**
 * Backward of one (head, query) from the saved p: dp = dy·v, ds = scale·p⊙(dp − Σp·dp); dq = Σ ds·k,
 * dk += ds·q, dv += p·dy. Only slots with p ≠ 0 (the valid ones) contribute, in slot order.
 */
/**
 * The part of one (head, query)'s backward that is its own: the contributing slots (p ≠ 0) → their
 * keys, p and ds = scale·p⊙(dp − Σp·dp) with dp = dy·v; dq = Σ ds·k. K, V: this head's rows. hits
 * (or NULL) counts each contributing key. Returns the slot count.
 */
static inline __attribute__((always_inline)) size_t grad_slots(const sa_job *j, size_t h, size_t i, const float *K, const float *V,
                                                              int32_t *keys, float *ps, float *ds, int32_t *hits) {
  const sa_dims *d = j->d;
  const size_t kSel = d->kSel, b = j->b;
  const float *p = j->P + b * d->p.b + h * d->p.h + i * d->p.s, *g = j->G + b * d->o.b + h * d->o.h + i * d->o.s;
  const int32_t *ir = j->I + (b * d->Sq + i) * kSel;
  size_t n = 0;
  for (size_t s = 0; s < kSel; s++) {
    const int32_t jj = ir[s];
    if (p[s] == 0 || jj < 0 || (size_t)jj >= d->Sk) continue;
    keys[n] = jj;
    ps[n++] = p[s];
    if (hits) hits[jj]++;
  }
  dots16(g, V, d->v.s, d->Dv, keys, n, ds); // dp
  float dot = 0;
  for (size_t t = 0; t < n; t++) dot += ps[t] * ds[t];
  for (size_t t = 0; t < n; t++) ds[t] = j->scale * ps[t] * (ds[t] - dot);
  weighted_rows(ds, K, d->k.s, d->Dk, keys, n, j->DQ + b * d->q.b + h * d->q.h + i * d->q.s);
  return n;
}

R1_VECTOR static void attend_one_grad(const sa_job *j, size_t h, size_t i) {
  const sa_dims *d = j->d;
  const size_t Dk = d->Dk, Dv = d->Dv, kSel = d->kSel, b = j->b;
  const float *g = j->G + b * d->o.b + h * d->o.h + i * d->o.s, *q = j->Q + b * d->q.b + h * d->q.h + i * d->q.s;
  const float *K = j->K + b * d->k.b + h * d->k.h, *V = j->V + b * d->v.b + h * d->v.h;
  float *DK = j->DK + b * d->k.b + h * d->k.h, *DV = j->DV + b * d->v.b + h * d->v.h;
  int32_t *keys = (int32_t *)j->buf;
  float *ps = j->buf + kSel, *ds = ps + kSel;
  const size_t n = grad_slots(j, h, i, K, V, keys, ps, ds, NULL);
  for (size_t t = 0; t < n; t++) {
    axpy(ds[t], q, DK + (size_t)keys[t] * d->k.s, Dk);
    axpy(ps[t], g, DV + (size_t)keys[t] * d->v.s, Dv);
  }
}

static void *attend_grad_work(void *arg) {
  const sa_job *j = arg;
  for (size_t u = j->from; u < j->to; u++) {
    size_t h, i;
    sa_unit(j->d, u, &h, &i);
    attend_one_grad(j, h, i);
  }
  return NULL;
}

// The shared-key backward on threads, with results identical to one thread's: phase 1 computes each
// (query, head)'s dq and its slots' ds and p (parallel over queries); phase 2 adds ds·q into dk and
// p·dy into dv with keys split into ranges (balanced by how often each key was selected), every thread
// walking all (query, head) units in order and taking only its keys — so each key's sum runs in the
// single-thread order, whatever the thread count.

/** One worker of the shared-key backward, on one chunk of units [u0, u1) (u = query·H + head). */
typedef struct {
  const sa_job *j;
  int32_t *cnt, *keys; // per unit of the chunk (r = u − u0): contributing slots, their keys [r·kSel ..]
  float *ds, *ps;      // their ds and p [r·kSel ..]
  int32_t *hits;       // phase 1: this worker's selection counts per key [Sk]
  size_t u0, u1;
  size_t from, to; // phase 1: units; phase 2: keys
} sk_job;

/** Slots per chunk of the shared-key backward: bounds its scratch (12 MiB) whatever the sizes. */
#define SG_SLOTS (1 << 20)

R1_VECTOR static void shared_grad_units(const sk_job *w) {
  const sa_job *j = w->j;
  const sa_dims *d = j->d;
  const size_t H = d->H, kSel = d->kSel, b = j->b;
  for (size_t u = w->from; u < w->to; u++) {
    const size_t r = u - w->u0;
    w->cnt[r] = (int32_t)grad_slots(j, u % H, u / H, j->K + b * d->k.b, j->V + b * d->v.b, w->keys + r * kSel, w->ps + r * kSel,
                                    w->ds + r * kSel, w->hits);
  }
}

R1_VECTOR static void shared_grad_keys(const sk_job *w) {
  const sa_job *j = w->j;
  const sa_dims *d = j->d;
  const size_t H = d->H, Dk = d->Dk, Dv = d->Dv, kSel = d->kSel, b = j->b;
  float *DK = j->DK + b * d->k.b, *DV = j->DV + b * d->v.b;
  for (size_t u = w->u0; u < w->u1; u++) {
    const size_t i = u / H, h = u % H, r = u - w->u0, n = (size_t)w->cnt[r];
    const float *q = j->Q + b * d->q.b + h * d->q.h + i * d->q.s, *g = j->G + b * d->o.b + h * d->o.h + i * d->o.s;
    const int32_t *keys = w->keys + r * kSel;
    for (size_t t = 0; t < n; t++) {
      const size_t key = (size_t)keys[t];
      if (key < w->from || key >= w->to) continue;
      axpy(w->ds[r * kSel + t], q, DK + key * d->k.s, Dk);
      axpy(w->ps[r * kSel + t], g, DV + key * d->v.s, Dv);
    }
  }
}

static void *shared_grad_units_work(void *arg) { return shared_grad_units(arg), NULL; }
static void *shared_grad_keys_work(void *arg) { return shared_grad_keys(arg), NULL; }

/**
 * The shared-key backward of batch element `base->b` on `workers` threads, chunk by chunk of units in
 * order (so each key's sum still runs in unit order); false when out of memory.
 */
static bool shared_grad(const sa_job *base, int workers, r1_scratch *scr) {
  const sa_dims *d = base->d;
  const size_t units = d->Sq * d->H, kSel = d->kSel, Sk = d->Sk;
  const size_t per = SG_SLOTS / (kSel ? kSel : 1) ? SG_SLOTS / (kSel ? kSel : 1) : 1; // units per chunk
  const size_t span = per < units ? per : units;
  int32_t *cnt = r1_scratch_get(scr, 4, sizeof(int32_t) * (span + 1));
  int32_t *keys = r1_scratch_get(scr, 5, sizeof(int32_t) * (span * kSel + 1));
  float *ds = r1_scratch_get(scr, 6, sizeof(float) * (span * kSel + 1)), *ps = r1_scratch_get(scr, 7, sizeof(float) * (span * kSel + 1));
  int32_t *hits = r1_scratch_get(scr, 8, sizeof(int32_t) * (Sk * (size_t)workers + 1));
  if (!cnt || !keys || !ds || !ps || !hits) return false;
  for (size_t u0 = 0; u0 < units; u0 += span) {
    const size_t u1 = u0 + span < units ? u0 + span : units, m = u1 - u0;
    const int wk = (size_t)workers > m ? (int)m : workers;
    memset(hits, 0, sizeof(int32_t) * Sk * wk);
    sk_job jobs[R1_MAX_WORKERS];
    for (int w = 0; w < wk; w++)
      jobs[w] = (sk_job){base, cnt, keys, ds, ps, hits + Sk * w, u0, u1, u0 + m * w / wk, u0 + m * (w + 1) / wk};
    r1_run_workers(shared_grad_units_work, jobs, sizeof(sk_job), wk);
    // Key ranges holding equal shares of the selections (the causal early keys are picked most).
    uint64_t total = 0;
    for (size_t k = 0; k < Sk; k++) {
      for (int w = 1; w < wk; w++) hits[k] += hits[Sk * w + k];
      total += (uint64_t)hits[k];
    }
    size_t key = 0;
    uint64_t seen = 0;
    for (int w = 0; w < wk; w++) {
      jobs[w].from = key;
      const uint64_t share = total * (uint64_t)(w + 1) / (uint64_t)wk;
      while (key < Sk && (seen < share || w == wk - 1)) seen += (uint64_t)hits[key++];
      jobs[w].to = key;
    }
    r1_run_workers(shared_grad_keys_work, jobs, sizeof(sk_job), wk);
  }
  return true;
}

/**
 * Runs fn over units [0, units) of `base` on up to `workers` threads, each with its own scratch of
 * `per` floats; whole_heads: split only at head boundaries (the backward's dk, dv rows of a head belong
 * to one thread). False when out of memory.
 */
static bool sa_run(void *(*fn)(void *), const sa_job *base, size_t units, int workers, size_t per, bool whole_heads,
                   r1_scratch *scr) {
  const size_t H = base->d->H, Sq = base->d->Sq;
  if (whole_heads && (size_t)workers > H) workers = (int)H;
  if ((size_t)workers > units) workers = units ? (int)units : 1;
  sa_job jobs[R1_MAX_WORKERS];
  float *bufs = r1_scratch_get(scr, 1, sizeof(float) * per * workers);
  if (!bufs) return false;
  for (int w = 0; w < workers; w++) {
    jobs[w] = *base;
    jobs[w].buf = bufs + per * w;
    if (whole_heads) {
      jobs[w].from = H * w / workers * Sq;
      jobs[w].to = H * (w + 1) / workers * Sq;
    } else {
      jobs[w].from = units * w / workers;
      jobs[w].to = units * (w + 1) / workers;
    }
  }
  r1_run_workers(fn, jobs, sizeof(sa_job), workers);
  return true;
}

/**
 * sparseAttention(q, k, v, indices, mask, o, p, B, H, Hk, Sq, Sk, Dk, Dv, kSel, bshd, scale, causal):
 * the forward of sparse_attention.ts. q [B, H, Sq, Dk], k [B, Hk, Sk, Dk], v [B, Hk, Sk, Dv] (Hk = H or
 * 1), indices [B, Sq, kSel], mask [B, Sk] or null → o [B, H, Sq, Dv], p [B, H, Sq, kSel]; every
 * operand [B, S, H, D] instead when bshd. (head, query) units spread over the worker threads; each
 * output element is computed by one of them, in a fixed order.
 */
static napi_value sparse_attention(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "sparseAttention", 18)) return NULL;
  size_t nq, nk, nv, ni, nm, no, np;
  float *Q = r1_f32(&a, 0, &nq, false), *K = r1_f32(&a, 1, &nk, false), *V = r1_f32(&a, 2, &nv, false);
  int32_t *I = r1_i32(&a, 3, &ni, false);
  float *M = r1_f32(&a, 4, &nm, true), *O = r1_f32(&a, 5, &no, false), *P = r1_f32(&a, 6, &np, false);
  sa_dims d;
  if (!sa_read_dims(&a, 7, &d)) return NULL;
  float scale = (float)r1_num(&a, 16);
  bool causal = r1_bool(&a, 17);
  if (!a.ok) return NULL;
  const size_t B = d.B, H = d.H, Sq = d.Sq, Sk = d.Sk, kSel = d.kSel;
  if (!r1_fits(&a, "q", B * H * Sq * d.Dk, nq) || !r1_fits(&a, "k", B * d.Hk * Sk * d.Dk, nk) ||
      !r1_fits(&a, "v", B * d.Hk * Sk * d.Dv, nv) || !r1_fits(&a, "indices", B * Sq * kSel, ni) ||
      (M && !r1_fits(&a, "mask", B * Sk, nm)) || !r1_fits(&a, "o", B * H * Sq * d.Dv, no) ||
      !r1_fits(&a, "p", B * H * Sq * kSel, np))
    return NULL;
  r1_scratch scr;
  r1_scratch_begin(&scr);
  int64_t *seen = r1_scratch_get(&scr, 2, sizeof(int64_t) * (Sk + 1));
  int32_t *lists = r1_scratch_get(&scr, 3, sizeof(int32_t) * (Sq * (2 * kSel + 1) + 1));
  bool ok = seen && lists;
  if (ok) {
    for (size_t j = 0; j < Sk; j++) seen[j] = -1;
    int32_t *cnt = lists, *slots = lists + Sq, *keys = slots + Sq * kSel;
    int workers = r1_workers((double)Sq * H * kSel * (d.Dk + d.Dv));
    for (size_t b = 0; b < B && ok; b++) {
      valid_slots(&d, I + b * Sq * kSel, M ? M + b * Sk : NULL, causal, seen, (int64_t)(b * Sq), cnt, slots, keys);
      // Packing copies one head's rows (at most 32 MiB of them per thread).
      const size_t rows = Sk * (d.Dk > d.Dv ? d.Dk : d.Dv);
      const bool pack = heads_outer(&d) && d.bshd && rows <= (8u << 20);
      sa_job job = {&d, Q, K, V, NULL, O, P, NULL, NULL, NULL, I, scale, b, cnt, slots, keys, 0, 0, NULL, pack};
      if (d.Hk == 1 && H > 1) ok = sa_run(attend_mqa_work, &job, Sq, workers, mqa_scratch(&d), false, &scr); // query units
      else ok = sa_run(attend_work, &job, H * Sq, workers, kSel + VL + (pack ? rows : 0), false, &scr);
    }
  }
  r1_scratch_end(&scr);
  if (!ok) return (void)r1_fail(&a, "out of memory"), NULL;
  return NULL;
}

/**
 * sparseAttentionGrad(q, k, v, indices, p, dy, dq, dk, dv, B, H, Hk, Sq, Sk, Dk, Dv, kSel, bshd, scale):
 * the backward of sparse_attention.ts from the saved p (0 in invalid slots); shared-head dk, dv sum
 * over the heads. dy, p have o's and p's layouts. Per-head keys: whole heads spread over the worker
 * threads (a head's dk, dv rows are its own); shared keys: see shared_grad (each key's sum in the
 * JS's order, queries then heads, on any number of threads).
 */
static napi_value sparse_attention_grad(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "sparseAttentionGrad", 19)) return NULL;
  size_t nq, nk, nv, ni, np, ng, ndq, ndk, ndv;
  float *Q = r1_f32(&a, 0, &nq, false), *K = r1_f32(&a, 1, &nk, false), *V = r1_f32(&a, 2, &nv, false);
  int32_t *I = r1_i32(&a, 3, &ni, false);
  float *P = r1_f32(&a, 4, &np, false), *G = r1_f32(&a, 5, &ng, false), *DQ = r1_f32(&a, 6, &ndq, false),
        *DK = r1_f32(&a, 7, &ndk, false), *DV = r1_f32(&a, 8, &ndv, false);
  sa_dims d;
  if (!sa_read_dims(&a, 9, &d)) return NULL;
  float scale = (float)r1_num(&a, 18);
  if (!a.ok) return NULL;
  const size_t B = d.B, H = d.H, Sq = d.Sq, Sk = d.Sk, kSel = d.kSel;
  const size_t nQ = B * H * Sq * d.Dk, nK = B * d.Hk * Sk * d.Dk, nV = B * d.Hk * Sk * d.Dv;
  if (!r1_fits(&a, "q", nQ, nq) || !r1_fits(&a, "k", nK, nk) || !r1_fits(&a, "v", nV, nv) ||
      !r1_fits(&a, "indices", B * Sq * kSel, ni) || !r1_fits(&a, "p", B * H * Sq * kSel, np) ||
      !r1_fits(&a, "dy", B * H * Sq * d.Dv, ng) || !r1_fits(&a, "dq", nQ, ndq) || !r1_fits(&a, "dk", nK, ndk) ||
      !r1_fits(&a, "dv", nV, ndv))
    return NULL;
  memset(DQ, 0, sizeof(float) * nQ);
  memset(DK, 0, sizeof(float) * nK);
  memset(DV, 0, sizeof(float) * nV);
  const bool split = heads_outer(&d);
  const int workers = r1_workers((double)Sq * H * kSel * (2 * d.Dk + 2 * d.Dv));
  bool ok = true;
  r1_scratch scr;
  r1_scratch_begin(&scr);
  for (size_t b = 0; b < B && ok; b++) {
    sa_job job = {&d, Q, K, V, G, NULL, P, DQ, DK, DV, I, scale, b, NULL, NULL, NULL, 0, 0, NULL, false};
    ok = split ? sa_run(attend_grad_work, &job, H * Sq, workers, 3 * kSel + VL, true, &scr) : shared_grad(&job, workers, &scr);
  }
  r1_scratch_end(&scr);
  if (!ok) return (void)r1_fail(&a, "out of memory"), NULL;
  return NULL;
}

const r1_fn r1_dsa_fns[] = {
    {"indexerTopK", indexer_top_k},
    {"chunkTopK", chunk_top_k},
    {"sparseAttention", sparse_attention},
    {"sparseAttentionGrad", sparse_attention_grad},
    {NULL, NULL},
};
