//! A SIMD backend for the 1024-bit exponentiations of RSA-2048 (one per CRT prime), using the
//! AVX-512 IFMA instructions where the CPU has them. Same results, same constant-time rules as
//! [`super::montgomery`]; only the arithmetic underneath changes.
//!
//! # Why it exists
//! The portable code does one 64x64-bit multiplication at a time, and on this machine that is the
//! limit: a 1024-bit Montgomery multiplication is 512 of them. `vpmadd52luq` / `vpmadd52huq`
//! multiply eight pairs of 52-bit numbers at once and add the low or high 52 bits of each 104-bit
//! product to an accumulator. So we write the numbers in base 2^52: 1024 bits become 20 digits,
//! held in three 512-bit registers of eight 64-bit lanes (24 lanes, the top four always zero).
//!
//! # The multiplication (Gueron and Krasnov's "almost Montgomery multiplication")
//! With `R = 2^(52*20) = 2^1040` and digits of `b` taken one at a time:
//!
//! ```text
//! z += lo52(a * b[i])             eight lanes per instruction
//! u  = lo52(z[0] * (-m^-1))       makes the lowest digit of z + u*m zero
//! z += lo52(m * u)
//! z  = z / 2^52                   shift all lanes down one, carrying z[0] >> 52 into the new z[0]
//! z += hi52(a * b[i]) + hi52(m * u)   the high halves belong one digit up, which is now here
//! ```
//!
//! Lanes are 64 bits wide but digits only 52, so the sums can grow without carrying between
//! lanes inside the loop (at most 24 * 4 additions of numbers below 2^52, far below 2^64); the
//! carries are resolved once at the end. Because `R > 4m`, inputs below `2m` give an output below
//! `2m`, so the conditional subtraction is skipped altogether until the very end of the
//! exponentiation, where a masked one brings the result below `m`.
//!
//! # Constant time
//! The instruction sequence and memory accesses are fixed: every loop runs over all 20 digits,
//! the table lookup reads all 16 entries with masks ([`select`]), the exponent is consumed in
//! fixed 4-bit windows over its full width, and no branch looks at a value. The only branch is
//! the choice of backend, on the CPU's features.
//!
//! # Safety
//! The functions that use the instructions are marked `#[target_feature(enable = "avx512f,
//! avx512ifma")]`; they may only be called after `is_x86_feature_detected!` has confirmed both
//! ([`Ifma1024::new`] returns `None` otherwise, and the portable code is used). That call, and the
//! loads and stores between arrays and registers, are the only `unsafe` blocks.

use core::arch::x86_64::{
    __m512i, _mm512_alignr_epi64, _mm512_and_si512, _mm512_loadu_si512, _mm512_madd52hi_epu64,
    _mm512_madd52lo_epu64, _mm512_mask_add_epi64, _mm512_or_si512, _mm512_permutexvar_epi64,
    _mm512_set1_epi64, _mm512_setzero_si512, _mm512_srli_epi64, _mm512_storeu_si512,
};

use num_bigint::BigUint;
use zeroize::{Zeroize, Zeroizing};

use crate::crypto::ct;

/// Digits of 52 bits in a 1024-bit number (20 * 52 = 1040).
const DIGITS: usize = 20;
/// Lanes in three 512-bit registers.
const LANES: usize = 24;
const MASK52: u64 = (1 << 52) - 1;

/// A number in base 2^52, one digit per 64-bit lane, 24 lanes (only the first 20 used).
type Digits = [u64; LANES];

/// A 1024-bit odd modulus prepared for the IFMA backend. Everything in it is wiped on drop.
#[derive(Clone)]
pub(crate) struct Ifma1024 {
    m: Digits,
    /// `R^2 mod m` with `R = 2^1040`, to enter Montgomery form.
    r2: Digits,
    /// `R mod m`, the Montgomery form of 1.
    one: Digits,
    /// `-m^-1 mod 2^52`.
    m0inv: u64,
}

