//! AES-128, the block cipher of FIPS-197, with the fastest backend this CPU offers.
//!
//! AES-128 is a keyed permutation of 16-byte blocks: ten rounds of byte substitution, row
//! rotation, column mixing and round-key XOR (see `aes_soft.rs` for the
//! algorithm written out step by step). toytls never uses it on its own: it is the engine of CTR
//! mode ([`ctr`](super::ctr)), which turns it into a stream cipher for the record layer.
//!
//! There are four implementations ("backends") of the same function:
//!
//! - [`Backend::Reference`]: plain Rust from FIPS-197 (`aes_soft.rs`), constant-time (a computed
//!   S-box, no tables), one byte at a time: the version to read, and the reference the others are
//!   tested against; about 1 MB/s;
//! - [`Backend::Fixsliced`]: portable constant-time Rust, four blocks at a time in bit planes
//!   (`aes_fixslice.rs`): what runs on CPUs without AES instructions and on every non-x86 target;
//! - [`Backend::AesNi`]: the x86 AES instructions, 8 blocks in flight in CTR mode;
//! - [`Backend::Vaes`]: the same instructions on 512-bit registers (VAES + AVX-512), 32 blocks in
//!   flight.
//!
//! [`Aes128::new`] picks the best one the CPU supports; the choice is made once per process
//! ([`Backend::best`]). Setting `TOYTLS_PORTABLE=1` in the environment makes `best` pick the best
//! *portable* backend instead ([`portable_forced`](super::portable_forced)), so the whole stack
//! (demo, client, server, tests) can be run as on a CPU without AES-NI. Tests force each backend
//! with [`Aes128::with_backend`], so the portable paths are checked on every machine, including
//! this one.

use super::aes_fixslice::{self, Schedule};
use super::aes_soft::{self, RoundKeys};
#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
use super::aes_x86::{AesNi, Vaes};
use super::ctr::Increment;
use std::fmt;
use std::sync::OnceLock;
use zeroize::Zeroize;

/// Which implementation of AES runs the rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Portable constant-time Rust (FIPS-197 written out, byte by byte), always available; slow.
    Reference,
    /// Portable constant-time Rust, fixsliced: four blocks in eight 64-bit bit planes.
    Fixsliced,
    /// x86-64 AES-NI instructions, 128 bits (one block) per instruction.
    AesNi,
    /// x86-64 VAES on AVX-512 registers, 512 bits (four blocks) per instruction.
    Vaes,
}

impl Backend {
    /// Every backend, slowest first.
    pub const ALL: [Backend; 4] = [
        Backend::Reference,
        Backend::Fixsliced,
        Backend::AesNi,
        Backend::Vaes,
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
        matches!(self, Backend::Reference | Backend::Fixsliced)
    }

    /// The fastest available backend, detected on first use and cached for the process; the
    /// fastest portable one if `TOYTLS_PORTABLE` is set ([`portable_forced`](super::portable_forced)).
    pub fn best() -> Backend {
        static BEST: OnceLock<Backend> = OnceLock::new();
        *BEST.get_or_init(|| {
            super::fastest(&Backend::ALL, Backend::is_available, Backend::is_portable)
                .unwrap_or(Backend::Fixsliced)
        })
    }

    /// A short human-readable name, e.g. for `toytls cpu`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Reference => "reference (FIPS-197 byte by byte, computed S-box; slow)",
            Backend::Fixsliced => "portable fixsliced (constant-time Rust, 4 blocks in bit planes)",
            Backend::AesNi => "AES-NI (8 blocks in flight)",
            Backend::Vaes => "VAES + AVX-512 (32 blocks in flight)",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A backend together with the proof (on x86) that the CPU supports it.
#[derive(Clone, Copy)]
enum Engine {
    Reference,
    Fixsliced,
    #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
    AesNi(AesNi),
    #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
    Vaes(Vaes),
}

impl Engine {
    fn for_backend(backend: Backend) -> Option<Engine> {
        match backend {
            Backend::Reference => Some(Engine::Reference),
            Backend::Fixsliced => Some(Engine::Fixsliced),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Backend::AesNi => AesNi::detect().map(Engine::AesNi),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Backend::Vaes => Vaes::detect().map(Engine::Vaes),
            #[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
            Backend::AesNi | Backend::Vaes => None,
        }
    }

    fn backend(self) -> Backend {
        match self {
            Engine::Reference => Backend::Reference,
            Engine::Fixsliced => Backend::Fixsliced,
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::AesNi(_) => Backend::AesNi,
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::Vaes(_) => Backend::Vaes,
        }
    }
}

/// An AES-128 key, expanded, ready to encrypt blocks. The round keys are wiped when it is dropped.
#[derive(Clone)]
pub struct Aes128 {
    round_keys: RoundKeys,
    engine: Engine,
    /// The bitsliced key schedule, present exactly when `engine` is `Fixsliced` (it wipes itself
    /// on drop).
    sliced: Option<Box<Schedule>>,
}

impl Aes128 {
    /// Expand `key` for the best backend of this CPU.
    pub fn new(key: &[u8; 16]) -> Aes128 {
        Aes128::with_backend(key, Backend::best())
            .expect("the best backend is available by construction")
    }

