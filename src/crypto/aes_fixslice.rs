//! Portable constant-time AES-128: fixsliced, four blocks at a time in eight 64-bit words.
//!
//! `aes_soft.rs` is AES as FIPS-197 writes it, one byte at a time, and computes every S-box
//! value by inversion in GF(2^8) so that no table is indexed by secret data. That makes it
//! safe but slow (about 1 MB/s). This file is the same cipher, just as safe, about 200 times
//! faster, for CPUs without AES instructions (and for every non-x86 target). It is tested
//! against `aes_soft.rs`, the `aes` crate and the FIPS-197 / SP 800-38A vectors.
//!
//! # Bitslicing: 64 S-boxes with one circuit
//!
//! Four blocks are 64 bytes. Instead of storing them byte by byte, we store *bit planes*:
//! `q[i]` is a `u64` whose 64 bits are bit `i` of each of the 64 bytes. An XOR or AND of two
//! planes then acts on 64 bytes at once, so any byte function written as a Boolean circuit
//! runs on all 64 bytes in as many instructions as the circuit has gates. The S-box is such a
//! function: [`sub_bytes`] is Boyar and Peralta's circuit for it, 115 gates (32 AND, 83 XOR)
//! ("A new combinational logic minimization technique with applications to cryptology", SEA
//! 2010; the gate list is the one the authors publish), the same inversion in GF(2^8) that `aes_soft.rs` computes,
//! factored through the tower field GF(((2^2)^2)^2). A circuit has no branches and no table:
//! every gate runs for every input, which is the whole constant-time argument.
//!
//! Where each byte sits in a plane is chosen so that the other steps are word rotations. Byte
//! `(row r, column c)` of block `b` (FIPS-197 3.4: input byte `4c + r`) is bit
//!
//! ```text
//! position = 16·r + 4·c + b        (r, c, b in 0..4)
//! ```
//!
//! so each row is a 16-bit group, each column a 4-bit group inside it, one bit per block.
//! MixColumns combines the four rows of a column: "the byte one row down" is a rotation of the
//! whole word by 16 bits, one instruction. [`pack`] and [`unpack`] move between bytes and
//! planes (a byte shuffle and an 8x8 bit-matrix transposition).
//!
//! # Fixslicing: no ShiftRows
//!
//! In this layout ShiftRows (rotate row r by r columns) is a shuffle of 4-bit groups inside
//! each 16-bit group, about a dozen instructions per plane and round, nearly as much as
//! MixColumns. Adomnicai and Peyrin ("Fixslicing AES-like ciphers", TCHES 2021/1) observed that
//! it can simply be skipped: leave every byte where it is and remember where it *should* be.
//! After `k` skipped ShiftRows the byte that belongs at `(r, c)` sits at column `c + k·r mod 4`.
//! Only two steps care where a byte is:
//!
//! - MixColumns must combine the bytes of one *logical* column: in round `k` "one row down"
//!   becomes "one row down and k columns right" ([`rotate`]), four variants for `k mod 4`;
//! - AddRoundKey must add each key byte where its state byte is: the round keys are stored
//!   pre-shifted the same way ([`Schedule::new`]).
//!
//! ShiftRows done four times is the identity, so the representation cycles with period 4; after
//! the tenth round it is two shifts off, which [`restore_rows`] undoes once per four blocks.
//!
//! A last saving: the S-box is `inverse, then affine map, then XOR 0x63`. The circuit without
//! its four NOT gates computes `S(x) ^ 0x63`; MixColumns maps a state of all-0x63 bytes to itself
//! (2 ^ 3 ^ 1 ^ 1 = 1 in GF(2^8)), so the missing 0x63 can be added together with the next round
//! key instead, and the schedule stores `round key ^ 0x63…` for rounds 1 to 10.
//!
//! # Constant time, function by function
//!
//! Secret here: the key, the round keys, the state (and so the plaintext and keystream).
//! - [`sub_bytes`], [`mix_columns`], [`add_round_key`], [`restore_rows`], [`encrypt_planes`]
//!   are written over the [`Word`] trait, which offers XOR, AND, OR, NOT, rotation by a constant
//!   and AND with a constant, and nothing else: no comparison, no conversion to an index. These
//!   functions *cannot* branch on or index memory with the state; their instruction sequence is
//!   fixed. The test `trace_is_independent_of_key_and_data` runs them on a word type that
//!   records every operation and checks two different keys and inputs give the same trace.
//! - [`pack`] / [`unpack`]: shifts and masks by constants on whole words, loads and stores at
//!   fixed offsets.
//! - [`Schedule::new`]: the FIPS-197 key expansion of `aes_soft.rs` (computed S-box, branches only
//!   on the public word index), then a fixed byte permutation per round and [`pack`].
//! - [`ctr_xor`] / [`encrypt_block`]: loops over the public length; the counter is public (it is
//!   sent on the wire in TLS), only the keystream it produces is secret.
//!
//! `unsafe`: none.
//!
//! # Speed
//!
//! Per four blocks: ten S-box circuits of 115 gates, the MixColumns variants (16 rotations, some
//! masked), eight XORs per round key, and the packing. About 200 MB/s on the development machine
//! (one Zen 4 core), a little faster than the `aes` crate's own fixsliced software backend
//! (`benches/aes_ctr.rs` measures both). Eight blocks as pairs of words were tried: LLVM keeps
//! them in general-purpose registers, where twice the live values means more spilling, and it
//! was slower.

