//! Fuzz target `decrypt`: see `toytls_fuzz::decrypt` (fuzz/src/lib.rs) for what it feeds and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    toytls_fuzz::decrypt(data);
});
