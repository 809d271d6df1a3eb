//! Fuzz target `handshake_message`: see `toytls_fuzz::handshake_message` (fuzz/src/lib.rs) for what it feeds and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    toytls_fuzz::handshake_message(data);
});
