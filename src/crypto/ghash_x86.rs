//! GHASH on x86-64 with carry-less multiplication: PCLMULQDQ (128-bit registers) and VPCLMULQDQ
//! with AVX-512 (four 128-bit lanes per register). See `ghash.rs` for the field and bit order.
//!
//! # The arithmetic
//!
//! Blocks are held as the integer read big-endian from their bytes, so the coefficient of x^i is
//! integer bit 127 - i ("reflected"). `pclmulqdq` multiplies two 64-bit halves carry-lessly; four
//! of them (lo·lo, hi·hi and the two cross terms) give the 255-bit product of two blocks. Because
//! both inputs are bit-reversed, so is the product, but over 255 bits rather than 256: shifting
//! the 256-bit result left by one lines it up, so that its high 128 bits hold the coefficients of
//! x^0..x^127 and its low 128 bits those of x^128..x^255 (call that part E, the product is
//! D + x^128·E).
//!
//! Reduction uses x^128 ≡ x^7 + x^2 + x + 1 (mod P): D + x^128·E ≡ D + E·(1 + x + x^2 + x^7).
//! Multiplying by x^k is a right shift by k in this order; the few bits shifted past x^127 (F,
//! degree below 7) are folded once more the same way, after which nothing overflows:
//!
//! ```text
//! result = D ^ E ^ E>>1 ^ E>>2 ^ E>>7 ^ F ^ F>>1 ^ F>>2 ^ F>>7,  F = E<<127 ^ E<<126 ^ E<<121
//! ```
//!
//! # Many blocks per reduction
//!
//! Horner's rule `Y = (Y ^ X) · H` makes every block wait for the previous multiplication. Unrolled
//! over n blocks it becomes `Y' = (Y ^ X_1)·H^n ^ X_2·H^(n-1) ^ ... ^ X_n·H`: n independent products,
//! summed (XOR) unreduced, and a single shift and reduction at the end. The PCLMULQDQ loop takes
//! 8 blocks per reduction, the VPCLMULQDQ loop 16 (four registers of four blocks), with the powers
//! of H precomputed once per key.
//!
//! As in `aes_x86.rs`, the `unsafe` here is limited to calling `#[target_feature]` functions,
//! reached only through tokens ([`Clmul`], [`VClmul`]) that exist only after run-time detection,
//! and to unaligned loads from slices whose bounds are checked right there.

use super::ghash::POWERS;
use core::arch::x86_64::*;

/// Proof that this CPU has PCLMULQDQ and SSSE3. Only [`Clmul::detect`] creates one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clmul(());

/// Proof that this CPU has VPCLMULQDQ with AVX-512 F/BW and AVX2, as well as PCLMULQDQ.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VClmul(());

impl Clmul {
    pub(crate) fn detect() -> Option<Clmul> {
        let ok = std::arch::is_x86_feature_detected!("pclmulqdq")
            && std::arch::is_x86_feature_detected!("sse2")
            && std::arch::is_x86_feature_detected!("ssse3");
        ok.then_some(Clmul(()))
    }

    /// Absorb whole blocks into the state `y`; `powers[i]` = H^(i+1).
    pub(crate) fn update(self, powers: &[u128; POWERS], y: u128, blocks: &[u8]) -> u128 {
        // SAFETY: `self` exists only if `detect` found pclmulqdq, sse2 and ssse3, the features
        // `update_clmul` is compiled for.
        unsafe { update_clmul(powers, y, blocks) }
    }
}

impl VClmul {
    pub(crate) fn detect() -> Option<VClmul> {
        let ok = Clmul::detect().is_some()
            && std::arch::is_x86_feature_detected!("vpclmulqdq")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw");
        ok.then_some(VClmul(()))
    }

    /// Like [`Clmul::update`], 16 blocks per reduction.
    pub(crate) fn update(self, powers: &[u128; POWERS], y: u128, blocks: &[u8]) -> u128 {
        // SAFETY: `self` exists only if `detect` found pclmulqdq, sse2, ssse3, vpclmulqdq, avx2,
        // avx512f and avx512bw, the features `update_vclmul` is compiled for.
        unsafe { update_vclmul(powers, y, blocks) }
    }
}

// ---------------------------------------------------------------------------------------------
// 128-bit registers.

#[target_feature(enable = "sse2")]
#[inline]
fn to_register(value: u128) -> __m128i {
    _mm_set_epi64x((value >> 64) as i64, value as i64)
}

#[target_feature(enable = "sse2")]
#[inline]
fn from_register(value: __m128i) -> u128 {
    let mut out = [0u8; 16];
    // SAFETY: `out` is 16 writable bytes; storeu needs no alignment.
    unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), value) };
    u128::from_le_bytes(out)
}

