// The optional native addon of @r1-ts/tensor-kernels (Node-API, C11), built at install by
// native/build.mjs. It works on typed-array views of tfjs's own memory (the wasm heap or the cpu
// backend's arrays), never copying:
//   gemm.c   BatchMatMul on the system BLAS (found with dlopen; none found → `library()` is null)
//   train.c  the fused training kernels (AdamW, RMSNorm, masked softmax, SwiGLU, token log-probs)
//   dsa.c    DeepSeek sparse attention: the indexer's top-k and the gathered attention
//   moe.c    the MoE experts' forward (gather, SwiGLU products, weighted combine)
//   copy.c   strided copies behind the wasm backend's slice/split/concat/pad/tile/transpose
// Each kernel computes what the package's JS kernel computes, in the same float32/float64 order, so
// the addon changes speed, not results (tests compare the two).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "r1_native.h"

bool r1_fail(r1_args *a, const char *msg) {
  if (a->ok) {
    char text[256];
    snprintf(text, sizeof text, "%s: %s", a->fn, msg);
    napi_throw_range_error(a->env, "E_R1_NATIVE", text);
  }
  a->ok = false;
  return false;
}

static bool type_fail(r1_args *a, size_t i, const char *what) {
  if (a->ok) {
    char text[256];
    snprintf(text, sizeof text, "%s: argument %zu must be %s", a->fn, i, what);
    napi_throw_type_error(a->env, "E_R1_NATIVE", text);
  }
  a->ok = false;
  return false;
}

bool r1_args_init(r1_args *a, napi_env env, napi_callback_info info, const char *fn, size_t expected) {
  a->env = env;
  a->fn = fn;
  a->ok = true;
  a->argc = R1_MAX_ARGS;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok) return r1_fail(a, "could not read arguments");
  if (a->argc != expected) {
    char text[64];
    snprintf(text, sizeof text, "expected %zu arguments, got %zu", expected, a->argc);
    return r1_fail(a, text);
  }
  return true;
}

/** A value's typed-array type, element count and data; false when it is no typed array. */
static bool typed_value(napi_env env, napi_value v, napi_typedarray_type *type, size_t *n, void **ptr) {
  bool is_ta = false;
  size_t offset;
  napi_value ab;
  return napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta &&
         napi_get_typedarray_info(env, v, type, n, ptr, &ab, &offset) == napi_ok;
}

/** Argument i's typed-array type, element count and data; false (TypeError "<what>") when it is no typed array. */
static bool typed_info(r1_args *a, size_t i, const char *what, napi_typedarray_type *type, size_t *n, void **ptr) {
  return typed_value(a->env, a->argv[i], type, n, ptr) || type_fail(a, i, what);
}

static void *typed(r1_args *a, size_t i, napi_typedarray_type want, const char *what, size_t *len, bool optional) {
  if (!a->ok) return NULL;
  napi_valuetype vt;
  if (napi_typeof(a->env, a->argv[i], &vt) != napi_ok) return (void)type_fail(a, i, what), NULL;
  if (optional && (vt == napi_null || vt == napi_undefined)) {
    if (len) *len = 0;
    return NULL;
  }
  napi_typedarray_type type;
  size_t n;
  void *ptr;
  if (!typed_info(a, i, what, &type, &n, &ptr)) return NULL;
  if (type != want) return (void)type_fail(a, i, what), NULL;
  if (len) *len = n;
  return ptr;
}

float *r1_f32(r1_args *a, size_t i, size_t *len, bool optional) {
  return (float *)typed(a, i, napi_float32_array, "a Float32Array", len, optional);
}
int32_t *r1_i32(r1_args *a, size_t i, size_t *len, bool optional) {
  return (int32_t *)typed(a, i, napi_int32_array, "an Int32Array", len, optional);
}
uint8_t *r1_u8(r1_args *a, size_t i, size_t *len, bool optional) {
  return (uint8_t *)typed(a, i, napi_uint8_array, "a Uint8Array", len, optional);
}

float *r1_f32_element(r1_args *a, size_t i, uint32_t j, size_t *len) {
  if (!a->ok) return NULL;
  napi_value v;
  napi_typedarray_type type;
  void *ptr;
  if (napi_get_element(a->env, a->argv[i], j, &v) != napi_ok || !typed_value(a->env, v, &type, len, &ptr) || type != napi_float32_array)
    return (void)type_fail(a, i, "an array of Float32Arrays"), NULL;
  return ptr;
}

double *r1_f64(r1_args *a, size_t i, size_t *len) {
  return (double *)typed(a, i, napi_float64_array, "a Float64Array", len, false);
}

