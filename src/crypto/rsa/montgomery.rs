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
//! and dividing by `R` is cheap: add the multiple `u*m` of the modulus that makes the low `k` limbs
//! of `a*b + u*m` zero, and keep the high `k` limbs. The result is below `2m`, and one masked
//! subtraction brings it below `m`.
//!
//! # How the multiplication is organised, and why
//! Koç, Acar and Kaliski ("Analyzing and Comparing Montgomery Multiplication Algorithms", IEEE
//! Micro 1996) compare the ways of interleaving the product with the reduction. We started with
//! their CIOS method (row by row: add `a*b[i]`, then `u*m`, shift one limb) and measured it
//! against FIPS (column by column: each output limb is one sum of products, kept in a 192-bit
//! accumulator in registers). For 16 limbs on this machine (best of 300 runs of 50): CIOS 503 ns,
//! FIPS 397 ns, and FIPS squaring, which computes each cross product `a[i]*a[j]` once and doubles
//! it, 344 ns. The exponentiation is 80% squarings. So we use FIPS with a dedicated squaring. The
//! common widths (16 limbs for each prime of RSA-2048, and 8, 24, 32, 48, 64) get their own copy
//! of the loops with the width as a compile-time constant.
//!
//! This is the general code, for every width. The primes of RSA-2048 (16 limbs) have their own,
//! faster paths: [`super::mont1024`] (portable, 61-bit digits, unrolled) and, on CPUs with
//! AVX-512 IFMA, [`super::montgomery_ifma`] (both primes at once in vector lanes).
//!
//! Tried and dropped, because they measured slower or no faster: splitting the accumulator into
//! two independent sums, unrolling the inner loops by four, reading one operand with a reversed
//! iterator, and unrolling the whole 16-limb multiplication (3% faster, much harder to read).

use num_bigint::BigUint;
use zeroize::{Zeroize, Zeroizing};

use super::limbs::{adc, from_biguint, sbb};
use super::trace::{self, Event};
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
    /// The same limbs in reverse order (see [`mont_any_width`] for why).
    m_rev: Vec<u64>,
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
        self.m_rev.zeroize();
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
            m_rev: limbs.iter().rev().copied().collect(),
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
        mont_mul(&self.m, &self.m_rev, self.m0inv, a, b, out);
    }

    /// `out = a * a / R mod m`, the same as `mul(a, a, out)` but about a quarter cheaper.
    pub(crate) fn sqr(&self, a: &[u64], out: &mut [u64]) {
        mont_sqr(&self.m, &self.m_rev, self.m0inv, a, out);
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

    /// `x^exp mod m` for a plain `x < m` (not in Montgomery form), returning a plain result.
    pub(crate) fn pow_plain(&self, x: &[u64], exp: &[u64]) -> Zeroizing<Vec<u64>> {
        self.leave_mont(&self.pow(&self.enter_mont(x), exp))
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
                    trace::record(Event::Sqr(k));
                    self.sqr(&acc, &mut tmp);
                    core::mem::swap(&mut acc, &mut tmp);
                }
                let window = (limb >> shift) & (TABLE_LEN as u64 - 1);
                select_entry(&table, k, window, &mut entry);
                trace::record(Event::Mul(k));
                self.mul(&acc, &entry, &mut tmp);
                core::mem::swap(&mut acc, &mut tmp);
            }
        }
        acc
    }
}

impl MontModulus {
    /// The Montgomery form of a number already below `m`: one multiplication by `R^2`.
    pub(crate) fn enter_mont(&self, x: &[u64]) -> Zeroizing<Vec<u64>> {
        let mut out = Zeroizing::new(vec![0u64; self.limbs()]);
        self.mul(x, &self.r2, &mut out);
        out
    }
}

/// Copies `table[index]` into `out` by reading every entry and masking: the sequence of memory
/// accesses is the same whatever `index` is, so the cache reveals nothing about the exponent.
fn select_entry(table: &[u64], k: usize, index: u64, out: &mut [u64]) {
    out.fill(0);
    for (i, entry) in table.chunks_exact(k).enumerate() {
        trace::record(Event::TableRead(i));
        let mask = ct::mask_u64_eq(i as u64, index);
        for (o, &e) in out.iter_mut().zip(entry) {
            *o |= e & mask;
        }
    }
}

/// `-m0^-1 mod 2^64` for odd `m0`, by Newton's iteration: if `x*m0 = 1 mod 2^j` then
/// `x*(2 - m0*x)` is an inverse mod `2^(2j)`. Starting from 1 (an inverse mod 2), six steps reach
/// 64 bits.
pub(crate) fn neg_inverse_mod_2_64(m0: u64) -> u64 {
    let mut x: u64 = 1;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(x)));
    }
    x.wrapping_neg()
}

