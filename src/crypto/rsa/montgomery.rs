//! Constant-time modular arithmetic for the private key: Montgomery multiplication and a
//! fixed-window exponentiation over fixed-width `u64` limbs.
//!
//! # Why not `num-bigint`'s `modpow`
//! `BigUint::modpow` is correct but not written for secrets: it skips leading zero limbs, scans
//! the exponent with data-dependent loop exits, looks up its window table by indexing memory with
//! exponent bits, and allocates results whose size follows the value. Each of these makes time or
//! cache state depend on the secret exponent or on the secret intermediate values; RUSTSEC-2023-0071
//! (the Marvin attack against the `rsa` crate) is the real-world result of exactly this kind of
//! leak in RSA decryption. So for `d mod (p-1)` and `d mod (q-1)` we do our own arithmetic, where:
//!
//! - every number has the width of its modulus, in limbs, whatever its value;
//! - the exponent is consumed 4 bits at a time over its *full* width, always doing 4 squarings and
//!   one multiplication per window, even for a window of zeros;
//! - the table entry for a window is picked by reading *every* entry and keeping the right one with
//!   a mask, so the memory access pattern is the same for every exponent;
//! - the conditional final subtraction of Montgomery multiplication is done with a mask.
//!
//! # Montgomery multiplication in one paragraph
//! For an odd modulus `m` of `k` limbs let `R = 2^(64k)`. Represent `x` by `x*R mod m` (its
//! "Montgomery form"). Then `MontMul(aR, bR) = aR * bR / R mod m = (ab)R mod m` stays in the form,
//! and dividing by `R` is cheap: add the multiple of `m` that clears the lowest limb, shift one limb
//! right, `k` times. We interleave that with the schoolbook product one limb of `b` at a time
//! (the CIOS method of Koç, Acar and Kaliski, "Analyzing and Comparing Montgomery Multiplication
//! Algorithms", 1996), so the running total never exceeds `k + 2` limbs. The result is below
//! `2m`, and one masked subtraction brings it below `m`.

use num_bigint::BigUint;
use zeroize::{Zeroize, Zeroizing};

use super::limbs::{adc, from_biguint, mac, sbb};
use crate::crypto::ct;

/// Bits of exponent consumed per table lookup. 4 divides 64, so a window never straddles two
/// limbs; the table has 16 entries.
const WINDOW_BITS: usize = 4;
const TABLE_LEN: usize = 1 << WINDOW_BITS;

/// An odd modulus prepared for Montgomery arithmetic. When the modulus is a secret prime, so is
/// everything in here: all of it is wiped on drop.
#[derive(Clone)]
pub(crate) struct MontModulus {
    /// The modulus, `k` limbs, little-endian.
    m: Vec<u64>,
    /// `-m^-1 mod 2^64`: the factor that makes the lowest limb vanish in a reduction step.
    m0inv: u64,
    /// `R^2 mod m`, to move numbers into Montgomery form.
    r2: Vec<u64>,
    /// `R mod m`, the Montgomery form of 1.
    one: Vec<u64>,
}

impl Drop for MontModulus {
    fn drop(&mut self) {
        self.m.zeroize();
        self.m0inv.zeroize();
        self.r2.zeroize();
        self.one.zeroize();
    }
}

impl MontModulus {
    /// Prepares `m`, which must be odd and greater than 1.
    ///
    /// `R^2 mod m` and `R mod m` are computed once here with `num-bigint` division, which is not
    /// constant time in `m`; it runs once per key load, on no attacker-chosen input.
    pub(crate) fn new(m: &BigUint) -> Option<Self> {
        if !m.bit(0) || *m == BigUint::ONE {
            return None;
        }
        let k = m.to_u64_digits().len();
        let limbs = from_biguint(m, k)?;
        let r = BigUint::ONE << (64 * k);
        let one = from_biguint(&(&r % m), k)?;
        let r2 = from_biguint(&((&r * &r) % m), k)?;
        Some(MontModulus {
            m0inv: neg_inverse_mod_2_64(limbs[0]),
            m: limbs,
            r2,
            one,
        })
    }

    /// The modulus itself, as limbs.
    pub(crate) fn modulus(&self) -> &[u64] {
        &self.m
    }

    /// Width in limbs of every number mod `m`.
    pub(crate) fn limbs(&self) -> usize {
        self.m.len()
    }

