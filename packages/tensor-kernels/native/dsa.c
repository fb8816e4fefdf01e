// DeepSeek sparse attention kernels of the native addon (module.c). (Filled in by the DSA work.)
#include "r1_native.h"

const r1_fn r1_dsa_fns[] = {
    {NULL, NULL},
};
