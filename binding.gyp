{
  "targets": [
    {
      "target_name": "daqyolo_torch",
      "sources": [
        "native/addon.cc",
        "native/tensor.cc",
        "native/ops.cc",
        "native/nn.cc",
        "native/autograd.cc",
        "native/optim.cc",
        "native/alloc.cc",
        "native/dist.cc",
        "native/sparse.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/libtorch-paths.cjs include)"
      ],
      "libraries": ["<!@(node scripts/libtorch-paths.cjs libs)"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "<!@(node scripts/libtorch-paths.cjs defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-deprecated-declarations", "-fopenmp"],
      "ldflags": ["-fopenmp"]
    }
  ]
}
