//! Portable constant-time GHASH: carry-less multiplication out of integer multiplications.
//!
//! `ghash.rs` multiplies in GF(2^128) bit by bit (SP 800-38D Algorithm 1), 128 masked steps per
//! block. CPUs without PCLMULQDQ still have a fast, constant-time *integer* multiplier, and this
//! file makes it do carry-less work, the idea of BearSSL's `ghash_ctmul64` written our own way.
//! It is tested against `ghash.rs`, the x86 backends and the GCM vectors.
//!
//! # Integer multiplication with holes
//!
//! A carry-less product is an integer product with every carry thrown away: bit `k` of
//! `clmul(x, y)` is the *parity* of the number of pairs `i + j = k` with `x_i = y_j = 1`, while
//! the integer product adds those pairs up and lets the sum carry into bits `k + 1, k + 2, ...`.
//!
//! Keep only every fourth bit of `x` (bits `a, a + 4, a + 8, ...`) and of `y` (bits `b, b + 4,
//! ...`). Their integer product has terms only at positions `≡ a + b (mod 4)`, and at such a
//! position `p` at most `p/4 + 1` pairs meet. Below bit 60 that is at most 15, a count that fits
//! in four bits: its carries stay in the three "holes" up to the next position of the class and
//! never reach it. (At bits 60-63 a count of 16 is possible; its carry goes to bit 64 or above,
//! which the 64-bit multiplication drops, and 16 is even, so the parity bit is right.) So the low
//! 64 bits of the integer product, masked to the class, are exactly the carry-less product's
//! bits of that class. Splitting `x` and `y` into four classes each and XORing the sixteen class
//! products gives the low 64 bits of the 64 x 64-bit carry-less product ([`clmul_low`]): sixteen
//! `wrapping_mul`s.
//!
//! The high 64 bits come from the same function on bit-reversed inputs: the low half of
//! `clmul(rev x, rev y)` is the product's bits 126 down to 63, reversed (`u64::reverse_bits`, one
//! instruction on AArch64, a byte swap and three shift-and-mask steps on x86-64).
//!
//! # From 64-bit products to GHASH
//!
//! A 128-bit product takes three 64-bit ones (Karatsuba: `a0·b0`, `a1·b1`, `(a0 ^ a1)(b0 ^ b1)`),
//! giving 256 bits, which are then reduced modulo P = x^128 + x^7 + x^2 + x + 1 in GCM's
//! reflected bit order ([`reduce`]). Everything after the multiplications is linear (XOR), so
//! eight blocks share it: `Y' = (Y ^ X1)·H^8 ^ X2·H^7 ^ ... ^ X8·H`, with the powers of H that
//! [`GhashKey`] already keeps, each pre-split and pre-reversed once per call; the eight products
//! are summed as they come, and the bit reversals, the Karatsuba recombination and the reduction
//! run once per eight blocks ([`update`]).
//!
//! [`GhashKey`]: super::ghash::GhashKey
//!
//! # Constant time, function by function
//!
//! Secret: H and its powers; the data being hashed (it is ciphertext in GCM, but the intermediate
//! Y values and the tag are secret until sent).
//! - [`clmul_low`]: ANDs with constant masks, integer multiplications, XORs. No branch, no index.
//!   This relies on the CPU's 64-bit multiplier taking the same time for every operand, which
//!   holds for the 64-bit x86 and ARM cores toytls targets (BearSSL documents the exceptions: some
//!   old or embedded cores, e.g. ARM Cortex-M3, finish early on small operands; there even this
//!   code leaks).
//! - [`Sum`], [`reduce`], `reverse_bits`: XORs, shifts by constant amounts, and the
//!   bit-reversal (a fixed sequence of shifts and masks, or `rbit`).
//! - [`update`]: loops over the public length; the powers are read at fixed, public indices.
//!
//! `unsafe`: none.

use super::ghash::POWERS;

/// Blocks absorbed per reduction.
pub(crate) const BLOCKS: usize = 8;

/// Bits `a, a + 4, a + 8, ...` of a 64-bit word, for `a = 0..4`.
const MASK: [u64; 4] = [
    0x1111_1111_1111_1111,
    0x2222_2222_2222_2222,
    0x4444_4444_4444_4444,
    0x8888_8888_8888_8888,
];