use super::aes_soft::{self, ROUNDS};
use super::ctr::Increment;
use core::ops::{BitAnd, BitOr, BitXor, Not};

/// Blocks per batch: 64 bit positions per plane / 16 bytes per block.
pub(crate) const BLOCKS: usize = 4;

/// The only operations the round functions may use on secret words (see the module doc). All
/// shift amounts and masks are constants of the algorithm, never data.
pub(crate) trait Word:
    Copy + BitXor<Output = Self> + BitAnd<Output = Self> + BitOr<Output = Self> + Not<Output = Self>
{
    /// Rotate right by `n` bit positions: bit `p` of the result is bit `p + n mod 64`.
    fn ror(self, n: u32) -> Self;
    /// AND with a constant mask.
    fn mask(self, m: u64) -> Self;
}

impl Word for u64 {
    #[inline(always)]
    fn ror(self, n: u32) -> u64 {
        self.rotate_right(n)
    }
    #[inline(always)]
    fn mask(self, m: u64) -> u64 {
        self & m
    }
}

/// Eight bit planes: `q[i]` holds bit `i` (bit 0 = least significant) of all 64 bytes.
pub(crate) type Planes<W> = [W; 8];

/// The expanded key in the fixsliced representation: 11 round keys, each repeated for the four
/// blocks, bitsliced, pre-shifted for the round it is used in, 0x63 folded into rounds 1..10.
/// Wiped on drop.
#[derive(Clone)]
pub(crate) struct Schedule {
    planes: [Planes<u64>; ROUNDS + 1],
}

impl Drop for Schedule {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.planes.as_flattened_mut());
    }
}

impl Schedule {
    /// Expand `key` (FIPS-197 5.2, by `aes_soft`) and convert each round key.
    pub(crate) fn new(round_keys: &aes_soft::RoundKeys) -> Schedule {
        let mut planes = [[0u64; 8]; ROUNDS + 1];
        for (round, (out, rk)) in planes.iter_mut().zip(round_keys).enumerate() {
            // After `round` skipped ShiftRows, the byte of (r, c) is at column c + round·r.
            let mut shifted = [0u8; 16];
            for r in 0..4 {
                for c in 0..4 {
                    shifted[4 * ((c + round * r) % 4) + r] = rk[4 * c + r];
                }
            }
            let mut blocks = [shifted; BLOCKS];
            *out = pack(&blocks);
            if round > 0 {
                // 0x63 = bits 0, 1, 5 and 6: the NOT gates left out of `sub_bytes`.
                for i in [0, 1, 5, 6] {
                    out[i] = !out[i];
                }
            }
            super::aes::wipe(blocks.as_flattened_mut());
            super::aes::wipe(&mut shifted);
        }
        Schedule { planes }
    }
}