impl Drop for Ifma1024 {
    fn drop(&mut self) {
        self.m.zeroize();
        self.r2.zeroize();
        self.one.zeroize();
        self.m0inv.zeroize();
    }
}

impl Ifma1024 {
    /// Prepares `m` if this CPU has AVX-512 IFMA and `m` is an odd number of 961 to 1024 bits
    /// (sixteen 64-bit limbs, the primes of RSA-2048); otherwise `None`.
    pub(crate) fn new(m: &BigUint) -> Option<Self> {
        let bits = m.bits();
        if !(961..=1024).contains(&bits) || !m.bit(0) || !cpu_has_ifma() {
            return None;
        }
        let r = BigUint::ONE << (52 * DIGITS);
        let m_limbs = m.to_u64_digits();
        let inv64 = super::montgomery::neg_inverse_mod_2_64(m_limbs[0]);
        Some(Ifma1024 {
            m: digits_from_biguint(m),
            r2: digits_from_biguint(&((&r * &r) % m)),
            one: digits_from_biguint(&(&r % m)),
            // An inverse mod 2^64 is also one mod 2^52.
            m0inv: inv64 & MASK52,
        })
    }

    /// `x^exp mod m` for `x < m` given as 16 little-endian 64-bit limbs, the exponent over its
    /// full width of `exp.len()` limbs. Returns 16 limbs, fully reduced.
    pub(crate) fn pow(&self, x: &[u64], exp: &[u64]) -> Zeroizing<Vec<u64>> {
        let mut out = Zeroizing::new(vec![0u64; 16]);
        // SAFETY: an `Ifma1024` only exists if `cpu_has_ifma()` returned true in `new`, so the
        // CPU supports every instruction `pow_ifma` is compiled with.
        unsafe { self.pow_ifma(x, exp, &mut out) };
        out
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow_ifma(&self, x: &[u64], exp: &[u64], out: &mut [u64]) {
        let m = load(&self.m);
        let m0inv = _mm512_set1_epi64(self.m0inv as i64);

        // Montgomery form of x: AMM(x, R^2) = x R mod m (below 2m).
        let mut x_digits = Zeroizing::new(limbs_to_digits(x));
        let base = amm(load(&x_digits), &self.r2, m, m0inv);
        x_digits.zeroize();

        // table[i] = x^i R, i = 0..16.
        let base_digits = Zeroizing::new(store(base));
        let mut table = Zeroizing::new([[0u64; LANES]; 16]);
        table[0] = self.one;
        table[1] = *base_digits;
        for i in 2..16 {
            let prev = load(&table[i - 1]);
            table[i] = store(amm(prev, &base_digits, m, m0inv));
        }

        let mut acc = load(&self.one);
        let mut entry = Zeroizing::new([0u64; LANES]);
        for &limb in exp.iter().rev() {
            for shift in (0..64).step_by(4).rev() {
                for _ in 0..4 {
                    let sq = store(acc);
                    acc = amm(acc, &sq, m, m0inv);
                }
                select(&table, (limb >> shift) & 15, &mut entry);
                acc = amm(acc, &entry, m, m0inv);
            }
        }
        // Leave Montgomery form: AMM(acc, 1) = acc / R, at most m.
        let mut unit = [0u64; LANES];
        unit[0] = 1;
        let result = Zeroizing::new(store(amm(acc, &unit, m, m0inv)));
        digits_to_limbs(&result, out);
        // The value is at most m; subtract m once if it is m (masked, as everywhere).
        let m_limbs = Zeroizing::new({
            let mut l = [0u64; 16];
            digits_to_limbs(&self.m, &mut l);
            l
        });
        super::montgomery::reduce_once(&m_limbs[..], 0, out);
    }
}

/// `a * b / R mod m`, result below `2m` for inputs below `2m`, with its digits normalised to 52
/// bits (as the next multiplication needs). See the module doc for the steps.
#[target_feature(enable = "avx512f,avx512ifma")]
fn amm(a: [__m512i; 3], b: &Digits, m: [__m512i; 3], m0inv: __m512i) -> [__m512i; 3] {
    let zero = _mm512_setzero_si512();
    let mut z = [zero; 3];
    for &bi in &b[..DIGITS] {
        let bi = _mm512_set1_epi64(bi as i64);
        for k in 0..3 {
            z[k] = _mm512_madd52lo_epu64(z[k], a[k], bi);
        }
        // u = lo52(z[0] * m0inv), from lane 0, broadcast to all lanes.
        let u = _mm512_madd52lo_epu64(zero, z[0], m0inv);
        let u = _mm512_permutexvar_epi64(zero, u);
        for k in 0..3 {
            z[k] = _mm512_madd52lo_epu64(z[k], m[k], u);
        }
        // Lane 0 is now a multiple of 2^52; shift everything down one lane and carry it in.
        let carry = _mm512_srli_epi64::<52>(z[0]);
        z[0] = _mm512_alignr_epi64::<1>(z[1], z[0]);
        z[1] = _mm512_alignr_epi64::<1>(z[2], z[1]);
        z[2] = _mm512_alignr_epi64::<1>(zero, z[2]);
        z[0] = _mm512_mask_add_epi64(z[0], 1, z[0], carry);
        // The high halves of this round's products, one digit up, i.e. here after the shift.
        for k in 0..3 {
            z[k] = _mm512_madd52hi_epu64(z[k], a[k], bi);
            z[k] = _mm512_madd52hi_epu64(z[k], m[k], u);
        }
    }
    normalise(z)
}

/// Carries every lane's bits above 52 into the next lane, so each digit is below 2^52 again.
/// A fixed pass over all lanes; the value is below 2^1040, so nothing carries out of the top.
#[target_feature(enable = "avx512f,avx512ifma")]
fn normalise(z: [__m512i; 3]) -> [__m512i; 3] {
    let mut d = Zeroizing::new(store(z));
    let mut carry = 0u64;
    for digit in d.iter_mut() {
        let t = *digit + carry;
        *digit = t & MASK52;
        carry = t >> 52;
    }
    load(&d)
}

/// Copies `table[index]` into `out` by reading every entry and keeping the wanted one with a
/// mask (the same rule as the portable code).
#[target_feature(enable = "avx512f,avx512ifma")]
fn select(table: &[Digits; 16], index: u64, out: &mut Digits) {
    let mut acc = [_mm512_setzero_si512(); 3];
    for (i, entry) in table.iter().enumerate() {
        let mask = _mm512_set1_epi64(ct::mask_u64_eq(i as u64, index) as i64);
        let e = load(entry);
        for k in 0..3 {
            acc[k] = _mm512_or_si512(acc[k], _mm512_and_si512(e[k], mask));
        }
    }
    *out = store(acc);
}

#[target_feature(enable = "avx512f")]
fn load(d: &Digits) -> [__m512i; 3] {
    // SAFETY: `d` holds 24 u64 = three runs of 64 bytes; each load reads one of them, and
    // `loadu` has no alignment requirement.
    unsafe {
        [
            _mm512_loadu_si512(d[0..8].as_ptr().cast()),
            _mm512_loadu_si512(d[8..16].as_ptr().cast()),
            _mm512_loadu_si512(d[16..24].as_ptr().cast()),
        ]
    }
}

#[target_feature(enable = "avx512f")]
fn store(v: [__m512i; 3]) -> Digits {
    let mut d = [0u64; LANES];
    // SAFETY: each store writes 64 bytes into its own 8-u64 run of `d`; `storeu` has no
    // alignment requirement.
    unsafe {
        _mm512_storeu_si512(d[0..8].as_mut_ptr().cast(), v[0]);
        _mm512_storeu_si512(d[8..16].as_mut_ptr().cast(), v[1]);
        _mm512_storeu_si512(d[16..24].as_mut_ptr().cast(), v[2]);
    }
    d
}

fn cpu_has_ifma() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512ifma")
}

