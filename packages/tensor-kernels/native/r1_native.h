// Shared helpers of the optional native addon of @r1-ts/tensor-kernels (see module.c): argument
// parsing for Node-API functions that take typed-array views of tfjs's memory plus plain numbers.
#ifndef R1_NATIVE_H
#define R1_NATIVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/** Each file's functions, added to the module's exports. */
typedef struct {
  const char *name;
  napi_callback fn;
} r1_fn;
extern const r1_fn r1_gemm_fns[];
extern const r1_fn r1_train_fns[];
extern const r1_fn r1_dsa_fns[];
extern const r1_fn r1_copy_fns[];
/** Loads the system BLAS (gemm.c); called once at module load. */
void r1_load_blas(void);

// Hot loops are compiled for several x86-64 levels and picked at load time (the addon is built on
// the machine that runs it, but containers move); elsewhere the compiler's default target.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define R1_VECTOR __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define R1_VECTOR
#endif

#endif