// ---------------------------------------------------------------------------------------------
// Bytes <-> planes.

/// SWAPMOVE on words `a` and `b` of `w`: exchange the bits of `w[b]` selected by `mask` with the
/// bits of `w[a]` selected by `mask << n`. With `a`, `b` two word indices that differ in one bit
/// and `n` a power of two, this swaps that index bit with bit `log2 n` of the position.
#[inline(always)]
fn swap_move(w: &mut [u64; 8], a: usize, b: usize, mask: u64, n: u32) {
    let t = ((w[a] >> n) ^ w[b]) & mask;
    w[b] ^= t;
    w[a] ^= t << n;
}

/// The 8x8 bit-matrix transposition between "word index" and "bit within byte": afterwards word
/// `i` holds bit `i` of every byte, and the bit-within-byte position holds the old word index.
/// It is its own inverse.
#[inline(always)]
fn transpose(w: &mut [u64; 8]) {
    for (a, b) in [(0, 1), (2, 3), (4, 5), (6, 7)] {
        swap_move(w, a, b, 0x5555_5555_5555_5555, 1);
    }
    for (a, b) in [(0, 2), (1, 3), (4, 6), (5, 7)] {
        swap_move(w, a, b, 0x3333_3333_3333_3333, 2);
    }
    for (a, b) in [(0, 4), (1, 5), (2, 6), (3, 7)] {
        swap_move(w, a, b, 0x0f0f_0f0f_0f0f_0f0f, 4);
    }
}

/// The bytes of a 32-bit word spread to the even bytes of a 64-bit word.
#[inline(always)]
fn spread(x: u32) -> u64 {
    let x = x as u64;
    let x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    (x | (x << 8)) & 0x00ff_00ff_00ff_00ff
}

/// The inverse of [`spread`] (odd bytes ignored).
#[inline(always)]
fn compress(x: u64) -> u32 {
    let x = x & 0x00ff_00ff_00ff_00ff;
    let x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    (x | (x >> 16)) as u32
}

/// Four blocks to bit planes.
///
/// Word `4·c0 + b` (c0 = column parity, b = block) first gets, at byte `2r + c1`, the byte of row
/// r and column `2·c1 + c0` of block b. The transposition then moves "bit within byte" to the
/// word index and the word index `[c0 b1 b0]` into the low three position bits, which gives
/// position `16r + 8·c1 + 4·c0 + b = 16r + 4c + b`, the layout of the module doc.
#[inline(always)]
pub(crate) fn pack(blocks: &[[u8; 16]; BLOCKS]) -> Planes<u64> {
    let mut w = [0u64; 8];
    for (b, block) in blocks.iter().enumerate() {
        let col = |c: usize| u32::from_le_bytes(block[4 * c..4 * c + 4].try_into().unwrap());
        w[b] = spread(col(0)) | (spread(col(2)) << 8);
        w[4 + b] = spread(col(1)) | (spread(col(3)) << 8);
    }
    transpose(&mut w);
    w
}

/// Bit planes back to four blocks (the inverse of [`pack`]).
#[inline(always)]
pub(crate) fn unpack(mut w: Planes<u64>) -> [[u8; 16]; BLOCKS] {
    transpose(&mut w);
    let mut blocks = [[0u8; 16]; BLOCKS];
    for (b, block) in blocks.iter_mut().enumerate() {
        let cols = [
            compress(w[b]),
            compress(w[4 + b]),
            compress(w[b] >> 8),
            compress(w[4 + b] >> 8),
        ];
        for (c, col) in cols.iter().enumerate() {
            block[4 * c..4 * c + 4].copy_from_slice(&col.to_le_bytes());
        }
    }
    blocks
}

// ---------------------------------------------------------------------------------------------
// The round functions, on any `Word`.