/// A 64-bit operand split into its four sparse classes.
type Split = [u64; 4];

#[inline(always)]
fn split(x: u64) -> Split {
    MASK.map(|m| x & m)
}

/// The low 64 bits of the carry-less product of `x` and `y` (given split), see the module doc.
#[inline(always)]
fn clmul_low(x: u64, y: &Split) -> u64 {
    let x = split(x);
    let mut low = 0;
    for (c, mask) in MASK.iter().enumerate() {
        // All pairs of classes (a, b) with a + b = c mod 4.
        let sum = x[0].wrapping_mul(y[c])
            ^ x[1].wrapping_mul(y[(c + 3) % 4])
            ^ x[2].wrapping_mul(y[(c + 2) % 4])
            ^ x[3].wrapping_mul(y[(c + 1) % 4]);
        low |= sum & mask;
    }
    low
}

/// A 128-bit factor ready for Karatsuba: for its high half, its low half and their XOR, the
/// value split into classes and the bit-reversed value split into classes.
#[derive(Clone, Copy)]
struct Factor([Split; 6]);

impl Factor {
    fn new(v: u128) -> Factor {
        let halves = halves(v);
        Factor(core::array::from_fn(|i| split(halves[i])))
    }
}

/// `[hi, lo, hi ^ lo, rev hi, rev lo, rev (hi ^ lo)]` of a 128-bit value.
#[inline(always)]
fn halves(v: u128) -> [u64; 6] {
    let (hi, lo) = ((v >> 64) as u64, v as u64);
    let (rhi, rlo) = (hi.reverse_bits(), lo.reverse_bits());
    [hi, lo, hi ^ lo, rhi, rlo, rhi ^ rlo]
}

/// A sum of 128 x 128-bit carry-less products, kept as six 64-bit sums: the low halves of the
/// three Karatsuba products, and the reversed-input low halves that give their high halves.
/// All of it is XOR-linear, so products are added (XOR) as they come and finished once.
#[derive(Clone, Copy, Default)]
struct Sum([u64; 6]);

impl Sum {
    #[inline(always)]
    fn add_product(&mut self, x: u128, factor: &Factor) {
        let x = halves(x);
        // Written out: as a loop LLVM keeps it rolled, at half the speed.
        let [s0, s1, s2, s3, s4, s5] = &mut self.0;
        *s0 ^= clmul_low(x[0], &factor.0[0]);
        *s1 ^= clmul_low(x[1], &factor.0[1]);
        *s2 ^= clmul_low(x[2], &factor.0[2]);
        *s3 ^= clmul_low(x[3], &factor.0[3]);
        *s4 ^= clmul_low(x[4], &factor.0[4]);
        *s5 ^= clmul_low(x[5], &factor.0[5]);
    }

    /// The 256-bit carry-less product as (high 128 bits, low 128 bits).
    #[inline(always)]
    fn finish(self) -> (u128, u128) {
        // Each 64 x 64 product: low half as computed, high half = rev(low half of the reversed
        // inputs' product) >> 1 (module doc).
        let product = |i: usize| {
            let high = self.0[i + 3].reverse_bits() >> 1;
            ((high as u128) << 64) | self.0[i] as u128
        };
        let (hh, ll, mm) = (product(0), product(1), product(2));
        // (a1·2^64 + a0)(b1·2^64 + b0) = a1b1·2^128 + (mid - a1b1 - a0b0)·2^64 + a0b0.
        let middle = mm ^ hh ^ ll;
        (hh ^ (middle >> 64), ll ^ (middle << 64))
    }
}

/// Reduce a 256-bit carry-less product of two blocks (as `u128`s read big-endian, GCM's bit
/// order: the coefficient of x^i at integer bit 127 - i) modulo P, to a block in the same order.
///
/// The integer product of two such numbers holds the coefficient of x^k at bit 254 - k; one
/// shift left puts x^0..x^127 in `high` (x^k at bit 127 - k) and x^128..x^255 in `low` (x^(128+j)
/// at bit 127 - j). Then x^128 = x^7 + x^2 + x + 1 mod P: `low` times that, where multiplying by
/// x^m is a right shift by m; what the shifts push past x^127 (`wrap`, at most 6 terms) is folded
/// the same way once more, and cannot overflow again.
#[inline(always)]
fn reduce((hi, lo): (u128, u128)) -> u128 {
    let high = (hi << 1) | (lo >> 127);
    let low = lo << 1;
    let wrap = (low << 127) ^ (low << 126) ^ (low << 121);
    high ^ low
        ^ (low >> 1)
        ^ (low >> 2)
        ^ (low >> 7)
        ^ wrap
        ^ (wrap >> 1)
        ^ (wrap >> 2)
        ^ (wrap >> 7)
}