    /// Expand `key` for a specific backend, or `None` if this CPU cannot run it.
    pub fn with_backend(key: &[u8; 16], backend: Backend) -> Option<Aes128> {
        let engine = Engine::for_backend(backend)?;
        let round_keys = match engine {
            Engine::Reference | Engine::Fixsliced => aes_soft::expand_key(key),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::AesNi(ni) => ni.expand_key(key),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::Vaes(vaes) => vaes.aes_ni().expand_key(key),
        };
        let sliced =
            matches!(engine, Engine::Fixsliced).then(|| Box::new(Schedule::new(&round_keys)));
        Some(Aes128 {
            round_keys,
            engine,
            sliced,
        })
    }

    /// The backend this key runs on.
    pub fn backend(&self) -> Backend {
        self.engine.backend()
    }

    /// Encrypt one 16-byte block in place (FIPS-197 5.1).
    pub fn encrypt_block(&self, block: &mut [u8; 16]) {
        match self.engine {
            Engine::Reference => aes_soft::encrypt_block(&self.round_keys, block),
            Engine::Fixsliced => aes_fixslice::encrypt_block(self.schedule(), block),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::AesNi(ni) => ni.encrypt_block(&self.round_keys, block),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::Vaes(vaes) => vaes.aes_ni().encrypt_block(&self.round_keys, block),
        }
    }

    /// The bulk of CTR mode: XOR into `data` (a whole number of blocks) the encryptions of the
    /// counter blocks `counter`, `counter + 1`, ... stepped by `inc`. The caller keeps track of
    /// where the counter ends up ([`Increment::add`]).
    pub(crate) fn ctr_xor_blocks(&self, counter: u128, inc: Increment, data: &mut [u8]) {
        assert_eq!(data.len() % 16, 0, "CTR bulk path takes whole blocks");
        match self.engine {
            Engine::Fixsliced => aes_fixslice::ctr_xor(self.schedule(), counter, inc, data),
            Engine::Reference => {
                let mut counter = counter;
                for block in data.chunks_exact_mut(16) {
                    let mut keystream = counter.to_be_bytes();
                    aes_soft::encrypt_block(&self.round_keys, &mut keystream);
                    for (d, k) in block.iter_mut().zip(&keystream) {
                        *d ^= k;
                    }
                    counter = inc.add(counter, 1);
                }
            }
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::AesNi(ni) => ni.ctr_xor(&self.round_keys, counter, inc, data),
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            Engine::Vaes(vaes) => vaes.ctr_xor(&self.round_keys, counter, inc, data),
        }
    }

    fn schedule(&self) -> &Schedule {
        self.sliced
            .as_deref()
            .expect("a fixsliced key is created with its schedule")
    }

    /// Overwrite the round keys with zeros (done on drop).
    fn wipe(&mut self) {
        wipe(self.round_keys.as_flattened_mut());
    }
}

impl Drop for Aes128 {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl fmt::Debug for Aes128 {
    /// Shows the backend, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aes128")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Overwrite secret bytes with zeros in a way the optimizer may not remove.
///
/// A plain `fill(0)` just before memory is freed is a "dead store" that the compiler is allowed
/// to delete, leaving the key in freed memory. `zeroize` writes with volatile stores followed by
/// a fence, which the compiler must keep (and keeps the `unsafe` for that out of this crate).
pub(crate) fn wipe(bytes: &mut [u8]) {
    bytes.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_the_round_keys() {
        let mut aes = Aes128::with_backend(&[0x5a; 16], Backend::Reference).unwrap();
        assert_ne!(aes.round_keys[10], [0; 16]);
        aes.wipe();
        assert!(aes.round_keys.iter().all(|rk| *rk == [0; 16]));
    }

    #[test]
    fn portable_is_always_available_and_best_is_available() {
        assert_eq!(Backend::available()[0], Backend::Reference);
        assert!(Backend::best().is_available());
        assert_eq!(Aes128::new(&[0; 16]).backend(), Backend::best());
    }

    /// The portable-only build (and any non-x86 target) compiles the x86 backends out: only the
    /// portable ones are left, and the fixsliced one is what `best` picks.
    #[test]
    #[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
    fn without_x86_only_the_portable_backend_exists() {
        assert_eq!(
            Backend::available(),
            [Backend::Reference, Backend::Fixsliced]
        );
        assert_eq!(Backend::best(), Backend::Fixsliced);
        assert!(Aes128::with_backend(&[0; 16], Backend::AesNi).is_none());
        assert!(Aes128::with_backend(&[0; 16], Backend::Vaes).is_none());
    }

    /// The hardware key expansion must give the FIPS-197 5.2 round keys of the portable one.
    #[test]
    fn every_backend_expands_keys_identically() {
        for key in [[0u8; 16], [0xff; 16], *b"YELLOW SUBMARINE"] {
            let reference = Aes128::with_backend(&key, Backend::Reference).unwrap();
            for backend in Backend::available() {
                let aes = Aes128::with_backend(&key, backend).unwrap();
                assert_eq!(aes.round_keys, reference.round_keys, "{backend:?}");
            }
        }
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let aes = Aes128::with_backend(&[0xab; 16], Backend::Reference).unwrap();
        let text = format!("{aes:?}");
        assert!(text.contains("Reference"));
        assert!(!text.to_lowercase().contains("ab, ab") && !text.contains("171"));
    }
}
