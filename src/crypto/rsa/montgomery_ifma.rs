//! Both 1024-bit exponentiations of an RSA-2048 private operation at once, side by side in the
//! lanes of AVX-512 registers, with the IFMA instructions. Same results and the same
//! constant-time rules as the portable code ([`super::mont1024`]); only the arithmetic
//! underneath changes.
//!
//! # Why
//! The portable code does one 64x64-bit multiplication at a time. `vpmadd52luq` and
//! `vpmadd52huq` multiply eight pairs of 52-bit numbers in one instruction and add the low
//! (`lo52`) or the high (`hi52`) 52 bits of each 104-bit product to an accumulator lane. So the
//! numbers are written in base 2^52: a 1024-bit prime needs 20 such *digits* (1040 bits).
//!
//! The Chinese Remainder Theorem splits the private operation into two independent
//! exponentiations of the same size, `c^dp mod p` and `c^dq mod q` (see `private`). Each alone
//! would leave the vector unit waiting: one Montgomery multiplication is a chain of 20 dependent
//! steps. OpenSSL 3 (`ossl_rsaz_mod_exp_avx512_x2`, by Intel's Kirillov and Matyukov) runs the
//! two in one pass. We do the same, our own way: every 512-bit register holds four digits of the
//! `p` computation and the same four digits of the `q` computation, interleaved, so each
//! instruction advances both.
//!
//! ```text
//! register k (k = 0..5):   lane  0     1     2       3       4       5       6       7
//!                               p[4k] q[4k] p[4k+1] q[4k+1] p[4k+2] q[4k+2] p[4k+3] q[4k+3]
//! ```
//!
//! Five registers hold a pair of numbers, 20 digits each, with no unused lane. Interleaved, one
//! digit of both numbers is two adjacent lanes, so moving every digit of a pair down (or up) one
//! place is moving the whole register by two lanes, which `valignq` does across two registers.
//! (The first version kept `p` in the low half and `q` in the high half, which needs the general
//! two-register permutation `vpermt2q` for the same move. On AMD Zen 4 that permutation runs on
//! the same unit as the multiply-adds, and the five of them in every step of the loop cost a
//! large part of each step; `valignq` mostly runs beside them. Measured on a 2-core Zen 4: eight
//! multiply-adds alone 8.0 cycles, with eight `vpermt2q` 14.9, with eight `valignq` 10.4; and
//! RSA-2048 signatures, the two builds taking turns, 3,107-3,578 per second interleaved against
//! 3,065-3,268 before.)
//!
//! # Almost Montgomery multiplication (Gueron 2012, "Efficient software implementations of
//! # modular exponentiation", J. Cryptogr. Eng. 2:31-43)
//! With `R = 2^1040`, digit `i` of `b` taken one at a time (operand scanning):
//!
//! ```text
//! Z += lo52(a * b[i])               all 20 digits, both sides, in five instructions
//! u  = lo52(Z[0] * k0)              k0 = -m^-1 mod 2^52: makes the lowest digit of Z + u*m zero
//! Z += lo52(m * u)
//! Z  = Z / 2^52                     move every digit down one place; the bits of Z[0] above 52
//!                                   become a carry into the new Z[0]
//! Z += hi52(a * b[i]) + hi52(m * u) the high halves belong one digit up, which is now here
//! ```
//!
//! `u` is the same for all digits of a number, so it is computed from that number's lowest lane
//! and spread over that number's lanes of the register; `b[i]` likewise.
//!
//! Lanes are 64 bits wide but digits only 52, so sums grow without carrying from lane to lane
//! inside the loop (a lane collects at most 80 additions of numbers below 2^52, below 2^59); the
//! carries are resolved once, at the end ([`normalise`]). Because `R > 4m`, inputs below `2m`
//! give an output below `2m` (Gueron's lemma), so no conditional subtraction is needed until the
//! very end of the exponentiation, where a masked one brings the result below `m`.
//!
//! # Keeping the chain short
//! Each `u` needs the lowest digit left by the previous step, so the 20 steps form a chain, and
//! for one multiplication the processor mostly waits on it: measured, running two independent
//! multiplications interleaved took only 1.5 times as long as one. So everything that does not
//! need `u` is taken off the chain:
//!
//! - `lo52(a0 * b[i])` for the lowest register goes into a fresh register and is added (one
//!   addition on the chain instead of a multiplication);
//! - the carry out of the lowest digit is `ceil(Z[0] / 2^52)` *before* `lo52(m * u)` is added,
//!   since adding that (below 2^52) makes `Z[0]` exactly the next multiple of 2^52;
//! - the division by 2^52 (the digit shift) comes *before* `lo52(m * u)` is added: shifting
//!   `Z + lo52(m * u)` is shifting `Z`, plus `lo52(m_down * u)` with a modulus moved down one
//!   digit once and for all (`Consts::m_down`);
//! - the high halves are summed apart and added once.
//!
//! What is left on the chain is `u` itself (one multiply), spreading it over the lanes (one
//! permutation), one multiply by `m_down` and three additions. Measured on the development
//! machine: 1024-bit pair exponentiation 292 µs with the straightforward step, 247 µs with this
//! one; the portable code takes 2 x 340 µs.
//!
//! # The exponentiation
//! Fixed 5-bit windows, left to right, over the full 1024 bits of each exponent: per window five
//! squarings, a table read and a multiplication, the same for every exponent. The table holds
//! `x^0 .. x^31` for both sides; one lookup picks a different entry for each side (the two
//! exponents differ) by reading all 32 entries and keeping, lane by lane, the one whose number
//! matches ([`select`]).
//!
//! # Constant time
//! No branch and no memory address depends on a value: every loop runs over all digits and all
//! windows, the table is read in full for every lookup, and the carry resolution of
//! [`normalise`] uses mask arithmetic. The only branch is the choice of this backend, on the
//! CPU's features. `trace` events record each multiplication and table read in test builds.
//!
//! # Two more uses of the same multiplication
//! - The inputs arrive as one 2048-bit number `c` (the blinded ciphertext), not yet reduced
//!   modulo `p` and `q`: [`IfmaCrt::pow2`] enters Montgomery form directly from `c`'s two halves.
//! - [`Ifma2048`] puts one 2048-bit modulus in the five registers (40 digits, eight per
//!   register) for the public operation, the fault check and the blinding factors of RSA-2048.
//!
//! # Safety
//! The functions using the instructions are `#[target_feature(enable = "avx512f,avx512ifma")]`
//! and are only reached through [`IfmaCrt`] and [`Ifma2048`], which exist only if
//! `is_x86_feature_detected!` has confirmed both features (their `new`). Those calls and the
//! loads and stores between arrays and registers are the only `unsafe` blocks.

