//! AES-128 on x86-64 hardware: AES-NI (one block per 128-bit register) and VAES with AVX-512
//! (four blocks per 512-bit register).
//!
//! The AES instructions do a whole round in one instruction: `aesenc` is ShiftRows, SubBytes,
//! MixColumns and AddRoundKey (FIPS-197 5.1), `aesenclast` is the last round without MixColumns.
//! They run in constant time with no tables, so they are both the fastest and the safest way to
//! do AES on this CPU. `aeskeygenassist` does RotWord/SubWord and the round constant of the key
//! expansion (FIPS-197 5.2).
//!
//! One `aesenc` takes several cycles to produce its result, but the CPU can start a new one every
//! cycle (or two per cycle). A single block is a chain of ten dependent rounds, so encrypting one
//! block at a time leaves the AES unit mostly idle. CTR mode (NIST SP 800-38A 6.5) has no such
//! chain: every counter block is independent. So the CTR loops below keep many blocks in flight:
//! 8 blocks in 8 xmm registers for AES-NI, and 32 blocks in 8 zmm registers for VAES, and XOR the
//! keystream straight into the caller's buffer.
//!
//! This file is the only place in the crate with `unsafe`. Every function that uses the
//! instructions is a `#[target_feature]` function; they are reached only through the zero-sized
//! tokens [`AesNi`] and [`Vaes`], which can only be created after run-time feature detection said
//! the CPU has those instructions. That is the whole safety argument, written once per call site.

use super::aes_soft::{ROUNDS, RoundKeys};
use super::ctr::Increment;
use core::arch::x86_64::*;

/// Proof that this CPU has AES-NI (and SSSE3 for the byte shuffle). Only [`AesNi::detect`]
/// creates one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AesNi(());

/// Proof that this CPU has VAES with AVX-512 (F and BW) as well as AES-NI. Only
/// [`Vaes::detect`] creates one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vaes(());

impl AesNi {
    pub(crate) fn detect() -> Option<AesNi> {
        let ok = std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("sse2")
            && std::arch::is_x86_feature_detected!("ssse3");
        ok.then_some(AesNi(()))
    }

    /// Key expansion with `aeskeygenassist` (same round keys as FIPS-197 5.2).
    pub(crate) fn expand_key(self, key: &[u8; 16]) -> RoundKeys {
        // SAFETY: `self` exists only if `detect` found aes, sse2 and ssse3 on this CPU, which are
        // exactly the features `expand_key_ni` is compiled for.
        unsafe { expand_key_ni(key) }
    }

    pub(crate) fn encrypt_block(self, round_keys: &RoundKeys, block: &mut [u8; 16]) {
        // SAFETY: as above, the token proves the CPU has the features of `encrypt_block_ni`.
        unsafe { encrypt_block_ni(round_keys, block) }
    }

    /// XOR the CTR keystream starting at counter value `counter` into `data`, whose length must
    /// be a multiple of 16.
    pub(crate) fn ctr_xor(
        self,
        round_keys: &RoundKeys,
        counter: u128,
        inc: Increment,
        data: &mut [u8],
    ) {
        debug_assert_eq!(data.len() % 16, 0);
        // SAFETY: as above, the token proves the CPU has the features of `ctr_xor_ni`.
        unsafe { ctr_xor_ni(round_keys, counter, inc, data) }
    }
}

impl Vaes {
    pub(crate) fn detect() -> Option<Vaes> {
        let ok = AesNi::detect().is_some()
            && std::arch::is_x86_feature_detected!("vaes")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw");
        ok.then_some(Vaes(()))
    }

    /// The AES-NI token (`detect` checked AES-NI as well), for key expansion, single blocks and
    /// the tail of the CTR loop.
    pub(crate) fn aes_ni(self) -> AesNi {
        AesNi(())
    }

    /// Like [`AesNi::ctr_xor`], 32 blocks at a time in zmm registers.
    pub(crate) fn ctr_xor(
        self,
        round_keys: &RoundKeys,
        counter: u128,
        inc: Increment,
        data: &mut [u8],
    ) {
        debug_assert_eq!(data.len() % 16, 0);
        // SAFETY: `self` exists only if `detect` found aes, sse2, ssse3, vaes, avx512f and avx512bw,
        // the features `ctr_xor_vaes` is compiled for.
        unsafe { ctr_xor_vaes(round_keys, counter, inc, data) }
    }
}

// ---------------------------------------------------------------------------------------------
// AES-NI, one block per xmm register.