/// One multiplication in GF(2^128): `x · y`.
#[cfg(test)]
fn mul(x: u128, y: u128) -> u128 {
    let mut sum = Sum::default();
    sum.add_product(x, &Factor::new(y));
    reduce(sum.finish())
}

/// Absorb whole blocks into `y`; `powers[i]` = H^(i+1). Eight blocks per reduction, then what
/// is left with as many powers as blocks.
pub(crate) fn update(powers: &[u128; POWERS], mut y: u128, blocks: &[u8]) -> u128 {
    debug_assert_eq!(blocks.len() % 16, 0);
    // Only as many powers as the longest chunk needs (the additional data and the lengths block
    // of a GCM record are one block each).
    let needed = (blocks.len() / 16).min(BLOCKS);
    let mut factors = [Factor([[0; 4]; 6]); BLOCKS];
    for (factor, power) in factors.iter_mut().zip(powers).take(needed) {
        *factor = Factor::new(*power);
    }
    for chunk in blocks.chunks(16 * BLOCKS) {
        let n = chunk.len() / 16;
        let mut sum = Sum::default();
        for (i, block) in chunk.chunks_exact(16).enumerate() {
            let mut x = u128::from_be_bytes(block.try_into().expect("16 bytes"));
            if i == 0 {
                x ^= y;
            }
            // Block i of n is multiplied by H^(n - i).
            sum.add_product(x, &factors[n - 1 - i]);
        }
        y = reduce(sum.finish());
    }
    for factor in factors.iter_mut() {
        zeroize::Zeroize::zeroize(factor.0.as_flattened_mut());
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed pseudo-random 128-bit value (SplitMix64 of the index, twice).
    fn random_u128(i: u64) -> u128 {
        let mix = |mut z: u64| {
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let seed = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        ((mix(seed) as u128) << 64) | mix(seed ^ 0x5555) as u128
    }

    /// Carry-less multiplication the slow obvious way.
    fn clmul_naive(x: u64, y: u64) -> u128 {
        let mut z = 0u128;
        for i in 0..64 {
            if (y >> i) & 1 == 1 {
                z ^= (x as u128) << i;
            }
        }
        z
    }

    #[test]
    fn holes_give_carry_less_products_even_for_all_ones() {
        let cases = [
            (0u64, 0u64),
            (u64::MAX, u64::MAX), // the most pairs per position: the carry bound is tight here
            (u64::MAX, 1),
            (1 << 63, 1 << 63),
            (0x8421_0842_1084_2108, 0xffff_ffff_0000_0001),
            (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210),
        ];
        let random = (0..200).map(|i| {
            let r = random_u128(i);
            ((r >> 64) as u64, r as u64)
        });
        for (x, y) in cases.into_iter().chain(random) {
            let full = clmul_naive(x, y);
            assert_eq!(clmul_low(x, &split(y)), full as u64, "{x:#x} {y:#x}");
            let high = clmul_low(x.reverse_bits(), &split(y.reverse_bits())).reverse_bits() >> 1;
            assert_eq!(high, (full >> 64) as u64, "{x:#x} {y:#x}");
        }
    }

    #[test]
    fn multiplication_matches_sp800_38d_algorithm_1() {
        for i in 0..200 {
            let (x, y) = (random_u128(2 * i), random_u128(2 * i + 1));
            assert_eq!(mul(x, y), super::super::ghash::gf128_mul(x, y));
        }
        // The edges of the reduction: all ones, x^127 · x^127 (the highest product term).
        for (x, y) in [(u128::MAX, u128::MAX), (1, 1), (1, u128::MAX)] {
            assert_eq!(mul(x, y), super::super::ghash::gf128_mul(x, y));
        }
    }
}
