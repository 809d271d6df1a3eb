//! Cryptographic primitives: blocks, keys and bytes, and nothing about TLS.
//!
//! Every module here implements one algorithm from one document and is tested against that
//! document's published vectors and against an independent implementation (the RustCrypto crates).
//! The protocol layers above call these functions; nothing in here knows what a record, a handshake
//! or a cipher suite is.

pub mod aes;
mod aes_fixslice;
mod aes_soft;
#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
mod aes_x86;
pub mod ct;
pub mod ctr;
pub mod gcm;
pub mod ghash;
mod ghash_intmul;
#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
mod ghash_x86;
pub mod hmac;
pub mod prf;
pub mod rsa;

/// Whether `TOYTLS_PORTABLE` asks for the portable backends (set, and neither empty nor `0`).
///
/// With it, [`aes::Backend::best`] and [`ghash::Backend::best`] pick the fastest *portable*
/// backend even where the CPU has AES-NI and PCLMULQDQ: the run-time twin of the `portable-only`
/// build, for running the demo, the peers and the tests as on a CPU without those instructions.
/// Read once per process.
pub fn portable_forced() -> bool {
    static FORCED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FORCED.get_or_init(|| {
        std::env::var_os("TOYTLS_PORTABLE").is_some_and(|v| !v.is_empty() && v != "0")
    })
}

/// The fastest of `all` (listed slowest first) that this CPU can run, and only a portable one if
/// [`portable_forced`]: how the AES and the GHASH backends are chosen, once per process each.
fn fastest<B: Copy>(
    all: &[B],
    available: impl Fn(B) -> bool,
    portable: impl Fn(B) -> bool,
) -> Option<B> {
    let forced = portable_forced();
    all.iter()
        .rev()
        .copied()
        .find(|&b| available(b) && (portable(b) || !forced))
}
