//! RSA with PKCS#1 v1.5 (RFC 8017), the key transport and signature scheme of TLS 1.2's
//! `TLS_RSA_WITH_*` cipher suites.
//!
//! # The idea
//! Pick two large primes `p` and `q`, let `n = p*q`, and pick `e` (65537) and `d` so that
//! `e*d = 1` modulo `lcm(p-1, q-1)`. Then `(m^e)^d = m mod n` for every `m`. Anyone may know
//! `(n, e)` and compute `c = m^e mod n` (the *public operation*: encrypt, verify); only the holder
//! of `d` can undo it (the *private operation*: decrypt, sign). Finding `d` from `(n, e)` is as hard
//! as factoring `n`.
//!
//! Raw RSA is deterministic and malleable, so the number that goes through it is a *padded block*
//! the size of the modulus (see `pkcs1` for both layouts): random nonzero padding for
//! encryption (RFC 8017 7.2), the fixed `0x00 0x01 0xff.. 0x00 DigestInfo hash` for signatures
//! (RFC 8017 8.2).
//!
//! # Where TLS uses it
//! The client encrypts the 48-byte pre-master secret under the public key from the server's
//! certificate ([`RsaPublicKey::encrypt_pkcs1v15`]); the server decrypts it with
//! [`RsaPrivateKey::decrypt_pkcs1v15_exact_or`], which yields exactly 48 bytes or the caller's
//! fallback without saying which, the primitive the countermeasure of RFC 5246 7.4.7.1 is built
//! on (the TLS side of it, the version check and the random fallback, is in
//! `handshake::keys`): on *any* failure the handshake continues with a random secret and fails
//! later, at Finished, the same way whatever went wrong. Certificates are
//! signed with [`RsaPrivateKey::sign_pkcs1v15_sha256`] and checked with
//! [`RsaPublicKey::verify_pkcs1v15_sha256`]; a client that proves its identity signs its
//! CertificateVerify with [`RsaPrivateKey::sign_pkcs1v15`] and the hash the server asked for.
//!
//! # Computing `c^d mod n` fast, and safely
//! A 2048-bit exponentiation is about 2,000 modular squarings and a few hundred multiplications of
//! 2048-bit numbers. Four ideas make the private operation fast, and three make it safe; each is
//! explained where it is implemented.
//!
//! - **Montgomery multiplication** (Montgomery 1985, "Modular multiplication without trial
//!   division", Math. Comp. 44): reducing `a*b` modulo `m` needs a division; Montgomery's trick
//!   replaces it by adding a multiple of `m` that makes the low half zero and dropping the low
//!   half, i.e. it computes `a*b/R mod m` for `R` a power of two. Numbers are kept as `x*R` (their
//!   "Montgomery form") so that the `/R` cancels out. See `montgomery`.
//! - **The Chinese Remainder Theorem** (RFC 8017 5.1.2 step 2.b): `c^d mod n` is computed as
//!   `c^dp mod p` and `c^dq mod q` and recombined (Garner's formula). Two exponentiations with
//!   half-size numbers and half-size exponents cost about a quarter of one full-size one. See
//!   `private`.
//! - **Fixed windows**: the exponent is consumed 5 bits at a time, one table multiplication per
//!   window instead of one per set bit (Knuth, TAOCP vol. 2, 4.6.3). Always 5 bits, always a
//!   multiplication, and the table is read in full every time, so the sequence of operations and
//!   memory accesses is the same for every exponent. See `mont1024`.
//! - **Vector lanes**: on CPUs with AVX-512 IFMA, eight 52-bit multiplications per instruction,
//!   and the two CRT exponentiations side by side in the same registers (Gueron and Krasnov,
//!   "Software implementation of modular exponentiation, using advanced vector instructions
//!   architectures", WAIFI 2012; Drucker and Gueron, "Fast modular squaring with AVX512IFMA",
//!   ITNG 2019; OpenSSL's rsaz-2k-avx512). See `montgomery_ifma`.
//! - **Blinding** (Kocher 1996, "Timing attacks on implementations of Diffie-Hellman, RSA, DSS,
//!   and other systems"): the exponentiation runs on `c * r^e` for a random `r` the attacker
//!   does not know, and `r^-1` is multiplied back at the end. See `private`.
//! - **Constant time**: no branch and no memory address depends on a secret (below).
//! - **The fault check** (Boneh, DeMillo and Lipton 1997): the result is raised to `e` and
//!   compared with the input before it is released, because one wrong CRT half would reveal a
//!   factor of `n`. See `private`.
//!
//! # Files
//! - `error`: [`RsaError`], everything that can go wrong, with one variant for every decryption
//!   failure.
//! - `keygen`: random primes (trial division, Miller-Rabin), `e`, `d` and the CRT values.
//! - `pkcs1`: the two padding formats, with a constant-time check of the encryption padding.
//! - `private`: the private operation, blinded and split by the CRT.
//! - `public`: the public operation, `x^e mod n` with the public exponent (variable time in `e`
//!   only, which is public).
//! - `limbs`, `montgomery`: fixed-width numbers and the general constant-time Montgomery code,
//!   for every key size.
//! - `mont1024`: the portable exponentiation for the 1024-bit primes of RSA-2048.
//! - `montgomery_ifma`: both CRT exponentiations of RSA-2048 at once, and the 2048-bit public
//!   operation, with AVX-512 IFMA (the only `unsafe` in this module).
//! - `backend`: which of these a key runs on ([`RsaBackend`]), chosen from the CPU's features.
//! - `trace`: a test-only record of the operations and table reads, to check constant time.
//!
//! # Speed
//! On the development machine (Xeon, Ice Lake server), RSA-2048, measured side by side with
//! `openssl speed` by `benches/vs-openssl-rsa.sh`: the private operation about 1.2 times
//! OpenSSL 3.0's signatures per second with IFMA, the public operation about 2.5 times its
//! verifications; the portable backend about 2.2 times `num-bigint`'s `modpow` with CRT. The
//! README's Performance section has the last full output.
//!
//! # Constant time, and why `num-bigint` is not enough
//! `num-bigint` is a general-purpose library: its numbers shrink to fit their value, its loops end
//! when the data says so and its `modpow` looks up a window table by exponent bits. With a secret
//! exponent or a secret result, all of that shows up in timing and in the cache. In 2023 the
//! Marvin attack (Hubert Kario; RUSTSEC-2023-0071 for the `rsa` crate) measured exactly such
//! differences in RSA decryption over the network and used them as a Bleichenbacher oracle.
//! So this module uses `num-bigint` only where nothing is secret or where the value is blinded:
//! parsing and checking keys, key generation, and drawing and inverting the blinding factors.
//! Everything that depends on `d`, `p`, `q` or on an unblinded result runs on fixed-width limbs
//! with a fixed-window Montgomery exponentiation and constant-time table reads. The public
//! operation runs on the same Montgomery arithmetic, because it is several times faster than
//! `BigUint::modpow` at these sizes (see `public`).
//!
//! How that is checked: every module argues it function by function (fixed loop bounds, masks
//! instead of branches, full table scans), and in test builds the exponentiations record each
//! multiplication, squaring and table read (`trace`). `private`'s tests run the private operation
//! on two different keys and several ciphertexts, on every backend, and require the same record
//! each time; a lookup `table[window]` or a skipped multiplication for a zero window fails them.
//! That shows the sequence of operations and memory accesses does not depend on secrets; it does
//! not show what the compiler did inside each arithmetic function, which is why those are written
//! without data-dependent branches in the first place (see `crate::crypto::ct` on the limits).
//!
//! # Wiping keys
//! The private key's limb vectors (the primes in Montgomery form, `dp`, `dq`, `qinv`, `d`) are ours
//! and are overwritten with zeros on drop (the `zeroize` crate makes sure the optimiser cannot drop
//! those writes), and so are the intermediate results of the private operation. What we cannot
//! wipe: the `BigUint` temporaries used while parsing or generating a key, because `num-bigint`
//! frees its digit buffers without clearing them and offers no hook to do so, and copies the
//! allocator or the operating system may have made. The public key (`n`, `e`) is not secret.

mod backend;
mod error;
mod keygen;
mod limbs;
mod mont1024;
mod montgomery;
#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
mod montgomery_ifma;
mod pkcs1;
mod private;
mod public;
mod split;
mod trace;

use core::fmt;

use num_bigint::BigUint;
use zeroize::{Zeroize, Zeroizing};

use crate::crypto::ct;
pub use backend::RsaBackend;
pub use error::RsaError;
use montgomery::MontModulus;
pub use pkcs1::SignatureHash;

/// Smallest modulus accepted anywhere, in bits.
pub const MIN_MODULUS_BITS: usize = 1024;
/// Largest modulus accepted anywhere, in bits (bounds the work a hostile key can cause).
pub const MAX_MODULUS_BITS: usize = 8192;

/// An RSA public key `(n, e)`.
#[derive(Clone)]
pub struct RsaPublicKey {
    n: BigUint,
    e: BigUint,
    /// `n` prepared for Montgomery arithmetic (`R^2 mod n` and friends, computed once per key),
    /// and `e` as a machine word: what the public operation runs on (see `public`).
    n_mont: MontModulus,
    e_word: u64,
    /// What runs the public operation (see `backend`).
    engine: public::PublicEngine,
}

impl PartialEq for RsaPublicKey {
    fn eq(&self, other: &Self) -> bool {
        // The rest is derived from these two.
        self.n == other.n && self.e == other.e
    }
}

impl Eq for RsaPublicKey {}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.bits())
            .field("e", &self.e)
            .finish_non_exhaustive()
    }
}

impl RsaPublicKey {
    /// A public key from the big-endian bytes of `n` and `e` (leading zero bytes allowed, as in
    /// DER INTEGERs).
    ///
    /// Rules: `n` odd and of 1024 to 8192 bits; `e` odd, at least 3, below `n` and below 2^32 (no
    /// real key uses a bigger one, and the bound keeps a hostile key from making the public
    /// operation slow).
    pub fn from_be_bytes(n: &[u8], e: &[u8]) -> Result<Self, RsaError> {
        let n = BigUint::from_bytes_be(n);
        let e = BigUint::from_bytes_be(e);
        let bits = n.bits() as usize;
        if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
            return Err(RsaError::InvalidKey(
                "modulus size outside 1024..=8192 bits",
            ));
        }
        if !n.bit(0) {
            return Err(RsaError::InvalidKey("modulus is even"));
        }
        if !e.bit(0) || e < BigUint::from(3u32) || e.bits() > 32 {
            return Err(RsaError::InvalidKey(
                "public exponent must be odd and in 3..2^32",
            ));
        }
        let n_mont = MontModulus::new(&n).ok_or(RsaError::InvalidKey("modulus is even"))?;
        let e_word = e.to_u64_digits()[0];
        Ok(RsaPublicKey {
            engine: public::PublicEngine::best(&n),
            n,
            e,
            n_mont,
            e_word,
        })
    }

    /// Which backend runs this key's public operation.
    pub fn backend(&self) -> RsaBackend {
        self.engine.backend()
    }

    /// A copy of this key that runs its public operation on `backend`, or `None` if that
    /// backend cannot run this key here (`Ifma` runs 2048-bit moduli on CPUs with AVX-512
    /// IFMA). For tests and benchmarks; keys pick the fastest backend by themselves.
    pub fn with_backend(&self, backend: RsaBackend) -> Option<RsaPublicKey> {
        Some(RsaPublicKey {
            engine: public::PublicEngine::new(backend, &self.n)?,
            ..self.clone()
        })
    }

    /// Length of the modulus in bytes (`k` in RFC 8017): the size of every ciphertext and
    /// signature under this key.
    pub fn modulus_len(&self) -> usize {
        self.bits().div_ceil(8)
    }

    /// Length of the modulus in bits.
    pub fn bits(&self) -> usize {
        self.n.bits() as usize
    }

    /// The modulus `n`, big-endian, without leading zeros.
    pub fn n_be_bytes(&self) -> Vec<u8> {
        self.n.to_bytes_be()
    }

    /// The public exponent `e`, big-endian, without leading zeros.
    pub fn e_be_bytes(&self) -> Vec<u8> {
        self.e.to_bytes_be()
    }

    /// RSAES-PKCS1-v1_5 encryption (RFC 8017 7.2.1): pads `msg` with at least 8 random nonzero
    /// bytes and returns a ciphertext of exactly [`Self::modulus_len`] bytes.
    pub fn encrypt_pkcs1v15<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        msg: &[u8],
    ) -> Result<Vec<u8>, RsaError> {
        let k = self.modulus_len();
        if msg.len() + pkcs1::ENCRYPTION_OVERHEAD > k {
            return Err(RsaError::MessageTooLong);
        }
        let em = Zeroizing::new(pkcs1::encode_encryption_block(rng, msg, k));
        // `em` is k bytes starting with 0x00, so it is below n.
        let m = Zeroizing::new(limbs::from_be_bytes(&em, self.n_mont.limbs()).expect("k bytes"));
        Ok(self.public_op(&m))
    }

    /// RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017 8.2.2).
    pub fn verify_pkcs1v15_sha256(&self, msg: &[u8], signature: &[u8]) -> Result<(), RsaError> {
        self.verify_pkcs1v15(SignatureHash::Sha256, msg, signature)
    }

    /// RSASSA-PKCS1-v1_5 verification (RFC 8017 8.2.2) of a signature made with `hash`.
    ///
    /// We never parse the decrypted block. We build the block a correct signature of `msg` would
    /// produce and compare the two whole blocks in constant time, which rules out the classic
    /// lenient-parser forgeries (Bleichenbacher 2006: garbage after the hash, or inside DigestInfo,
    /// that a parser skips over), and a signature made with another hash than `hash`.
    pub fn verify_pkcs1v15(
        &self,
        hash: SignatureHash,
        msg: &[u8],
        signature: &[u8],
    ) -> Result<(), RsaError> {
        let k = self.modulus_len();
        if signature.len() != k {
            return Err(RsaError::InvalidSignature);
        }
        let s = limbs::from_be_bytes(signature, self.n_mont.limbs()).expect("k bytes");
        if !limbs::less_than(&s, self.n_mont.modulus()) {
            return Err(RsaError::InvalidSignature);
        }
        let em = self.public_op(&s);
        let expected =
            pkcs1::encode_signature_block(hash, msg, k).ok_or(RsaError::InvalidSignature)?;
        if ct::ct_eq(&em, &expected) {
            Ok(())
        } else {
            Err(RsaError::InvalidSignature)
        }
    }

    /// `x^e mod n` for `x < n`, as limbs, on this key's engine.
    fn raw_public_op(&self, x: &[u64]) -> Zeroizing<Vec<u64>> {
        self.engine.pow(&self.n_mont, x, self.e_word)
    }

    /// RSAEP / RSAVP1 (RFC 8017 5.1.1, 5.2.2): `x^e mod n` for `x < n`, as exactly `k` bytes
    /// (see `public` for how, and why its variable time is fine).
    fn public_op(&self, x: &[u64]) -> Vec<u8> {
        let y = self.raw_public_op(x);
        let mut out = vec![0u8; self.modulus_len()];
        limbs::to_be_bytes(&y, &mut out);
        out
    }
}

/// An RSA private key, kept in the form the constant-time private operation needs.
///
/// Every secret field is wiped on drop (see the module doc for what cannot be).
#[derive(Clone)]
pub struct RsaPrivateKey {
    public: RsaPublicKey,
    /// The primes prepared for Montgomery arithmetic.
    p: MontModulus,
    q: MontModulus,
    /// `d mod (p-1)` and `d mod (q-1)`, each as wide as its prime.
    dp: Zeroizing<Vec<u64>>,
    dq: Zeroizing<Vec<u64>>,
    /// `q^-1 mod p`, as wide as `p`.
    qinv: Zeroizing<Vec<u64>>,
    /// `d` itself, kept only so the key can be written out again ([`Self::components`]).
    d: Zeroizing<Vec<u64>>,
    /// The current blinding pair (see `private`).
    blinding: private::BlindingCache,
    /// What runs the two exponentiations (see `private` and `backend`).
    engine: private::CrtEngine,
    /// Whether the two exponentiations may run on two cores at once (see `split`).
    split: bool,
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secrets.
        f.debug_struct("RsaPrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The numbers of a private key as big-endian bytes without leading zeros, in the order of
/// RFC 8017 appendix A.1.2 (`RSAPrivateKey`), for writing PKCS#1 / PKCS#8 files.
///
/// The secret fields are wiped when this is dropped, and `Debug` shows only the modulus size.
/// Equality is an ordinary (not constant-time) comparison, meant for tests of key encodings.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPrivateComponents {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    pub d: Vec<u8>,
    pub p: Vec<u8>,
    pub q: Vec<u8>,
    pub dp: Vec<u8>,
    pub dq: Vec<u8>,
    pub qinv: Vec<u8>,
}

impl fmt::Debug for RsaPrivateComponents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaPrivateComponents {{ {} bits, private parts hidden }}",
            self.n.len() * 8
        )
    }
}

impl Drop for RsaPrivateComponents {
    fn drop(&mut self) {
        self.d.zeroize();
        self.p.zeroize();
        self.q.zeroize();
        self.dp.zeroize();
        self.dq.zeroize();
        self.qinv.zeroize();
    }
}

impl RsaPrivateKey {
    /// A private key from the big-endian bytes of `n`, `e`, `d`, `p` and `q` (for example from a
    /// PKCS#1 or PKCS#8 file). The CRT values are recomputed rather than trusted.
    ///
    /// Checks: the public part as in [`RsaPublicKey::from_be_bytes`]; `p` and `q` distinct, odd,
    /// greater than 1, with `p*q = n`; `0 < d < n` and `e*d = 1` modulo `p-1` and modulo `q-1`
    /// (which is exactly what makes decryption undo encryption); `q` invertible mod `p`.
    pub fn from_be_bytes(
        n: &[u8],
        e: &[u8],
        d: &[u8],
        p: &[u8],
        q: &[u8],
    ) -> Result<Self, RsaError> {
        let public = RsaPublicKey::from_be_bytes(n, e)?;
        let d = BigUint::from_bytes_be(d);
        let p = BigUint::from_bytes_be(p);
        let q = BigUint::from_bytes_be(q);
        let one = BigUint::ONE;
        if p <= one || q <= one || p == q || &p * &q != public.n {
            return Err(RsaError::InvalidKey(
                "p * q is not n for distinct primes p and q",
            ));
        }
        if d == BigUint::ZERO || d >= public.n {
            return Err(RsaError::InvalidKey("private exponent out of range"));
        }
        let p1 = &p - 1u32;
        let q1 = &q - 1u32;
        let ed = &public.e * &d;
        if &ed % &p1 != one || &ed % &q1 != one {
            return Err(RsaError::InvalidKey("e * d is not 1 modulo p-1 and q-1"));
        }
        let dp = &d % &p1;
        let dq = &d % &q1;
        let qinv = q
            .modinv(&p)
            .ok_or(RsaError::InvalidKey("q is not invertible modulo p"))?;

        let bad = || RsaError::InvalidKey("prime is not odd");
        let p_mont = MontModulus::new(&p).ok_or_else(bad)?;
        let q_mont = MontModulus::new(&q).ok_or_else(bad)?;
        let (kp, kq, kn) = (p_mont.limbs(), q_mont.limbs(), public.n_mont.limbs());
        let width = |x: &BigUint, k: usize| {
            limbs::from_biguint(x, k)
                .map(Zeroizing::new)
                .ok_or(RsaError::InvalidKey("value wider than its modulus"))
        };
        Ok(RsaPrivateKey {
            dp: width(&dp, kp)?,
            dq: width(&dq, kq)?,
            qinv: width(&qinv, kp)?,
            d: width(&d, kn)?,
            engine: private::CrtEngine::best(&p, &q),
            public,
            p: p_mont,
            q: q_mont,
            blinding: private::BlindingCache::default(),
            split: false,
        })
    }

    /// Generates a new key with a modulus of exactly `bits` bits and `e = 65537` (see `keygen`
    /// for the recipe and the number of Miller-Rabin rounds). Supported sizes: 1024 to 8192 bits.
    pub fn generate<R: rand::CryptoRng + ?Sized>(
        rng: &mut R,
        bits: usize,
    ) -> Result<Self, RsaError> {
        keygen::generate(rng, bits)
    }

    /// The public half of this key.
    pub fn public_key(&self) -> RsaPublicKey {
        self.public.clone()
    }

    /// The key's numbers, for writing it out (PKCS#1 / PKCS#8).
    pub fn components(&self) -> RsaPrivateComponents {
        let bytes = |limbs: &[u64]| limbs::to_biguint(limbs).to_bytes_be();
        RsaPrivateComponents {
            n: self.public.n_be_bytes(),
            e: self.public.e_be_bytes(),
            d: bytes(&self.d),
            p: bytes(self.p.modulus()),
            q: bytes(self.q.modulus()),
            dp: bytes(&self.dp),
            dq: bytes(&self.dq),
            qinv: bytes(&self.qinv),
        }
    }