    /// `out = a * b / R mod m`. Needs `a * b < m * R` (true when both are below `m`, or when one
    /// is below `m` and the other merely below `R`); the result is fully reduced, below `m`.
    pub(crate) fn mul(&self, a: &[u64], b: &[u64], out: &mut [u64]) {
        mont_mul(&self.m, self.m0inv, a, b, out);
    }

    /// `(a + b) mod m` for `a, b < m`, branch-free.
    pub(crate) fn add(&self, a: &[u64], b: &[u64], out: &mut [u64]) {
        let k = self.limbs();
        let mut carry = 0;
        for i in 0..k {
            (out[i], carry) = adc(a[i], b[i], carry);
        }
        // The sum is below 2m; subtract m when sum >= m, i.e. when it carried out or when the
        // trial subtraction does not borrow.
        reduce_once(&self.m, carry, out);
    }

    /// `(a - b) mod m` for `a, b < m`, branch-free.
    pub(crate) fn sub(&self, a: &[u64], b: &[u64], out: &mut [u64]) {
        let k = self.limbs();
        let mut borrow = 0;
        for i in 0..k {
            (out[i], borrow) = sbb(a[i], b[i], borrow);
        }
        // If it went negative, add m back (masked).
        let mask = borrow.wrapping_neg();
        let mut carry = 0;
        for (o, &mi) in out[..k].iter_mut().zip(&self.m) {
            (*o, carry) = adc(*o, mi & mask, carry);
        }
    }

    /// The Montgomery form `x * R mod m` of a number `x` of any width (for example a 2048-bit
    /// ciphertext reduced modulo a 1024-bit prime). Constant time in the value of `x`.
    ///
    /// Horner's rule on `k`-limb chunks from the top: with `acc` holding the chunks seen so far,
    /// `acc*R + chunk` moves to Montgomery form as `MontMul(accR, R^2) + MontMul(chunk, R^2)`.
    pub(crate) fn enter_mont_wide(&self, x: &[u64]) -> Zeroizing<Vec<u64>> {
        let k = self.limbs();
        let mut acc = Zeroizing::new(vec![0u64; k]);
        let mut tmp = Zeroizing::new(vec![0u64; k]);
        let mut chunk = Zeroizing::new(vec![0u64; k]);
        let chunks = x.len().div_ceil(k);
        for c in (0..chunks).rev() {
            // Shift what we have up by one chunk: accR -> (acc * R) R.
            self.mul(&acc, &self.r2, &mut tmp);
            // This chunk, zero-padded to k limbs, into Montgomery form.
            let lo = c * k;
            let hi = (lo + k).min(x.len());
            chunk.fill(0);
            chunk[..hi - lo].copy_from_slice(&x[lo..hi]);
            self.mul(&chunk, &self.r2, &mut acc);
            let chunk_mont = acc.clone();
            self.add(&tmp, &chunk_mont, &mut acc);
        }
        acc
    }

    /// Leaves Montgomery form: `aR -> a`, i.e. `MontMul(aR, 1)`.
    pub(crate) fn leave_mont(&self, a: &[u64]) -> Zeroizing<Vec<u64>> {
        let k = self.limbs();
        let mut unit = vec![0u64; k];
        unit[0] = 1;
        let mut out = Zeroizing::new(vec![0u64; k]);
        self.mul(a, &unit, &mut out);
        out
    }

    /// `base^exp` in Montgomery form (`base` is in Montgomery form, so is the result), in time
    /// that depends only on `self.limbs()` and `exp.len()`.
    ///
    /// Fixed 4-bit windows from the most significant end of `exp`'s full width: per window, four
    /// squarings, a constant-time table read and one multiplication.
    pub(crate) fn pow(&self, base: &[u64], exp: &[u64]) -> Zeroizing<Vec<u64>> {
        let k = self.limbs();
        // table[i] = base^i (Montgomery form), i = 0..16.
        let mut table = Zeroizing::new(vec![0u64; TABLE_LEN * k]);
        table[..k].copy_from_slice(&self.one);
        table[k..2 * k].copy_from_slice(&base[..k]);
        for i in 2..TABLE_LEN {
            let (done, rest) = table.split_at_mut(i * k);
            self.mul(&done[(i - 1) * k..], base, &mut rest[..k]);
        }

        let mut acc = Zeroizing::new(self.one.clone());
        let mut tmp = Zeroizing::new(vec![0u64; k]);
        let mut entry = Zeroizing::new(vec![0u64; k]);
        for &limb in exp.iter().rev() {
            for shift in (0..64).step_by(WINDOW_BITS).rev() {
                for _ in 0..WINDOW_BITS {
                    self.mul(&acc, &acc, &mut tmp);
                    core::mem::swap(&mut acc, &mut tmp);
                }
                let window = (limb >> shift) & (TABLE_LEN as u64 - 1);
                select_entry(&table, k, window, &mut entry);
                self.mul(&acc, &entry, &mut tmp);
                core::mem::swap(&mut acc, &mut tmp);
            }
        }
        acc
    }
}

