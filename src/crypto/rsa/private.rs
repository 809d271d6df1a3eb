//! The RSA private-key operation `m = c^d mod n`, done the careful way: blinded, split by the
//! Chinese Remainder Theorem, in constant time, and checked before the result is released.
//!
//! ```text
//! blind     c' = c * r^e mod n          r random, fresh every call      (num-bigint: public/blinded)
//! reduce    c'_p = c' mod p,  c'_q = c' mod q                           (Montgomery, constant time)
//! exponent  m1 = c'_p^dp mod p,  m2 = c'_q^dq mod q                     (Montgomery, constant time)
//! combine   h = qinv * (m1 - m2) mod p,  m' = m2 + h*q                  (Garner; constant time)
//! check     m'^e mod n == c'                                            (num-bigint: blinded)
//! unblind   m = m' * r^-1 mod n                                         (Montgomery, constant time)
//! ```
//!
//! Why each step:
//! - **Blinding** (Kocher 1996; RFC 8017 section 5.1.2 note): the exponentiation works on
//!   `c * r^e`, a number the attacker neither chose nor knows, so even a leak in it would not line
//!   up with the attacker's ciphertexts. Since `(c r^e)^d = c^d r`, multiplying by `r^-1` at the
//!   end recovers `m`.
//! - **CRT** (RFC 8017 5.1.2 step 2.b): two exponentiations with half-size numbers and exponents
//!   are about four times cheaper than one full-size one.
//! - **Constant time**: everything that touches the key or the unblinded result runs on fixed-width
//!   limbs ([`super::montgomery`]); `num-bigint` only ever sees `r`, `c` and the blinded values.
//! - **The check** guards against faults: if a glitch corrupted one CRT half, the faulty output
//!   would reveal a factor of `n` (Boneh, DeMillo and Lipton, 1997). It costs one public operation.

use num_bigint::BigUint;
use zeroize::Zeroizing;

use super::RsaPrivateKey;
use super::limbs;

/// The private operation failed its self-check (see the module doc). Deliberately carries no
/// detail.
pub(super) struct Fault;

impl RsaPrivateKey {
    /// RSADP / RSASP1 (RFC 8017 5.1.2, 5.2.1) on `c < n`, returning `c^d mod n` as exactly
    /// `modulus_len()` big-endian bytes (I2OSP), never stripped of leading zeros.
    pub(super) fn private_op<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        c: &BigUint,
    ) -> Result<Zeroizing<Vec<u8>>, Fault> {
        let n = &self.public.n;
        let e = &self.public.e;
        let kn = self.n_mont.limbs();
        debug_assert!(c < n);

        // Blinding factor r in [1, n) with an inverse mod n (all but a negligible fraction of r).
        let (r, r_inv) = loop {
            let mut buf = vec![0u8; self.public.modulus_len()];
            rng.fill_bytes(&mut buf);
            let r = BigUint::from_bytes_be(&buf) % n;
            if r == BigUint::ZERO {
                continue;
            }
            if let Some(inv) = r.modinv(n) {
                break (r, inv);
            }
        };
        let c_blind = (c * r.modpow(e, n)) % n;
        let c_blind_limbs = limbs::from_biguint(&c_blind, kn).expect("reduced mod n");

        // Two half-size exponentiations.
        let m1 = self
            .p
            .pow(&self.p.enter_mont_wide(&c_blind_limbs), &self.dp);
        let m2_mont = self
            .q
            .pow(&self.q.enter_mont_wide(&c_blind_limbs), &self.dq);
        let m2 = self.q.leave_mont(&m2_mont);

        // Garner: h = qinv * (m1 - m2) mod p. m1 is in Montgomery form mod p, so we bring m2 into
        // the same form; the Montgomery product with qinv (plain form) then lands in plain form.
        let kp = self.p.limbs();
        let m2_mod_p = self.p.enter_mont_wide(&m2);
        let mut diff = Zeroizing::new(vec![0u64; kp]);
        self.p.sub(&m1, &m2_mod_p, &mut diff);
        let mut h = Zeroizing::new(vec![0u64; kp]);
        self.p.mul(&diff, &self.qinv, &mut h);

        // m' = m2 + h*q. It is below n (so it fits in kn limbs; any limbs above are zero).
        let q_limbs = self.q.modulus();
        let mut m_blind = Zeroizing::new(vec![0u64; kp + q_limbs.len()]);
        limbs::mul(&h, q_limbs, &mut m_blind);
        limbs::add_assign(&mut m_blind, &m2);
        m_blind.truncate(kn);

        // Fault check on blinded values: m'^e must give back c'.
        if limbs::to_biguint(&m_blind).modpow(e, n) != c_blind {
            return Err(Fault);
        }

        // Unblind: m = m' * r^-1 mod n, as a Montgomery product with (r^-1 * R mod n).
        let r_inv_mont = (r_inv << (64 * kn)) % n;
        let r_inv_mont = limbs::from_biguint(&r_inv_mont, kn).expect("reduced mod n");
        let mut m = Zeroizing::new(vec![0u64; kn]);
        self.n_mont.mul(&m_blind, &r_inv_mont, &mut m);

        let mut out = Zeroizing::new(vec![0u8; self.public.modulus_len()]);
        limbs::to_be_bytes(&m, &mut out);
        Ok(out)
    }
}
