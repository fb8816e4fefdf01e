// The fused training kernels of the native addon (module.c). Each one computes what its JS twin in
// src/kernels/ computes; where the JS rounds every step to float32 (AdamW) the C does too, bit for
// bit, and elsewhere it agrees to float32 rounding (tests compare them). Loops are written for the
// auto-vectoriser: reductions carry `omp simd` (needs -fopenmp-simd, no -ffast-math), exp is a
// branch-free float32 polynomial.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "r1_native.h"

// --------------------------------------------------------------------------------------- AdamW

/**
 * adamw(p, g, m, v, pOut, mOut, vOut, b1, omb1, b2, omb2, c1, c2, eps, lr, keep, decay)
 * One parameter's AdamW step in float32 (every constant already rounded by the caller), the same
 * operation order as src/kernels/adamw.ts, so the result is bit-identical.
 */
R1_VECTOR static void adamw_loop(size_t n, const float *P, const float *G, const float *M, const float *V, float *P2,
                                 float *M2, float *V2, float b1, float omb1, float b2, float omb2, float c1,
                                 float c2, float eps, float lr, float keep, int decay) {
  for (size_t e = 0; e < n; e++) {
    float g = G[e];
    float m = M[e] * b1 + g * omb1;
    float v = V[e] * b2 + (g * g) * omb2;
    M2[e] = m;
    V2[e] = v;
    float update = (m / c1) / (sqrtf(v / c2) + eps);
    float p = decay ? P[e] * keep : P[e];
    P2[e] = p - update * lr;
  }
}

static napi_value adamw(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "adamw", 17)) return NULL;
  size_t n, ln[6];
  float *P = r1_f32(&a, 0, &n, false), *G = r1_f32(&a, 1, &ln[0], false), *M = r1_f32(&a, 2, &ln[1], false),
        *V = r1_f32(&a, 3, &ln[2], false), *P2 = r1_f32(&a, 4, &ln[3], false), *M2 = r1_f32(&a, 5, &ln[4], false),
        *V2 = r1_f32(&a, 6, &ln[5], false);
  float c[9];
  for (int i = 0; i < 9; i++) c[i] = (float)r1_num(&a, 7 + i);
  bool decay = r1_bool(&a, 16);
  for (int i = 0; i < 6; i++) r1_fits(&a, "every array", n, ln[i]);
  if (!a.ok) return NULL;
  adamw_loop(n, P, G, M, V, P2, M2, V2, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], decay);
  return NULL;
}

/** sumOfSquares(t) → Σ t² (float64 accumulators). */
R1_VECTOR static double sum_squares_loop(size_t n, const float *T) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (size_t e = 0; e < n; e++) s += (double)T[e] * T[e];
  return s;
}

static napi_value sum_of_squares(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "sumOfSquares", 1)) return NULL;
  size_t n;
  float *T = r1_f32(&a, 0, &n, false);
  if (!a.ok) return NULL;
  napi_value out;
  return napi_create_double(env, sum_squares_loop(n, T), &out) == napi_ok ? out : NULL;
}

/** scale(t, out, s): out = t·s in float32 (s already rounded). */
R1_VECTOR static void scale_loop(size_t n, const float *T, float *O, float s) {
  for (size_t e = 0; e < n; e++) O[e] = T[e] * s;
}

static napi_value scale(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "scale", 3)) return NULL;
  size_t n, no;
  float *T = r1_f32(&a, 0, &n, false), *O = r1_f32(&a, 1, &no, false);
  float s = (float)r1_num(&a, 2);
  if (!r1_fits(&a, "out", n, no)) return NULL;
  scale_loop(n, T, O, s);
  return NULL;
}

// ------------------------------------------------------------------------------------- RMSNorm

/** rmsNorm(x, w, y, D, eps): y = w ⊙ x / sqrt(mean(x²) + eps) per row of D. */
R1_VECTOR static void rms_norm_loop(size_t rows, size_t D, const float *X, const float *W, float *Y, double eps) {
  for (size_t o = 0; o < rows * D; o += D) {
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (size_t j = 0; j < D; j++) ss += (double)X[o + j] * X[o + j];
    double r = 1 / sqrt(ss / D + eps);
    for (size_t j = 0; j < D; j++) Y[o + j] = (float)((double)W[j] * X[o + j] * r);
  }
}

