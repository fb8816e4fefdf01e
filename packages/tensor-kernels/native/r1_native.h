// Shared helpers of the optional native addon of @r1-ts/tensor-kernels (see module.c): argument
// parsing for Node-API functions that take typed-array views of tfjs's memory plus plain numbers.
#ifndef R1_NATIVE_H
#define R1_NATIVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <node_api.h>

#define R1_MAX_ARGS 24

/** The arguments of one call; `ok` turns false (with a JS exception pending) at the first bad one. */
typedef struct {
  napi_env env;
  const char *fn;
  size_t argc;
  napi_value argv[R1_MAX_ARGS];
  bool ok;
} r1_args;

/** Reads exactly `expected` arguments of the current call; throws a TypeError otherwise. */
bool r1_args_init(r1_args *a, napi_env env, napi_callback_info info, const char *fn, size_t expected);
/** Argument i as a Float32Array's data (length in elements); NULL when null/undefined and `optional`. */
float *r1_f32(r1_args *a, size_t i, size_t *len, bool optional);
/** Argument i as an Int32Array's data. */
int32_t *r1_i32(r1_args *a, size_t i, size_t *len, bool optional);
/** Argument i as a Uint8Array's data. */
uint8_t *r1_u8(r1_args *a, size_t i, size_t *len, bool optional);
/** Argument i as any typed array's bytes (length in bytes). */
uint8_t *r1_bytes(r1_args *a, size_t i, size_t *len);
/** Element j of argument i (a JS array) as a Float32Array's data. */
float *r1_f32_element(r1_args *a, size_t i, uint32_t j, size_t *len);
/** Argument i as a Float64Array's data. */
double *r1_f64(r1_args *a, size_t i, size_t *len);
/** Argument i as a number. */
double r1_num(r1_args *a, size_t i);
/** Argument i as a non-negative integer below 2^53. */
int64_t r1_int(r1_args *a, size_t i);
/** Argument i as a boolean. */
bool r1_bool(r1_args *a, size_t i);
/** Throws a RangeError "<fn>: <msg>" and marks the call failed; returns false. */
bool r1_fail(r1_args *a, const char *msg);
/** Fails unless `need` elements fit in a view of `have`. */
bool r1_fits(r1_args *a, const char *name, uint64_t need, size_t have);

/** Most worker threads one call uses. */
#define R1_MAX_WORKERS 8
/**
 * Threads for a call of about `work` multiply-adds: 1 below 2²² (starting threads costs more), else
 * the online CPUs (at most R1_MAX_WORKERS); R1_NATIVE_THREADS=n caps it. Callers partition work so
 * that results never depend on it.
 */
int r1_workers(double work);
/** Runs fn(args + w·size) for w < workers: w ≥ 1 on new threads, w = 0 (and any that fails to start) here. */
void r1_run_workers(void *(*fn)(void *), void *args, size_t size, int workers);

/**
 * Scratch memory kept between calls. A fresh multi-megabyte malloc is fresh mmap'd memory, and the
 * first touch of every page faults (a `small` MoE layer's forward spent ~1 ms of 10 in faults); the
 * scratch keeps the largest buffer each slot has needed, up to R1_SCRATCH_KEEP. One call at a time holds it (calls from
 * other Node threads meanwhile get plain malloc'd buffers, freed at the end).
 *
 *   r1_scratch s; r1_scratch_begin(&s);            // main thread, before workers start
 *   float *b = r1_scratch_get(&s, slot, bytes);    // any thread; one thread per slot; NULL: no memory
 *   r1_scratch_end(&s);                            // main thread, after workers end
 */
#define R1_SCRATCH_SLOTS 32
/** Largest buffer a slot keeps after a call (bytes); bigger ones are freed at r1_scratch_end. */
#define R1_SCRATCH_KEEP ((size_t)64 << 20)
typedef struct {
  bool held;
  void *own[R1_SCRATCH_SLOTS];
} r1_scratch;
void r1_scratch_begin(r1_scratch *s);
void *r1_scratch_get(r1_scratch *s, int slot, size_t bytes);
void r1_scratch_end(r1_scratch *s);

/** Each file's functions, added to the module's exports. */
typedef struct {
  const char *name;
  napi_callback fn;
} r1_fn;
extern const r1_fn r1_gemm_fns[];
extern const r1_fn r1_train_fns[];
extern const r1_fn r1_dsa_fns[];
extern const r1_fn r1_copy_fns[];
extern const r1_fn r1_moe_fns[];
/** Loads the system BLAS (gemm.c); called once at module load. */
void r1_load_blas(void);

/** Whether a system BLAS was found (gemm.c). */
bool r1_have_blas(void);
/** Makes the BLAS run each product on its calling thread; from the main thread, before worker threads call r1_sgemm. */
void r1_blas_serial(void);
/**
 * C = op(A)·op(B) (row-major, alpha 1, beta 0) on the system BLAS (gemm.c); op(x) = xᵀ when trans*.
 * serial: BLAS threads left as they are (a worker thread, after r1_blas_serial()); otherwise (main
 * thread only) products under the small-GEMM size run on the calling thread, larger ones on BLAS's
 * threads. Only call when r1_have_blas().
 */
void r1_sgemm(bool serial, bool transA, bool transB, int m, int n, int k, const float *A, int lda, const float *B,
              int ldb, float *C, int ldc);

/** e^x in float32, within 2 ulp of the true value; 0 below −87.3 (where float32 runs out), ∞ above 88.7. */
static inline float r1_expf(float x) {
  const float lo = -87.3365448f, hi = 88.7228391f;
  float xc = x < lo ? lo : (x > hi ? hi : x);
  float n = floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - n * 0.693359375f; // ln 2 in two parts (Cody–Waite)
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n built in two halves so n = 128 (x near hi) does not overflow the exponent field.
  int32_t n1 = (int32_t)n >> 1, n2 = (int32_t)n - n1;
  union { int32_t i; float f; } s1 = {.i = (n1 + 127) << 23}, s2 = {.i = (n2 + 127) << 23};
  float y = p * s1.f * s2.f;
  y = x < lo ? 0.0f : y;
  return x > hi ? INFINITY : y;
}

// Hot loops are compiled for several x86-64 levels and picked at load time (the addon is built on
// the machine that runs it, but containers move); elsewhere the compiler's default target.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define R1_VECTOR __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define R1_VECTOR
#endif

#endif