/// Reverses the 16 bytes of a register: block bytes (big-endian) <-> integer (little-endian).
#[target_feature(enable = "sse2")]
#[inline]
fn bswap_mask() -> __m128i {
    _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
}

/// Load block `i` of `blocks` as an integer register. Panics if out of bounds.
#[target_feature(enable = "sse2,ssse3")]
#[inline]
fn load_block(blocks: &[u8], i: usize, bswap: __m128i) -> __m128i {
    let block = &blocks[16 * i..16 * i + 16];
    // SAFETY: `block` is exactly 16 readable bytes (the slice above is bounds-checked); loadu needs
    // no alignment.
    _mm_shuffle_epi8(unsafe { _mm_loadu_si128(block.as_ptr().cast()) }, bswap)
}

/// 128-bit right shift by S (0 < S < 64); `S64` must be 64 - S.
#[target_feature(enable = "sse2")]
#[inline]
fn shr128<const S: i32, const S64: i32>(x: __m128i) -> __m128i {
    _mm_or_si128(
        _mm_srli_epi64::<S>(x),
        _mm_srli_si128::<8>(_mm_slli_epi64::<S64>(x)),
    )
}

/// The three partial products of a block and a power of H, to be summed before combining.
struct Partial {
    lo: __m128i,
    mid: __m128i,
    hi: __m128i,
}

#[target_feature(enable = "pclmulqdq,sse2")]
#[inline]
fn partial(a: __m128i, b: __m128i) -> Partial {
    Partial {
        lo: _mm_clmulepi64_si128::<0x00>(a, b),
        mid: _mm_xor_si128(
            _mm_clmulepi64_si128::<0x01>(a, b),
            _mm_clmulepi64_si128::<0x10>(a, b),
        ),
        hi: _mm_clmulepi64_si128::<0x11>(a, b),
    }
}

#[target_feature(enable = "pclmulqdq,sse2")]
#[inline]
fn add_partial(sum: &mut Partial, p: Partial) {
    sum.lo = _mm_xor_si128(sum.lo, p.lo);
    sum.mid = _mm_xor_si128(sum.mid, p.mid);
    sum.hi = _mm_xor_si128(sum.hi, p.hi);
}

/// Combine partial products into the 255-bit product, shift it into place and reduce mod P
/// (see the module doc for the formula).
#[target_feature(enable = "sse2")]
#[inline]
fn reduce(p: Partial) -> __m128i {
    // The 256-bit carry-less product, as (hi:lo).
    let lo = _mm_xor_si128(p.lo, _mm_slli_si128::<8>(p.mid));
    let hi = _mm_xor_si128(p.hi, _mm_srli_si128::<8>(p.mid));
    // Shift (hi:lo) left by one bit: within each 64-bit lane, plus the bits crossing lanes and
    // the top bit of lo moving into hi.
    let lo_top = _mm_srli_epi64::<63>(lo);
    let hi_top = _mm_srli_epi64::<63>(hi);
    let lo_shifted = _mm_or_si128(_mm_slli_epi64::<1>(lo), _mm_slli_si128::<8>(lo_top));
    let hi_shifted = _mm_or_si128(
        _mm_or_si128(_mm_slli_epi64::<1>(hi), _mm_slli_si128::<8>(hi_top)),
        _mm_srli_si128::<8>(lo_top),
    );
    // Now hi_shifted = D (x^0..x^127) and lo_shifted = E (x^128..x^255).
    let d = hi_shifted;
    let e = lo_shifted;
    // F = E<<127 ^ E<<126 ^ E<<121: only the top 7 bits, all in the high lane.
    let f = _mm_slli_si128::<8>(_mm_xor_si128(
        _mm_xor_si128(_mm_slli_epi64::<63>(e), _mm_slli_epi64::<62>(e)),
        _mm_slli_epi64::<57>(e),
    ));
    // E·(1 + x + x^2 + x^7), the part that stays below x^128.
    let e_folded = _mm_xor_si128(
        _mm_xor_si128(e, shr128::<1, 63>(e)),
        _mm_xor_si128(shr128::<2, 62>(e), shr128::<7, 57>(e)),
    );
    // F·(1 + x + x^2 + x^7): F's bits are 127..121, so shifts by up to 7 stay in the high lane
    // and a per-lane shift suffices.
    let f_folded = _mm_xor_si128(
        _mm_xor_si128(f, _mm_srli_epi64::<1>(f)),
        _mm_xor_si128(_mm_srli_epi64::<2>(f), _mm_srli_epi64::<7>(f)),
    );
    _mm_xor_si128(d, _mm_xor_si128(e_folded, f_folded))
}