/// SubBytes on all 64 bytes: the Boyar-Peralta circuit, without its four NOT gates, so it
/// computes `S(x) ^ 0x63` (the schedule adds the 0x63 back). The circuit numbers bits from the
/// most significant: `u0` is bit 7 of the byte, `s0` bit 7 of the result.
///
/// Three layers: a linear "top" layer (XORs) maps the byte into the tower-field basis, a
/// non-linear middle (the 32 ANDs: the inversion in GF(2^4) and the products around it), and a
/// linear "bottom" layer back to the AES basis, which also applies the affine map.
#[inline(always)]
pub(crate) fn sub_bytes<W: Word>(q: &mut Planes<W>) {
    let [u7, u6, u5, u4, u3, u2, u1, u0] = *q;

    // Top linear layer: 23 XORs.
    let y14 = u3 ^ u5;
    let y13 = u0 ^ u6;
    let y9 = u0 ^ u3;
    let y8 = u0 ^ u5;
    let t0 = u1 ^ u2;
    let y1 = t0 ^ u7;
    let y4 = y1 ^ u3;
    let y12 = y13 ^ y14;
    let y2 = y1 ^ u0;
    let y5 = y1 ^ u6;
    let y3 = y5 ^ y8;
    let t1 = u4 ^ y12;
    let y15 = t1 ^ u5;
    let y20 = t1 ^ u1;
    let y6 = y15 ^ u7;
    let y10 = y15 ^ t0;
    let y11 = y20 ^ y9;
    let y7 = u7 ^ y11;
    let y17 = y10 ^ y11;
    let y19 = y10 ^ y8;
    let y16 = t0 ^ y11;
    let y21 = y13 ^ y16;
    let y18 = u0 ^ y16;

    // Middle, non-linear: products in GF(2^8) down to an inversion in GF(2^4) and back.
    let t2 = y12 & y15;
    let t3 = y3 & y6;
    let t4 = t3 ^ t2;
    let t5 = y4 & u7;
    let t6 = t5 ^ t2;
    let t7 = y13 & y16;
    let t8 = y5 & y1;
    let t9 = t8 ^ t7;
    let t10 = y2 & y7;
    let t11 = t10 ^ t7;
    let t12 = y9 & y11;
    let t13 = y14 & y17;
    let t14 = t13 ^ t12;
    let t15 = y8 & y10;
    let t16 = t15 ^ t12;
    let t17 = t4 ^ t14;
    let t18 = t6 ^ t16;
    let t19 = t9 ^ t14;
    let t20 = t11 ^ t16;
    let t21 = t17 ^ y20;
    let t22 = t18 ^ y19;
    let t23 = t19 ^ y21;
    let t24 = t20 ^ y18;

    // The inversion in GF(2^4): inputs t21..t24, outputs t29, t33, t37, t40.
    let t25 = t21 ^ t22;
    let t26 = t21 & t23;
    let t27 = t24 ^ t26;
    let t28 = t25 & t27;
    let t29 = t28 ^ t22;
    let t30 = t23 ^ t24;
    let t31 = t22 ^ t26;
    let t32 = t31 & t30;
    let t33 = t32 ^ t24;
    let t34 = t23 ^ t33;
    let t35 = t27 ^ t33;
    let t36 = t24 & t35;
    let t37 = t36 ^ t34;
    let t38 = t27 ^ t36;
    let t39 = t29 & t38;
    let t40 = t25 ^ t39;

    let t41 = t40 ^ t37;
    let t42 = t29 ^ t33;
    let t43 = t29 ^ t40;
    let t44 = t33 ^ t37;
    let t45 = t42 ^ t41;
    let z0 = t44 & y15;
    let z1 = t37 & y6;
    let z2 = t33 & u7;
    let z3 = t43 & y16;
    let z4 = t40 & y1;
    let z5 = t29 & y7;
    let z6 = t42 & y11;
    let z7 = t45 & y17;
    let z8 = t41 & y10;
    let z9 = t44 & y12;
    let z10 = t37 & y3;
    let z11 = t33 & y4;
    let z12 = t43 & y13;
    let z13 = t40 & y5;
    let z14 = t29 & y2;
    let z15 = t42 & y9;
    let z16 = t45 & y14;
    let z17 = t41 & y8;

    // Bottom linear layer (with the affine map), minus the NOTs of s1, s2, s6, s7.
    let t46 = z15 ^ z16;
    let t47 = z10 ^ z11;
    let t48 = z5 ^ z13;
    let t49 = z9 ^ z10;
    let t50 = z2 ^ z12;
    let t51 = z2 ^ z5;
    let t52 = z7 ^ z8;
    let t53 = z0 ^ z3;
    let t54 = z6 ^ z7;
    let t55 = z16 ^ z17;
    let t56 = z12 ^ t48;
    let t57 = t50 ^ t53;
    let t58 = z4 ^ t46;
    let t59 = z3 ^ t54;
    let t60 = t46 ^ t57;
    let t61 = z14 ^ t57;
    let t62 = t52 ^ t58;
    let t63 = t49 ^ t58;
    let t64 = z4 ^ t59;
    let t65 = t61 ^ t62;
    let t66 = z1 ^ t63;
    let s0 = t59 ^ t63;
    let s6 = t56 ^ t62;
    let s7 = t48 ^ t60;
    let t67 = t64 ^ t65;
    let s3 = t53 ^ t66;
    let s4 = t51 ^ t66;
    let s5 = t47 ^ t65;
    let s1 = t64 ^ s3;
    let s2 = t55 ^ t67;

    *q = [s7, s6, s5, s4, s3, s2, s1, s0];
}

