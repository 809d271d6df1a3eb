/work/wt/reshape/target-main/release/deps/cpubits-5c8347ddf6b98a6e.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cpubits-0.1.1/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cpubits-0.1.1/src/../README.md

/work/wt/reshape/target-main/release/deps/libcpubits-5c8347ddf6b98a6e.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cpubits-0.1.1/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cpubits-0.1.1/src/../README.md

/work/wt/reshape/target-main/release/deps/libcpubits-5c8347ddf6b98a6e.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cpubits-0.1.1/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cpubits-0.1.1/src/../README.md

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cpubits-0.1.1/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cpubits-0.1.1/src/../README.md:
