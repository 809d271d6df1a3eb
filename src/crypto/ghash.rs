//! GHASH, the authenticator inside GCM (NIST SP 800-38D section 6.4).
//!
//! GHASH treats 16-byte blocks as elements of the field GF(2^128) defined by the polynomial
//! P = x^128 + x^7 + x^2 + x + 1, and evaluates a polynomial at the hash key H:
//!
//! ```text
//! Y_0 = 0,   Y_i = (Y_(i-1) XOR X_i) · H,   GHASH_H(X_1 .. X_m) = Y_m
//! ```
//!
//! Addition in the field is XOR; multiplication is carry-less multiplication of polynomials
//! followed by reduction modulo P. GCM's bit order is "reflected": bit 0 of a block (the
//! coefficient of x^0) is the *most* significant bit of its first byte (SP 800-38D 6.3). Here a
//! block is held as the `u128` read big-endian from its bytes, so the coefficient of x^i is
//! integer bit 127 - i, and multiplying by x is a right shift.
//!
//! # Constant time, and why no tables
//!
//! Fast software GHASH usually precomputes multiples of H in a table and indexes it with bits of
//! the data. Like AES tables, those lookups leak through the cache, and what leaks is H, from
//! which forgeries follow. The reference multiplication below is SP 800-38D Algorithm 1 bit by
//! bit, with every "if this bit is set" turned into an AND with an all-ones/all-zeros mask, so
//! time and memory accesses are the same for every input. It is the one to read, and slow (128
//! steps per block). Four backends:
//!
//! - [`Backend::Reference`]: that loop ([`gf128_mul`]), the reference the others are tested
//!   against;
//! - [`Backend::IntMul`]: portable constant-time Rust that gets carry-less products out of the
//!   integer multiplier (`ghash_intmul.rs`), eight blocks per reduction: what runs on CPUs without
//!   carry-less multiplication and on every non-x86 target;
//! - [`Backend::Clmul`] and [`Backend::VClmul`]: on x86-64, `ghash_x86.rs` uses PCLMULQDQ (one
//!   64x64-bit carry-less product per instruction) or VPCLMULQDQ (four per instruction), which
//!   are constant-time and fast.
//!
//! [`Backend::best`] picks the fastest the CPU runs, or the fastest portable one when
//! `TOYTLS_PORTABLE` is set ([`portable_forced`](super::portable_forced)).

use super::ghash_intmul;
#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
use super::ghash_x86::{Clmul, VClmul};
use std::fmt;
use std::sync::OnceLock;
use zeroize::Zeroize;

/// The reduction constant of SP 800-38D Algorithm 1: R = 11100001 || 0^120, i.e. x^0 + x^1 + x^2 +
/// x^7 in the reflected order (what x^128 is congruent to modulo P).
const R: u128 = 0xe1 << 120;

/// Which implementation multiplies in GF(2^128).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Portable constant-time Rust (SP 800-38D Algorithm 1 with masks), always available; slow.
    Reference,
    /// Portable constant-time Rust, integer multiplications with holes, 8 blocks per reduction.
    IntMul,
    /// x86-64 PCLMULQDQ on 128-bit registers, 8 blocks per reduction.
    Clmul,
    /// x86-64 VPCLMULQDQ on AVX-512 registers, 16 blocks per reduction.
    VClmul,
}

impl Backend {
    /// Every backend, slowest first.
    pub const ALL: [Backend; 4] = [
        Backend::Reference,
        Backend::IntMul,
        Backend::Clmul,
        Backend::VClmul,
    ];

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        Engine::for_backend(self).is_some()
    }

    /// The backends this CPU can run, slowest first (always starts with the two portable ones).
    pub fn available() -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|b| b.is_available())
            .collect()
    }

    /// Whether the backend is plain Rust that runs on every target.
    pub fn is_portable(self) -> bool {
        matches!(self, Backend::Reference | Backend::IntMul)
    }

    /// The fastest available backend, detected on first use and cached for the process; the
    /// fastest portable one if `TOYTLS_PORTABLE` is set ([`portable_forced`](super::portable_forced)).
    pub fn best() -> Backend {
        static BEST: OnceLock<Backend> = OnceLock::new();
        *BEST.get_or_init(|| {
            super::fastest(&Backend::ALL, Backend::is_available, Backend::is_portable)
                .unwrap_or(Backend::IntMul)
        })
    }

    /// A short human-readable name, e.g. for `toytls cpu`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Reference => "reference (SP 800-38D Algorithm 1, bit by bit; slow)",
            Backend::IntMul => {
                "portable integer multiply (constant-time Rust, 8 blocks per reduction)"
            }
            Backend::Clmul => "PCLMULQDQ (8 blocks per reduction)",
            Backend::VClmul => "VPCLMULQDQ + AVX-512 (16 blocks per reduction)",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Copy)]
enum Engine {
    Reference,
    IntMul,
    #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
    Clmul(Clmul),
    #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
    VClmul(VClmul),
}