/// Copies `table[index]` into `out` by reading every entry and masking: the sequence of memory
/// accesses is the same whatever `index` is, so the cache reveals nothing about the exponent.
fn select_entry(table: &[u64], k: usize, index: u64, out: &mut [u64]) {
    out.fill(0);
    for (i, entry) in table.chunks_exact(k).enumerate() {
        let mask = ct::mask_u64_eq(i as u64, index);
        for (o, &e) in out.iter_mut().zip(entry) {
            *o |= e & mask;
        }
    }
}

/// `-m0^-1 mod 2^64` for odd `m0`, by Newton's iteration: if `x*m0 = 1 mod 2^j` then
/// `x*(2 - m0*x)` is an inverse mod `2^(2j)`. Starting from 1 (an inverse mod 2), six steps reach
/// 64 bits.
fn neg_inverse_mod_2_64(m0: u64) -> u64 {
    let mut x: u64 = 1;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(x)));
    }
    x.wrapping_neg()
}

/// CIOS Montgomery multiplication, `out = a*b/R mod m` (see the module doc). `out` must not
/// alias the inputs (the borrow checker makes sure of that).
#[inline]
fn mont_mul(m: &[u64], m0inv: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    let k = m.len();
    let (a, b, t) = (&a[..k], &b[..k], &mut out[..k]);
    t.fill(0);
    // The running total is t[0..k] plus two more limbs, kept in `t_k` and (transiently) `t_k1`.
    let mut t_k = 0u64;
    for &bi in b {
        // t += a * b[i]
        let mut carry = 0;
        for (tj, &aj) in t.iter_mut().zip(a) {
            (*tj, carry) = mac(*tj, aj, bi, carry);
        }
        let (s, t_k1) = adc(t_k, carry, 0);

        // t += u * m with u chosen so the lowest limb becomes 0, then drop that limb.
        let u = t[0].wrapping_mul(m0inv);
        let (_, mut carry) = mac(t[0], u, m[0], 0);
        for j in 1..k {
            (t[j - 1], carry) = mac(t[j], u, m[j], carry);
        }
        let (s, c) = adc(s, carry, 0);
        t[k - 1] = s;
        t_k = t_k1 + c;
    }
    // t + t_k * R < 2m here.
    reduce_once(m, t_k, t);
}