    /// RSAES-PKCS1-v1_5 decryption (RFC 8017 7.2.2).
    ///
    /// Every failure (wrong ciphertext length, value not below `n`, malformed padding) is the one
    /// error [`RsaError::Decryption`], and the padding is checked without branching on its
    /// contents. A TLS server must not use this for the pre-master secret: even this single error
    /// is an oracle if it turns into a distinct alert. Use [`Self::decrypt_pkcs1v15_exact_or`].
    pub fn decrypt_pkcs1v15<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, RsaError> {
        let c = self
            .ciphertext_value(ciphertext)
            .ok_or(RsaError::Decryption)?;
        let em = self.private_op(rng, &c).map_err(|_| RsaError::Decryption)?;
        let decoded = pkcs1::decode_encryption_block(&em);
        // The one branch on the outcome: the caller gets either a message or an error.
        if decoded.good != 0xff {
            return Err(RsaError::Decryption);
        }
        Ok(em[decoded.msg_start..].to_vec())
    }

    /// RSAES-PKCS1-v1_5 decryption (RFC 8017 7.2.2) of a message whose length the caller knows,
    /// with no failure anyone can observe: the message if `ciphertext` decrypts to a well-formed
    /// block holding exactly `N` bytes, else `fallback`. It never fails and never says which check
    /// failed, in its result or its timing: that answer is the padding oracle of Bleichenbacher's
    /// attack, and a TLS server's use of it is RFC 5246 7.4.7.1 (the caller draws the fallback,
    /// checks what the message means, and continues either way).
    ///
    /// How it avoids branching on secret data:
    /// 1. the block is decrypted and its padding checked into a mask (no early exit);
    /// 2. "exactly `N` bytes" is a mask too, computed on the last `N` bytes of the block, which are
    ///    read whether or not the padding was good;
    /// 3. the result is picked byte by byte between those bytes and `fallback`, by the combined
    ///    mask.
    ///
    /// The only early returns are for a ciphertext of the wrong length or not below `n`, and for
    /// an `N` too long for this key: public facts about the bytes on the wire and the key.
    pub fn decrypt_pkcs1v15_exact_or<const N: usize, R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        ciphertext: &[u8],
        fallback: &[u8; N],
    ) -> [u8; N] {
        let mut out = *fallback;
        if N + pkcs1::ENCRYPTION_OVERHEAD > self.public.modulus_len() {
            return out;
        }
        let Some(c) = self.ciphertext_value(ciphertext) else {
            return out;
        };
        let Ok(em) = self.private_op(rng, &c) else {
            return out;
        };
        let k = em.len();
        let decoded = pkcs1::decode_encryption_block(&em);
        let candidate = &em[k - N..];
        let length_ok = ct::mask_u64_eq(decoded.msg_start as u64, (k - N) as u64) as u8;
        ct::select_bytes(decoded.good & length_ok, candidate, fallback, &mut out);
        out
    }

    /// RSASSA-PKCS1-v1_5 signature with SHA-256 (RFC 8017 8.2.1): `modulus_len()` bytes.
    pub fn sign_pkcs1v15_sha256<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        msg: &[u8],
    ) -> Result<Vec<u8>, RsaError> {
        self.sign_pkcs1v15(rng, SignatureHash::Sha256, msg)
    }

    /// RSASSA-PKCS1-v1_5 signature (RFC 8017 8.2.1) with `hash`: `modulus_len()` bytes.
    pub fn sign_pkcs1v15<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        hash: SignatureHash,
        msg: &[u8],
    ) -> Result<Vec<u8>, RsaError> {
        let k = self.public.modulus_len();
        let em = pkcs1::encode_signature_block(hash, msg, k).ok_or(RsaError::InvalidKey(
            "modulus too small for a signature with this hash",
        ))?;
        // em starts with 0x00 and has k bytes, so it is below n.
        let m = BigUint::from_bytes_be(&em);
        let sig = self.private_op(rng, &m).map_err(|_| RsaError::Fault)?;
        Ok(sig.to_vec())
    }

    /// OS2IP of a ciphertext (RFC 8017 7.2.2 step 1 and 5.1.2 step 1): exactly `k` bytes and a
    /// value below `n`, else `None`. Both checks are on public data.
    fn ciphertext_value(&self, ciphertext: &[u8]) -> Option<BigUint> {
        if ciphertext.len() != self.public.modulus_len() {
            return None;
        }
        let c = BigUint::from_bytes_be(ciphertext);
        (c < self.public.n).then_some(c)
    }
}
