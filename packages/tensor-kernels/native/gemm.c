// BatchMatMul on the system BLAS for the native addon (module.c): calls the system BLAS's
// cblas_sgemm (OpenBLAS, BLIS, MKL or Accelerate, found with dlopen at load time) on float32 views of
// tfjs's own memory. No BLAS found → `available()` is false and tensor-kernels keeps the wasm GEMM.
//
//   gemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB)
//     c[i] = op(a[i]) · op(b[i]) for i < batch, row-major; op(x) = xᵀ when trans*; stride* (elements)
//     between consecutive batch items of a and b (0 broadcasts one matrix); c is dense [batch, m, n].
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "r1_native.h"

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*cblas_sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                              float, float *, int);
typedef void (*set_threads_t)(int);
typedef int (*get_threads_t)(void);

static cblas_sgemm_t sgemm = NULL;
static set_threads_t set_threads = NULL;
static get_threads_t get_threads = NULL;
static char blas_path[512] = "";
// BLAS threads for large products; small ones (decoding, MoE experts) run on the calling thread, where
// waking and joining the pool costs more than the product (measured: cached decoding 1090 → 1359 tok/s).
static int max_threads = 0;
static int cur_threads = 0;
#define SMALL_GEMM (1 << 22) /* m·n·k multiply-adds per call */

static void use_threads(int t) {
  if (!set_threads || t == cur_threads) return;
  set_threads(t);
  cur_threads = t;
}

void r1_load_blas(void) {
  const char *override = getenv("R1_BLAS_LIB");
  const char *candidates[] = {
      override,
      "libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.3.so",
      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
      "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
      "libblis.so.4", "libblis.so", "libmkl_rt.so", "libmkl_rt.so.2",
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib",
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
      "libcblas.so.3", "libblas.so.3",
  };
  for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
    if (!candidates[i] || !*candidates[i]) continue;
    void *h = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    cblas_sgemm_t f = (cblas_sgemm_t)dlsym(h, "cblas_sgemm");
    if (!f) { dlclose(h); continue; }
    sgemm = f;
    set_threads = (set_threads_t)dlsym(h, "openblas_set_num_threads");
    if (!set_threads) set_threads = (set_threads_t)dlsym(h, "bli_thread_set_num_threads");
    get_threads = (get_threads_t)dlsym(h, "openblas_get_num_threads");
    max_threads = cur_threads = get_threads ? get_threads() : 0;
    snprintf(blas_path, sizeof blas_path, "%s", candidates[i]);
    return;
  }
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "gemm", 11)) return NULL;
  if (!sgemm) return (void)r1_fail(&a, "no BLAS library with cblas_sgemm was found"), NULL;
  size_t la, lb, lc;
  float *A = r1_f32(&a, 0, &la, false), *B = r1_f32(&a, 1, &lb, false), *C = r1_f32(&a, 2, &lc, false);
  int64_t batch = r1_int(&a, 3), m = r1_int(&a, 4), n = r1_int(&a, 5), k = r1_int(&a, 6);
  bool ta = r1_bool(&a, 7), tb = r1_bool(&a, 8);
  int64_t stride_a = r1_int(&a, 9), stride_b = r1_int(&a, 10);
  if (!a.ok) return NULL;
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return (void)r1_fail(&a, "sizes must be 32-bit integers"), NULL;
  if (batch == 0 || m == 0 || n == 0) return NULL;
  // Every element any call touches lies inside its view.
  if (!r1_fits(&a, "a", (uint64_t)((batch - 1) * stride_a + m * k), la) ||
      !r1_fits(&a, "b", (uint64_t)((batch - 1) * stride_b + k * n), lb) || !r1_fits(&a, "c", (uint64_t)(batch * m * n), lc))
    return NULL;
  if (k == 0) {
    memset(C, 0, sizeof(float) * batch * m * n);
    return NULL;
  }
  const int lda = ta ? (int)m : (int)k, ldb = tb ? (int)k : (int)n;
  // A shared right-hand side and an untransposed left one: the batch is just more rows.
  if (batch > 1 && stride_b == 0 && !ta && stride_a == m * k) {
    m *= batch;
    batch = 1;
  }
  use_threads(batch * m * n * k < SMALL_GEMM ? 1 : max_threads);
  for (int64_t i = 0; i < batch; i++) {
    sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, 1.0f, A + i * stride_a,
          lda, B + i * stride_b, ldb, 0.0f, C + i * m * n, (int)n);
  }
  return NULL;
}

static napi_value library(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  if ((sgemm ? napi_create_string_utf8(env, blas_path, NAPI_AUTO_LENGTH, &out) : napi_get_null(env, &out)) != napi_ok) return NULL;
  return out;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc == 1 && set_threads) {
    int32_t t;
    if (napi_get_value_int32(env, argv[0], &t) != napi_ok) return NULL;
    if (t > 0) {
      max_threads = t;
      use_threads(t);
    }
  }
  if (napi_create_int32(env, get_threads ? max_threads : -1, &out) != napi_ok) return NULL;
  return out;
}

const r1_fn r1_gemm_fns[] = {
    {"gemm", gemm},
    {"library", library},
    {"threads", threads},
    {NULL, NULL},
};