/// Given a value `t + high * R` below `2m` (`high` in {0, 1}), subtracts `m` once if the value is
/// at least `m`, with a mask instead of a branch.
#[inline]
fn reduce_once(m: &[u64], high: u64, t: &mut [u64]) {
    // Trial subtraction, only to learn the borrow.
    let mut borrow = 0;
    for (&tj, &mj) in t.iter().zip(m) {
        (_, borrow) = sbb(tj, mj, borrow);
    }
    // Subtract when the value overflowed into `high` or when t >= m (no borrow).
    let mask = (high | (borrow ^ 1)).wrapping_neg();
    let mut borrow = 0;
    for (tj, &mj) in t.iter_mut().zip(m) {
        (*tj, borrow) = sbb(*tj, mj & mask, borrow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::limbs::{from_biguint, to_biguint};

    fn big(hex: &str) -> BigUint {
        BigUint::parse_bytes(hex.as_bytes(), 16).unwrap()
    }

    #[test]
    fn newton_inverse() {
        for m0 in [1u64, 3, 0xffff_ffff_ffff_ffff, 0x1234_5678_9abc_def1] {
            assert_eq!(
                m0.wrapping_mul(neg_inverse_mod_2_64(m0)),
                u64::MAX,
                "m0 = {m0:#x}"
            );
        }
    }

    #[test]
    fn rejects_even_and_trivial_moduli() {
        assert!(MontModulus::new(&BigUint::from(10u8)).is_none());
        assert!(MontModulus::new(&BigUint::ONE).is_none());
        assert!(MontModulus::new(&BigUint::from(11u8)).is_some());
    }

    #[test]
    fn mul_add_sub_and_wide_reduction_match_biguint() {
        // A 3-limb modulus with its top limb nearly full, and operands close to it, so that the
        // final subtractions are exercised.
        let m = big("fffffffffffffffffffffffffffffffffffffffffffffffb");
        let mm = MontModulus::new(&m).unwrap();
        let k = mm.limbs();
        let r = BigUint::ONE << (64 * k);
        let rinv = r.modinv(&m).unwrap();
        let values = [
            BigUint::ZERO,
            BigUint::ONE,
            &m - 1u32,
            &m - 2u32,
            big("123456789abcdef0fedcba9876543210aaaaaaaaaaaaaaaa"),
        ];
        for a in &values {
            for b in &values {
                let al = from_biguint(a, k).unwrap();
                let bl = from_biguint(b, k).unwrap();
                let mut out = vec![0u64; k];
                mm.mul(&al, &bl, &mut out);
                assert_eq!(to_biguint(&out), (a * b * &rinv) % &m, "mul {a:x} {b:x}");
                mm.add(&al, &bl, &mut out);
                assert_eq!(to_biguint(&out), (a + b) % &m, "add");
                mm.sub(&al, &bl, &mut out);
                assert_eq!(to_biguint(&out), (a + &m - b) % &m, "sub");
            }
        }
        // A 7-limb number reduced mod the 3-limb modulus (two full chunks and a partial one).
        let wide = (BigUint::ONE << 440u32) - 12345u32;
        let wl = from_biguint(&wide, 7).unwrap();
        let got = mm.leave_mont(&mm.enter_mont_wide(&wl));
        assert_eq!(to_biguint(&got), &wide % &m);
    }

    #[test]
    fn pow_matches_modpow_including_zero_and_full_width_exponents() {
        let m = big("c7f1a3b5d9e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a5");
        let mm = MontModulus::new(&m).unwrap();
        let k = mm.limbs();
        let base = big("1234567890abcdef1234567890abcdef1234567890abcdef");
        for exp in [
            BigUint::ZERO,
            BigUint::ONE,
            BigUint::from(16u8),
            big("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            big("8000000000000000000000000000000000000000000000000000000000000001"),
        ] {
            let b_mont = mm.enter_mont_wide(&from_biguint(&base, k).unwrap());
            let e = from_biguint(&exp, k).unwrap();
            let got = mm.leave_mont(&mm.pow(&b_mont, &e));
            assert_eq!(to_biguint(&got), base.modpow(&exp, &m), "exp {exp:x}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(200))]

        /// The constant-time exponentiation agrees with `num-bigint`'s `modpow` for random odd
        /// moduli of 1 to 17 limbs, random bases below them and random full-width exponents.
        #[test]
        fn pow_equals_biguint_modpow(
            m_limbs in proptest::collection::vec(proptest::num::u64::ANY, 1..=17),
            base_limbs in proptest::collection::vec(proptest::num::u64::ANY, 1..=34),
            exp_limbs in proptest::collection::vec(proptest::num::u64::ANY, 1..=17),
        ) {
            let mut m_limbs = m_limbs;
            m_limbs[0] |= 1;
            let m = to_biguint(&m_limbs);
            proptest::prop_assume!(m > BigUint::ONE);
            let mm = MontModulus::new(&m).unwrap();
            let k = mm.limbs();
            // The base may be wider than the modulus: enter_mont_wide reduces it.
            let base = to_biguint(&base_limbs);
            let base_mont = mm.enter_mont_wide(&base_limbs);
            let exp = to_biguint(&exp_limbs);
            let got = mm.leave_mont(&mm.pow(&base_mont, &exp_limbs));
            proptest::prop_assert_eq!(got.len(), k);
            proptest::prop_assert_eq!(to_biguint(&got), base.modpow(&exp, &m));
        }
    }
}
