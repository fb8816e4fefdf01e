// Strided copies for the native addon (module.c): the one loop behind the wasm backend's data-movement
// kernels (slice, split, concat, pad, tile, transpose keeping the last axis; src/backend/wasm_copy_kernels.ts).
#include <string.h>
#include "r1_native.h"

#define MAX_RANK 16

/**
 * stridedCopy(src, dst, elemBytes, desc): desc = [rank, srcOffset, dstOffset, run, dims…, srcStrides…,
 * dstStrides…] (a Float64Array; offsets and strides in elements, strides ≥ 0). For every multi-index i
 * over dims, copies `run` contiguous elements from src[srcOffset + i·srcStrides] to
 * dst[dstOffset + i·dstStrides]. src and dst are any typed arrays (viewed as bytes).
 */
static napi_value strided_copy(napi_env env, napi_callback_info info) {
  r1_args a;
  if (!r1_args_init(&a, env, info, "stridedCopy", 4)) return NULL;
  size_t ls, ld, nd;
  uint8_t *src = r1_bytes(&a, 0, &ls), *dst = r1_bytes(&a, 1, &ld);
  int64_t eb = r1_int(&a, 2);
  double *desc = r1_f64(&a, 3, &nd);
  if (!a.ok) return NULL;
  if (nd < 4) return (void)r1_fail(&a, "desc must hold [rank, srcOffset, dstOffset, run, …]"), NULL;
  int64_t rank = (int64_t)desc[0];
  if (rank < 0 || rank > MAX_RANK || nd != (size_t)(4 + 3 * rank)) return (void)r1_fail(&a, "desc's length must be 4 + 3·rank (rank ≤ 16)"), NULL;
  if (eb != 1 && eb != 2 && eb != 4 && eb != 8) return (void)r1_fail(&a, "elemBytes must be 1, 2, 4 or 8"), NULL;
  int64_t so = (int64_t)desc[1], dof = (int64_t)desc[2], run = (int64_t)desc[3];
  int64_t dims[MAX_RANK], ss[MAX_RANK], ds[MAX_RANK];
  uint64_t total = 1, smax = so, dmax = dof;
  for (int64_t i = 0; i < rank; i++) {
    dims[i] = (int64_t)desc[4 + i];
    ss[i] = (int64_t)desc[4 + rank + i];
    ds[i] = (int64_t)desc[4 + 2 * rank + i];
    if (dims[i] < 0 || ss[i] < 0 || ds[i] < 0) return (void)r1_fail(&a, "dims and strides must be non-negative"), NULL;
    total *= (uint64_t)dims[i];
    if (dims[i] > 0) smax += (uint64_t)(dims[i] - 1) * ss[i], dmax += (uint64_t)(dims[i] - 1) * ds[i];
  }
  if (so < 0 || dof < 0 || run < 0) return (void)r1_fail(&a, "offsets and run must be non-negative"), NULL;
  if (total == 0 || run == 0) return NULL;
  if (!r1_fits(&a, "src", (smax + run) * eb, ls) || !r1_fits(&a, "dst", (dmax + run) * eb, ld)) return NULL;
  const size_t bytes = (size_t)(run * eb);
  int64_t idx[MAX_RANK] = {0};
  uint8_t *s = src + so * eb, *d = dst + dof * eb;
  for (uint64_t r = 0; r < total; r++) {
    if (bytes == 4) memcpy(d, s, 4); // one element (a transpose's inner step): an inlined move, not a call
    else memcpy(d, s, bytes);
    for (int64_t i = rank - 1; i >= 0; i--) {
      s += ss[i] * eb;
      d += ds[i] * eb;
      if (++idx[i] < dims[i]) break;
      s -= dims[i] * ss[i] * eb;
      d -= dims[i] * ds[i] * eb;
      idx[i] = 0;
    }
  }
  return NULL;
}

const r1_fn r1_copy_fns[] = {
    {"stridedCopy", strided_copy},
    {NULL, NULL},
};
