{
  "targets": [
    {
      "target_name": "r1_native",
      "sources": ["module.c", "gemm.c", "train.c", "dsa.c", "copy.c", "moe.c"],
      "cflags": ["-O3", "-Wall", "-std=gnu11", "-fopenmp-simd", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-Wall", "-std=gnu11", "-fopenmp-simd", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
      },
      "libraries": ["-ldl", "-lm"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