/// Byte-reversal shuffle: turns the little-endian integer in a register into the big-endian
/// counter block that SP 800-38A encrypts (and back).
#[target_feature(enable = "sse2")]
#[inline]
fn bswap128_mask() -> __m128i {
    _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
}

#[target_feature(enable = "aes,sse2")]
#[inline]
fn load_round_keys(round_keys: &RoundKeys) -> [__m128i; ROUNDS + 1] {
    // SAFETY: each round key is 16 readable bytes; `loadu` has no alignment requirement.
    round_keys.map(|rk| unsafe { _mm_loadu_si128(rk.as_ptr().cast()) })
}

/// One step of the AES-128 key expansion (FIPS-197 5.2) for round key `i`:
/// `assist` is the output of `aeskeygenassist(previous, rcon)`, whose top word holds
/// SubWord(RotWord(w[i-1])) ^ Rcon. The three shift-and-XOR steps compute the running XOR
/// w[i-4], w[i-4]^w[i-3], ... that the four words of the new round key need.
#[target_feature(enable = "aes,sse2")]
#[inline]
fn expand_step(previous: __m128i, assist: __m128i) -> __m128i {
    let assist = _mm_shuffle_epi32::<0xff>(assist);
    let mut key = previous;
    key = _mm_xor_si128(key, _mm_slli_si128::<4>(key));
    key = _mm_xor_si128(key, _mm_slli_si128::<4>(key));
    key = _mm_xor_si128(key, _mm_slli_si128::<4>(key));
    _mm_xor_si128(key, assist)
}

#[target_feature(enable = "aes,sse2,ssse3")]
fn expand_key_ni(key: &[u8; 16]) -> RoundKeys {
    let mut k = [_mm_setzero_si128(); ROUNDS + 1];
    // SAFETY: `key` is 16 readable bytes; `loadu` has no alignment requirement.
    k[0] = unsafe { _mm_loadu_si128(key.as_ptr().cast()) };
    // The round constant must be an immediate, hence the unrolled list.
    k[1] = expand_step(k[0], _mm_aeskeygenassist_si128::<0x01>(k[0]));
    k[2] = expand_step(k[1], _mm_aeskeygenassist_si128::<0x02>(k[1]));
    k[3] = expand_step(k[2], _mm_aeskeygenassist_si128::<0x04>(k[2]));
    k[4] = expand_step(k[3], _mm_aeskeygenassist_si128::<0x08>(k[3]));
    k[5] = expand_step(k[4], _mm_aeskeygenassist_si128::<0x10>(k[4]));
    k[6] = expand_step(k[5], _mm_aeskeygenassist_si128::<0x20>(k[5]));
    k[7] = expand_step(k[6], _mm_aeskeygenassist_si128::<0x40>(k[6]));
    k[8] = expand_step(k[7], _mm_aeskeygenassist_si128::<0x80>(k[7]));
    k[9] = expand_step(k[8], _mm_aeskeygenassist_si128::<0x1b>(k[8]));
    k[10] = expand_step(k[9], _mm_aeskeygenassist_si128::<0x36>(k[9]));
    let mut out = [[0u8; 16]; ROUNDS + 1];
    for (dst, src) in out.iter_mut().zip(k) {
        // SAFETY: `dst` is 16 writable bytes; `storeu` has no alignment requirement.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), src) };
    }
    out
}

/// The ten rounds on one register.
#[target_feature(enable = "aes,sse2")]
#[inline]
fn encrypt_ni(keys: &[__m128i; ROUNDS + 1], block: __m128i) -> __m128i {
    let mut b = _mm_xor_si128(block, keys[0]);
    for key in &keys[1..ROUNDS] {
        b = _mm_aesenc_si128(b, *key);
    }
    _mm_aesenclast_si128(b, keys[ROUNDS])
}

#[target_feature(enable = "aes,sse2,ssse3")]
fn encrypt_block_ni(round_keys: &RoundKeys, block: &mut [u8; 16]) {
    let keys = load_round_keys(round_keys);
    // SAFETY: `block` is 16 readable and writable bytes; loadu/storeu need no alignment.
    unsafe {
        let b = _mm_loadu_si128(block.as_ptr().cast());
        _mm_storeu_si128(block.as_mut_ptr().cast(), encrypt_ni(&keys, b));
    }
}

/// The counter value `counter` as a register holding the 128-bit integer little-endian, so that
/// `_mm_add_epi64` / `_mm_add_epi32` can step it; `bswap128_mask` then makes the block.
#[target_feature(enable = "sse2")]
#[inline]
fn counter_register(counter: u128) -> __m128i {
    _mm_set_epi64x((counter >> 64) as i64, counter as i64)
}

