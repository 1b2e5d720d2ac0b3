# workerd config for the ocellus Worker, laid out as edge/wrangler.jsonc deploys it: `node edge/build.mjs` bundles
# edge/worker.ts into out/worker.js, puts the precompiled WASM modules beside it and the model under out/assets/,
# and copies this file to out/config.capnp with the assets path made absolute; then:
#   npx workerd serve edge/out/config.capnp [--socket-addr http=127.0.0.1:8787]
# The ASSETS binding is a disk service over out/assets: the Worker reads its model with env.ASSETS.fetch(url), the
# same call as on Cloudflare, where `assets.binding` in wrangler.jsonc provides it.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "ocellus", worker = .ocellusWorker),
    (name = "assets", disk = (path = "assets", writable = false)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "ocellus") ],
);

const ocellusWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    # Workers cannot compile WASM from bytes at run time: the backend gets this precompiled module.
    (name = "tfjs-backend-wasm-simd.wasm", wasm = embed "tfjs-backend-wasm-simd.wasm"),
    # ocellus's own kernels (kernels/wasm), written by the build (edge/aot-modules.ts): float GEMM, int8, the probe.
    (name = "ocellus-kernels.wasm", wasm = embed "ocellus-kernels.wasm"),
    (name = "ocellus-int8.wasm", wasm = embed "ocellus-int8.wasm"),
    (name = "ocellus-int8-relaxed.wasm", wasm = embed "ocellus-int8-relaxed.wasm"),
    (name = "ocellus-relaxed-probe.wasm", wasm = embed "ocellus-relaxed-probe.wasm"),
  ],
  compatibilityDate = "2024-09-23",
  bindings = [
    (name = "ASSETS", service = "assets"),
    (name = "OCELLUS_API_TOKEN", fromEnvironment = "OCELLUS_API_TOKEN"),
  ],
);
