//! The RSA private-key operation `m = c^d mod n`, done the careful way: blinded, split by the
//! Chinese Remainder Theorem, in constant time, and checked before the result is released.
//!
//! ```text
//! blind     c' = c * r^e mod n          r random, unknown to the attacker
//! reduce    c'_p = c' mod p,  c'_q = c' mod q
//! exponent  m1 = c'_p^dp mod p,  m2 = c'_q^dq mod q
//! combine   h = qinv * (m1 - m2) mod p,  m' = m2 + h*q                  (Garner)
//! check     m'^e mod n == c'
//! unblind   m = m' * r^-1 mod n
//! ```
//!
//! Every step runs on fixed-width limbs; `num-bigint` is only used to draw `r` and invert it.
//! The two exponentiations, nearly all of the time, run on one of three engines ([`CrtEngine`]):
//! both at once in AVX-512 IFMA lanes (`montgomery_ifma`), one after the other on the portable
//! code tuned for 1024-bit primes (`mont1024`), or on the general portable code for every other
//! size (`montgomery`). A key told to ([`RsaPrivateKey::split_across_cores`], as `toytls server`
//! does) runs the two `mont1024` exponentiations on two cores at once instead (`split`).
//!
//! Why each step:
//! - **Blinding** (Kocher 1996; RFC 8017 section 5.1.2 note): the exponentiation works on
//!   `c * r^e`, a number the attacker neither chose nor knows, so even a leak in it would not line
//!   up with the attacker's ciphertexts. Since `(c r^e)^d = c^d r`, multiplying by `r^-1` at the
//!   end recovers `m`.
//! - **CRT** (RFC 8017 5.1.2 step 2.b): two exponentiations with half-size numbers and exponents
//!   are about four times cheaper than one full-size one.
//! - **Constant time**: everything that touches the key or the result runs on fixed-width limbs,
//!   with the same sequence of operations and memory accesses whatever the values.
//! - **The check** guards against faults: if a glitch corrupted one CRT half, the faulty output
//!   would reveal a factor of `n` (Boneh, DeMillo and Lipton, 1997). With e = 65537 it costs 17
//!   multiplications.
//!
//! # Where the blinding factors come from
//! A fresh pair `(r^e, r^-1)` costs a modular inversion, which with `num-bigint` takes longer
//! than the whole CRT exponentiation. So, as OpenSSL does, the key keeps one pair and, after each
//! use, replaces it by its square: `(r^2)^e = (r^e)^2` and `(r^2)^-1 = (r^-1)^2`, two
//! multiplications. Every [`REFRESH_AFTER`] uses the pair is drawn fresh from the caller's RNG.
//! The pair lives behind a `Mutex`, so concurrent decryptions never share one. The fresh draw
//! need not happen inside an operation: [`RsaPrivateKey::prepare_blinding`] does it ahead of time
//! (a TLS server calls it while the client works on its ClientKeyExchange), so that once in 32
//! handshakes the decryption does not take three times as long.

use std::sync::Mutex;

use num_bigint::BigUint;
use zeroize::Zeroizing;

use super::backend::RsaBackend;
use super::limbs;
use super::mont1024::Mont1024;
use super::{RsaPrivateKey, RsaPublicKey};

/// Uses of one blinding pair (squared in between) before a fresh one is drawn. OpenSSL's
/// `BN_BLINDING_COUNTER` is the same.
pub(super) const REFRESH_AFTER: u32 = 32;

/// The private operation failed its self-check (see the module doc). Deliberately carries no
/// detail.
pub(super) struct Fault;

/// A blinding pair in Montgomery form mod n: `r^e * R` and `r^-1 * R`, in the Montgomery domain of
/// the key's public engine (`PublicEngine::mont_mul`).
struct BlindingPair {
    mask: Zeroizing<Vec<u64>>,
    unmask: Zeroizing<Vec<u64>>,
    uses_left: u32,
}

/// The key's current blinding pair (see the module doc). Cloning a key starts the clone with no
/// pair, so two keys never share blinding factors.
#[derive(Default)]
pub(super) struct BlindingCache(Mutex<Option<BlindingPair>>);

