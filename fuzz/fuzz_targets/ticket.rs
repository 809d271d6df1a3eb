//! Fuzz target `ticket`: see `toytls_fuzz::ticket` (fuzz/src/lib.rs) for what it feeds and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    toytls_fuzz::ticket(data);
});