use core::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_alignr_epi64, _mm512_and_si512, _mm512_cmpeq_epi64_mask,
    _mm512_cmpgt_epu64_mask, _mm512_loadu_si512, _mm512_madd52hi_epu64, _mm512_madd52lo_epu64,
    _mm512_mask_add_epi64, _mm512_mask_mov_epi64, _mm512_permutexvar_epi64, _mm512_set1_epi64,
    _mm512_setr_epi64, _mm512_setzero_si512, _mm512_srli_epi64, _mm512_storeu_si512,
};

use num_bigint::BigUint;
use zeroize::{Zeroize, Zeroizing};

use super::trace::{self, Event};

/// Digits of 52 bits in a 1024-bit number (20 * 52 = 1040).
const DIGITS: usize = 20;
/// Registers per pair of numbers (four digits of each side per register).
const REGS: usize = 5;
const MASK52: u64 = (1 << 52) - 1;
/// Exponent bits per table lookup, and the table size.
const WINDOW: usize = 5;
const TABLE: usize = 1 << WINDOW;
/// Bits of each exponent (`dp`, `dq`: 16 limbs each).
const EXP_BITS: usize = 1024;

/// Five registers' worth of digits as they sit in memory: five rows of eight lanes. For a pair
/// (the layout of the module doc), row `k` = p-side and q-side digits `4k..4k+4`, interleaved
/// (`p[4k], q[4k], p[4k+1], ...`); for a single 40-digit number, row `k` = digits `8k..8k+8`.
type Regs = [[u64; 8]; REGS];

/// The two primes of an RSA-2048 key prepared for this backend. Everything in it is secret and
/// is wiped on drop.
#[derive(Clone)]
pub(crate) struct IfmaCrt {
    m: Regs,
    /// `R^2 mod p` and `R^2 mod q`, to enter Montgomery form.
    r2: Regs,
    /// `2^1024 R^2` mod p and mod q, to enter Montgomery form from the top half of a 2048-bit
    /// number (see `pow2`).
    r2_hi: Regs,
    /// `R mod p` and `R mod q`, the Montgomery form of 1.
    one: Regs,
    /// `-p^-1 mod 2^52` in the even lanes, `-q^-1 mod 2^52` in the odd ones.
    k0: [u64; 8],
    /// The primes as 16 limbs each, for the final reduction.
    p_limbs: [u64; 16],
    q_limbs: [u64; 16],
}

impl Drop for IfmaCrt {
    fn drop(&mut self) {
        self.m.zeroize();
        self.r2.zeroize();
        self.r2_hi.zeroize();
        self.one.zeroize();
        self.k0.zeroize();
        self.p_limbs.zeroize();
        self.q_limbs.zeroize();
    }
}

impl IfmaCrt {
    /// Prepares `p` and `q` if this CPU has AVX-512 IFMA and both are odd numbers of 961 to 1024
    /// bits (sixteen 64-bit limbs: the primes of RSA-2048); otherwise `None`.
    ///
    /// `R^2 mod p` is computed here with `num-bigint` division, once per key load.
    pub(crate) fn new(p: &BigUint, q: &BigUint) -> Option<Self> {
        let fits = |m: &BigUint| (961..=1024).contains(&m.bits()) && m.bit(0);
        if !fits(p) || !fits(q) || !cpu_has_ifma() {
            return None;
        }
        let r = BigUint::ONE << (52 * DIGITS);
        let k0 = |m: &BigUint| super::montgomery::neg_inverse_mod_2_64(m.to_u64_digits()[0]);
        // An inverse mod 2^64 is also one mod 2^52.
        let (kp, kq) = (k0(p) & MASK52, k0(q) & MASK52);
        let (r2, r2_hi) = (&r * &r, (&r * &r) << 1024);
        Some(IfmaCrt {
            m: pair(&digits_of(p), &digits_of(q)),
            r2: pair(&digits_of(&(&r2 % p)), &digits_of(&(&r2 % q))),
            r2_hi: pair(&digits_of(&(&r2_hi % p)), &digits_of(&(&r2_hi % q))),
            one: pair(&digits_of(&(&r % p)), &digits_of(&(&r % q))),
            k0: [kp, kq, kp, kq, kp, kq, kp, kq],
            p_limbs: limbs16(p),
            q_limbs: limbs16(q),
        })
    }

