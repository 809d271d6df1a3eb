//! Which code runs a key's arithmetic, chosen at run time from the CPU's features.
//!
//! | backend    | where                                 | what it runs                             |
//! | ---------- | ------------------------------------- | ---------------------------------------- |
//! | `Ifma`     | x86-64 with AVX-512F and AVX-512 IFMA | RSA-2048: both CRT exponentiations in one pass (`montgomery_ifma::IfmaCrt`), and the 2048-bit public operation, fault check and blinding (`montgomery_ifma::Ifma2048`) |
//! | `Portable` | everywhere                            | every size: `mont1024` for 1024-bit primes, `montgomery` for the rest; on x86-64 with BMI2, `mont1024` runs a copy of itself compiled with BMI2 |
//!
//! A key picks the best backend that can run it when it is built ([`RsaBackend::best`], which
//! honours `TOYTLS_PORTABLE` like the AES and GHASH backends); tests
//! and benchmarks can force one with `RsaPrivateKey::with_backend` and
//! `RsaPublicKey::with_backend`, so the portable code is also built and tested on CPUs that would
//! never choose it. With the `portable-only` cargo feature (or on any other architecture) the
//! IFMA backend and the BMI2 copy are not compiled at all.

use core::fmt;

/// An implementation of the RSA private-key arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaBackend {
    /// Plain Rust, on every CPU: 61-bit digits and unrolled Montgomery code for 1024-bit primes
    /// (`mont1024`), 64-bit limbs for every other size and for the public operation
    /// (`montgomery`).
    Portable,
    /// AVX-512 IFMA: both CRT exponentiations of an RSA-2048 key in one pass, side by side in
    /// the vector lanes, and the 2048-bit public operation (`montgomery_ifma`).
    Ifma,
}

impl RsaBackend {
    /// Every backend, fastest first.
    pub const ALL: [RsaBackend; 2] = [RsaBackend::Ifma, RsaBackend::Portable];

    /// Whether this build and this CPU can run the backend (for some key size).
    pub fn is_available(self) -> bool {
        match self {
            RsaBackend::Portable => true,
            RsaBackend::Ifma => ifma_available(),
        }
    }

    /// The fastest backend this CPU has, or the portable one if `TOYTLS_PORTABLE` asks for it
    /// (see `crate::crypto::portable_forced`). A given key may still need the portable one, if
    /// it is not an RSA-2048 key.
    pub fn best() -> RsaBackend {
        if ifma_available() && !crate::crypto::portable_forced() {
            RsaBackend::Ifma
        } else {
            RsaBackend::Portable
        }
    }

    /// A short lower-case name, as `toytls cpu` prints it.
    pub fn name(self) -> &'static str {
        match self {
            RsaBackend::Portable => "portable",
            RsaBackend::Ifma => "avx512-ifma",
        }
    }
}

impl fmt::Display for RsaBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
fn ifma_available() -> bool {
    super::montgomery_ifma::available()
}

#[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
fn ifma_available() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_is_always_there_and_best_is_available() {
        assert!(RsaBackend::Portable.is_available());
        assert!(RsaBackend::best().is_available());
        assert_eq!(RsaBackend::Ifma.to_string(), "avx512-ifma");
    }

    #[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
    #[test]
    fn without_x86_only_the_portable_backend_exists() {
        assert!(!RsaBackend::Ifma.is_available());
        assert_eq!(RsaBackend::best(), RsaBackend::Portable);
    }
}