impl Engine {
    fn for_backend(backend: Backend) -> Option<Engine> {
        match backend {
            Backend::Reference => Some(Engine::Reference),
            Backend::IntMul => Some(Engine::IntMul),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Backend::Clmul => Clmul::detect().map(Engine::Clmul),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Backend::VClmul => VClmul::detect().map(Engine::VClmul),
            #[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
            Backend::Clmul | Backend::VClmul => None,
        }
    }
}

/// Multiplication in GF(2^128), SP 800-38D 6.3 Algorithm 1, in constant time.
///
/// Walk the bits of `x` from x^0 up; keep `v = y · x^i`. When bit i of `x` is set, add `v` to the
/// result. Multiplying `v` by x is a right shift in the reflected order; if a coefficient falls
/// off the end (x^128), reduce by adding R. Both "if"s are masks.
pub(crate) fn gf128_mul(x: u128, y: u128) -> u128 {
    let mut z = 0u128;
    let mut v = y;
    for i in 0..128 {
        let bit = (x >> (127 - i)) & 1;
        z ^= v & 0u128.wrapping_sub(bit);
        let carry = v & 1;
        v = (v >> 1) ^ (R & 0u128.wrapping_sub(carry));
    }
    z
}

/// Number of powers of H kept for the aggregated (many blocks per reduction) fast paths.
pub(crate) const POWERS: usize = 16;

/// A GHASH key: H and its powers H^1 .. H^16, computed once per AES key, the first time more
/// than one block is hashed at once. Wiped on drop.
///
/// Why not at once: every connection makes a key per direction, and a handshake hashes only
/// single blocks (a Finished record: its additional data, its 16 bytes, the lengths), which
/// need H alone. The fifteen products were about a microsecond of each handshake, on the path
/// between the ClientHello and our answer, for a resumed handshake one part in a hundred.
pub struct GhashKey {
    /// H alone: `[H, 0, ..., 0]`, for updates of one block, which read nothing else.
    h_only: [u128; POWERS],
    /// `powers[i]` = H^(i+1), as big-endian integers, once an update of several blocks needs
    /// them.
    powers: OnceLock<[u128; POWERS]>,
    engine: Engine,
}

impl GhashKey {
    /// The key `h` (in GCM, the encryption of the zero block) for the best backend.
    pub fn new(h: &[u8; 16]) -> GhashKey {
        GhashKey::with_backend(h, Backend::best()).expect("the best backend is available")
    }

    /// The key for a chosen backend, or `None` if this CPU cannot run it.
    pub fn with_backend(h: &[u8; 16], backend: Backend) -> Option<GhashKey> {
        let engine = Engine::for_backend(backend)?;
        let mut h_only = [0; POWERS];
        h_only[0] = u128::from_be_bytes(*h);
        Some(GhashKey {
            h_only,
            powers: OnceLock::new(),
            engine,
        })
    }

    /// H^1 .. H^16, computed on first use. Each power with the backend's own multiplier: GHASH
    /// of one zero block from the state H^i is (H^i XOR 0) · H. (Bit by bit, with `gf128_mul`,
    /// these 15 products were once a tenth of a resumed handshake's time.)
    fn powers(&self) -> &[u128; POWERS] {
        self.powers.get_or_init(|| {
            let mut powers = self.h_only;
            for i in 1..POWERS {
                let mut next = Ghash {
                    key: self,
                    y: powers[i - 1],
                };
                next.update_blocks(&[0; 16]);
                powers[i] = next.y;
            }
            powers
        })
    }

    /// What an update of `blocks` reads: H alone for one block, else every power.
    fn powers_for(&self, blocks: &[u8]) -> &[u128; POWERS] {
        if blocks.len() <= 16 {
            &self.h_only
        } else {
            self.powers()
        }
    }

    /// The backend this key runs on.
    pub fn backend(&self) -> Backend {
        match self.engine {
            Engine::Reference => Backend::Reference,
            Engine::IntMul => Backend::IntMul,
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::Clmul(_) => Backend::Clmul,
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::VClmul(_) => Backend::VClmul,
        }
    }

    /// A fresh hash (Y_0 = 0) under this key.
    pub fn start(&self) -> Ghash<'_> {
        Ghash { key: self, y: 0 }
    }
}

impl Drop for GhashKey {
    fn drop(&mut self) {
        self.h_only.zeroize();
        if let Some(powers) = self.powers.get_mut() {
            powers.zeroize();
        }
    }
}

impl fmt::Debug for GhashKey {
    /// Shows the backend, never H.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GhashKey")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// A GHASH computation in progress.
pub struct Ghash<'k> {
    key: &'k GhashKey,
    y: u128,
}

