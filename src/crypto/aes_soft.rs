//! Portable AES-128, written from FIPS-197 so that it can be read next to the standard.
//!
//! AES-128 turns a 16-byte block into another 16-byte block under a 16-byte key. The block is
//! viewed as a 4x4 matrix of bytes, the *state*, filled column by column (FIPS-197 3.4:
//! `state[r][c] = input[r + 4c]`). Encryption (FIPS-197 5.1) is ten rounds; each round applies
//!
//! 1. **SubBytes**: every byte goes through the S-box, a fixed non-linear byte permutation;
//! 2. **ShiftRows**: row `r` of the state is rotated left by `r` positions;
//! 3. **MixColumns**: every column is multiplied by a fixed matrix over GF(2^8);
//! 4. **AddRoundKey**: the state is XORed with that round's 16-byte round key,
//!
//! except that an extra AddRoundKey comes before the first round and the last round skips
//! MixColumns. The eleven round keys come from the cipher key by the key expansion (FIPS-197 5.2).
//!
//! # Why there is no S-box table here
//!
//! Most software AES looks the S-box up in a 256-byte table (or in four 1 KiB "T-tables" that fold
//! in MixColumns). The index of that lookup is a byte of plaintext XOR key, i.e. secret. Which
//! cache line a lookup touches depends on the index, so another process on the same machine (or a
//! remote attacker timing many encryptions) can learn which lines were used and from that recover
//! the key: Bernstein's 2005 cache-timing attack and Osvik-Shamir-Tromer's Prime+Probe recovered
//! full AES keys this way.
//!
//! This file therefore *computes* the S-box with arithmetic whose running time and memory accesses
//! do not depend on the byte: FIPS-197 5.1.1 defines S(x) as the multiplicative inverse of x in
//! GF(2^8) (with 0 mapped to 0) followed by an affine map over GF(2). The inverse is x^254, computed
//! with a fixed sequence of multiplications, and each multiplication is a fixed loop of shifts,
//! XORs and masks: no branch and no memory index depends on secret data. It is much slower than a
//! table, which is fine: this is the fallback and the readable reference, while the AES-NI and VAES
//! backends in `aes_x86.rs` do the real work on this machine (and are constant-time by design, the
//! hardware has no tables to leak).

/// Number of rounds of AES-128 (FIPS-197 Figure 4: Nk = 4, Nr = 10).
pub(crate) const ROUNDS: usize = 10;

/// The expanded key: one 16-byte round key for the initial AddRoundKey and one per round.
pub(crate) type RoundKeys = [[u8; 16]; ROUNDS + 1];

/// Multiplication in GF(2^8) modulo the AES polynomial x^8 + x^4 + x^3 + x + 1 (FIPS-197 4.2).
///
/// Schoolbook "Russian peasant" multiplication: for each bit of `b`, add (XOR) the current
/// multiple of `a` when the bit is set, then multiply `a` by x. The "when the bit is set" is done
/// with an all-ones or all-zeros mask instead of an `if`, so the time does not depend on the bits.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        // mask = 0xff if the low bit of b is 1, else 0x00.
        let mask = 0u8.wrapping_sub(b & 1);
        product ^= a & mask;
        a = xtime(a);
        b >>= 1;
    }
    product
}

/// Multiplication by x (FIPS-197 4.2.1): shift left, and if a bit fell off the top, reduce by
/// XORing the low byte of the polynomial, 0x1b. Again with a mask instead of a branch.
fn xtime(a: u8) -> u8 {
    let overflow_mask = 0u8.wrapping_sub(a >> 7);
    (a << 1) ^ (0x1b & overflow_mask)
}

/// The multiplicative inverse in GF(2^8), with 0 mapped to 0.
///
/// The non-zero elements form a group of order 255, so x^255 = 1 and x^254 = x^-1; and 0^254 = 0
/// gives exactly the convention FIPS-197 5.1.1 asks for. 254 = 0b1111_1110, so we compute it with
/// a fixed addition chain: x^2, x^3, x^6, x^7, x^14, x^15, x^30, x^31, x^62, x^63, x^126, x^127,
/// x^254. The same 13 multiplications run for every input.
fn gf_inv(x: u8) -> u8 {
    let mut power = x; // x^1
    for _ in 0..6 {
        power = gf_mul(power, power); // square
        power = gf_mul(power, x); // times x: after the loop, power = x^127
    }
    gf_mul(power, power) // x^254
}