impl Clone for BlindingCache {
    fn clone(&self) -> Self {
        BlindingCache::default()
    }
}

impl BlindingCache {
    /// A pair to use now, leaving its square (or nothing, when it is worn out) for next time.
    fn take<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        public: &RsaPublicKey,
    ) -> (Zeroizing<Vec<u64>>, Zeroizing<Vec<u64>>) {
        let mut slot = self.lock();
        let pair = match slot.take() {
            Some(pair) if pair.uses_left > 0 => pair,
            _ => fresh_pair(rng, public),
        };
        let square = |x: &[u64]| public.engine.mont_mul(&public.n_mont, x, x);
        *slot = Some(BlindingPair {
            mask: square(&pair.mask),
            unmask: square(&pair.unmask),
            uses_left: pair.uses_left - 1,
        });
        (pair.mask, pair.unmask)
    }

    /// Makes sure the next [`Self::take`] finds a pair it may use, drawing a fresh one now if the
    /// current one is worn out (or there is none), outside the lock: the inversion takes longer
    /// than the private operation, and a caller with time to spare (a server waiting for the
    /// ClientKeyExchange) spends it here instead of inside the next operation.
    fn prepare<R: rand::CryptoRng + ?Sized>(&self, rng: &mut R, public: &RsaPublicKey) {
        let usable = |slot: &Option<BlindingPair>| slot.as_ref().is_some_and(|p| p.uses_left > 0);
        if usable(&self.lock()) {
            return;
        }
        let fresh = fresh_pair(rng, public);
        let mut slot = self.lock();
        if !usable(&slot) {
            *slot = Some(fresh);
        }
    }

    /// The slot; a panic while holding the lock cannot leave the pair half-updated in a way that
    /// matters (at worst it is reused once more), so a poisoned lock is simply taken over.
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<BlindingPair>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Draws `r` uniformly from `[1, n)` until it is invertible mod `n` (all but a negligible
/// fraction are) and returns `(r^e R, r^-1 R)`. `num-bigint` sees only `r`, a fresh random value
/// independent of the key and of any ciphertext.
fn fresh_pair<R: rand::CryptoRng + ?Sized>(rng: &mut R, public: &RsaPublicKey) -> BlindingPair {
    let (n_mont, n) = (&public.n_mont, &public.n);
    let k = n_mont.limbs();
    let mut buf = Zeroizing::new(vec![0u8; k * 8]);
    loop {
        rng.fill_bytes(&mut buf);
        let r = BigUint::from_bytes_be(&buf) % n;
        if r == BigUint::ZERO {
            continue;
        }
        let Some(r_inv) = r.modinv(n) else {
            continue;
        };
        let r = Zeroizing::new(limbs::from_biguint(&r, k).expect("reduced mod n"));
        let r_inv = Zeroizing::new(limbs::from_biguint(&r_inv, k).expect("reduced mod n"));
        let to_mont = |x: &[u64]| public.engine.to_mont(n_mont, x);
        return BlindingPair {
            mask: to_mont(&public.raw_public_op(&r)),
            unmask: to_mont(&r_inv),
            uses_left: REFRESH_AFTER,
        };
    }
}

/// Which code runs the two exponentiations `c^dp mod p` and `c^dq mod q`.
#[derive(Clone)]
pub(super) enum CrtEngine {
    /// Any key size: the general Montgomery code of `montgomery`, on `p` and `q` themselves.
    General,
    /// Two 1024-bit primes, the portable code tuned for that size.
    Portable1024(Box<(Mont1024, Mont1024)>),
    /// Two 1024-bit primes, both exponentiations at once with AVX-512 IFMA.
    #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
    Ifma(Box<super::montgomery_ifma::IfmaCrt>),
}

impl CrtEngine {
    /// The engine for primes `p` and `q` on `backend`, or `None` if that backend cannot run
    /// them (this CPU lacks the instructions, or the primes are not 1024-bit ones).
    pub(super) fn new(backend: RsaBackend, p: &BigUint, q: &BigUint) -> Option<CrtEngine> {
        match backend {
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            RsaBackend::Ifma => {
                super::montgomery_ifma::IfmaCrt::new(p, q).map(|x2| CrtEngine::Ifma(Box::new(x2)))
            }
            #[cfg(not(all(target_arch = "x86_64", not(feature = "portable-only"))))]
            RsaBackend::Ifma => None,
            RsaBackend::Portable => Some(match (Mont1024::new(p), Mont1024::new(q)) {
                (Some(fp), Some(fq)) => CrtEngine::Portable1024(Box::new((fp, fq))),
                _ => CrtEngine::General,
            }),
        }
    }

    /// The fastest engine this CPU can run for `p` and `q`.
    pub(super) fn best(p: &BigUint, q: &BigUint) -> CrtEngine {
        CrtEngine::new(RsaBackend::best(), p, q)
            .or_else(|| CrtEngine::new(RsaBackend::Portable, p, q))
            .expect("the portable backend runs every key")
    }

    pub(super) fn backend(&self) -> RsaBackend {
        match self {
            CrtEngine::General | CrtEngine::Portable1024(_) => RsaBackend::Portable,
            #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
            CrtEngine::Ifma(_) => RsaBackend::Ifma,
        }
    }
}

impl RsaPrivateKey {
    /// Which backend runs this key's private operation.
    pub fn backend(&self) -> RsaBackend {
        self.engine.backend()
    }

    /// A copy of this key that runs its private operation on `backend`, or `None` if that
    /// backend cannot run this key here (for example `Ifma` on a CPU without AVX-512 IFMA, or on
    /// a key whose primes are not 1024-bit ones). For tests and benchmarks that compare
    /// backends; keys pick the fastest one by themselves.
    pub fn with_backend(&self, backend: RsaBackend) -> Option<RsaPrivateKey> {
        let p = limbs::to_biguint(self.p.modulus());
        let q = limbs::to_biguint(self.q.modulus());
        let engine = CrtEngine::new(backend, &p, &q)?;
        // The public operations inside (blinding factor, fault check) follow where they can.
        let public = self
            .public
            .with_backend(backend)
            .unwrap_or_else(|| self.public.clone());
        Some(RsaPrivateKey {
            engine,
            public,
            ..self.clone()
        })
    }

    /// Gets the next private operation ready while the caller waits for its input, so that less
    /// of it is left for when the input arrives: if the blinding pair is worn out (every
    /// [`REFRESH_AFTER`] uses; see the module doc), a fresh one is drawn from `rng` now, which
    /// costs a modular inversion, more than the private operation itself. A TLS server calls it
    /// after its ServerHelloDone, while the client works on its ClientKeyExchange. Optional: the
    /// private operation draws a pair itself when it finds none.
    pub fn prepare_blinding<R: rand::CryptoRng + ?Sized>(&self, rng: &mut R) {
        self.blinding.prepare(rng, &self.public);
    }

    /// Whether [`Self::keep_warm`] does anything for this key here: whether its private
    /// operation runs on the AVX-512 IFMA backend.
    pub fn wants_keeping_warm(&self) -> bool {
        self.backend() == RsaBackend::Ifma
    }

    /// Keeps this core ready for a private operation that is coming soon: on the IFMA backend,
    /// one 512-bit multiply-add (nanoseconds, on no key material), so that the core does not
    /// power its wide vector units down in the meantime, which would make the operation start
    /// slowly, up to twice as long in all; on the portable backend, nothing. `net::waiting`
    /// has the measurements and how the server calls it while waiting for the ClientKeyExchange.
    pub fn keep_warm(&self) {
        #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
        if let CrtEngine::Ifma(x2) = &self.engine {
            super::montgomery_ifma::keep_warm(x2);
        }
    }

    /// Lets this key run the two CRT exponentiations of its private operation on two cores at
    /// once, when the process's one helper thread for that is free (the `split` module says how
    /// and when): the operation then takes about half the wall-clock time and the same CPU time.
    /// It only applies where the exponentiations run one after the other, on the portable
    /// backend with 1024-bit primes (RSA-2048); the IFMA backend already runs both in one pass.
    /// A server with more than one core wants it; off by default, and left off by anything
    /// that measures operations per second of one thread's CPU time.
    pub fn split_across_cores(&mut self, on: bool) {
        self.split = on;
    }

    /// Whether [`Self::split_across_cores`] would change anything for this key: whether it is
    /// on and the engine runs the halves one after the other.
    pub fn splits_across_cores(&self) -> bool {
        self.split && matches!(self.engine, CrtEngine::Portable1024(_))
    }

    /// `(c^dp mod p, c^dq mod q)` on this key's engine, for `c < n` as limbs as wide as `n`.
    pub(super) fn exponentiate(&self, c: &[u64]) -> (Zeroizing<Vec<u64>>, Zeroizing<Vec<u64>>) {
        // The IFMA engine reduces c modulo p and q itself, on its way into Montgomery form.
        #[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
        if let CrtEngine::Ifma(x2) = &self.engine {
            return x2.pow2(c, &self.dp, &self.dq);
        }
        let c_p = self.p.leave_mont(&self.p.enter_mont_wide(c));
        let c_q = self.q.leave_mont(&self.q.enter_mont_wide(c));
        match &self.engine {
            CrtEngine::Portable1024(pq) if self.split => {
                super::split::pow_pair((&pq.0, &c_p, &self.dp), (&pq.1, &c_q, &self.dq))
            }
            CrtEngine::Portable1024(pq) => (pq.0.pow(&c_p, &self.dp), pq.1.pow(&c_q, &self.dq)),
            _ => (
                self.p.pow_plain(&c_p, &self.dp),
                self.q.pow_plain(&c_q, &self.dq),
            ),
        }
    }

    /// RSADP / RSASP1 (RFC 8017 5.1.2, 5.2.1) on `c < n`, returning `c^d mod n` as exactly
    /// `modulus_len()` big-endian bytes (I2OSP), never stripped of leading zeros.
    pub(super) fn private_op<R: rand::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        c: &BigUint,
    ) -> Result<Zeroizing<Vec<u8>>, Fault> {
        let (public, n_mont) = (&self.public, &self.public.n_mont);
        let kn = n_mont.limbs();
        debug_assert!(c < &public.n);
        let c = limbs::from_biguint(c, kn).expect("c < n");

        // Blind: c' = c * r^e (a Montgomery product with r^e R).
        let (mask, unmask) = self.blinding.take(rng, public);
        let c_blind = public.engine.mont_mul(n_mont, &c, &mask);

        // Two half-size exponentiations, of c' modulo p and modulo q.
        let (m1, m2) = self.exponentiate(&c_blind);

        // Garner: h = qinv * (m1 - m2) mod p. The Montgomery product of (m1 - m2) R with qinv
        // lands in plain form.
        let kp = self.p.limbs();
        let m2_mod_p = self.p.leave_mont(&self.p.enter_mont_wide(&m2));
        let mut diff = Zeroizing::new(vec![0u64; kp]);
        self.p.sub(&m1, &m2_mod_p, &mut diff);
        let diff_mont = self.p.enter_mont(&diff);
        let mut h = Zeroizing::new(vec![0u64; kp]);
        self.p.mul(&diff_mont, &self.qinv, &mut h);

        // m' = m2 + h*q. It is below n (so it fits in kn limbs; any limbs above are zero).
        let q_limbs = self.q.modulus();
        let mut m_blind = Zeroizing::new(vec![0u64; kp + q_limbs.len()]);
        limbs::mul(&h, q_limbs, &mut m_blind);
        limbs::add_assign(&mut m_blind, &m2);
        m_blind.truncate(kn);

        // Fault check: m'^e must give back c'. (Values are blinded; the comparison's result is
        // "the hardware works", not a secret.)
        let check = self.public.raw_public_op(&m_blind);
        if check[..] != c_blind[..] {
            return Err(Fault);
        }

        // Unblind: m = m' * r^-1 (a Montgomery product with r^-1 R).
        let m = public.engine.mont_mul(n_mont, &m_blind, &unmask);

        let mut out = Zeroizing::new(vec![0u8; self.public.modulus_len()]);
        limbs::to_be_bytes(&m, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::trace;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// Two different keys of each size, generated once: RSA-2048 (1024-bit primes, the
    /// dedicated engines) and RSA-1024 (512-bit primes, the general code).
    fn keys(bits: usize) -> &'static [RsaPrivateKey; 2] {
        static K2048: std::sync::OnceLock<[RsaPrivateKey; 2]> = std::sync::OnceLock::new();
        static K1024: std::sync::OnceLock<[RsaPrivateKey; 2]> = std::sync::OnceLock::new();
        let cell = if bits == 2048 { &K2048 } else { &K1024 };
        cell.get_or_init(|| {
            let mut rng = StdRng::seed_from_u64(0x7ace + bits as u64);
            [(); 2].map(|_| RsaPrivateKey::generate(&mut rng, bits).unwrap())
        })
    }

    /// Every backend that can run keys of this size here.
    fn backends(bits: usize) -> Vec<RsaBackend> {
        let key = &keys(bits)[0];
        RsaBackend::ALL
            .into_iter()
            .filter(|&b| key.with_backend(b).is_some())
            .collect()
    }

    /// The constant-time claim, checked where it can be: on every backend, the private
    /// operation performs the same sequence of multiplications, squarings and table reads for
    /// two different keys and for different ciphertexts (and so for different blinding factors
    /// and intermediate values). Any branch or table index that depended on the exponent, the
    /// primes or the data would change the sequence. (The key's blinding pair is set up by the
    /// first call, outside the comparison; its refresh every 32 uses is a public count.)
    #[test]
    fn private_op_trace_is_the_same_for_every_key_and_ciphertext() {
        let mut rng = StdRng::seed_from_u64(1);
        for (bits, backend) in [2048, 1024]
            .into_iter()
            .flat_map(|bits| backends(bits).into_iter().map(move |b| (bits, b)))
        {
            let mut traces = Vec::new();
            for key in keys(bits) {
                let key = key.with_backend(backend).unwrap();
                assert_eq!(key.backend(), backend);
                let n = &key.public.n;
                for c in [BigUint::from(2u32), n - 1u32, n >> 3u32] {
                    key.private_op(&mut rng, &c).ok().unwrap(); // sets up the blinding pair
                    let (result, events) = trace::capture(|| key.private_op(&mut rng, &c));
                    assert!(result.is_ok());
                    traces.push(events);
                }
            }
            assert!(
                traces[0].len() > bits,
                "{backend}: both exponentiations are recorded"
            );
            assert!(
                traces.iter().all(|t| *t == traces[0]),
                "{bits}-bit keys, {backend}: the sequence of operations depends on the key or the data"
            );
        }
    }

    /// Counts the bytes drawn from it: whether a call drew a fresh blinding pair.
    struct CountingRng {
        inner: StdRng,
        drawn: usize,
    }

    impl rand::TryRng for CountingRng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            self.drawn += 4;
            self.inner.try_next_u32()
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            self.drawn += 8;
            self.inner.try_next_u64()
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            self.drawn += dst.len();
            self.inner.try_fill_bytes(dst)
        }
    }

    impl rand::TryCryptoRng for CountingRng {}

    /// `prepare_blinding` draws the fresh pair, when one is due, so that the private operation
    /// after it draws nothing; while a pair lasts it does nothing; and without it the operation
    /// draws the pair itself. The results never change.
    #[test]
    fn prepare_blinding_draws_the_fresh_pair_before_the_operation_needs_it() {
        for key in keys(2048).iter().chain(keys(1024)) {
            let c = &key.public.n >> 5u32;
            let expected = key
                .private_op(&mut StdRng::seed_from_u64(2), &c)
                .ok()
                .unwrap();
            // A clone starts without a pair.
            let key = key.clone();
            let mut rng = CountingRng {
                inner: StdRng::seed_from_u64(3),
                drawn: 0,
            };
            key.prepare_blinding(&mut rng);
            assert!(rng.drawn > 0, "no pair yet: prepare draws one");
            for used in 1..=REFRESH_AFTER {
                rng.drawn = 0;
                let m = key.private_op(&mut rng, &c).ok().unwrap();
                assert_eq!(m, expected);
                assert_eq!(rng.drawn, 0, "use {used} drew, after prepare");
                key.prepare_blinding(&mut rng);
                assert_eq!(
                    rng.drawn > 0,
                    used == REFRESH_AFTER,
                    "prepare after use {used}: a fresh pair only once the pair is worn out"
                );
            }
            // Worn out again, and no prepare: the operation draws the pair itself.
            for _ in 0..REFRESH_AFTER {
                key.private_op(&mut rng, &c).ok().unwrap();
            }
            rng.drawn = 0;
            assert_eq!(key.private_op(&mut rng, &c).ok().unwrap(), expected);
            assert!(rng.drawn > 0);
        }
    }

    /// `keep_warm` is for the IFMA backend only, and changes nothing in the results.
    #[test]
    fn keep_warm_is_wanted_on_ifma_only_and_changes_no_result() {
        let mut rng = StdRng::seed_from_u64(4);
        for backend in backends(2048) {
            let key = keys(2048)[0].with_backend(backend).unwrap();
            assert_eq!(key.wants_keeping_warm(), backend == RsaBackend::Ifma);
            let c = &key.public.n >> 7u32;
            let before = key.private_op(&mut rng, &c).ok().unwrap();
            key.keep_warm();
            assert_eq!(key.private_op(&mut rng, &c).ok().unwrap(), before);
        }
        // Keys the IFMA engine cannot run (512-bit primes) never want it.
        assert!(!keys(1024)[0].wants_keeping_warm());
    }

    /// The two CRT exponentiations agree with `BigUint::modpow` on every backend, for values
    /// of c across the whole range below n.
    #[test]
    fn every_engine_exponentiates_like_modpow() {
        for key in keys(2048).iter().chain(keys(1024)) {
            let (p, q) = (
                limbs::to_biguint(key.p.modulus()),
                limbs::to_biguint(key.q.modulus()),
            );
            let (dp, dq) = (limbs::to_biguint(&key.dp), limbs::to_biguint(&key.dq));
            let (n, kn) = (&key.public.n, key.public.n_mont.limbs());
            for backend in backends(key.public.bits()) {
                let key = key.with_backend(backend).unwrap();
                for c in [BigUint::ZERO, BigUint::ONE, p.clone(), n - 1u32, n >> 1u32] {
                    let (m1, m2) = key.exponentiate(&limbs::from_biguint(&c, kn).unwrap());
                    assert_eq!(limbs::to_biguint(&m1), c.modpow(&dp, &p), "{backend}");
                    assert_eq!(limbs::to_biguint(&m2), c.modpow(&dq, &q), "{backend}");
                }
            }
        }
    }

    /// A key told to split its CRT halves across cores gives the same private operation, on
    /// every backend; it only splits where the halves run one after the other (the portable
    /// engine for 1024-bit primes).
    #[test]
    fn splitting_across_cores_changes_no_result() {
        let mut rng = StdRng::seed_from_u64(5);
        for key in keys(2048).iter().chain(keys(1024)) {
            for backend in backends(key.public.bits()) {
                let plain = key.with_backend(backend).unwrap();
                let mut split = plain.clone();
                split.split_across_cores(true);
                assert!(!plain.splits_across_cores());
                assert_eq!(
                    split.splits_across_cores(),
                    backend == RsaBackend::Portable && key.public.bits() == 2048,
                    "{backend}, {} bits",
                    key.public.bits()
                );
                for shift in [1u32, 7, 300, 1000] {
                    let c = &key.public.n >> shift;
                    assert_eq!(
                        split.private_op(&mut rng, &c).ok().unwrap(),
                        plain.private_op(&mut rng, &c).ok().unwrap(),
                        "{backend}"
                    );
                }
            }
        }
    }
}
