// Optional native GEMM for @r1-ts/tensor-kernels: a Node-API addon that calls the system BLAS's
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
#include <node_api.h>

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

static void load_blas(void) {
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

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, "E_NATIVE_GEMM", "napi call failed: " #call); \
      return NULL;                                                   \
    }                                                                \
  } while (0)

static int float_view(napi_env env, napi_value v, const char *name, float **data, size_t *length) {
  bool is_ta = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  void *ptr;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, length, &ptr, &ab, &offset) != napi_ok || type != napi_float32_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "gemm: %s must be a Float32Array", name);
    napi_throw_type_error(env, "E_NATIVE_GEMM", msg);
    return 0;
  }
  *data = (float *)ptr;
  return 1;
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) {
    napi_throw_type_error(env, "E_NATIVE_GEMM", "gemm: expected 11 arguments");
    return NULL;
  }
  if (!sgemm) {
    napi_throw_error(env, "E_NATIVE_GEMM", "gemm: no BLAS library with cblas_sgemm was found");
    return NULL;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!float_view(env, argv[0], "a", &a, &la) || !float_view(env, argv[1], "b", &b, &lb) ||
      !float_view(env, argv[2], "c", &c, &lc))
    return NULL;
  int64_t batch, m, n, k, stride_a, stride_b;
  bool ta, tb;
  CHECK(napi_get_value_int64(env, argv[3], &batch));
  CHECK(napi_get_value_int64(env, argv[4], &m));
  CHECK(napi_get_value_int64(env, argv[5], &n));
  CHECK(napi_get_value_int64(env, argv[6], &k));
  CHECK(napi_get_value_bool(env, argv[7], &ta));
  CHECK(napi_get_value_bool(env, argv[8], &tb));
  CHECK(napi_get_value_int64(env, argv[9], &stride_a));
  CHECK(napi_get_value_int64(env, argv[10], &stride_b));
  if (batch < 0 || m < 0 || n < 0 || k < 0 || stride_a < 0 || stride_b < 0 || m > INT32_MAX || n > INT32_MAX ||
      k > INT32_MAX) {
    napi_throw_range_error(env, "E_NATIVE_GEMM", "gemm: sizes must be non-negative 32-bit integers");
    return NULL;
  }
  if (batch == 0 || m == 0 || n == 0) return NULL;
  // Every element any call touches lies inside its view.
  if ((uint64_t)((batch - 1) * stride_a + m * k) > la || (uint64_t)((batch - 1) * stride_b + k * n) > lb ||
      (uint64_t)(batch * m * n) > lc) {
    napi_throw_range_error(env, "E_NATIVE_GEMM", "gemm: a view is shorter than the sizes require");
    return NULL;
  }
  if (k == 0) {
    memset(c, 0, sizeof(float) * batch * m * n);
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
    sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, 1.0f, a + i * stride_a,
          lda, b + i * stride_b, ldb, 0.0f, c + i * m * n, (int)n);
  }
  return NULL;
}

static napi_value library(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  if (!sgemm) {
    CHECK(napi_get_null(env, &out));
  } else {
    CHECK(napi_create_string_utf8(env, blas_path, NAPI_AUTO_LENGTH, &out));
  }
  return out;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc == 1 && set_threads) {
    int32_t t;
    CHECK(napi_get_value_int32(env, argv[0], &t));
    if (t > 0) {
      max_threads = t;
      use_threads(t);
    }
  }
  CHECK(napi_create_int32(env, get_threads ? max_threads : -1, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  load_blas();
  napi_property_descriptor props[] = {
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
      {"library", NULL, library, NULL, NULL, NULL, napi_default, NULL},
      {"threads", NULL, threads, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof *props, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