    /// `(c^dp mod p, c^dq mod q)` for a number `c` of 32 little-endian limbs (below 2^2048; the
    /// blinded ciphertext of the private operation), the exponents over their full 16 limbs.
    /// Results are 16 limbs each, fully reduced.
    pub(crate) fn pow2(
        &self,
        c: &[u64],
        dp: &[u64],
        dq: &[u64],
    ) -> (Zeroizing<Vec<u64>>, Zeroizing<Vec<u64>>) {
        assert!(c.len() == 32 && dp.len() == 16 && dq.len() == 16);
        let mut out = Zeroizing::new(Regs::default());
        // SAFETY: an `IfmaCrt` only exists if `cpu_has_ifma()` returned true in `new`, so the
        // CPU supports every instruction `pow2_ifma` is compiled with.
        unsafe { self.pow2_ifma(c, dp, dq, &mut out) };
        let (mut mp, mut mq) = (
            Zeroizing::new(vec![0u64; 16]),
            Zeroizing::new(vec![0u64; 16]),
        );
        let (rp, rq) = unpair(&out);
        let (rp, rq) = (Zeroizing::new(rp), Zeroizing::new(rq));
        digits_to_limbs(&rp[..], &mut mp);
        digits_to_limbs(&rq[..], &mut mq);
        // The values are at most m (see `pow2_ifma`); subtract m once if they equal it.
        super::montgomery::reduce_once(&self.p_limbs, 0, &mut mp);
        super::montgomery::reduce_once(&self.q_limbs, 0, &mut mq);
        (mp, mq)
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow2_ifma(&self, c: &[u64], dp: &[u64], dq: &[u64], out: &mut Regs) {
        let k = Consts::new(Layout::Pair, &self.m, &self.k0);

        // (c mod m) R for both sides, without reducing c first: with c = hi 2^1024 + lo,
        // AMM(hi, 2^1024 R^2) + AMM(lo, R^2) = c R (mod m). Each term is below 2m (an AMM with
        // one factor below m and the other below R is), so the sum is below 4m, which the
        // multiplications below still accept because R > 16m.
        let lo: [u64; DIGITS] = limbs_to_digits(&c[..16]);
        let hi: [u64; DIGITS] = limbs_to_digits(&c[16..]);
        let (lo, hi) = (
            Zeroizing::new(pair(&lo, &lo)),
            Zeroizing::new(pair(&hi, &hi)),
        );
        let from_lo = amm(&k, load(&lo), load(&self.r2));
        let from_hi = amm(&k, load(&hi), load(&self.r2_hi));
        let mut base = [_mm512_setzero_si512(); REGS];
        for r in 0..REGS {
            base[r] = _mm512_add_epi64(from_lo[r], from_hi[r]);
        }
        let base = normalise(&k, base);

        // table[i] = x^i R (both sides), i = 0..32: each entry the previous times x.
        // On the heap (10 KiB): on the stack it would stay resident in every thread that ever ran
        // a handshake, long after the connection went idle (issue 13 goal 6).
        let mut table = Zeroizing::new(vec![Regs::default(); TABLE]);
        table[0] = self.one;
        table[1] = store(base);
        for i in 2..TABLE {
            table[i] = store(amm(&k, load(&table[i - 1]), base));
        }

        // Left to right over 1024 bits: the top window has 1024 - 5*204 = 4 bits.
        let windows = EXP_BITS.div_ceil(WINDOW);
        let mut entry = Zeroizing::new(Regs::default());
        let top = (windows - 1) * WINDOW;
        select(&table, window(dp, top), window(dq, top), &mut entry);
        let mut acc = load(&entry);
        for w in (0..windows - 1).rev() {
            for _ in 0..WINDOW {
                trace::record(Event::Sqr(DIGITS));
                acc = amm(&k, acc, acc);
            }
            select(
                &table,
                window(dp, w * WINDOW),
                window(dq, w * WINDOW),
                &mut entry,
            );
            trace::record(Event::Mul(DIGITS));
            acc = amm(&k, acc, load(&entry));
        }

        // Leave Montgomery form: AMM(acc, 1) = acc / R mod m. With acc < 4m that is at most m
        // (and m only when acc is 0 mod m); `pow2` finishes with a masked subtraction.
        let mut unit = Regs::default();
        unit[0][0] = 1;
        unit[0][1] = 1;
        *out = store(amm(&k, acc, load(&unit)));
    }
}

/// A 2048-bit modulus prepared for the public operation on this backend: one 40-digit number
/// in the single layout, `R = 2^2080`. The public operation is variable time in `e` only (see
/// `public`); the multiplications are the same constant-time ones as above.
#[derive(Clone)]
pub(crate) struct Ifma2048 {
    n: Regs,
    /// `R^2 mod n`.
    r2: Regs,
    /// `-n^-1 mod 2^52` in every lane.
    k0: [u64; 8],
    /// `n` as 32 limbs, for the final reduction.
    n_limbs: [u64; 32],
}

impl Ifma2048 {
    /// Prepares `n` if this CPU has AVX-512 IFMA and `n` is odd with 1985 to 2048 bits (32
    /// limbs); otherwise `None`.
    pub(crate) fn new(n: &BigUint) -> Option<Self> {
        if !(1985..=2048).contains(&n.bits()) || !n.bit(0) || !cpu_has_ifma() {
            return None;
        }
        let r = BigUint::ONE << (52 * 2 * DIGITS);
        let k0 = super::montgomery::neg_inverse_mod_2_64(n.to_u64_digits()[0]) & MASK52;
        let mut n_limbs = [0u64; 32];
        for (l, d) in n_limbs.iter_mut().zip(n.to_u64_digits()) {
            *l = d;
        }
        Some(Ifma2048 {
            n: single(&digits_of(n)),
            r2: single(&digits_of(&(&r * &r % n))),
            k0: [k0; 8],
            n_limbs,
        })
    }