/// The AES S-box, computed (FIPS-197 5.1.1): invert in GF(2^8), then apply the affine map
/// `b'_i = b_i ^ b_(i+4) ^ b_(i+5) ^ b_(i+6) ^ b_(i+7) ^ c_i` with c = 0x63, indices mod 8.
/// Written with rotations: `b ^ rotl(b,1) ^ rotl(b,2) ^ rotl(b,3) ^ rotl(b,4) ^ 0x63`.
pub(crate) fn sub_byte(x: u8) -> u8 {
    let b = gf_inv(x);
    b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4) ^ 0x63
}

/// SubBytes (FIPS-197 5.1.1): the S-box on every byte of the state.
fn sub_bytes(state: &mut [u8; 16]) {
    for byte in state.iter_mut() {
        *byte = sub_byte(*byte);
    }
}

/// ShiftRows (FIPS-197 5.1.2): row r is rotated left by r. With the column-major layout, row r
/// is the bytes `state[r], state[r + 4], state[r + 8], state[r + 12]`.
fn shift_rows(state: &mut [u8; 16]) {
    let old = *state;
    for row in 1..4 {
        for col in 0..4 {
            state[row + 4 * col] = old[row + 4 * ((col + row) % 4)];
        }
    }
}

/// MixColumns (FIPS-197 5.1.3): each column (a0, a1, a2, a3) is multiplied by the matrix
///
/// ```text
/// | 2 3 1 1 |
/// | 1 2 3 1 |
/// | 1 1 2 3 |
/// | 3 1 1 2 |
/// ```
///
/// over GF(2^8), where 2·a is `xtime(a)` and 3·a is `xtime(a) ^ a`.
fn mix_columns(state: &mut [u8; 16]) {
    for column in state.chunks_exact_mut(4) {
        let [a0, a1, a2, a3] = [column[0], column[1], column[2], column[3]];
        column[0] = xtime(a0) ^ (xtime(a1) ^ a1) ^ a2 ^ a3;
        column[1] = a0 ^ xtime(a1) ^ (xtime(a2) ^ a2) ^ a3;
        column[2] = a0 ^ a1 ^ xtime(a2) ^ (xtime(a3) ^ a3);
        column[3] = (xtime(a0) ^ a0) ^ a1 ^ a2 ^ xtime(a3);
    }
}

/// AddRoundKey (FIPS-197 5.1.4): XOR the round key into the state.
fn add_round_key(state: &mut [u8; 16], round_key: &[u8; 16]) {
    for (byte, key_byte) in state.iter_mut().zip(round_key) {
        *byte ^= key_byte;
    }
}

/// Key expansion for AES-128 (FIPS-197 5.2): 44 four-byte words w[0..44], four per round key.
///
/// The first four words are the key. After that, `w[i] = w[i-4] ^ temp` where `temp = w[i-1]`,
/// except at every fourth word, where temp is first rotated by one byte (RotWord), passed through
/// the S-box (SubWord) and XORed with a round constant (Rcon: 1, 2, 4, ... doubling in GF(2^8)).
pub(crate) fn expand_key(key: &[u8; 16]) -> RoundKeys {
    let mut words = [[0u8; 4]; 4 * (ROUNDS + 1)];
    for (i, word) in words.iter_mut().take(4).enumerate() {
        word.copy_from_slice(&key[4 * i..4 * i + 4]);
    }
    let mut rcon = 1u8;
    for i in 4..words.len() {
        let mut temp = words[i - 1];
        if i % 4 == 0 {
            temp.rotate_left(1); // RotWord
            for byte in temp.iter_mut() {
                *byte = sub_byte(*byte); // SubWord
            }
            temp[0] ^= rcon;
            rcon = xtime(rcon);
        }
        for (j, byte) in temp.iter().enumerate() {
            words[i][j] = words[i - 4][j] ^ byte;
        }
    }
    let mut round_keys = [[0u8; 16]; ROUNDS + 1];
    for (round, round_key) in round_keys.iter_mut().enumerate() {
        for (j, word) in words[4 * round..4 * round + 4].iter().enumerate() {
            round_key[4 * j..4 * j + 4].copy_from_slice(word);
        }
    }
    // `words` holds the same secret material; wipe it before it goes out of scope.
    super::aes::wipe(words.as_flattened_mut());
    round_keys
}