uint8_t *r1_bytes(r1_args *a, size_t i, size_t *len) {
  if (!a->ok) return NULL;
  napi_typedarray_type type;
  size_t n;
  void *ptr;
  if (!typed_info(a, i, "a typed array", &type, &n, &ptr)) return NULL;
  size_t size = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: size = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: size = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: size = 8; break;
    default: size = 1;
  }
  *len = n * size;
  return (uint8_t *)ptr;
}

double r1_num(r1_args *a, size_t i) {
  double v = 0;
  if (a->ok && napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) type_fail(a, i, "a number");
  return v;
}

int64_t r1_int(r1_args *a, size_t i) {
  double v = r1_num(a, i);
  if (a->ok && !(v >= 0 && v <= 9007199254740991.0 && v == (double)(int64_t)v)) type_fail(a, i, "a non-negative integer");
  return a->ok ? (int64_t)v : 0;
}

bool r1_bool(r1_args *a, size_t i) {
  bool v = false;
  if (a->ok && napi_get_value_bool(a->env, a->argv[i], &v) != napi_ok) type_fail(a, i, "a boolean");
  return v;
}

bool r1_fits(r1_args *a, const char *name, uint64_t need, size_t have) {
  if (!a->ok) return false;
  if (need <= have) return true;
  char text[160];
  snprintf(text, sizeof text, "%s holds %zu elements, the sizes need %llu", name, have, (unsigned long long)need);
  return r1_fail(a, text);
}

int r1_workers(double work) {
  if (work < (double)(1 << 22)) return 1;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  const char *cap = getenv("R1_NATIVE_THREADS");
  if (cap && atoi(cap) >= 1 && atoi(cap) < n) n = atoi(cap);
  return n < 1 ? 1 : (n > R1_MAX_WORKERS ? R1_MAX_WORKERS : (int)n);
}

void r1_run_workers(void *(*fn)(void *), void *args, size_t size, int workers) {
  pthread_t tid[R1_MAX_WORKERS];
  bool started[R1_MAX_WORKERS] = {false};
  if (workers > R1_MAX_WORKERS) workers = R1_MAX_WORKERS;
  for (int w = 1; w < workers; w++) started[w] = pthread_create(&tid[w], NULL, fn, (char *)args + w * size) == 0;
  fn(args);
  for (int w = 1; w < workers; w++) {
    if (started[w]) pthread_join(tid[w], NULL);
    else fn((char *)args + w * size);
  }
}

static void *scratch_buf[R1_SCRATCH_SLOTS];
static size_t scratch_cap[R1_SCRATCH_SLOTS];
static bool scratch_busy = false;

void r1_scratch_begin(r1_scratch *s) {
  memset(s, 0, sizeof *s);
  s->held = !__atomic_test_and_set(&scratch_busy, __ATOMIC_ACQUIRE);
}

void *r1_scratch_get(r1_scratch *s, int slot, size_t bytes) {
  if (slot < 0 || slot >= R1_SCRATCH_SLOTS) return NULL;
  if (bytes == 0) bytes = 1;
  if (!s->held) {
    free(s->own[slot]);
    return s->own[slot] = malloc(bytes);
  }
  if (scratch_cap[slot] < bytes) {
    free(scratch_buf[slot]);
    scratch_buf[slot] = malloc(bytes);
    scratch_cap[slot] = scratch_buf[slot] ? bytes : 0;
  }
  return scratch_buf[slot];
}

void r1_scratch_end(r1_scratch *s) {
  for (int i = 0; i < R1_SCRATCH_SLOTS; i++) free(s->own[i]);
  // Kept buffers stay below R1_SCRATCH_KEEP each: faulting in a bigger one is small next to the work
  // that needs it, and a process should not hold gigabytes after one large call.
  for (int i = 0; s->held && i < R1_SCRATCH_SLOTS; i++)
    if (scratch_cap[i] > R1_SCRATCH_KEEP) {
      free(scratch_buf[i]);
      scratch_buf[i] = NULL;
      scratch_cap[i] = 0;
    }
  if (s->held) __atomic_clear(&scratch_busy, __ATOMIC_RELEASE);
  s->held = false;
}

static napi_status add_all(napi_env env, napi_value exports, const r1_fn *fns) {
  for (; fns->name; fns++) {
    napi_value f;
    napi_status s = napi_create_function(env, fns->name, NAPI_AUTO_LENGTH, fns->fn, NULL, &f);
    if (s == napi_ok) s = napi_set_named_property(env, exports, fns->name, f);
    if (s != napi_ok) return s;
  }
  return napi_ok;
}

static napi_value init(napi_env env, napi_value exports) {
  r1_load_blas();
  if (add_all(env, exports, r1_gemm_fns) != napi_ok || add_all(env, exports, r1_train_fns) != napi_ok ||
      add_all(env, exports, r1_dsa_fns) != napi_ok ||
      add_all(env, exports, r1_copy_fns) != napi_ok || add_all(env, exports, r1_moe_fns) != napi_ok)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