    /// `a * b / R mod n` for `a, b < n` (32 limbs each), fully reduced: this backend's Montgomery
    /// multiplication, for the blinding factors of the private key (see `private`).
    pub(crate) fn mul(&self, a: &[u64], b: &[u64]) -> Zeroizing<Vec<u64>> {
        assert!(a.len() == 32 && b.len() == 32);
        let mut out = Zeroizing::new(Regs::default());
        // SAFETY: an `Ifma2048` only exists if `cpu_has_ifma()` returned true in `new`.
        unsafe { self.mul_ifma(a, b, &mut out) };
        self.finish(&out)
    }

    /// `x R mod n` for `x < n`: `mul(x, R^2)`.
    pub(crate) fn to_mont(&self, x: &[u64]) -> Zeroizing<Vec<u64>> {
        let mut r2 = Zeroizing::new(vec![0u64; 32]);
        digits_to_limbs(&unsingle(&self.r2), &mut r2);
        self.mul(x, &r2)
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul_ifma(&self, a: &[u64], b: &[u64], out: &mut Regs) {
        let k = Consts::new(Layout::Single, &self.n, &self.k0);
        let a = load(&Zeroizing::new(single(&limbs_to_digits(a))));
        let b = load(&Zeroizing::new(single(&limbs_to_digits(b))));
        *out = store(amm(&k, a, b));
    }

    /// Digits below 2n to 32 limbs below n.
    fn finish(&self, v: &Regs) -> Zeroizing<Vec<u64>> {
        let mut y = Zeroizing::new(vec![0u64; 32]);
        digits_to_limbs(&Zeroizing::new(unsingle(v))[..], &mut y);
        super::montgomery::reduce_once(&self.n_limbs, 0, &mut y);
        y
    }

    /// `x^e mod n` for `x < n` (32 limbs) and an odd `e >= 3`, plain in and plain out, with the
    /// same schedule as `public::pow_public`: enter Montgomery form once, square and multiply
    /// by the bits of `e`, and make the last multiplication by plain `x`.
    pub(crate) fn pow_public(&self, x: &[u64], e: u64) -> Zeroizing<Vec<u64>> {
        assert_eq!(x.len(), 32);
        let mut out = Zeroizing::new(Regs::default());
        // SAFETY: an `Ifma2048` only exists if `cpu_has_ifma()` returned true in `new`.
        unsafe { self.pow_public_ifma(x, e, &mut out) };
        // The result is below 2n; one masked subtraction brings it below n.
        self.finish(&out)
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow_public_ifma(&self, x: &[u64], e: u64, out: &mut Regs) {
        let k = Consts::new(Layout::Single, &self.n, &self.k0);
        let x = load(&Zeroizing::new(single(&limbs_to_digits(x))));
        let x_mont = amm(&k, x, load(&self.r2));
        let mut acc = x_mont;
        let top = 63 - e.leading_zeros();
        for bit in (1..top).rev() {
            acc = amm(&k, acc, acc);
            if (e >> bit) & 1 == 1 {
                acc = amm(&k, acc, x_mont);
            }
        }
        acc = amm(&k, acc, acc);
        // e is odd: the last multiplication is by plain x, which also leaves Montgomery form.
        // (acc < 2n and x < n give a result below 2n.)
        *out = store(amm(&k, acc, x));
    }
}

/// Bits `at..at + WINDOW` of a 16-limb exponent (fewer at the top), as a number. The position is
/// public; the bits are not, and they are only ever used through masks ([`select`]).
fn window(exp: &[u64], at: usize) -> u64 {
    let (limb, shift) = (at / 64, at % 64);
    let mut bits = exp[limb] >> shift;
    // A window may straddle two limbs (64 is not a multiple of 5); whether it does depends only
    // on the position.
    if shift + WINDOW > 64 && limb + 1 < exp.len() {
        bits |= exp[limb + 1] << (64 - shift);
    }
    bits & (TABLE as u64 - 1)
}

/// How numbers sit in the five registers: a pair of 20-digit numbers (the CRT primes, the
/// layout of the module doc: one digit of each, side by side, every two lanes) or one 40-digit
/// number (a 2048-bit modulus, for the public operation: register `k` holds digits `8k..8k+8`).
/// The multiplication is the same; only the lane bookkeeping differs: one digit place is two
/// lanes in a pair and one lane in a single number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Pair,
    Single,
}

impl Layout {
    /// Digits of one number in one register.
    fn per_reg(self) -> usize {
        match self {
            Layout::Pair => 4,
            Layout::Single => 8,
        }
    }