/// 16 little-endian 64-bit limbs to 20 digits of 52 bits (fixed loops, no branch on values).
fn limbs_to_digits(x: &[u64]) -> Digits {
    let mut d = [0u64; LANES];
    for (j, digit) in d.iter_mut().take(DIGITS).enumerate() {
        let bit = 52 * j;
        let (limb, shift) = (bit / 64, bit % 64);
        let low = x.get(limb).copied().unwrap_or(0) >> shift;
        // Bits from the next limb, when the digit straddles two (shift > 12). The shift amount
        // depends only on j.
        let high = if shift > 12 {
            x.get(limb + 1).copied().unwrap_or(0) << (64 - shift)
        } else {
            0
        };
        *digit = (low | high) & MASK52;
    }
    d
}

/// 20 digits of 52 bits (normalised) to 16 little-endian 64-bit limbs; bits above 1024 dropped.
fn digits_to_limbs(d: &Digits, out: &mut [u64]) {
    out.fill(0);
    for (j, &digit) in d.iter().take(DIGITS).enumerate() {
        let bit = 52 * j;
        let (limb, shift) = (bit / 64, bit % 64);
        if let Some(o) = out.get_mut(limb) {
            *o |= digit << shift;
        }
        if shift > 12
            && let Some(o) = out.get_mut(limb + 1)
        {
            *o |= digit >> (64 - shift);
        }
    }
}

