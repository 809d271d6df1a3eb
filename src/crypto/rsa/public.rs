//! The RSA public operation `x^e mod n` (RSAEP and RSAVP1, RFC 8017 5.1.1 and 5.2.2): what a
//! TLS client does twice per full handshake (check the certificate's signature, encrypt the
//! pre-master secret), and what the private key does to check its own result.
//!
//! # Variable time, and why that is fine here
//! The exponent `e` is public, so this code branches on its bits: left-to-right square and
//! multiply, a squaring per bit and a multiplication per set bit (for e = 65537, 16 squarings
//! and one multiplication). Nothing else varies: the arithmetic underneath is the same
//! constant-time Montgomery multiplication the private key uses, so the time does not depend on
//! `x`. That matters because `x` is not always public: the private key runs its blinding factor
//! `r` and its blinded result through here (see `private`). The checks that do look at the
//! value of `x` (is it below `n`?) are made by the callers in `mod.rs`, on ciphertexts and
//! signatures that arrived over the wire.
//!
//! # Getting in and out of Montgomery form cheaply
//! A Montgomery multiplication computes `a*b/R mod n` (see `montgomery`), so numbers normally
//! travel as `x*R`. At 17 multiplications in all, the two conversions would be a tenth of the
//! work, so we save one of them: enter with one multiplication by `R^2 mod n` (precomputed per
//! key), square and multiply in Montgomery form, and make the *last* multiplication by `x`
//! itself rather than by `x*R`. `MontMul(y*R, x) = y*x*R/R = y*x`: the result comes out already
//! in plain form. Every odd `e` ends with a multiplication, so this always applies.

use num_bigint::BigUint;
use zeroize::Zeroizing;

use super::backend::RsaBackend;
use super::montgomery::MontModulus;

/// Which code runs a public key's operation.
#[derive(Clone)]
pub(super) enum PublicEngine {
    /// [`pow_public`] on the portable Montgomery code, any size.
    Portable,
    /// 2048-bit moduli with AVX-512 IFMA (`montgomery_ifma::Ifma2048`).
    #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
    Ifma(Box<super::montgomery_ifma::Ifma2048>),
}

impl PublicEngine {
    /// The engine for modulus `n` on `backend`, or `None` if that backend cannot run it here.
    pub(super) fn new(backend: RsaBackend, n: &BigUint) -> Option<PublicEngine> {
        match backend {
            RsaBackend::Portable => Some(PublicEngine::Portable),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            RsaBackend::Ifma => {
                super::montgomery_ifma::Ifma2048::new(n).map(|f| PublicEngine::Ifma(Box::new(f)))
            }
            #[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
            RsaBackend::Ifma => {
                let _ = n;
                None
            }
        }
    }

    /// The fastest engine this CPU has for `n`.
    pub(super) fn best(n: &BigUint) -> PublicEngine {
        PublicEngine::new(RsaBackend::best(), n)
            .or_else(|| PublicEngine::new(RsaBackend::Portable, n))
            .expect("the portable backend runs every key")
    }

    pub(super) fn backend(&self) -> RsaBackend {
        match self {
            PublicEngine::Portable => RsaBackend::Portable,
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            PublicEngine::Ifma(_) => RsaBackend::Ifma,
        }
    }

    /// This engine's Montgomery multiplication, `a * b / R mod n` for `a, b < n`, fully reduced.
    /// (`R` depends on the engine, so values in Montgomery form must stay with the engine that
    /// made them; the private key uses this for its blinding factors.)
    pub(super) fn mont_mul(&self, n: &MontModulus, a: &[u64], b: &[u64]) -> Zeroizing<Vec<u64>> {
        match self {
            PublicEngine::Portable => {
                let mut out = Zeroizing::new(vec![0u64; n.limbs()]);
                n.mul(a, b, &mut out);
                out
            }
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            PublicEngine::Ifma(f) => f.mul(a, b),
        }
    }

    /// `x R mod n` for `x < n`, the Montgomery form that [`Self::mont_mul`] works in.
    pub(super) fn to_mont(&self, n: &MontModulus, x: &[u64]) -> Zeroizing<Vec<u64>> {
        match self {
            PublicEngine::Portable => n.enter_mont(x),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            PublicEngine::Ifma(f) => f.to_mont(x),
        }
    }

    /// `x^e mod n` for `x < n`, plain in and plain out.
    pub(super) fn pow(&self, n: &MontModulus, x: &[u64], e: u64) -> Zeroizing<Vec<u64>> {
        match self {
            PublicEngine::Portable => pow_public(n, x, e),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            PublicEngine::Ifma(f) => f.pow_public(x, e),
        }
    }
}

/// `x^e mod n` for `x < n` (limbs, as wide as `n`), plain in and plain out, for an odd `e`.
/// Branches on the bits of `e` only.
pub(super) fn pow_public(n: &MontModulus, x: &[u64], e: u64) -> Zeroizing<Vec<u64>> {
    debug_assert!(
        e & 1 == 1 && e >= 3,
        "e is odd and at least 3 (checked at key load)"
    );
    let k = n.limbs();
    let x_mont = n.enter_mont(x);
    let mut acc = Zeroizing::new(x_mont.to_vec());
    let mut tmp = Zeroizing::new(vec![0u64; k]);
    // The top bit of e is the initial `acc = x`; the lowest bit is the final multiplication.
    let top = 63 - e.leading_zeros();
    for bit in (1..top).rev() {
        n.sqr(&acc, &mut tmp);
        core::mem::swap(&mut acc, &mut tmp);
        if (e >> bit) & 1 == 1 {
            n.mul(&acc, &x_mont, &mut tmp);
            core::mem::swap(&mut acc, &mut tmp);
        }
    }
    n.sqr(&acc, &mut tmp);
    // Bit 0 is set (e is odd): multiply by plain x, which also leaves Montgomery form.
    n.mul(&tmp, x, &mut acc);
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::limbs::{from_biguint, to_biguint};
    use num_bigint::BigUint;

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// Equal to `BigUint::modpow` for random odd moduli of 1 to 33 limbs, bases below them
        /// and odd exponents from 3 up to 2^32 (the range a public key may have).
        #[test]
        fn pow_public_equals_biguint_modpow(
            n_limbs in proptest::collection::vec(proptest::num::u64::ANY, 1..=33),
            x_limbs in proptest::collection::vec(proptest::num::u64::ANY, 1..=33),
            e in 1u64..(1 << 31),
        ) {
            let mut n_limbs = n_limbs;
            n_limbs[0] |= 1;
            let n = to_biguint(&n_limbs);
            proptest::prop_assume!(n > BigUint::from(3u8));
            let e = 2 * e + 1;
            let mm = MontModulus::new(&n).unwrap();
            let x = to_biguint(&x_limbs) % &n;
            let got = pow_public(&mm, &from_biguint(&x, mm.limbs()).unwrap(), e);
            proptest::prop_assert_eq!(to_biguint(&got), x.modpow(&BigUint::from(e), &n));
        }
    }

    #[test]
    fn e_65537_and_3_on_edge_values() {
        let n = (BigUint::ONE << 2048u32) - 1557u32; // odd, 2048 bits
        let mm = MontModulus::new(&n).unwrap();
        for e in [3u64, 65537, (1 << 32) - 1] {
            for x in [BigUint::ZERO, BigUint::ONE, &n - 1u32, &n - 2u32] {
                let got = pow_public(&mm, &from_biguint(&x, 32).unwrap(), e);
                assert_eq!(to_biguint(&got), x.modpow(&BigUint::from(e), &n), "e={e}");
            }
        }
    }
}
