{
  "targets": [
    {
      "target_name": "r1_gemm",
      "sources": ["r1_gemm.c"],
      "cflags": ["-O2", "-Wall"],
      "libraries": ["-ldl"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
