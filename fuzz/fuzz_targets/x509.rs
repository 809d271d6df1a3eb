//! Fuzz target `x509`: see `toytls_fuzz::x509` (fuzz/src/lib.rs) for what it feeds and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    toytls_fuzz::x509(data);
});