/// The cipher (FIPS-197 5.1, Figure 5): encrypt one block in place.
pub(crate) fn encrypt_block(round_keys: &RoundKeys, block: &mut [u8; 16]) {
    add_round_key(block, &round_keys[0]);
    for round_key in &round_keys[1..ROUNDS] {
        sub_bytes(block);
        shift_rows(block);
        mix_columns(block);
        add_round_key(block, round_key);
    }
    // The last round has no MixColumns.
    sub_bytes(block);
    shift_rows(block);
    add_round_key(block, &round_keys[ROUNDS]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first row of the S-box in FIPS-197 Figure 7, and a few other entries.
    #[test]
    fn computed_sbox_matches_fips197_figure_7() {
        let first_row = [
            0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7,
            0xab, 0x76,
        ];
        for (x, expected) in first_row.iter().enumerate() {
            assert_eq!(sub_byte(x as u8), *expected, "S({x:#04x})");
        }
        assert_eq!(sub_byte(0x53), 0xed); // the worked example in FIPS-197 5.1.1
        assert_eq!(sub_byte(0xff), 0x16);
        assert_eq!(sub_byte(0x9a), 0xb8);
    }

    #[test]
    fn sbox_is_a_permutation_without_fixed_points() {
        let mut seen = [false; 256];
        for x in 0..=255u8 {
            let s = sub_byte(x);
            assert!(!seen[s as usize], "S-box value {s:#04x} appears twice");
            seen[s as usize] = true;
            assert_ne!(s, x, "S-box has a fixed point at {x:#04x}");
        }
    }

    #[test]
    fn gf_arithmetic_matches_fips197_examples() {
        // FIPS-197 4.2: {57} . {83} = {c1}; 4.2.1: {57} . {13} = {fe}.
        assert_eq!(gf_mul(0x57, 0x83), 0xc1);
        assert_eq!(gf_mul(0x57, 0x13), 0xfe);
        assert_eq!(gf_inv(0), 0);
        for x in 1..=255u8 {
            assert_eq!(gf_mul(x, gf_inv(x)), 1, "inverse of {x:#04x}");
        }
    }

    /// FIPS-197 Appendix A.1: the last round key of the expansion of 2b7e1516...
    #[test]
    fn key_expansion_matches_fips197_appendix_a1() {
        let key = [
            0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf,
            0x4f, 0x3c,
        ];
        let round_keys = expand_key(&key);
        assert_eq!(round_keys[0], key);
        // w[4] = a0fafe17 ... w[43] = b6630ca6
        assert_eq!(round_keys[1][..4], [0xa0, 0xfa, 0xfe, 0x17]);
        assert_eq!(
            round_keys[10],
            [
                0xd0, 0x14, 0xf9, 0xa8, 0xc9, 0xee, 0x25, 0x89, 0xe1, 0x3f, 0x0c, 0xc8, 0xb6, 0x63,
                0x0c, 0xa6
            ]
        );
    }

    /// FIPS-197 Appendix B, round 1: after SubBytes, ShiftRows and MixColumns.
    #[test]
    fn round_steps_match_fips197_appendix_b() {
        // Start of round 1 (input XOR key), column-major.
        let mut state = [
            0x19, 0x3d, 0xe3, 0xbe, 0xa0, 0xf4, 0xe2, 0x2b, 0x9a, 0xc6, 0x8d, 0x2a, 0xe9, 0xf8,
            0x48, 0x08,
        ];
        sub_bytes(&mut state);
        assert_eq!(
            state,
            [
                0xd4, 0x27, 0x11, 0xae, 0xe0, 0xbf, 0x98, 0xf1, 0xb8, 0xb4, 0x5d, 0xe5, 0x1e, 0x41,
                0x52, 0x30
            ]
        );
        shift_rows(&mut state);
        assert_eq!(
            state,
            [
                0xd4, 0xbf, 0x5d, 0x30, 0xe0, 0xb4, 0x52, 0xae, 0xb8, 0x41, 0x11, 0xf1, 0x1e, 0x27,
                0x98, 0xe5
            ]
        );
        mix_columns(&mut state);
        assert_eq!(
            state,
            [
                0x04, 0x66, 0x81, 0xe5, 0xe0, 0xcb, 0x19, 0x9a, 0x48, 0xf8, 0xd3, 0x7a, 0x28, 0x06,
                0x26, 0x4c
            ]
        );
    }
}
