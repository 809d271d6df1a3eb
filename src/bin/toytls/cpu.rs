//! `toytls cpu`: which implementation of each primitive this build and this CPU will use.
//!
//! The crypto core picks its backends at run time (`crypto::aes::Backend::best` and
//! `crypto::ghash::Backend::best`); this prints that choice, what else is available, why, and
//! the two ways to get the portable code on an x86 machine: the `portable-only` build (x86
//! backends compiled out) and `TOYTLS_PORTABLE=1` (compiled in, not used).

use std::process::ExitCode;
use toytls::crypto::{aes, ghash, portable_forced};

pub fn run() -> ExitCode {
    println!("toytls {}", env!("CARGO_PKG_VERSION"));
    if cfg!(all(target_arch = "x86_64", not(feature = "portable-only"))) {
        println!("build:           x86-64 backends compiled in");
    } else {
        println!(
            "build:           portable only ({}; no x86 backends compiled in)",
            if cfg!(feature = "portable-only") {
                "feature portable-only"
            } else {
                "not x86-64"
            }
        );
    }
    println!("CPU features:    {}", cpu_features());
    if portable_forced() {
        println!("TOYTLS_PORTABLE: set, portable AES, GHASH and RSA whatever the CPU has");
    }
    let aes = aes::Backend::best();
    println!("AES-128 backend: {aes}");
    let ghash = ghash::Backend::best();
    println!("GHASH backend:   {ghash}");
    println!("  available AES-128: {}", names(&aes::Backend::available()));
    println!(
        "  available GHASH:   {}",
        names(&ghash::Backend::available())
    );
    println!("RSA backend:     {}", rsa_backend());
    println!("SHA-256, HMAC:   the sha2 crate, which detects SHA-NI by itself (not toytls code)");
    ExitCode::SUCCESS
}

/// `Reference, Fixsliced, ...`: the short names of a list of backends.
fn names<B: std::fmt::Debug>(backends: &[B]) -> String {
    let names: Vec<String> = backends.iter().map(|b| format!("{b:?}")).collect();
    names.join(", ")
}

/// The x86 features the backends look for, as detected now.
#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
fn cpu_features() -> String {
    use std::arch::is_x86_feature_detected as has;
    let features = [
        ("aes", has!("aes")),
        ("pclmulqdq", has!("pclmulqdq")),
        ("ssse3", has!("ssse3")),
        ("vaes", has!("vaes")),
        ("vpclmulqdq", has!("vpclmulqdq")),
        ("avx512f", has!("avx512f")),
        ("avx512bw", has!("avx512bw")),
        ("avx512ifma", has!("avx512ifma")),
    ];
    let present: Vec<&str> = features.iter().filter(|f| f.1).map(|f| f.0).collect();
    if present.is_empty() {
        "none of aes, pclmulqdq, vaes, vpclmulqdq, avx512*".to_string()
    } else {
        present.join(" ")
    }
}

#[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
fn cpu_features() -> String {
    "not probed (no backend in this build uses CPU-specific instructions)".to_string()
}

/// The RSA backend an RSA-2048 key picks here (`crypto::rsa::RsaBackend::best`), and what it
/// runs.
fn rsa_backend() -> &'static str {
    match toytls::crypto::rsa::RsaBackend::best() {
        toytls::crypto::rsa::RsaBackend::Ifma => {
            "avx512-ifma: RSA-2048's two CRT halves in one pass and its public operation; \
             portable for other sizes"
        }
        toytls::crypto::rsa::RsaBackend::Portable => {
            "portable: constant-time Montgomery (61-bit digits for 1024-bit primes)"
        }
    }
}
