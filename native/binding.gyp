{
  "variables": {
    "sanitize%": "<!(node -p \"process.env.RECEPTIVE_NATIVE_SANITIZE || ''\")"
  },
  "targets": [
    {
      "target_name": "receptive_native",
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/conv_direct.cc",
        "src/pool.cc",
        "src/gemm.cc",
        "src/elementwise.cc",
        "src/optim.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions", "-ffp-contract=off", "-fno-math-errno", "-Wno-unused-parameter"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "conditions": [
        ["sanitize=='address'", {
          "cflags_cc": ["-fsanitize=address", "-fno-omit-frame-pointer", "-g"],
          "ldflags": ["-fsanitize=address"]
        }],
        ["sanitize=='thread'", {
          "cflags_cc": ["-fsanitize=thread", "-g"],
          "ldflags": ["-fsanitize=thread"]
        }]
      ]
    }
  ]
}