impl Ghash<'_> {
    /// Absorb `data`, padding its last partial block with zeros up to 16 bytes. GCM hashes the
    /// additional data and the ciphertext this way (SP 800-38D 7.1 step 5, the `0^v` and `0^u`).
    pub fn update_padded(&mut self, data: &[u8]) {
        let whole = data.len() - data.len() % 16;
        let (blocks, tail) = data.split_at(whole);
        self.update_blocks(blocks);
        if !tail.is_empty() {
            let mut last = [0u8; 16];
            last[..tail.len()].copy_from_slice(tail);
            self.update_blocks(&last);
        }
    }

    /// Absorb whole blocks (`blocks.len()` a multiple of 16).
    fn update_blocks(&mut self, blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % 16, 0);
        let powers = self.key.powers_for(blocks);
        self.y = match self.key.engine {
            Engine::IntMul => ghash_intmul::update(powers, self.y, blocks),
            Engine::Reference => {
                let mut y = self.y;
                for block in blocks.chunks_exact(16) {
                    let x = u128::from_be_bytes(block.try_into().expect("16 bytes"));
                    y = gf128_mul(y ^ x, powers[0]);
                }
                y
            }
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::Clmul(clmul) => clmul.update(powers, self.y, blocks),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::VClmul(vclmul) => vclmul.update(powers, self.y, blocks),
        };
    }

    /// The current value Y_m.
    pub fn finalize(self) -> [u8; 16] {
        self.y.to_be_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplying_by_one_and_by_x() {
        let one = 1u128 << 127; // the coefficient of x^0 is the top bit
        let x = 1u128 << 126;
        let a = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
        assert_eq!(gf128_mul(a, one), a);
        assert_eq!(gf128_mul(one, a), a);
        assert_eq!(gf128_mul(a, 0), 0);
        // x^127 · x = x^128 = x^7 + x^2 + x + 1, i.e. R.
        assert_eq!(gf128_mul(1, x), R);
    }

    #[test]
    fn multiplication_is_commutative_and_distributive() {
        let a = 0x66e9_4bd4_ef8a_2c3b_884c_fa59_ca34_2b2eu128;
        let b = 0x0388_dace_60b6_a392_f328_c2b9_71b2_fe78u128;
        let c = 0xdead_beef_0000_1111_2222_3333_4444_5555u128;
        assert_eq!(gf128_mul(a, b), gf128_mul(b, a));
        assert_eq!(gf128_mul(a, b ^ c), gf128_mul(a, b) ^ gf128_mul(a, c));
    }

    /// The portable-only build (and any non-x86 target) has only the portable multipliers.
    #[test]
    #[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
    fn without_x86_only_the_portable_backend_exists() {
        assert_eq!(Backend::available(), [Backend::Reference, Backend::IntMul]);
        assert_eq!(Backend::best(), Backend::IntMul);
        assert!(GhashKey::with_backend(&[1; 16], Backend::Clmul).is_none());
        assert!(GhashKey::with_backend(&[1; 16], Backend::VClmul).is_none());
    }

    /// Every backend gives the same hash for many lengths, around the 8- and 16-block groups.
    #[test]
    fn backends_agree_on_every_length_up_to_40_blocks() {
        let h = *b"hash key 16bytes";
        let data: Vec<u8> = (0..40 * 16 + 7).map(|i| (i * 151 + 7) as u8).collect();
        let reference = GhashKey::with_backend(&h, Backend::Reference).unwrap();
        for backend in Backend::available() {
            let key = GhashKey::with_backend(&h, backend).unwrap();
            for len in 0..=data.len() {
                let mut ours = key.start();
                ours.update_padded(&data[..len]);
                let mut theirs = reference.start();
                theirs.update_padded(&data[..len]);
                assert_eq!(ours.finalize(), theirs.finalize(), "{backend:?} len {len}");
            }
        }
    }

    /// Single blocks (all a handshake's Finished record hashes) leave the powers uncomputed, and
    /// the first longer update computes them, with the same hashes as the bit-by-bit
    /// multiplication: for each backend, a fresh key used one block at a time first.
    #[test]
    fn powers_wait_for_the_first_update_of_several_blocks() {
        let h = *b"another key, 16b";
        let hm = u128::from_be_bytes(h);
        let data: Vec<u8> = (0..20 * 16).map(|i| (i * 97 + 3) as u8).collect();
        // GHASH by its definition: one gf128_mul per block.
        let by_definition = |blocks: &[u8]| {
            blocks.chunks(16).fold(0u128, |y, b| {
                gf128_mul(y ^ u128::from_be_bytes(b.try_into().unwrap()), hm)
            })
        };
        for backend in Backend::available() {
            let key = GhashKey::with_backend(&h, backend).unwrap();
            for block in data.chunks(16).take(3) {
                let mut g = key.start();
                g.update_padded(&block[..13]);
                g.update_padded(block);
                let mut padded = [0u8; 32];
                padded[..13].copy_from_slice(&block[..13]);
                padded[16..].copy_from_slice(block);
                assert_eq!(
                    g.finalize(),
                    by_definition(&padded).to_be_bytes(),
                    "{backend:?}"
                );
            }
            assert!(
                key.powers.get().is_none(),
                "{backend:?}: powers for single blocks"
            );
            let mut g = key.start();
            g.update_padded(&data);
            assert_eq!(
                g.finalize(),
                by_definition(&data).to_be_bytes(),
                "{backend:?}"
            );
            let powers = key.powers.get().expect("computed for 20 blocks");
            assert_eq!(powers[0], hm);
            assert_eq!(
                powers[15],
                (1..16).fold(hm, |p, _| gf128_mul(p, hm)),
                "{backend:?}"
            );
        }
    }
}
