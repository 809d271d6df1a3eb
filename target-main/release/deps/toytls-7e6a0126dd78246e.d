/work/wt/reshape/target-main/release/deps/toytls-7e6a0126dd78246e.d: src/bin/toytls/main.rs src/bin/toytls/bench.rs src/bin/toytls/cert.rs src/bin/toytls/client.rs src/bin/toytls/demo.rs src/bin/toytls/render.rs src/bin/toytls/server.rs src/bin/toytls/server/http.rs

/work/wt/reshape/target-main/release/deps/toytls-7e6a0126dd78246e: src/bin/toytls/main.rs src/bin/toytls/bench.rs src/bin/toytls/cert.rs src/bin/toytls/client.rs src/bin/toytls/demo.rs src/bin/toytls/render.rs src/bin/toytls/server.rs src/bin/toytls/server/http.rs

src/bin/toytls/main.rs:
src/bin/toytls/bench.rs:
src/bin/toytls/cert.rs:
src/bin/toytls/client.rs:
src/bin/toytls/demo.rs:
src/bin/toytls/render.rs:
src/bin/toytls/server.rs:
src/bin/toytls/server/http.rs:

# env-dep:CARGO_PKG_VERSION=0.1.0
