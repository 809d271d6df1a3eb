//! The RSA private-key operation `m = c^d mod n`, done the careful way: blinded, split by the
//! Chinese Remainder Theorem, in constant time, and checked before the result is released.
//!
//! ```text
//! blind     c' = c * r^e mod n          r random, unknown to the attacker
//! reduce    c'_p = c' mod p,  c'_q = c' mod q
//! exponent  m1 = c'_p^dp mod p,  m2 = c'_q^dq mod q
//! combine   h = qinv * (m1 - m2) mod p,  m' = m2 + h*q                  (Garner)
//! check     m'^e mod n == c'
//! unblind   m = m' * r^-1 mod n
//! ```
//!
//! Every step runs on the fixed-width limbs of [`super::montgomery`]; `num-bigint` is only used
//! to draw `r` and invert it.
//!
//! Why each step:
//! - **Blinding** (Kocher 1996; RFC 8017 section 5.1.2 note): the exponentiation works on
//!   `c * r^e`, a number the attacker neither chose nor knows, so even a leak in it would not line
//!   up with the attacker's ciphertexts. Since `(c r^e)^d = c^d r`, multiplying by `r^-1` at the
//!   end recovers `m`.
//! - **CRT** (RFC 8017 5.1.2 step 2.b): two exponentiations with half-size numbers and exponents
//!   are about four times cheaper than one full-size one.
//! - **Constant time**: everything that touches the key or the result runs on fixed-width limbs,
//!   with the same sequence of operations and memory accesses whatever the values.
//! - **The check** guards against faults: if a glitch corrupted one CRT half, the faulty output
//!   would reveal a factor of `n` (Boneh, DeMillo and Lipton, 1997). With e = 65537 it costs 17
//!   multiplications.
//!
//! # Where the blinding factors come from
//! A fresh pair `(r^e, r^-1)` costs a modular inversion, which with `num-bigint` takes longer
//! than the whole CRT exponentiation. So, as OpenSSL does, the key keeps one pair and, after each
//! use, replaces it by its square: `(r^2)^e = (r^e)^2` and `(r^2)^-1 = (r^-1)^2`, two
//! multiplications. Every [`REFRESH_AFTER`] uses the pair is drawn fresh from the caller's RNG.
//! The pair lives behind a `Mutex`, so concurrent decryptions never share one.

use std::sync::Mutex;

use num_bigint::BigUint;
use zeroize::Zeroizing;

use super::RsaPrivateKey;
use super::limbs;
use super::montgomery::MontModulus;
use super::public::pow_public;

/// Uses of one blinding pair (squared in between) before a fresh one is drawn. OpenSSL's
/// `BN_BLINDING_COUNTER` is the same.
pub(super) const REFRESH_AFTER: u32 = 32;

/// The private operation failed its self-check (see the module doc). Deliberately carries no
/// detail.
pub(super) struct Fault;

/// A blinding pair in Montgomery form mod n: `r^e * R` and `r^-1 * R`.
struct BlindingPair {
    mask: Zeroizing<Vec<u64>>,
    unmask: Zeroizing<Vec<u64>>,
    uses_left: u32,
}

/// The key's current blinding pair (see the module doc). Cloning a key starts the clone with no
/// pair, so two keys never share blinding factors.
#[derive(Default)]
pub(super) struct BlindingCache(Mutex<Option<BlindingPair>>);

impl Clone for BlindingCache {
    fn clone(&self) -> Self {
        BlindingCache::default()
    }
}

impl BlindingCache {
    /// A pair to use now, leaving its square (or nothing, when it is worn out) for next time.
    fn take<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        n_mont: &MontModulus,
        n: &BigUint,
        e: u64,
    ) -> (Zeroizing<Vec<u64>>, Zeroizing<Vec<u64>>) {
        // A panic while holding the lock cannot leave the pair half-updated in a way that matters
        // (at worst it is reused once more), so a poisoned lock is simply taken over.
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let pair = match slot.take() {
            Some(pair) if pair.uses_left > 0 => pair,
            _ => fresh_pair(rng, n_mont, n, e),
        };
        let k = n_mont.limbs();
        let mut next_mask = Zeroizing::new(vec![0u64; k]);
        let mut next_unmask = Zeroizing::new(vec![0u64; k]);
        n_mont.mul(&pair.mask, &pair.mask, &mut next_mask);
        n_mont.mul(&pair.unmask, &pair.unmask, &mut next_unmask);
        *slot = Some(BlindingPair {
            mask: next_mask,
            unmask: next_unmask,
            uses_left: pair.uses_left - 1,
        });
        (pair.mask, pair.unmask)
    }
}

