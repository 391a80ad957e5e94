{
  "targets": [
    {
      "target_name": "kernelflow_native",
      "sources": ["kernelflow_native.c", "fused.c", "blocked-linalg.c", "attention.c", "fft.c"],
      "cflags": ["-O3", "-fno-math-errno", "-fopenmp", "-std=gnu11", "-Wall", "-Wno-unknown-pragmas"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-lopenblas", "-lm"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