/// Blocks per reduction in the PCLMULQDQ loop.
const CLMUL_BLOCKS: usize = 8;

#[target_feature(enable = "pclmulqdq,sse2,ssse3")]
fn update_clmul(powers: &[u128; POWERS], y: u128, blocks: &[u8]) -> u128 {
    let bswap = bswap_mask();
    // h[i] = H^(i+1)
    let h: [__m128i; CLMUL_BLOCKS] = core::array::from_fn(|i| to_register(powers[i]));
    let mut y = to_register(y);

    let mut chunks = blocks.chunks_exact(16 * CLMUL_BLOCKS);
    for chunk in &mut chunks {
        // Block i of the chunk is multiplied by H^(8 - i); the state joins the first block.
        let first = _mm_xor_si128(load_block(chunk, 0, bswap), y);
        let mut sum = partial(first, h[CLMUL_BLOCKS - 1]);
        for i in 1..CLMUL_BLOCKS {
            add_partial(
                &mut sum,
                partial(load_block(chunk, i, bswap), h[CLMUL_BLOCKS - 1 - i]),
            );
        }
        y = reduce(sum);
    }
    let rest = chunks.remainder();
    for i in 0..rest.len() / 16 {
        y = reduce(partial(_mm_xor_si128(load_block(rest, i, bswap), y), h[0]));
    }
    from_register(y)
}

// ---------------------------------------------------------------------------------------------
// 512-bit registers: four blocks per register, 16 blocks per reduction.

const VCLMUL_REGS: usize = 4;
const VCLMUL_BLOCKS: usize = 4 * VCLMUL_REGS;

/// XOR the four 128-bit lanes of a zmm register together.
#[target_feature(enable = "avx2,avx512f")]
#[inline]
fn fold_lanes(z: __m512i) -> __m128i {
    let half = _mm256_xor_si256(_mm512_castsi512_si256(z), _mm512_extracti64x4_epi64::<1>(z));
    _mm_xor_si128(
        _mm256_castsi256_si128(half),
        _mm256_extracti128_si256::<1>(half),
    )
}

#[target_feature(enable = "pclmulqdq,sse2,ssse3,vpclmulqdq,avx2,avx512f,avx512bw")]
fn update_vclmul(powers: &[u128; POWERS], y: u128, blocks: &[u8]) -> u128 {
    let bswap = _mm512_broadcast_i32x4(bswap_mask());
    // Register k of a chunk holds blocks 4k .. 4k+4; block i of the chunk is multiplied by
    // H^(16 - i), so lane j of key register k is H^(16 - 4k - j).
    let keys: [__m512i; VCLMUL_REGS] = core::array::from_fn(|k| {
        let mut words = [0u64; 8];
        for j in 0..4 {
            let power = powers[VCLMUL_BLOCKS - 1 - 4 * k - j];
            words[2 * j] = power as u64;
            words[2 * j + 1] = (power >> 64) as u64;
        }
        // SAFETY: `words` is 64 readable bytes; loadu needs no alignment.
        unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
    });
    let mut y = to_register(y);

    let mut chunks = blocks.chunks_exact(16 * VCLMUL_BLOCKS);
    for chunk in &mut chunks {
        let mut lo = _mm512_setzero_si512();
        let mut mid = _mm512_setzero_si512();
        let mut hi = _mm512_setzero_si512();
        for (k, key) in keys.iter().enumerate() {
            let bytes = &chunk[64 * k..64 * k + 64];
            // SAFETY: `bytes` is exactly 64 readable bytes (bounds-checked slice); loadu needs no
            // alignment.
            let mut x =
                _mm512_shuffle_epi8(unsafe { _mm512_loadu_si512(bytes.as_ptr().cast()) }, bswap);
            if k == 0 {
                // The running state joins the first block only (lane 0).
                x = _mm512_xor_si512(x, _mm512_inserti32x4::<0>(_mm512_setzero_si512(), y));
            }
            lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128::<0x00>(x, *key));
            mid = _mm512_xor_si512(mid, _mm512_clmulepi64_epi128::<0x01>(x, *key));
            mid = _mm512_xor_si512(mid, _mm512_clmulepi64_epi128::<0x10>(x, *key));
            hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128::<0x11>(x, *key));
        }
        y = reduce(Partial {
            lo: fold_lanes(lo),
            mid: fold_lanes(mid),
            hi: fold_lanes(hi),
        });
    }
    // Fewer than 16 blocks left: the 8-block loop and its one-block tail.
    update_clmul(powers, from_register(y), chunks.remainder())
}