    /// Digits of each number.
    fn digits(self) -> usize {
        REGS * self.per_reg()
    }
}

/// The vectors every multiplication needs, built once per exponentiation.
struct Consts {
    layout: Layout,
    m: [__m512i; REGS],
    /// The modulus moved down one digit (`m_down[j] = m[j + 1]`), see [`amm`].
    m_down: [__m512i; REGS],
    k0: __m512i,
    mask52: __m512i,
    /// Permutation that spreads the lowest digit of each number over that number's lanes.
    spread0: __m512i,
    /// `digit[d]`: spreads digit `d` of each number's part of a register over its lanes.
    digit: [__m512i; 8],
    /// The lanes that hold the lowest digit of a number.
    low_lanes: u8,
}

impl Consts {
    #[target_feature(enable = "avx512f")]
    fn new(layout: Layout, m: &Regs, k0: &[u64; 8]) -> Self {
        let lanes = |l: [i64; 8]| _mm512_setr_epi64(l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7]);
        // Lane indices that repeat digit d of each number across that number's lanes.
        let digit = |d: i64| match layout {
            // p's digit d from lane 2d into the even lanes, q's from lane 2d + 1 into the odd.
            Layout::Pair => lanes(core::array::from_fn(|lane| 2 * d + (lane % 2) as i64)),
            Layout::Single => lanes([d; 8]),
        };
        let m = load(m);
        let zero = _mm512_setzero_si512();
        let m_down = core::array::from_fn(|r| {
            digits_down(layout, m[r], if r + 1 < REGS { m[r + 1] } else { zero })
        });
        Consts {
            layout,
            m,
            m_down,
            k0: load_row(k0),
            mask52: _mm512_set1_epi64(MASK52 as i64),
            spread0: digit(0),
            digit: core::array::from_fn(|d| digit((d % layout.per_reg()) as i64)),
            low_lanes: match layout {
                Layout::Pair => 0b11,
                Layout::Single => 0b1,
            },
        }
    }
}

/// Register `z` with every digit moved down one place and the lowest digit (of each number) of
/// `above`, the next register up, coming in at the top: one place is two lanes in a pair, one
/// in a single number, and `valignq` moves two registers' lanes down together.
#[target_feature(enable = "avx512f")]
fn digits_down(layout: Layout, z: __m512i, above: __m512i) -> __m512i {
    match layout {
        Layout::Pair => _mm512_alignr_epi64::<2>(above, z),
        Layout::Single => _mm512_alignr_epi64::<1>(above, z),
    }
}

/// Register `z` with every digit moved up one place and the highest digit (of each number) of
/// `below`, the next register down, coming in at the bottom.
#[target_feature(enable = "avx512f")]
fn digits_up(layout: Layout, z: __m512i, below: __m512i) -> __m512i {
    match layout {
        Layout::Pair => _mm512_alignr_epi64::<6>(z, below),
        Layout::Single => _mm512_alignr_epi64::<7>(z, below),
    }
}

/// `Z / 2^52` digit-wise: every digit moves down one place (within its own number, for a pair),
/// the lowest digit of register `k + 1` becoming the highest of register `k`; zeros come in at
/// the top.
#[target_feature(enable = "avx512f")]
fn shift_down(layout: Layout, z: &mut [__m512i; REGS]) {
    let zero = _mm512_setzero_si512();
    for r in 0..REGS {
        let above = if r + 1 < REGS { z[r + 1] } else { zero };
        z[r] = digits_down(layout, z[r], above);
    }
}

/// Almost Montgomery multiplication: `a * b / R` (for each number of a pair), below `2m` for
/// inputs below `2m`, digits normalised to 52 bits. See the module doc for the step.
#[target_feature(enable = "avx512f,avx512ifma")]
fn amm(k: &Consts, a: [__m512i; REGS], b: [__m512i; REGS]) -> [__m512i; REGS] {
    // One copy of the loop per layout, so that the lane moves inside are fixed instructions.
    match k.layout {
        Layout::Pair => amm_in::<true>(k, a, b),
        Layout::Single => amm_in::<false>(k, a, b),
    }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn amm_in<const PAIR: bool>(k: &Consts, a: [__m512i; REGS], b: [__m512i; REGS]) -> [__m512i; REGS] {
    let layout = if PAIR { Layout::Pair } else { Layout::Single };
    let zero = _mm512_setzero_si512();
    let mut z = [zero; REGS];
    let per_reg = layout.per_reg();
    for i in 0..layout.digits() {
        // b[i] of each number, spread over its lanes.
        let bi = _mm512_permutexvar_epi64(k.digit[i % per_reg], b[i / per_reg]);
        // Z += lo52(a * b[i]). The lowest register's product goes into a fresh register and is
        // then added: the chain towards u waits for one addition instead of a multiplication.
        let ab0 = _mm512_madd52lo_epu64(zero, a[0], bi);
        for r in 1..REGS {
            z[r] = _mm512_madd52lo_epu64(z[r], a[r], bi);
        }
        z[0] = _mm512_add_epi64(z[0], ab0);
        // u for each number (from its lowest lane), spread over its lanes.
        let u = _mm512_madd52lo_epu64(zero, z[0], k.k0);
        let u = _mm512_permutexvar_epi64(k.spread0, u);
        // Adding lo52(m0 * u) (below 2^52) turns the lowest digit into the next multiple of
        // 2^52 (that is what u is for), so what it carries into the next digit is known
        // without waiting for u: ceil(z0 / 2^52).
        let carry = _mm512_srli_epi64::<52>(_mm512_add_epi64(z[0], k.mask52));
        // The division by 2^52 (every digit down one place) comes first, also without waiting
        // for u: shifting Z + lo52(m * u) is shifting Z, plus lo52 of the *shifted* modulus
        // times u (`m_down`, precomputed).
        shift_down(layout, &mut z);
        // The high halves belong one digit up, which after the shift is right here. They are
        // summed apart and added once, which keeps each register's chain short.
        let mut hi = [zero; REGS];
        for r in 0..REGS {
            hi[r] = _mm512_madd52hi_epu64(zero, a[r], bi);
            hi[r] = _mm512_madd52hi_epu64(hi[r], k.m[r], u);
        }
        for r in 0..REGS {
            z[r] = _mm512_madd52lo_epu64(z[r], k.m_down[r], u);
            z[r] = _mm512_add_epi64(z[r], hi[r]);
        }
        z[0] = _mm512_mask_add_epi64(z[0], k.low_lanes, z[0], carry);
    }
    normalise(k, z)
}

/// Carries the bits above 52 of every digit into the digit above, until every digit is below
/// 2^52 again, with no branch (the method of OpenSSL's rsaz-avx512 normalisation).
///
/// One vector pass moves each digit's excess up one place; afterwards a digit can exceed 2^52 - 1
/// by at most a small carry, and then only by one bit. Where that happens, a carry of 1 ripples
/// up through the digits that are exactly 2^52 - 1. Which digits receive a carry is an
/// addition on bit masks (one bit per digit): with `g` the digits that overflow and `p` those
/// equal to 2^52 - 1, the receivers are `((g << 1) + p) ^ p`, the carry chain of binary addition
/// ([`carry_receivers`]). The value is below `R`, so nothing carries out of the top digit.
#[target_feature(enable = "avx512f")]
fn normalise(k: &Consts, mut z: [__m512i; REGS]) -> [__m512i; REGS] {
    // Pass 1: carries = z >> 52, moved up one digit.
    let mut carry = [_mm512_setzero_si512(); REGS];
    for r in 0..REGS {
        carry[r] = _mm512_srli_epi64::<52>(z[r]);
        z[r] = _mm512_and_si512(z[r], k.mask52);
    }
    for r in (0..REGS).rev() {
        let below = if r > 0 {
            carry[r - 1]
        } else {
            _mm512_setzero_si512()
        };
        let moved = digits_up(k.layout, carry[r], below);
        z[r] = _mm512_add_epi64(z[r], moved);
    }
    // Pass 2: digits above 2^52 - 1 generate a carry of one, digits equal to it propagate one.
    // One bit per lane: register r's eight lanes are bits 8r..8r+8 of a u64.
    let (mut g, mut p) = (0u64, 0u64);
    for (r, &zr) in z.iter().enumerate() {
        g |= (_mm512_cmpgt_epu64_mask(zr, k.mask52) as u64) << (8 * r);
        p |= (_mm512_cmpeq_epi64_mask(zr, k.mask52) as u64) << (8 * r);
    }
    let receivers = match k.layout {
        Layout::Single => carry_receivers(g, p),
        // Two interleaved chains: the p side's digits are the even bits, the q side's the odd
        // bits. For each chain the other chain's bits are marked "propagate" with no
        // "generate", so a carry passes through them to the chain's next digit.
        Layout::Pair => {
            const LOW: u64 = 0x5555_5555_5555_5555;
            let low = carry_receivers(g & LOW, (p & LOW) | !LOW) & LOW;
            let high = carry_receivers(g & !LOW, (p & !LOW) | LOW) & !LOW;
            low | high
        }
    };
    let one = _mm512_set1_epi64(1);
    for (r, zr) in z.iter_mut().enumerate() {
        *zr = _mm512_mask_add_epi64(*zr, (receivers >> (8 * r)) as u8, *zr, one);
        *zr = _mm512_and_si512(*zr, k.mask52);
    }
    z
}

/// The digits that receive a carry, given the digits that generate one (`g`) and those that
/// pass one on (`p`), one bit per digit: the carry chain of binary addition.
fn carry_receivers(g: u64, p: u64) -> u64 {
    ((g << 1).wrapping_add(p)) ^ p
}

/// Copies `table[wp]` into the p-side (even) lanes of `out` and `table[wq]` into the q-side
/// (odd) lanes, by reading every entry and keeping it only in the lanes whose window matches.
#[target_feature(enable = "avx512f")]
fn select(table: &[Regs], wp: u64, wq: u64, out: &mut Regs) {
    let wanted = _mm512_setr_epi64(
        wp as i64, wq as i64, wp as i64, wq as i64, wp as i64, wq as i64, wp as i64, wq as i64,
    );
    let mut acc = [_mm512_setzero_si512(); REGS];
    for (i, entry) in table.iter().enumerate() {
        trace::record(Event::TableRead(i));
        let hit = _mm512_cmpeq_epi64_mask(wanted, _mm512_set1_epi64(i as i64));
        let e = load(entry);
        for r in 0..REGS {
            acc[r] = _mm512_mask_mov_epi64(acc[r], hit, e[r]);
        }
    }
    *out = store(acc);
}

#[target_feature(enable = "avx512f")]
fn load_row(row: &[u64; 8]) -> __m512i {
    // SAFETY: `row` is 8 u64 = 64 bytes; `loadu` has no alignment requirement.
    unsafe { _mm512_loadu_si512(row.as_ptr().cast()) }
}

#[target_feature(enable = "avx512f")]
fn load(p: &Regs) -> [__m512i; REGS] {
    [
        load_row(&p[0]),
        load_row(&p[1]),
        load_row(&p[2]),
        load_row(&p[3]),
        load_row(&p[4]),
    ]
}

#[target_feature(enable = "avx512f")]
fn store(v: [__m512i; REGS]) -> Regs {
    let mut p = Regs::default();
    for (row, reg) in p.iter_mut().zip(v) {
        // SAFETY: each store writes 64 bytes into its own row of 8 u64; `storeu` has no
        // alignment requirement.
        unsafe { _mm512_storeu_si512(row.as_mut_ptr().cast(), reg) };
    }
    p
}

fn cpu_has_ifma() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512ifma")
}

/// One 512-bit multiply-add on made-up numbers, for `RsaPrivateKey::keep_warm`: enough for the
/// core to keep (or start bringing back) its wide vector units, so that the next exponentiation
/// does not start on cold ones (`net::waiting` has the measurements). Touches no key material.
pub(crate) fn keep_warm(_crt: &IfmaCrt) {
    // SAFETY: an `IfmaCrt` exists only if `IfmaCrt::new` found AVX-512F and AVX-512 IFMA, the
    // features `touch_wide_units` is compiled for.
    unsafe { touch_wide_units() }
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn touch_wide_units() {
    // black_box on both sides, so that the instruction is neither folded nor dropped.
    let x = _mm512_set1_epi64(core::hint::black_box(1));
    let mut out = [0u64; 8];
    // SAFETY: `out` is 64 writable bytes; storeu needs no alignment.
    unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), _mm512_madd52lo_epu64(x, x, x)) };
    core::hint::black_box(out);
}