fn digits_from_biguint(x: &BigUint) -> Digits {
    let mut limbs = x.to_u64_digits();
    limbs.resize(16, 0);
    limbs_to_digits(&limbs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::limbs::{from_biguint, to_biguint};

    #[test]
    fn digit_conversion_round_trips() {
        let x: Vec<u64> = (0..16u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ !i)
            .collect();
        let d = limbs_to_digits(&x);
        assert!(d.iter().all(|&v| v <= MASK52));
        let mut back = [0u64; 16];
        digits_to_limbs(&d, &mut back);
        assert_eq!(&back[..], &x[..]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// Where the CPU has IFMA, its exponentiation equals `BigUint::modpow` for random odd
        /// 1024-bit moduli, bases and full-width exponents. (Elsewhere `new` returns `None`
        /// and there is nothing to compare.)
        #[test]
        fn ifma_pow_equals_biguint_modpow(
            m_limbs in proptest::collection::vec(proptest::num::u64::ANY, 16),
            x_limbs in proptest::collection::vec(proptest::num::u64::ANY, 16),
            e_limbs in proptest::collection::vec(proptest::num::u64::ANY, 16),
        ) {
            let mut m_limbs = m_limbs;
            m_limbs[0] |= 1;
            m_limbs[15] |= 1 << 63;
            let m = to_biguint(&m_limbs);
            let Some(f) = Ifma1024::new(&m) else { return Ok(()); };
            let x = to_biguint(&x_limbs) % &m;
            let e = to_biguint(&e_limbs);
            let got = f.pow(&from_biguint(&x, 16).unwrap(), &e_limbs);
            proptest::prop_assert_eq!(to_biguint(&got), x.modpow(&e, &m));
        }
    }

    #[test]
    fn ifma_edge_values() {
        let m = (BigUint::ONE << 1024u32) - 105u32; // odd, 1024 bits
        assert_eq!(Ifma1024::new(&m).is_some(), cpu_has_ifma());
        let Some(f) = Ifma1024::new(&m) else { return };
        for x in [BigUint::ZERO, BigUint::ONE, &m - 1u32, &m - 2u32] {
            for e in [BigUint::ZERO, BigUint::ONE, BigUint::from(2u32), &m - 2u32] {
                let got = f.pow(
                    &from_biguint(&x, 16).unwrap(),
                    &from_biguint(&e, 16).unwrap(),
                );
                assert_eq!(to_biguint(&got), x.modpow(&e, &m), "x={x:x} e={e:x}");
            }
        }
        // A 961-bit modulus is accepted, a 960-bit one is not.
        assert!(Ifma1024::new(&((BigUint::ONE << 960u32) + 1u32)).is_some());
        assert!(Ifma1024::new(&((BigUint::ONE << 959u32) + 1u32)).is_none());
    }
}
