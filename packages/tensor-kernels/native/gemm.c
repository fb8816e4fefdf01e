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

typedef void (*cblas_sgemv_t)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static cblas_sgemm_t sgemm = NULL;
static cblas_sgemv_t sgemv = NULL;
static set_threads_t set_threads = NULL;
static get_threads_t get_threads = NULL;
static char blas_path[512] = "";
static char blas_core[64] = "";
// BLAS threads for large products; small ones (decoding, MoE experts) run on the calling thread, where
// waking and joining the pool costs more than the product (measured: cached decoding 1090 → 1359 tok/s).
static int max_threads = 0;
static int cur_threads = 0;
#define SMALL_GEMM (1 << 22) /* m·n·k multiply-adds per call */
/**
 * Outputs narrower than this run on one thread whatever their size: OpenBLAS splits a narrow product
 * badly (measured, [4096, 256]·[256, n]: n = 4 1-thread 27 GFLOP/s vs 2 threads 14; n = 32 88 vs 67;
 * n = 80 92 vs 101).
 */
#define NARROW_GEMM 64

static int threads_for(int64_t m, int64_t n, int64_t k) {
  return m * n * k < SMALL_GEMM || n < NARROW_GEMM ? 1 : max_threads;
}

static void use_threads(int t) {
  if (!set_threads || t == cur_threads) return;
  set_threads(t);
  cur_threads = t;
}

/**
 * Whether OpenBLAS may misjudge this CPU: an AMD one with AVX-512 (Zen 4, Zen 5). OpenBLAS before
 * 0.3.22 (Debian 12 ships 0.3.21) does not know these cores and runs its Haswell (AVX2) kernels on
 * them at half speed; its SkylakeX kernels need only AVX-512 F/CD/BW/DQ/VL. Measured on a Zen 5
 * (family 26), one thread, sgemm 1024³: Haswell 97 GFLOP/s, SkylakeX 170; [256,256]·[256,128]: 91 → 168.
 */
static bool amd_with_avx512(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return __builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

void r1_load_blas(void) {
  // OpenBLAS reads OPENBLAS_CORETYPE when it loads (dynamic-arch builds; others ignore it). On an AMD
  // CPU with AVX-512 pick the AVX-512 kernels, which a current OpenBLAS picks by itself; a user's
  // setting wins (OPENBLAS_CORETYPE=Haswell restores the old choice).
  if (amd_with_avx512()) setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
  // OpenBLAS's idle threads spin 2^28 cycles (~0.1 s) after each threaded product before sleeping; in a
  // process that also runs tfjs's and r1-ts's own threads on a few cores they steal those cores (a `small`
  // training step: 633 → 470 ms with 2^16). Read once, when the library loads; a user's setting wins.
  setenv("OPENBLAS_THREAD_TIMEOUT", "16", 0);
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
    sgemv = (cblas_sgemv_t)dlsym(h, "cblas_sgemv");
    set_threads = (set_threads_t)dlsym(h, "openblas_set_num_threads");
    if (!set_threads) set_threads = (set_threads_t)dlsym(h, "bli_thread_set_num_threads");
    get_threads = (get_threads_t)dlsym(h, "openblas_get_num_threads");
    max_threads = cur_threads = get_threads ? get_threads() : 0;
    snprintf(blas_path, sizeof blas_path, "%s", candidates[i]);
    char *(*corename)(void) = (char *(*)(void))dlsym(h, "openblas_get_corename");
    if (corename && corename()) snprintf(blas_core, sizeof blas_core, "%s", corename());
    return;
  }
}

/** Products from..to of one strided batched call. */
typedef struct {
  const float *A, *B;
  float *C;
  bool ta, tb;
  int m, n, k, lda, ldb;
  int64_t stride_a, stride_b, from, to;
} batch_job;

/** Products with at most this many rows run as matrix–vector products: GEMM would pack all of B for them. */
#define GEMV_ROWS 4

/**
 * C = op(A)·op(B) on the BLAS threads as they are set. A product of a few rows (decoding's shapes) runs
 * one row at a time, y = op(B)ᵀ·x per row x of op(A), so B is not packed.
 */
static void product(bool ta, bool tb, int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  if (sgemv && m <= GEMV_ROWS) {
    for (int r = 0; r < m; r++) {
      const float *x = ta ? A + r : A + (int64_t)r * lda;
      const int incx = ta ? lda : 1;
      if (tb) sgemv(ROW_MAJOR, NO_TRANS, n, k, 1.0f, B, ldb, x, incx, 0.0f, C + (int64_t)r * ldc, 1); // B [n, k]
      else sgemv(ROW_MAJOR, TRANS, k, n, 1.0f, B, ldb, x, incx, 0.0f, C + (int64_t)r * ldc, 1); // B [k, n]
    }
    return;
  }
  sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
}

static void *run_batch(void *arg) {
  const batch_job *j = arg;
  for (int64_t i = j->from; i < j->to; i++)
    product(j->ta, j->tb, j->m, j->n, j->k, j->A + i * j->stride_a, j->lda, j->B + i * j->stride_b, j->ldb, j->C + i * (int64_t)j->m * j->n, j->n);
  return NULL;
}

bool r1_have_blas(void) { return sgemm != NULL; }

void r1_blas_serial(void) { use_threads(1); }

void r1_sgemm(bool serial, bool transA, bool transB, int m, int n, int k, const float *A, int lda, const float *B, int ldb,
              float *C, int ldc) {
  if (!serial) use_threads(threads_for(m, n, k));
  product(transA, transB, m, n, k, A, lda, B, ldb, C, ldc);
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
  batch_job job = {A, B, C, ta, tb, (int)m, (int)n, (int)k, lda, ldb, stride_a, stride_b, 0, batch};
  const int64_t each = m * n * k;
  // Many small products (attention's [B·H] heads): the batch split over threads, each product on one
  // thread — BLAS's own threading would wake and join its pool once per small product.
  int workers = batch >= 2 && each < SMALL_GEMM ? r1_workers((double)batch * each) : 1;
  if (workers > batch) workers = (int)batch;
  if (workers > 1) {
    use_threads(1);
    batch_job jobs[R1_MAX_WORKERS];
    for (int w = 0; w < workers; w++) {
      jobs[w] = job;
      jobs[w].from = batch * w / workers;
      jobs[w].to = batch * (w + 1) / workers;
    }
    r1_run_workers(run_batch, jobs, sizeof(batch_job), workers);
    return NULL;
  }
  use_threads(batch > 1 ? (batch * each < SMALL_GEMM ? 1 : max_threads) : threads_for(m, n, k));
  run_batch(&job);
  return NULL;
}

static napi_value library(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  if ((sgemm ? napi_create_string_utf8(env, blas_path, NAPI_AUTO_LENGTH, &out) : napi_get_null(env, &out)) != napi_ok) return NULL;
  return out;
}

static napi_value core(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  if ((sgemm && *blas_core ? napi_create_string_utf8(env, blas_core, NAPI_AUTO_LENGTH, &out) : napi_get_null(env, &out)) != napi_ok) return NULL;
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
    {"core", core},
    {"threads", threads},
    {NULL, NULL},
};