static napi_value rms_norm(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "rmsNorm", 5)) return NULL;
  size_t n, nw, ny;
  float *X = r1_f32(&a, 0, &n, false), *W = r1_f32(&a, 1, &nw, false), *Y = r1_f32(&a, 2, &ny, false);
  int64_t D = r1_int(&a, 3);
  double eps = r1_num(&a, 4);
  if (!a.ok) return NULL;
  if (D == 0 || n % D) return (void)r1_fail(&a, "x's length must be a multiple of D"), NULL;
  if (!r1_fits(&a, "weight", D, nw) || !r1_fits(&a, "y", n, ny)) return NULL;
  rms_norm_loop(n / D, D, X, W, Y, eps);
  return NULL;
}

/** rmsNormGrad(x, w, dy, dx, dw, D, eps): dx = r·g − r³·x·(g·x)/D with g = w ⊙ dy; dw = Σ dy ⊙ x·r. */
R1_VECTOR static void rms_norm_grad_loop(size_t rows, size_t D, const float *X, const float *W, const float *G,
                                         float *DX, double *acc, double eps) {
  for (size_t o = 0; o < rows * D; o += D) {
    double ss = 0, gx = 0;
#pragma omp simd reduction(+ : ss, gx)
    for (size_t j = 0; j < D; j++) {
      ss += (double)X[o + j] * X[o + j];
      gx += (double)W[j] * G[o + j] * X[o + j];
    }
    double r = 1 / sqrt(ss / D + eps);
    double c = (r * r * r * gx) / D;
    for (size_t j = 0; j < D; j++) {
      DX[o + j] = (float)(r * W[j] * G[o + j] - c * X[o + j]);
      acc[j] += (double)G[o + j] * X[o + j] * r;
    }
  }
}

static napi_value rms_norm_grad(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "rmsNormGrad", 7)) return NULL;
  size_t n, nw, ng, ndx, ndw;
  float *X = r1_f32(&a, 0, &n, false), *W = r1_f32(&a, 1, &nw, false), *G = r1_f32(&a, 2, &ng, false),
        *DX = r1_f32(&a, 3, &ndx, false), *DW = r1_f32(&a, 4, &ndw, false);
  int64_t D = r1_int(&a, 5);
  double eps = r1_num(&a, 6);
  if (!a.ok) return NULL;
  if (D == 0 || n % D) return (void)r1_fail(&a, "x's length must be a multiple of D"), NULL;
  if (!r1_fits(&a, "weight", D, nw) || !r1_fits(&a, "dy", n, ng) || !r1_fits(&a, "dx", n, ndx) || !r1_fits(&a, "dw", D, ndw))
    return NULL;
  double *acc = calloc(D, sizeof(double));
  if (!acc) return (void)r1_fail(&a, "out of memory"), NULL;
  rms_norm_grad_loop(n / D, D, X, W, G, DX, acc, eps);
  for (int64_t j = 0; j < D; j++) DW[j] = (float)acc[j];
  free(acc);
  return NULL;
}

// ------------------------------------------------------------------------------ masked softmax

/**
 * maskedSoftmax(scores, p, allowed, B, H, Sq, Sk, scale, causal): p = softmax(scale·scores) over the
 * keys each query may see — j ≤ Sk − Sq + i when causal, and allowed[b, i, j] ≠ 0 when `allowed`
 * ([B, Sq, Sk] bytes) is given. Masked keys get exactly 0; a row with no key is all zeros.
 */
R1_VECTOR static void masked_softmax_rows(const float *X, float *P, const uint8_t *allowed, size_t B, size_t H,
                                          size_t Sq, size_t Sk, float scale, int causal) {
  for (size_t b = 0; b < B; b++) {
    for (size_t h = 0; h < H; h++) {
      for (size_t i = 0; i < Sq; i++) {
        size_t o = ((b * H + h) * Sq + i) * Sk;
        const float *x = X + o;
        float *p = P + o;
        const uint8_t *al = allowed ? allowed + (b * Sq + i) * Sk : NULL;
        long e = causal ? (long)Sk - (long)Sq + (long)i + 1 : (long)Sk;
        size_t end = e < 0 ? 0 : ((size_t)e > Sk ? Sk : (size_t)e);
        if (al && !memchr(al, 0, end)) al = NULL; // every visible key allowed (padding masks mostly are)
        float m = -INFINITY;
        size_t any = 0;
        if (al) {
#pragma omp simd reduction(max : m) reduction(+ : any)
          for (size_t j = 0; j < end; j++) {
            float v = al[j] ? x[j] * scale : -INFINITY;
            m = v > m ? v : m;
            any += al[j] != 0;
          }
        } else {
          any = end;
#pragma omp simd reduction(max : m)
          for (size_t j = 0; j < end; j++) {
            float v = x[j] * scale;
            m = v > m ? v : m;
          }
        }
        if (!any) {
          memset(p, 0, Sk * sizeof(float));
          continue;
        }
        float sum = 0;
        if (al) {
#pragma omp simd reduction(+ : sum)
          for (size_t j = 0; j < end; j++) {
            float ex = al[j] ? r1_expf(x[j] * scale - m) : 0.0f;
            p[j] = ex;
            sum += ex;
          }
        } else {
#pragma omp simd reduction(+ : sum)
          for (size_t j = 0; j < end; j++) {
            float ex = r1_expf(x[j] * scale - m);
            p[j] = ex;
            sum += ex;
          }
        }
        float inv = 1.0f / sum;
        for (size_t j = 0; j < end; j++) p[j] *= inv;
        if (end < Sk) memset(p + end, 0, (Sk - end) * sizeof(float));
      }
    }
  }
}