/// Add `n` (small) to a counter register. For [`Increment::Be32`] the add is on the low 32-bit
/// lane and wraps inside it, exactly the GCM rule. For [`Increment::Be128`] it is on the low
/// 64-bit lane: the caller guarantees no carry out of it (it checks before taking this path).
#[target_feature(enable = "sse2")]
#[inline]
fn counter_add(register: __m128i, inc: Increment, n: i32) -> __m128i {
    match inc {
        Increment::Be128 => _mm_add_epi64(register, _mm_set_epi64x(0, n as i64)),
        Increment::Be32 => _mm_add_epi32(register, _mm_set_epi32(0, 0, 0, n)),
    }
}

/// True when `blocks` consecutive counter values starting at `counter` can be made by adding to
/// the low 64-bit lane alone (always for the 32-bit increment, which never carries out).
#[inline]
fn lane_add_is_exact(counter: u128, inc: Increment, blocks: u64) -> bool {
    match inc {
        Increment::Be128 => (counter as u64).checked_add(blocks - 1).is_some(),
        Increment::Be32 => true,
    }
}

/// Blocks in flight in the AES-NI CTR loop. Eight covers the latency of `aesenc` on current
/// x86 cores (about 4 cycles at up to 2 per cycle) with room to spare and fits in the 16 xmm
/// registers next to the round keys (which the compiler may read straight from memory).
const NI_LANES: usize = 8;