/// The byte `rows` rows down and `cols` columns right of each byte, in every plane: bit
/// `16r + 4c + b` of the result is bit `16(r + rows) + 4(c + cols) + b` of `x`, indices mod 4.
///
/// Rows are whole 16-bit groups, so moving rows is a rotation. Moving columns rotates inside
/// each 16-bit group: the columns that do not wrap come from one rotation, the ones that wrap
/// from a rotation 16 bits (one row) shorter, and a mask picks each.
#[inline(always)]
fn rotate<W: Word>(x: W, rows: u32, cols: u32) -> W {
    let cols = cols % 4;
    let n = 16 * rows + 4 * cols;
    if cols == 0 {
        x.ror(n % 64)
    } else {
        // Columns c < 4 - cols of each row take the byte of the row `rows` down, same group.
        let stay = ((1u64 << (4 * (4 - cols))) - 1) * 0x0001_0001_0001_0001;
        x.ror(n % 64).mask(stay) | x.ror((n + 48) % 64).mask(!stay)
    }
}

/// Multiply every byte by x in GF(2^8) (xtime, FIPS-197 4.2.1), in plane form: each bit moves
/// up one plane, and the bit that falls off the top (plane 7) is added back as 0x1b = bits 0, 1,
/// 3 and 4.
#[inline(always)]
fn xtime_planes<W: Word>(t: &Planes<W>) -> Planes<W> {
    let top = t[7];
    [
        top,
        t[0] ^ top,
        t[1],
        t[2] ^ top,
        t[3] ^ top,
        t[4],
        t[5],
        t[6],
    ]
}

/// MixColumns (FIPS-197 5.1.3) in round `K` of the fixsliced representation, i.e. with `K` mod
/// 4 ShiftRows not done: the byte below `(r, c)` in its logical column is one row down and `K`
/// columns right ([`rotate`]).
///
/// Each output byte is `2a ^ 3b ^ c ^ d` for a column `(a, b, c, d)` read from the byte's own
/// row down. With `ρ` = "one row down" and `t = a ^ ρa`, that is `2t ^ ρa ^ ρ²t`: one rotation
/// of the state, one of `t`, one doubling.
#[inline(always)]
pub(crate) fn mix_columns<W: Word, const K: u32>(q: &mut Planes<W>) {
    let down: Planes<W> = q.map(|x| rotate(x, 1, K));
    let t: Planes<W> = core::array::from_fn(|i| q[i] ^ down[i]);
    let doubled = xtime_planes(&t);
    for i in 0..8 {
        q[i] = doubled[i] ^ down[i] ^ rotate(t[i], 2, 2 * K);
    }
}