static napi_value masked_softmax(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "maskedSoftmax", 9)) return NULL;
  size_t nx, np, na;
  float *X = r1_f32(&a, 0, &nx, false), *P = r1_f32(&a, 1, &np, false);
  uint8_t *al = r1_u8(&a, 2, &na, true);
  int64_t B = r1_int(&a, 3), H = r1_int(&a, 4), Sq = r1_int(&a, 5), Sk = r1_int(&a, 6);
  float s = (float)r1_num(&a, 7);
  bool causal = r1_bool(&a, 8);
  if (!r1_fits(&a, "scores", B * H * Sq * Sk, nx) || !r1_fits(&a, "p", B * H * Sq * Sk, np)) return NULL;
  if (al && !r1_fits(&a, "allowed", B * Sq * Sk, na)) return NULL;
  masked_softmax_rows(X, P, al, B, H, Sq, Sk, s, causal);
  return NULL;
}

/**
 * maskedSoftmaxGrad(p, dp, ds, rows, Sk, scale, Sq, causal): ds = scale·p ⊙ (dp − Σ p·dp) per row.
 * When causal (rows run over [.., Sq] queries), the keys past each query's end have p = 0 and get 0.
 */
R1_VECTOR static void masked_softmax_grad_rows(const float *P, const float *G, float *DS, size_t rows, size_t Sk,
                                               double scale, size_t Sq, int causal) {
  for (size_t row = 0; row < rows; row++) {
    size_t o = row * Sk;
    size_t end = Sk;
    if (causal) {
      long e = (long)Sk - (long)Sq + (long)(row % Sq) + 1;
      end = e < 0 ? 0 : ((size_t)e > Sk ? Sk : (size_t)e);
    }
    double dot = 0;
#pragma omp simd reduction(+ : dot)
    for (size_t j = 0; j < end; j++) dot += (double)P[o + j] * G[o + j];
    float d = (float)dot, sc = (float)scale;
    for (size_t j = 0; j < end; j++) DS[o + j] = sc * P[o + j] * (G[o + j] - d);
    if (end < Sk) memset(DS + o + end, 0, (Sk - end) * sizeof(float));
  }
}

static napi_value masked_softmax_grad(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "maskedSoftmaxGrad", 8)) return NULL;
  size_t np, ng, nd;
  float *P = r1_f32(&a, 0, &np, false), *G = r1_f32(&a, 1, &ng, false), *DS = r1_f32(&a, 2, &nd, false);
  int64_t rows = r1_int(&a, 3), Sk = r1_int(&a, 4);
  double s = r1_num(&a, 5);
  int64_t Sq = r1_int(&a, 6);
  bool causal = r1_bool(&a, 7);
  if (!r1_fits(&a, "p", rows * Sk, np) || !r1_fits(&a, "dp", rows * Sk, ng) || !r1_fits(&a, "ds", rows * Sk, nd)) return NULL;
  if (causal && Sq == 0) return (void)r1_fail(&a, "Sq must be positive when causal"), NULL;
  masked_softmax_grad_rows(P, G, DS, rows, Sk, s, Sq, causal);
  return NULL;
}

// --------------------------------------------------------------------------------- SwiGLU core

/** siluMul(gate, up, y): y = g·σ(g)·u. */
R1_VECTOR static void silu_mul_loop(size_t n, const float *G, const float *U, float *Y) {
  for (size_t i = 0; i < n; i++) Y[i] = G[i] / (1.0f + r1_expf(-G[i])) * U[i];
}

static napi_value silu_mul(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "siluMul", 3)) return NULL;
  size_t n, nu, ny;
  float *G = r1_f32(&a, 0, &n, false), *U = r1_f32(&a, 1, &nu, false), *Y = r1_f32(&a, 2, &ny, false);
  if (!r1_fits(&a, "up", n, nu) || !r1_fits(&a, "y", n, ny)) return NULL;
  silu_mul_loop(n, G, U, Y);
  return NULL;
}

