# workerd config for the ocellus Worker (no wrangler). `node edge/build.mjs` bundles edge/worker.ts into
# out/worker.js, puts the model files and the tfjs WASM binary beside it and copies this file to out/config.capnp;
# then: npx workerd serve edge/out/config.capnp [--socket-addr http=127.0.0.1:8787]
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "ocellus", worker = .ocellusWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "ocellus") ],
);

const ocellusWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    # Workers cannot compile WASM from bytes at run time: the backend gets this precompiled module.
    (name = "tfjs-backend-wasm-simd.wasm", wasm = embed "tfjs-backend-wasm-simd.wasm"),
    # ocellus's own kernels (kernels/wasm), written by the build from kernels/wasm/gemm-module.ts.
    (name = "ocellus-kernels.wasm", wasm = embed "ocellus-kernels.wasm"),
    (name = "model/model.onnx", data = embed "model/model.onnx"),
    (name = "model/config.json.txt", text = embed "model/config.json"),
    (name = "model/preprocessor_config.json.txt", text = embed "model/preprocessor_config.json"),
  ],
  compatibilityDate = "2024-09-23",
  bindings = [ (name = "OCELLUS_API_TOKEN", fromEnvironment = "OCELLUS_API_TOKEN") ],
);