/// AddRoundKey: XOR the (pre-shifted) round key.
#[inline(always)]
pub(crate) fn add_round_key<W: Word>(q: &mut Planes<W>, key: &Planes<W>) {
    for (s, k) in q.iter_mut().zip(key) {
        *s = *s ^ *k;
    }
}

/// After ten rounds the bytes of rows 1 and 3 are two columns (half a row) away from where
/// FIPS-197 has them: swap the two halves of those rows (the two ShiftRows still owed).
#[inline(always)]
pub(crate) fn restore_rows<W: Word>(q: &mut Planes<W>) {
    for x in q.iter_mut() {
        let rows_0_2 = x.mask(0x0000_ffff_0000_ffff);
        let rows_1_3 = x.ror(8).mask(0x00ff_0000_00ff_0000) | x.ror(56).mask(0xff00_0000_ff00_0000);
        *x = rows_0_2 | rows_1_3;
    }
}

/// The ten rounds of FIPS-197 5.1 on packed planes, with `keys[i]` the fixsliced round key `i`.
/// The rounds are written out in groups of four because round `i` needs the MixColumns variant
/// for `i mod 4`, a constant for the compiler.
#[inline(always)]
pub(crate) fn encrypt_planes<W: Word>(q: &mut Planes<W>, keys: &[Planes<W>; ROUNDS + 1]) {
    add_round_key(q, &keys[0]);
    for group in 0..2 {
        let base = 4 * group;
        sub_bytes(q);
        mix_columns::<W, 1>(q);
        add_round_key(q, &keys[base + 1]);
        sub_bytes(q);
        mix_columns::<W, 2>(q);
        add_round_key(q, &keys[base + 2]);
        sub_bytes(q);
        mix_columns::<W, 3>(q);
        add_round_key(q, &keys[base + 3]);
        sub_bytes(q);
        mix_columns::<W, 0>(q);
        add_round_key(q, &keys[base + 4]);
    }
    sub_bytes(q);
    mix_columns::<W, 1>(q);
    add_round_key(q, &keys[9]);
    // Round 10: no MixColumns.
    sub_bytes(q);
    add_round_key(q, &keys[10]);
    restore_rows(q);
}

// ---------------------------------------------------------------------------------------------
// Entry points for `aes.rs`.

/// Encrypt four blocks in place.
pub(crate) fn encrypt_blocks(schedule: &Schedule, blocks: &mut [[u8; 16]; BLOCKS]) {
    let mut q = pack(blocks);
    encrypt_planes(&mut q, &schedule.planes);
    *blocks = unpack(q);
}

/// Encrypt one block (as the first of a batch of four; the other three are wasted work).
pub(crate) fn encrypt_block(schedule: &Schedule, block: &mut [u8; 16]) {
    let mut blocks = [*block, [0; 16], [0; 16], [0; 16]];
    encrypt_blocks(schedule, &mut blocks);
    *block = blocks[0];
    super::aes::wipe(blocks.as_flattened_mut());
}

/// CTR bulk: XOR into `data` (whole blocks) the encryptions of `counter`, `counter + 1`, ...
pub(crate) fn ctr_xor(schedule: &Schedule, mut counter: u128, inc: Increment, data: &mut [u8]) {
    debug_assert_eq!(data.len() % 16, 0);
    let mut keystream = [[0u8; 16]; BLOCKS];
    for chunk in data.chunks_mut(16 * BLOCKS) {
        for block in keystream.iter_mut() {
            *block = counter.to_be_bytes();
            counter = inc.add(counter, 1);
        }
        encrypt_blocks(schedule, &mut keystream);
        for (d, k) in chunk.iter_mut().zip(keystream.as_flattened()) {
            *d ^= k;
        }
    }
    super::aes::wipe(keystream.as_flattened_mut());
}

#[cfg(test)]
mod tests;