/** siluMulGrad(gate, up, dy, dGate, dUp): dGate = dy·u·σ(g)·(1 + g·(1 − σ(g))), dUp = dy·g·σ(g). */
R1_VECTOR static void silu_mul_grad_loop(size_t n, const float *G, const float *U, const float *DY, float *DG, float *DU) {
  for (size_t i = 0; i < n; i++) {
    float g = G[i];
    float sg = 1.0f / (1.0f + r1_expf(-g));
    DG[i] = DY[i] * U[i] * sg * (1.0f + g * (1.0f - sg));
    DU[i] = DY[i] * g * sg;
  }
}

static napi_value silu_mul_grad(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "siluMulGrad", 5)) return NULL;
  size_t n, nu, nd, ng, ndu;
  float *G = r1_f32(&a, 0, &n, false), *U = r1_f32(&a, 1, &nu, false), *DY = r1_f32(&a, 2, &nd, false),
        *DG = r1_f32(&a, 3, &ng, false), *DU = r1_f32(&a, 4, &ndu, false);
  if (!r1_fits(&a, "up", n, nu) || !r1_fits(&a, "dy", n, nd) || !r1_fits(&a, "dGate", n, ng) || !r1_fits(&a, "dUp", n, ndu))
    return NULL;
  silu_mul_grad_loop(n, G, U, DY, DG, DU);
  return NULL;
}

// --------------------------------------------------------------------------- token log-probs

/** log Σ_j exp(l_j) of one row (max subtracted first; float64 sum). */
R1_VECTOR static double log_sum_exp(const float *L, size_t V) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (size_t j = 0; j < V; j++) m = L[j] > m ? L[j] : m;
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (size_t j = 0; j < V; j++) s += r1_expf(L[j] - m);
  return m + log(s);
}

/** tokenLogProbs(logits, targets, y, V): y[n] = logits[n, t] − logsumexp(logits[n]) (0 for t ∉ [0, V)). */
static napi_value token_log_probs(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "tokenLogProbs", 4)) return NULL;
  size_t nl, nt, ny;
  float *L = r1_f32(&a, 0, &nl, false);
  int32_t *T = r1_i32(&a, 1, &nt, false);
  float *Y = r1_f32(&a, 2, &ny, false);
  int64_t V = r1_int(&a, 3);
  if (!r1_fits(&a, "logits", nt * V, nl) || !r1_fits(&a, "y", nt, ny)) return NULL;
  for (size_t n = 0; n < nt; n++) {
    int32_t t = T[n];
    Y[n] = t >= 0 && t < V ? (float)(L[n * V + t] - log_sum_exp(L + n * V, V)) : 0.0f;
  }
  return NULL;
}

R1_VECTOR static void token_grad_row(const float *L, float *DL, size_t V, float lse, float g) {
  for (size_t j = 0; j < V; j++) DL[j] = -g * r1_expf(L[j] - lse);
}

/** tokenLogProbsGrad(logits, targets, dy, dl, V): dl = dy·(onehot(t) − softmax(logits)). */
static napi_value token_log_probs_grad(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "tokenLogProbsGrad", 5)) return NULL;
  size_t nl, nt, ng, nd;
  float *L = r1_f32(&a, 0, &nl, false);
  int32_t *T = r1_i32(&a, 1, &nt, false);
  float *DY = r1_f32(&a, 2, &ng, false), *DL = r1_f32(&a, 3, &nd, false);
  int64_t V = r1_int(&a, 4);
  if (!r1_fits(&a, "logits", nt * V, nl) || !r1_fits(&a, "dy", nt, ng) || !r1_fits(&a, "dl", nt * V, nd)) return NULL;
  for (size_t n = 0; n < nt; n++) {
    int32_t t = T[n];
    if (!(t >= 0 && t < V)) {
      memset(DL + n * V, 0, V * sizeof(float));
      continue;
    }
    double lse = log_sum_exp(L + n * V, V);
    float g = DY[n];
    token_grad_row(L + n * V, DL + n * V, V, (float)lse, g);
    DL[n * V + t] = (float)(g * (1 - exp(L[n * V + t] - lse)));
  }
  return NULL;
}

const r1_fn r1_train_fns[] = {
    {"adamw", adamw},
    {"sumOfSquares", sum_of_squares},
    {"scale", scale},
    {"rmsNorm", rms_norm},
    {"rmsNormGrad", rms_norm_grad},
    {"maskedSoftmax", masked_softmax},
    {"maskedSoftmaxGrad", masked_softmax_grad},
    {"siluMul", silu_mul},
    {"siluMulGrad", silu_mul_grad},
    {"tokenLogProbs", token_log_probs},
    {"tokenLogProbsGrad", token_log_probs_grad},
    {NULL, NULL},
};
