//! Constant-time helpers: compare and select without branching on secret data.
//!
//! A comparison that returns at the first differing byte tells an attacker *where* the first
//! difference is, through the time it takes. Against a MAC check that is enough to forge a tag one
//! byte at a time; against an RSA padding check it is a decryption oracle (Bleichenbacher 1998).
//! The functions here therefore look at every byte, fold the differences together with OR, and
//! turn the result into either a `bool` (when the answer itself is public, as with "was the MAC
//! right?") or a *mask*: an integer that is all ones for "true" and all zeros for "false", which
//! the caller then uses with AND/OR to pick between values without an `if`.
//!
//! Lengths are treated as public everywhere: in TLS they are visible on the wire anyway.
//!
//! A caveat worth knowing: Rust promises nothing about timing, and an optimiser may in principle
//! turn mask arithmetic back into branches. We pass intermediate values through
//! [`core::hint::black_box`], which in practice stops LLVM from reasoning about them; this is the
//! same best-effort approach as the `subtle` crate. It is not a proof, and a reader checking real
//! code would look at the generated assembly.

use core::hint::black_box;

/// Returns `true` when `a` and `b` have the same length and the same contents.
///
/// Runs in time that depends only on the lengths, never on where (or whether) the contents
/// differ. Use it for MACs, Finished `verify_data` and anything else an attacker could probe
/// byte by byte.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        // Lengths are public (see the module doc), so this early return leaks nothing.
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    black_box(diff) == 0
}

/// `0xff` if `x == 0`, else `0x00`, without a branch.
pub fn mask_u8_is_zero(x: u8) -> u8 {
    // (x - 1) has its top bit set only when x was 0 (in 16-bit arithmetic so 0 - 1 does not wrap
    // into a value whose top byte is zero); spread that bit over the whole byte.
    let wide = (black_box(x) as u16).wrapping_sub(1);
    (wide >> 8) as u8
}

/// `0xff` if `a == b`, else `0x00`, without a branch.
pub fn mask_u8_eq(a: u8, b: u8) -> u8 {
    mask_u8_is_zero(a ^ b)
}

/// All ones if `x == 0`, else all zeros, without a branch.
pub fn mask_u64_is_zero(x: u64) -> u64 {
    // For x != 0, either x or its two's complement negation has the top bit set, so
    // (x | -x) >> 63 is 1 exactly when x != 0.
    let x = black_box(x);
    let nonzero = (x | x.wrapping_neg()) >> 63;
    nonzero.wrapping_sub(1)
}

/// All ones if `a == b`, else all zeros, without a branch.
pub fn mask_u64_eq(a: u64, b: u64) -> u64 {
    mask_u64_is_zero(a ^ b)
}

/// All ones if `a < b` (unsigned), else all zeros, without a branch.
pub fn mask_u64_lt(a: u64, b: u64) -> u64 {
    // The borrow out of a - b is exactly "a < b".
    let (_, borrow) = black_box(a).overflowing_sub(black_box(b));
    (borrow as u64).wrapping_neg()
}

/// Widens a byte mask (`0x00` or `0xff`) to a `u64` mask, keeping it branch-free.
pub fn mask_u8_to_u64(mask: u8) -> u64 {
    ((mask & 1) as u64).wrapping_neg()
}

/// Returns `a` where `mask` is all ones and `b` where it is all zeros.
pub fn select_u8(mask: u8, a: u8, b: u8) -> u8 {
    (a & mask) | (b & !mask)
}

/// Returns `a` where `mask` is all ones and `b` where it is all zeros.
pub fn select_u64(mask: u64, a: u64, b: u64) -> u64 {
    (a & mask) | (b & !mask)
}

/// Byte-wise `out[i] = if mask { a[i] } else { b[i] }` without a branch on `mask`.
///
/// # Panics
/// If the three slices do not have the same length (a programming error; lengths are public).
pub fn select_bytes(mask: u8, a: &[u8], b: &[u8], out: &mut [u8]) {
    assert!(
        a.len() == b.len() && b.len() == out.len(),
        "select_bytes: length mismatch"
    );
    let mask = black_box(mask);
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = select_u8(mask, *x, *y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq_compares_whole_contents_and_length() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"xbc"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(!ct_eq(b"ab", b"abc"));
    }

    #[test]
    fn byte_masks_for_every_value() {
        for x in 0..=255u8 {
            assert_eq!(mask_u8_is_zero(x), if x == 0 { 0xff } else { 0 }, "x = {x}");
            assert_eq!(
                mask_u8_eq(x, 0x02),
                if x == 2 { 0xff } else { 0 },
                "x = {x}"
            );
            assert_eq!(
                mask_u8_to_u64(mask_u8_eq(x, 7)),
                if x == 7 { u64::MAX } else { 0 }
            );
        }
    }

    #[test]
    fn u64_masks_at_the_edges() {
        for &(a, b) in &[
            (0u64, 0u64),
            (0, 1),
            (1, 0),
            (u64::MAX, 0),
            (0, u64::MAX),
            (1 << 63, 1 << 63),
        ] {
            assert_eq!(mask_u64_eq(a, b), if a == b { u64::MAX } else { 0 });
            assert_eq!(mask_u64_lt(a, b), if a < b { u64::MAX } else { 0 });
            assert_eq!(mask_u64_is_zero(a), if a == 0 { u64::MAX } else { 0 });
        }
    }

    #[test]
    fn selection_picks_by_mask() {
        assert_eq!(select_u8(0xff, 1, 2), 1);
        assert_eq!(select_u8(0x00, 1, 2), 2);
        assert_eq!(select_u64(u64::MAX, 1, 2), 1);
        assert_eq!(select_u64(0, 1, 2), 2);
        let mut out = [0u8; 3];
        select_bytes(0xff, b"abc", b"xyz", &mut out);
        assert_eq!(&out, b"abc");
        select_bytes(0x00, b"abc", b"xyz", &mut out);
        assert_eq!(&out, b"xyz");
    }
}