/// Draws `r` uniformly from `[1, n)` until it is invertible mod `n` (all but a negligible
/// fraction are) and returns `(r^e R, r^-1 R)`. `num-bigint` sees only `r`, a fresh random value
/// independent of the key and of any ciphertext.
fn fresh_pair<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    n_mont: &MontModulus,
    n: &BigUint,
    e: u64,
) -> BlindingPair {
    let k = n_mont.limbs();
    let mut buf = Zeroizing::new(vec![0u8; k * 8]);
    loop {
        rng.fill_bytes(&mut buf);
        let r = BigUint::from_bytes_be(&buf) % n;
        if r == BigUint::ZERO {
            continue;
        }
        let Some(r_inv) = r.modinv(n) else {
            continue;
        };
        let r = Zeroizing::new(limbs::from_biguint(&r, k).expect("reduced mod n"));
        let r_inv = Zeroizing::new(limbs::from_biguint(&r_inv, k).expect("reduced mod n"));
        return BlindingPair {
            mask: n_mont.enter_mont(&pow_public(n_mont, &r, e)),
            unmask: n_mont.enter_mont(&r_inv),
            uses_left: REFRESH_AFTER,
        };
    }
}

impl RsaPrivateKey {
    /// RSADP / RSASP1 (RFC 8017 5.1.2, 5.2.1) on `c < n`, returning `c^d mod n` as exactly
    /// `modulus_len()` big-endian bytes (I2OSP), never stripped of leading zeros.
    pub(super) fn private_op<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        c: &BigUint,
    ) -> Result<Zeroizing<Vec<u8>>, Fault> {
        let n_mont = &self.public.n_mont;
        let kn = n_mont.limbs();
        debug_assert!(c < &self.public.n);
        let c = limbs::from_biguint(c, kn).expect("c < n");

        // Blind: c' = c * r^e (a Montgomery product with r^e R).
        let (mask, unmask) = self
            .blinding
            .take(rng, n_mont, &self.public.n, self.public.e_word);
        let mut c_blind = Zeroizing::new(vec![0u64; kn]);
        n_mont.mul(&c, &mask, &mut c_blind);

        // Two half-size exponentiations, on c' reduced mod p and mod q.
        let c_p = self.p.leave_mont(&self.p.enter_mont_wide(&c_blind));
        let c_q = self.q.leave_mont(&self.q.enter_mont_wide(&c_blind));
        let m1 = self.p.pow_plain(&c_p, &self.dp);
        let m2 = self.q.pow_plain(&c_q, &self.dq);

        // Garner: h = qinv * (m1 - m2) mod p. The Montgomery product of (m1 - m2) R with qinv
        // lands in plain form.
        let kp = self.p.limbs();
        let m2_mod_p = self.p.leave_mont(&self.p.enter_mont_wide(&m2));
        let mut diff = Zeroizing::new(vec![0u64; kp]);
        self.p.sub(&m1, &m2_mod_p, &mut diff);
        let diff_mont = self.p.enter_mont(&diff);
        let mut h = Zeroizing::new(vec![0u64; kp]);
        self.p.mul(&diff_mont, &self.qinv, &mut h);

        // m' = m2 + h*q. It is below n (so it fits in kn limbs; any limbs above are zero).
        let q_limbs = self.q.modulus();
        let mut m_blind = Zeroizing::new(vec![0u64; kp + q_limbs.len()]);
        limbs::mul(&h, q_limbs, &mut m_blind);
        limbs::add_assign(&mut m_blind, &m2);
        m_blind.truncate(kn);

        // Fault check: m'^e must give back c'. (Values are blinded; the comparison's result is
        // "the hardware works", not a secret.)
        let check = pow_public(n_mont, &m_blind, self.public.e_word);
        if check[..] != c_blind[..] {
            return Err(Fault);
        }

        // Unblind: m = m' * r^-1 (a Montgomery product with r^-1 R).
        let mut m = Zeroizing::new(vec![0u64; kn]);
        n_mont.mul(&m_blind, &unmask, &mut m);

        let mut out = Zeroizing::new(vec![0u8; self.public.modulus_len()]);
        limbs::to_be_bytes(&m, &mut out);
        Ok(out)
    }
}
