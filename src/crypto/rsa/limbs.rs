//! Fixed-width multi-precision numbers as little-endian `u64` limbs.
//!
//! `num-bigint` trims leading zero limbs, so the time its operations take depends on how big the
//! *value* is. For secret values that is a leak (it is half of what the Marvin attack measured), so
//! the private-key path works on plain `[u64]` slices whose length is fixed by the modulus, never by
//! the value. Every loop here runs over the whole width and no branch looks at a limb's value.
//!
//! Limb 0 is the least significant.

use num_bigint::BigUint;

/// `a * b + acc + carry` as a (low, high) pair of limbs. Never overflows: the largest possible
/// value is (2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1.
#[inline(always)]
pub(crate) fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = (a as u128) * (b as u128) + (acc as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}

/// `a + b + carry` with `carry` in {0, 1}, returning (sum, carry out).
#[inline(always)]
pub(crate) fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = (a as u128) + (b as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}

/// `a - b - borrow` with `borrow` in {0, 1}, returning (difference, borrow out).
#[inline(always)]
pub(crate) fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = (a as u128)
        .wrapping_sub(b as u128)
        .wrapping_sub(borrow as u128);
    (t as u64, ((t >> 64) as u64) & 1)
}

/// The value of `x` in exactly `width` limbs, or `None` if it does not fit. For public values
/// and for secrets at load time only: `num-bigint` itself is not constant time.
pub(crate) fn from_biguint(x: &BigUint, width: usize) -> Option<Vec<u64>> {
    let mut limbs = x.to_u64_digits();
    if limbs.len() > width {
        return None;
    }
    limbs.resize(width, 0);
    Some(limbs)
}

/// The big-endian bytes `bytes` as exactly `width` limbs (OS2IP of RFC 8017 4.2), or `None` if the
/// value needs more. Leading zero bytes are allowed. Constant time in the value: every byte is
/// read once and the layout depends only on the lengths.
pub(crate) fn from_be_bytes(bytes: &[u8], width: usize) -> Option<Vec<u64>> {
    let mut limbs = vec![0u64; width];
    for (i, &b) in bytes.iter().rev().enumerate() {
        match limbs.get_mut(i / 8) {
            Some(limb) => *limb |= (b as u64) << (8 * (i % 8)),
            // A byte beyond the width: only allowed if it is a leading zero. (Lengths are
            // public; this only runs for inputs longer than the modulus.)
            None if b == 0 => {}
            None => return None,
        }
    }
    Some(limbs)
}

/// `a < b` for two numbers of the same width. Variable time: for public values only (is a
/// ciphertext or signature below the modulus?).
pub(crate) fn less_than(a: &[u64], b: &[u64]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// Writes the low `out.len()` bytes of `limbs`, big-endian, into `out` (I2OSP of RFC 8017 4.1
/// with a fixed output length). Constant time: the length is public and every limb is visited.
pub(crate) fn to_be_bytes(limbs: &[u64], out: &mut [u8]) {
    for (i, o) in out.iter_mut().rev().enumerate() {
        let limb = limbs.get(i / 8).copied().unwrap_or(0);
        *o = (limb >> (8 * (i % 8))) as u8;
    }
}

/// Back to a `BigUint`. Only for values that are public or blinded.
pub(crate) fn to_biguint(limbs: &[u64]) -> BigUint {
    let mut bytes = vec![0u8; limbs.len() * 8];
    to_be_bytes(limbs, &mut bytes);
    BigUint::from_bytes_be(&bytes)
}

/// Schoolbook product `out = a * b`; `out` must have `a.len() + b.len()` limbs.
pub(crate) fn mul(a: &[u64], b: &[u64], out: &mut [u64]) {
    assert_eq!(out.len(), a.len() + b.len());
    out.fill(0);
    for (i, &bi) in b.iter().enumerate() {
        let mut carry = 0;
        for (j, &aj) in a.iter().enumerate() {
            (out[i + j], carry) = mac(out[i + j], aj, bi, carry);
        }
        out[i + a.len()] = carry;
    }
}

/// `acc += x` over the full width of `acc` (`x` may be shorter); returns the carry out.
pub(crate) fn add_assign(acc: &mut [u64], x: &[u64]) -> u64 {
    assert!(x.len() <= acc.len());
    let mut carry = 0;
    for (i, a) in acc.iter_mut().enumerate() {
        let xi = x.get(i).copied().unwrap_or(0);
        (*a, carry) = adc(*a, xi, carry);
    }
    carry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip_with_leading_zeros() {
        let bytes = [0u8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let limbs = from_biguint(&BigUint::from_bytes_be(&bytes), 2).unwrap();
        assert_eq!(limbs, vec![0x0304_0506_0708_090a, 0x0102]);
        let mut out = [0u8; 12];
        to_be_bytes(&limbs, &mut out);
        assert_eq!(out, bytes);
        assert_eq!(to_biguint(&limbs), BigUint::from_bytes_be(&bytes));
        assert_eq!(
            from_biguint(&to_biguint(&limbs), 3).unwrap(),
            vec![limbs[0], limbs[1], 0]
        );
    }

    #[test]
    fn values_that_do_not_fit_are_refused() {
        assert!(from_biguint(&(BigUint::from(1u8) << 64u32), 1).is_none());
        assert!(from_be_bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 0], 1).is_none());
    }

    #[test]
    fn bytes_to_limbs_and_comparison() {
        let bytes = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let limbs = from_be_bytes(&bytes, 2).unwrap();
        assert_eq!(limbs, vec![0x0304_0506_0708_090a, 0x0102]);
        assert_eq!(from_be_bytes(&[], 2).unwrap(), vec![0, 0]);
        assert_eq!(to_biguint(&limbs), BigUint::from_bytes_be(&bytes));
        assert!(less_than(&[5, 1], &[4, 2]));
        assert!(!less_than(&[4, 2], &[5, 1]));
        assert!(less_than(&[4, 2], &[5, 2]));
        assert!(!less_than(&[5, 2], &[5, 2]));
    }

    #[test]
    fn mul_and_add_match_biguint() {
        let a = [u64::MAX, u64::MAX, 7];
        let b = [u64::MAX, 3];
        let mut out = [0u64; 5];
        mul(&a, &b, &mut out);
        assert_eq!(to_biguint(&out), to_biguint(&a) * to_biguint(&b));
        let mut acc = [u64::MAX, u64::MAX, 0];
        assert_eq!(add_assign(&mut acc, &[1]), 0);
        assert_eq!(acc, [0, 0, 1]);
        let mut acc = [u64::MAX];
        assert_eq!(add_assign(&mut acc, &[1]), 1);
    }

    #[test]
    fn sbb_borrows() {
        assert_eq!(sbb(0, 1, 0), (u64::MAX, 1));
        assert_eq!(sbb(5, 3, 1), (1, 0));
        assert_eq!(sbb(0, 0, 1), (u64::MAX, 1));
        assert_eq!(adc(u64::MAX, 0, 1), (0, 1));
    }
}