/// Whether this CPU can run the backend (for `RsaBackend` detection).
pub(crate) fn available() -> bool {
    cpu_has_ifma()
}

/// Interleaves two 20-digit numbers into the register layout: `p[j]` and `q[j]` side by side.
fn pair(p: &[u64; DIGITS], q: &[u64; DIGITS]) -> Regs {
    let mut out = Regs::default();
    for j in 0..DIGITS {
        let row = &mut out[j / 4];
        row[2 * (j % 4)] = p[j];
        row[2 * (j % 4) + 1] = q[j];
    }
    out
}

/// The two 20-digit numbers of a pair.
fn unpair(v: &Regs) -> ([u64; DIGITS], [u64; DIGITS]) {
    let (mut p, mut q) = ([0u64; DIGITS], [0u64; DIGITS]);
    for j in 0..DIGITS {
        let row = &v[j / 4];
        p[j] = row[2 * (j % 4)];
        q[j] = row[2 * (j % 4) + 1];
    }
    (p, q)
}

/// Little-endian 64-bit limbs to `D` digits of 52 bits (fixed loops, no branch on values).
fn limbs_to_digits<const D: usize>(x: &[u64]) -> [u64; D] {
    let mut d = [0u64; D];
    for (j, digit) in d.iter_mut().enumerate() {
        let bit = 52 * j;
        let (limb, shift) = (bit / 64, bit % 64);
        let low = x.get(limb).copied().unwrap_or(0) >> shift;
        // Bits from the next limb when the digit straddles two (shift > 12); the shift amount
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

/// Digits of 52 bits (normalised) to little-endian 64-bit limbs; bits beyond `out` dropped.
fn digits_to_limbs(d: &[u64], out: &mut [u64]) {
    out.fill(0);
    for (j, &digit) in d.iter().enumerate() {
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

fn limbs16(x: &BigUint) -> [u64; 16] {
    let mut limbs = [0u64; 16];
    for (l, d) in limbs.iter_mut().zip(x.to_u64_digits()) {
        *l = d;
    }
    limbs
}

fn digits_of<const D: usize>(x: &BigUint) -> [u64; D] {
    limbs_to_digits(&x.to_u64_digits())
}

/// A 40-digit number in the single layout: row `k` = digits `8k..8k+8`.
fn single(d: &[u64; 2 * DIGITS]) -> Regs {
    let mut out = Regs::default();
    for (row, chunk) in out.iter_mut().zip(d.chunks_exact(8)) {
        row.copy_from_slice(chunk);
    }
    out
}

fn unsingle(v: &Regs) -> [u64; 2 * DIGITS] {
    let mut d = [0u64; 2 * DIGITS];
    for (chunk, row) in d.chunks_exact_mut(8).zip(v) {
        chunk.copy_from_slice(row);
    }
    d
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
        let d: [u64; DIGITS] = limbs_to_digits(&x);
        assert!(d.iter().all(|&v| v <= MASK52));
        let mut back = [0u64; 16];
        digits_to_limbs(&d, &mut back);
        assert_eq!(&back[..], &x[..]);
        assert_eq!(unpair(&pair(&d, &[7; DIGITS])), (d, [7; DIGITS]));
    }

    #[test]
    fn windows_cover_the_exponent() {
        // Reassembling every window gives the exponent back, including the windows that
        // straddle limbs and the short top one.
        let e: Vec<u64> = (0..16u64)
            .map(|i| 0xdead_beef_0123_4567 ^ (i << 40))
            .collect();
        let mut back = BigUint::ZERO;
        for w in 0..EXP_BITS.div_ceil(WINDOW) {
            back += BigUint::from(window(&e, w * WINDOW)) << (w * WINDOW);
        }
        assert_eq!(back, to_biguint(&e));
    }

    fn random_modulus(limbs: &[u64]) -> BigUint {
        let mut l = limbs.to_vec();
        l[0] |= 1;
        l[15] |= 1 << 63;
        to_biguint(&l)
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(48))]

        /// Where the CPU has IFMA, both exponentiations equal `BigUint::modpow` for random odd
        /// 1024-bit moduli, bases and full-width exponents. (Elsewhere `new` returns `None`
        /// and there is nothing to compare.)
        #[test]
        fn pow2_equals_biguint_modpow(
            p_limbs in proptest::collection::vec(proptest::num::u64::ANY, 16),
            q_limbs in proptest::collection::vec(proptest::num::u64::ANY, 16),
            x_limbs in proptest::collection::vec(proptest::num::u64::ANY, 32),
            e_limbs in proptest::collection::vec(proptest::num::u64::ANY, 32),
        ) {
            let (p, q) = (random_modulus(&p_limbs), random_modulus(&q_limbs));
            let Some(f) = IfmaCrt::new(&p, &q) else { return Ok(()); };
            let c = to_biguint(&x_limbs);
            let (ep, eq) = (&e_limbs[..16], &e_limbs[16..]);
            let (mp, mq) = f.pow2(&x_limbs, ep, eq);
            proptest::prop_assert_eq!(to_biguint(&mp), c.modpow(&to_biguint(ep), &p));
            proptest::prop_assert_eq!(to_biguint(&mq), c.modpow(&to_biguint(eq), &q));
        }
    }

    #[test]
    fn edge_values() {
        // Moduli with long runs of ones and zeros, to exercise the carry resolution.
        let p = (BigUint::ONE << 1024u32) - 105u32;
        let q = (BigUint::ONE << 1023u32) + (BigUint::ONE << 520u32) + 1u32;
        assert_eq!(IfmaCrt::new(&p, &q).is_some(), cpu_has_ifma());
        let Some(f) = IfmaCrt::new(&p, &q) else {
            return;
        };
        let limbs = |x: &BigUint| from_biguint(x, 16).unwrap();
        let n = &p * &q;
        for c in [
            BigUint::ZERO,
            BigUint::ONE,
            p.clone(),
            &q * 3u32,
            &p - 1u32,
            &n - 1u32,
            (BigUint::ONE << 2048u32) - 1u32,
            BigUint::ONE << 1024u32,
        ] {
            for (ep, eq) in [
                (BigUint::ZERO, BigUint::ONE),
                (BigUint::from(2u32), &q - 2u32),
                (&p - 2u32, (BigUint::ONE << 1024u32) - 1u32),
            ] {
                let (mp, mq) = f.pow2(&from_biguint(&c, 32).unwrap(), &limbs(&ep), &limbs(&eq));
                assert_eq!(to_biguint(&mp), c.modpow(&ep, &p), "p side, c={c:x}");
                assert_eq!(to_biguint(&mq), c.modpow(&eq, &q), "q side, c={c:x}");
            }
        }
        // 961-bit primes are accepted, 960-bit ones are not.
        let small = (BigUint::ONE << 960u32) + 1u32;
        assert!(IfmaCrt::new(&small, &q).is_some());
        assert!(IfmaCrt::new(&((BigUint::ONE << 959u32) + 1u32), &q).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(48))]

        /// The 2048-bit public operation equals `BigUint::modpow` for random odd moduli of 1985
        /// to 2048 bits, bases below them and odd exponents below 2^32.
        #[test]
        fn pow_public_2048_equals_biguint_modpow(
            n_limbs in proptest::collection::vec(proptest::num::u64::ANY, 32),
            x_limbs in proptest::collection::vec(proptest::num::u64::ANY, 32),
            top_bits in 1985u64..=2048,
            e in 1u64..(1 << 31),
        ) {
            let mut n_limbs = n_limbs;
            n_limbs[0] |= 1;
            let n = to_biguint(&n_limbs) & ((BigUint::ONE << top_bits) - 1u32)
                | (BigUint::ONE << (top_bits - 1));
            let Some(f) = Ifma2048::new(&n) else { return Ok(()); };
            let x = to_biguint(&x_limbs) % &n;
            let e = 2 * e + 1;
            let got = f.pow_public(&from_biguint(&x, 32).unwrap(), e);
            proptest::prop_assert_eq!(to_biguint(&got), x.modpow(&BigUint::from(e), &n));
        }
    }

    #[test]
    fn pow_public_2048_edge_values() {
        let n = (BigUint::ONE << 2048u32) - 1557u32;
        assert_eq!(Ifma2048::new(&n).is_some(), cpu_has_ifma());
        let Some(f) = Ifma2048::new(&n) else { return };
        for e in [3u64, 65537, (1 << 32) - 1] {
            for x in [BigUint::ZERO, BigUint::ONE, &n - 1u32, &n - 2u32] {
                let got = f.pow_public(&from_biguint(&x, 32).unwrap(), e);
                assert_eq!(to_biguint(&got), x.modpow(&BigUint::from(e), &n), "e={e}");
            }
        }
        assert!(Ifma2048::new(&((BigUint::ONE << 1984u32) + 1u32)).is_some());
        assert!(Ifma2048::new(&((BigUint::ONE << 1983u32) + 1u32)).is_none());
    }

    #[test]
    fn the_trace_does_not_depend_on_the_exponents_or_bases() {
        let p = (BigUint::ONE << 1024u32) - 105u32;
        let q = (BigUint::ONE << 1023u32) + 12345u32;
        let Some(f) = IfmaCrt::new(&p, &q) else {
            return;
        };
        let run = |x: u64, e: u64| {
            let base = [x; 32];
            let exp: Vec<u64> = (0..16).map(|i| e.rotate_left(i)).collect();
            trace::capture(|| f.pow2(&base, &exp, &[0u64; 16])).1
        };
        let a = run(3, 0);
        assert!(a.len() > 1024, "the exponentiation records its steps");
        assert_eq!(a, run(0x1234_5678, u64::MAX));
        assert_eq!(a, run(1, 0x8000_0000_0000_0001));
    }
}