#[target_feature(enable = "aes,sse2,ssse3")]
fn ctr_xor_ni(round_keys: &RoundKeys, mut counter: u128, inc: Increment, data: &mut [u8]) {
    let keys = load_round_keys(round_keys);
    let bswap = bswap128_mask();

    let mut chunks = data.chunks_exact_mut(16 * NI_LANES);
    for chunk in &mut chunks {
        let mut blocks = [_mm_setzero_si128(); NI_LANES];
        if lane_add_is_exact(counter, inc, NI_LANES as u64) {
            let base = counter_register(counter);
            for (i, block) in blocks.iter_mut().enumerate() {
                *block = _mm_shuffle_epi8(counter_add(base, inc, i as i32), bswap);
            }
        } else {
            // Rare: the 128-bit counter carries out of its low 64 bits inside this chunk.
            for (i, block) in blocks.iter_mut().enumerate() {
                let value = inc.add(counter, i as u128);
                *block = _mm_shuffle_epi8(counter_register(value), bswap);
            }
        }
        counter = inc.add(counter, NI_LANES as u128);

        for block in blocks.iter_mut() {
            *block = _mm_xor_si128(*block, keys[0]);
        }
        for key in &keys[1..ROUNDS] {
            for block in blocks.iter_mut() {
                *block = _mm_aesenc_si128(*block, *key);
            }
        }
        for (i, block) in blocks.iter().enumerate() {
            let keystream = _mm_aesenclast_si128(*block, keys[ROUNDS]);
            // SAFETY: `chunk` has 16 * NI_LANES bytes, so bytes 16*i .. 16*i+16 are in bounds;
            // loadu/storeu need no alignment.
            unsafe {
                let p = chunk.as_mut_ptr().add(16 * i).cast::<__m128i>();
                _mm_storeu_si128(p, _mm_xor_si128(_mm_loadu_si128(p), keystream));
            }
        }
    }

    for block in chunks.into_remainder().chunks_exact_mut(16) {
        let keystream = encrypt_ni(&keys, _mm_shuffle_epi8(counter_register(counter), bswap));
        counter = inc.add(counter, 1);
        // SAFETY: `block` is exactly 16 bytes; loadu/storeu need no alignment.
        unsafe {
            let p = block.as_mut_ptr().cast::<__m128i>();
            _mm_storeu_si128(p, _mm_xor_si128(_mm_loadu_si128(p), keystream));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// VAES + AVX-512: four blocks per zmm register, the same round applied to all four.

/// zmm registers in flight in the VAES CTR loop: 8 registers of 4 blocks = 32 blocks = 512 bytes
/// per iteration. The 11 broadcast round keys, 8 data registers and the counter registers fit in
/// the 32 zmm registers, so the loop never spills.
const VAES_REGS: usize = 8;
const VAES_BLOCKS: usize = 4 * VAES_REGS;

#[target_feature(enable = "aes,sse2,ssse3,vaes,avx512f,avx512bw")]
#[inline]
fn counter_add_512(register: __m512i, inc: Increment, step: __m512i) -> __m512i {
    match inc {
        Increment::Be128 => _mm512_add_epi64(register, step),
        Increment::Be32 => _mm512_add_epi32(register, step),
    }
}

/// A step vector for the four 128-bit lanes of a zmm register: `per_lane[j]` goes into the low
/// 64-bit word of lane j (the low 32-bit word for the 32-bit increment), matching `counter_add`.
#[target_feature(enable = "avx512f")]
#[inline]
fn lane_steps(inc: Increment, per_lane: [i64; 4]) -> __m512i {
    match inc {
        // The low 64 bits of each 128-bit lane carry the step; _mm512_set_epi64 lists high first.
        Increment::Be128 => _mm512_set_epi64(
            0,
            per_lane[3],
            0,
            per_lane[2],
            0,
            per_lane[1],
            0,
            per_lane[0],
        ),
        Increment::Be32 => _mm512_set_epi32(
            0,
            0,
            0,
            per_lane[3] as i32,
            0,
            0,
            0,
            per_lane[2] as i32,
            0,
            0,
            0,
            per_lane[1] as i32,
            0,
            0,
            0,
            per_lane[0] as i32,
        ),
    }
}

#[target_feature(enable = "aes,sse2,ssse3,vaes,avx512f,avx512bw")]
fn ctr_xor_vaes(round_keys: &RoundKeys, mut counter: u128, inc: Increment, data: &mut [u8]) {
    let keys128 = load_round_keys(round_keys);
    let keys: [__m512i; ROUNDS + 1] = keys128.map(|k| _mm512_broadcast_i32x4(k));
    let bswap = _mm512_broadcast_i32x4(bswap128_mask());
    // Lane j of the first register gets counter + j; each next register adds 4 more.
    let first_steps = lane_steps(inc, [0, 1, 2, 3]);
    let next_register = lane_steps(inc, [4, 4, 4, 4]);

    let mut chunks = data.chunks_exact_mut(16 * VAES_BLOCKS);
    for chunk in &mut chunks {
        let mut blocks = [_mm512_setzero_si512(); VAES_REGS];
        if lane_add_is_exact(counter, inc, VAES_BLOCKS as u64) {
            let base = _mm512_broadcast_i32x4(counter_register(counter));
            let mut values = counter_add_512(base, inc, first_steps);
            for block in blocks.iter_mut() {
                *block = _mm512_shuffle_epi8(values, bswap);
                values = counter_add_512(values, inc, next_register);
            }
        } else {
            // Rare: the 128-bit counter carries out of its low 64 bits inside this chunk.
            let mut counter_blocks = [[0u8; 16]; VAES_BLOCKS];
            for (i, block) in counter_blocks.iter_mut().enumerate() {
                *block = inc.add(counter, i as u128).to_be_bytes();
            }
            for (i, block) in blocks.iter_mut().enumerate() {
                let four = &counter_blocks.as_flattened()[64 * i..64 * i + 64];
                // SAFETY: `four` is exactly 64 readable bytes (counter blocks 4i .. 4i+4, a
                // bounds-checked slice of the whole array); loadu needs no alignment.
                *block = unsafe { _mm512_loadu_si512(four.as_ptr().cast()) };
            }
        }
        counter = inc.add(counter, VAES_BLOCKS as u128);

        for block in blocks.iter_mut() {
            *block = _mm512_xor_si512(*block, keys[0]);
        }
        for key in &keys[1..ROUNDS] {
            for block in blocks.iter_mut() {
                *block = _mm512_aesenc_epi128(*block, *key);
            }
        }
        for (i, block) in blocks.iter().enumerate() {
            let keystream = _mm512_aesenclast_epi128(*block, keys[ROUNDS]);
            // SAFETY: `chunk` has 16 * VAES_BLOCKS = 64 * VAES_REGS bytes, so bytes
            // 64*i .. 64*i+64 are in bounds; loadu/storeu need no alignment.
            unsafe {
                let p = chunk.as_mut_ptr().add(64 * i);
                let d = _mm512_loadu_si512(p.cast());
                _mm512_storeu_si512(p.cast(), _mm512_xor_si512(d, keystream));
            }
        }
    }

    // Fewer than 32 blocks left: the 8-wide AES-NI loop and its one-block tail finish the job.
    ctr_xor_ni(round_keys, counter, inc, chunks.into_remainder());
}