/// Montgomery multiplication, `out = a*b/R mod m` (see the module doc). `out` must not alias
/// the inputs (the borrow checker makes sure of that). `m_rev` is `m` with its limbs reversed.
///
/// The common widths get their own copy of the loops with the width as a compile-time constant
/// (no bounds checks, the scratch copy on the stack); 16 limbs is each prime of RSA-2048.
fn mont_mul(m: &[u64], m_rev: &[u64], m0inv: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    match m.len() {
        8 => mont_mul_width::<8>(m, m_rev, m0inv, a, b, out),
        16 => mont_mul_width::<16>(m, m_rev, m0inv, a, b, out),
        24 => mont_mul_width::<24>(m, m_rev, m0inv, a, b, out),
        32 => mont_mul_width::<32>(m, m_rev, m0inv, a, b, out),
        48 => mont_mul_width::<48>(m, m_rev, m0inv, a, b, out),
        64 => mont_mul_width::<64>(m, m_rev, m0inv, a, b, out),
        k => {
            let b_rev = Zeroizing::new(b[..k].iter().rev().copied().collect::<Vec<u64>>());
            mont_columns::<false>(m, m_rev, m0inv, a, &b_rev, out);
        }
    }
}

/// Montgomery squaring, `out = a*a/R mod m`: the same result as `mont_mul(a, a)`, with each
/// cross product `a[i]*a[j]` computed once and doubled instead of twice.
fn mont_sqr(m: &[u64], m_rev: &[u64], m0inv: u64, a: &[u64], out: &mut [u64]) {
    match m.len() {
        8 => mont_sqr_width::<8>(m, m_rev, m0inv, a, out),
        16 => mont_sqr_width::<16>(m, m_rev, m0inv, a, out),
        24 => mont_sqr_width::<24>(m, m_rev, m0inv, a, out),
        32 => mont_sqr_width::<32>(m, m_rev, m0inv, a, out),
        48 => mont_sqr_width::<48>(m, m_rev, m0inv, a, out),
        64 => mont_sqr_width::<64>(m, m_rev, m0inv, a, out),
        k => {
            let a_rev = Zeroizing::new(a[..k].iter().rev().copied().collect::<Vec<u64>>());
            mont_columns::<true>(m, m_rev, m0inv, a, &a_rev, out);
        }
    }
}

// Not inlined: each width is one compact, separately optimised function (measured: inlining all
// of them into the dispatchers made the hot loops slower and less predictable).
#[inline(never)]
fn mont_mul_width<const N: usize>(
    m: &[u64],
    m_rev: &[u64],
    m0inv: u64,
    a: &[u64],
    b: &[u64],
    out: &mut [u64],
) {
    let mut b_rev = [0u64; N];
    for (r, &x) in b_rev.iter_mut().zip(b[..N].iter().rev()) {
        *r = x;
    }
    mont_columns::<false>(&m[..N], &m_rev[..N], m0inv, &a[..N], &b_rev, &mut out[..N]);
    b_rev.zeroize();
}

#[inline(never)]
fn mont_sqr_width<const N: usize>(
    m: &[u64],
    m_rev: &[u64],
    m0inv: u64,
    a: &[u64],
    out: &mut [u64],
) {
    let mut a_rev = [0u64; N];
    for (r, &x) in a_rev.iter_mut().zip(a[..N].iter().rev()) {
        *r = x;
    }
    mont_columns::<true>(&m[..N], &m_rev[..N], m0inv, &a[..N], &a_rev, &mut out[..N]);
    a_rev.zeroize();
}

/// Montgomery multiplication by columns ("product scanning", the FIPS method in Koç, Acar and
/// Kaliski, 1996): digit `i` of `a*b + u*m` is computed as one column sum, where `u` is built one
/// limb at a time so that each of the low `k` digits comes out zero. The high `k` digits are
/// then `a*b/R` (plus at most one `m`), written to `out`. Compared with the row-by-row method
/// this keeps the running sum in registers and lets squaring (`SQUARE`, with `b = a`) skip half
/// the products.
///
/// Column `i` pairs `a[j]` with `b[i-j]`: one operand is read forwards, the other backwards. The
/// caller passes the second operand reversed (`b_rev`) and the modulus keeps `m` reversed too,
/// so both run forwards, which the compiler turns into a tighter loop (measured: 8% faster).
///
/// Every loop bound depends only on the width `k`, never on the values.
#[inline(always)]
fn mont_columns<const SQUARE: bool>(
    m: &[u64],
    m_rev: &[u64],
    m0inv: u64,
    a: &[u64],
    b_rev: &[u64],
    out: &mut [u64],
) {
    let k = m.len();
    let (a, b_rev, m_rev, out) = (&a[..k], &b_rev[..k], &m_rev[..k], &mut out[..k]);
    // out[..] holds u (the multiple of m being added) during the first half; the second half
    // overwrites it with the result, always at an index below the u limbs still to be read.
    let mut acc = Column::default();
    for i in 0..k {
        // Column i: j = 0..=i, and b[i-j] is b_rev[k-1-i+j].
        let shift = k - 1 - i;
        product_column::<SQUARE>(&mut acc, a, b_rev, i, 0, shift);
        // u[j] * m[i-j] for the u limbs chosen so far ...
        dot(&mut acc, &out[..i], &m_rev[shift..]);
        // ... then u[i], chosen so that this digit becomes zero, times m[0].
        let u = acc.low().wrapping_mul(m0inv);
        acc.add_product(u, m[0]);
        out[i] = u;
        acc.shift_out();
    }
    for i in k..2 * k {
        // Column i: j = i+1-k..k, and b[i-j] is b_rev[j - lo].
        let lo = i + 1 - k;
        product_column::<SQUARE>(&mut acc, a, b_rev, i, lo, 0);
        dot(&mut acc, &out[lo..], m_rev);
        out[i - k] = acc.shift_out();
    }
    // What is left is the top bit: the result is out + high*R < 2m.
    let high = acc.shift_out();
    reduce_once(m, high, out);
}

/// Adds column `i` of the product to `acc`: `a[j] * b[i-j]` for `j` from `lo` to the end of the
/// column, with `b[i-j]` found at `b_rev[shift + j - lo]`. For squaring, each pair with
/// `j < i-j` is computed once and added twice, plus `a[i/2]^2` on even columns.
#[inline(always)]
fn product_column<const SQUARE: bool>(
    acc: &mut Column,
    a: &[u64],
    b_rev: &[u64],
    i: usize,
    lo: usize,
    shift: usize,
) {
    if SQUARE {
        let mid = i.div_ceil(2); // j < i - j exactly when j < mid
        let mut cross = Column::default();
        dot(&mut cross, &a[lo..mid], &b_rev[shift..]);
        acc.add(cross);
        acc.add(cross);
        if i.is_multiple_of(2) {
            acc.add_product(a[i / 2], a[i / 2]);
        }
    } else {
        let hi = i.min(a.len() - 1);
        dot(acc, &a[lo..=hi], &b_rev[shift..]);
    }
}

/// `acc += sum of x[j] * y[j]` over the length of `x` (`y` may be longer).
#[inline(always)]
fn dot(acc: &mut Column, x: &[u64], y: &[u64]) {
    for (&xj, &yj) in x.iter().zip(y) {
        acc.add_product(xj, yj);
    }
}

/// A 192-bit column accumulator: `c0 + c1 * 2^64 + c2 * 2^128`. A column sums at most `2k`
/// products of two limbs, each below 2^128, so 192 bits never overflow for any width we accept.
/// (Three `u64`s rather than a `u128` and a `u64`: the compiler then emits the plain
/// add / add-with-carry / add-carry sequence per product.)
#[derive(Clone, Copy, Default)]
struct Column {
    c0: u64,
    c1: u64,
    c2: u64,
}

impl Column {
    /// `self += x * y`.
    #[inline(always)]
    fn add_product(&mut self, x: u64, y: u64) {
        let p = (x as u128) * (y as u128);
        self.add_wide(p as u64, (p >> 64) as u64, 0);
    }

    /// `self += lo + hi * 2^64 + top * 2^128`.
    #[inline(always)]
    fn add_wide(&mut self, lo: u64, hi: u64, top: u64) {
        let (c0, carry) = self.c0.overflowing_add(lo);
        let t = (self.c1 as u128) + (hi as u128) + (carry as u128);
        self.c0 = c0;
        self.c1 = t as u64;
        self.c2 = self.c2.wrapping_add(top).wrapping_add((t >> 64) as u64);
    }

    /// `self += other`.
    #[inline(always)]
    fn add(&mut self, other: Column) {
        self.add_wide(other.c0, other.c1, other.c2);
    }

    /// Removes and returns the lowest limb (the column's digit), keeping the rest as the carry
    /// into the next column.
    #[inline(always)]
    fn shift_out(&mut self) -> u64 {
        let digit = self.c0;
        self.c0 = self.c1;
        self.c1 = self.c2;
        self.c2 = 0;
        digit
    }

    /// The lowest limb, without removing it.
    #[inline(always)]
    fn low(&self) -> u64 {
        self.c0
    }
}

/// Given a value `t + high * R` below `2m` (`high` in {0, 1}), subtracts `m` once if the value is
/// at least `m`, with a mask instead of a branch.
#[inline]
pub(crate) fn reduce_once(m: &[u64], high: u64, t: &mut [u64]) {
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
mod tests;
