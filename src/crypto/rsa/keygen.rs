//! RSA key generation: two random primes, e = 65537, and the private exponent.
//!
//! The recipe follows FIPS 186-5 appendix A.1.3 ("probable primes") in spirit:
//!
//! 1. Draw a random odd number of the prime's size with its top **two** bits set. Two bits, not
//!    one: then each prime is at least `1.5 * 2^(b-1)`, their product at least `2.25 * 2^(2b-2)`,
//!    which is more than `2^(2b-1)`, so `n = p*q` has exactly `2b` bits, never one short.
//! 2. Throw it away cheaply if a small prime divides it (trial division by the primes below 2000
//!    removes about 85% of odd candidates for the price of a few hundred one-limb divisions).
//! 3. Skip it if `p - 1` is a multiple of `e`: then `e` would have no inverse and no `d` exists.
//! 4. Run Miller-Rabin with random bases. For *random* candidates (not ones an adversary chose),
//!    FIPS 186-5 Table B.1 gives the rounds needed: for 1024-bit primes (RSA-2048) 4 rounds reach
//!    an error probability of 2^-100 and 5 reach 2^-112; for 1536-bit primes (RSA-3072) 4 rounds
//!    reach 2^-128. The 512-bit primes of RSA-1024 needed 7 rounds for 2^-100 in FIPS 186-4
//!    Table C.3. We use 5 rounds from 1024 bits up, 4 from 1536 up and 8 below 1024. These bounds
//!    come from Damgård, Landrock and Pomerance ("Average case error estimates for the strong
//!    probable prime test", 1993) and are far smaller than the worst case 4^-t because a random
//!    composite almost never fools even one round.
//! 5. With two primes in hand, also require `|p - q| > 2^(bits/2 - 100)` (FIPS 186-5 A.1.3 step
//!    5.4, so Fermat's factoring method cannot find them) and compute
//!    `d = e^-1 mod lcm(p-1, q-1)` and the CRT values `dp`, `dq`, `qinv`.
//!
//! Key generation uses `num-bigint` throughout. It is not constant time, so a local attacker timing
//! the generation could in principle learn something about the primes; generation runs once, with
//! no input from anyone else, which is why this is the usual trade-off (it is also what the brief
//! for this crate asks: `num-bigint` for key generation, our own arithmetic for private-key use).

use num_bigint::BigUint;

use super::{RsaError, RsaPrivateKey};

/// The public exponent we generate: 65537 = 2^16 + 1, prime, and with only two bits set, so the
/// public operation costs 17 multiplications.
pub(crate) const PUBLIC_EXPONENT: u32 = 65537;

/// Smallest and largest modulus sizes `generate` accepts, in bits. 1024 is already too small for
/// new long-lived keys but keeps tests quick; 8192 bounds the time a generation can take.
pub(crate) const MIN_BITS: usize = 1024;
pub(crate) const MAX_BITS: usize = 8192;

/// How many Miller-Rabin rounds a random candidate of `bits` bits gets (see the module doc).
pub(crate) fn miller_rabin_rounds(bits: usize) -> usize {
    match bits {
        1536.. => 4,
        1024.. => 5,
        _ => 8,
    }
}

pub(crate) fn generate<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    bits: usize,
) -> Result<RsaPrivateKey, RsaError> {
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(RsaError::UnsupportedKeySize(bits));
    }
    let e = BigUint::from(PUBLIC_EXPONENT);
    let p_bits = bits.div_ceil(2);
    let q_bits = bits / 2;
    loop {
        let p = random_prime(rng, p_bits);
        let q = random_prime(rng, q_bits);
        // FIPS 186-5 A.1.3: p and q must not be too close (Fermat factorisation).
        let distance = if p > q { &p - &q } else { &q - &p };
        if distance.bits() as usize <= bits / 2 - 100 {
            continue;
        }
        let n = &p * &q;
        // By construction (top two bits set) this always holds; checked because it is promised.
        if n.bits() as usize != bits {
            continue;
        }
        let p1 = &p - 1u32;
        let q1 = &q - 1u32;
        let lcm = &p1 * &q1 / gcd(&p1, &q1);
        let Some(d) = e.modinv(&lcm) else {
            continue; // cannot happen: e does not divide p-1 or q-1 and is prime
        };
        // FIPS 186-5 A.1.1: d must exceed 2^(bits/2); otherwise start again.
        if d.bits() as usize <= bits / 2 {
            continue;
        }
        return RsaPrivateKey::from_be_bytes(
            &n.to_bytes_be(),
            &e.to_bytes_be(),
            &d.to_bytes_be(),
            &p.to_bytes_be(),
            &q.to_bytes_be(),
        );
    }
}

/// A random probable prime of exactly `bits` bits with the top two bits set and with
/// `gcd(e, p - 1) = 1`.
fn random_prime<R: rand::CryptoRng + ?Sized>(rng: &mut R, bits: usize) -> BigUint {
    let small = small_primes();
    let rounds = miller_rabin_rounds(bits);
    let mut bytes = vec![0u8; bits.div_ceil(8)];
    loop {
        rng.fill_bytes(&mut bytes);
        // Clear the bits above `bits`, then set the top two and the bottom one.
        let excess = bytes.len() * 8 - bits;
        bytes[0] &= 0xff >> excess;
        let mut candidate = BigUint::from_bytes_be(&bytes);
        candidate.set_bit(bits as u64 - 1, true);
        candidate.set_bit(bits as u64 - 2, true);
        candidate.set_bit(0, true);

        let digits = candidate.to_u64_digits();
        if small.iter().any(|&sp| rem_small(&digits, sp) == 0) {
            continue;
        }
        if rem_small(&digits, PUBLIC_EXPONENT) == 1 {
            continue; // e divides candidate - 1
        }
        if is_probable_prime(rng, &candidate, rounds) {
            return candidate;
        }
    }
}

/// The odd primes below 2000, by a sieve of Eratosthenes.
fn small_primes() -> Vec<u32> {
    const LIMIT: usize = 2000;
    let mut composite = vec![false; LIMIT];
    let mut primes = Vec::new();
    for i in 2..LIMIT {
        if !composite[i] {
            if i > 2 {
                primes.push(i as u32);
            }
            for j in (i * i..LIMIT).step_by(i) {
                composite[j] = true;
            }
        }
    }
    primes
}

/// `x mod d` for a number given as little-endian `u64` digits and a small divisor.
fn rem_small(digits: &[u64], d: u32) -> u32 {
    let d = d as u128;
    let r = digits
        .iter()
        .rev()
        .fold(0u128, |r, &limb| ((r << 64) | limb as u128) % d);
    r as u32
}

/// Miller-Rabin with `rounds` random bases in `[2, n-2]` (FIPS 186-5 B.3.1). `n` is odd and
/// greater than 3.
pub(crate) fn is_probable_prime<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    n: &BigUint,
    rounds: usize,
) -> bool {
    let one = BigUint::ONE;
    let n1 = n - 1u32;
    // n - 1 = 2^s * r with r odd.
    let s = n1.trailing_zeros().expect("n > 1");
    let r = &n1 >> s;
    let mut buf = vec![0u8; n.bits().div_ceil(8) as usize];
    'round: for _ in 0..rounds {
        // A base drawn uniformly from [2, n-2] by rejection.
        let a = loop {
            rng.fill_bytes(&mut buf);
            let a = BigUint::from_bytes_be(&buf);
            if a >= BigUint::from(2u32) && a < n1 {
                break a;
            }
        };
        let mut y = a.modpow(&r, n);
        if y == one || y == n1 {
            continue;
        }
        for _ in 1..s {
            y = (&y * &y) % n;
            if y == n1 {
                continue 'round;
            }
            if y == one {
                return false;
            }
        }
        return false;
    }
    true
}

/// Euclid's algorithm.
fn gcd(a: &BigUint, b: &BigUint) -> BigUint {
    let (mut a, mut b) = (a.clone(), b.clone());
    while b != BigUint::ZERO {
        let r = &a % &b;
        a = b;
        b = r;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn sieve_and_small_remainders() {
        let primes = small_primes();
        assert_eq!(&primes[..5], &[3, 5, 7, 11, 13]);
        assert_eq!(*primes.last().unwrap(), 1999);
        assert_eq!(primes.len(), 302); // pi(2000) = 303, minus the prime 2
        let x = (BigUint::ONE << 200u32) + 5u32;
        for &p in &primes[..20] {
            assert_eq!(
                rem_small(&x.to_u64_digits(), p),
                (&x % p).try_into().unwrap()
            );
        }
    }

    #[test]
    fn miller_rabin_separates_primes_from_composites() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        // 2^127 - 1 is a Mersenne prime; 2^128 + 1 = 59649589127497217 * 5704689200685129054721.
        let m127 = (BigUint::ONE << 127u32) - 1u32;
        assert!(is_probable_prime(&mut rng, &m127, 8));
        let f7 = (BigUint::ONE << 128u32) + 1u32;
        assert!(!is_probable_prime(&mut rng, &f7, 8));
        // Carmichael numbers fool the Fermat test but not Miller-Rabin.
        for c in [561u32, 1105, 1729, 2465, 41041, 825265] {
            assert!(!is_probable_prime(&mut rng, &BigUint::from(c), 8), "{c}");
        }
        // A product of two large primes.
        let m61 = (BigUint::ONE << 61u32) - 1u32;
        assert!(!is_probable_prime(&mut rng, &(&m127 * &m61), 8));
    }

    #[test]
    fn random_primes_have_exact_size_and_top_bits() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let p = random_prime(&mut rng, 300);
        assert_eq!(p.bits(), 300);
        assert!(p.bit(298) && p.bit(0));
        assert!(is_probable_prime(&mut rng, &p, 20));
        assert_ne!(rem_small(&p.to_u64_digits(), PUBLIC_EXPONENT), 1);
    }

    #[test]
    fn rounds_follow_the_table() {
        assert_eq!(miller_rabin_rounds(512), 8);
        assert_eq!(miller_rabin_rounds(1024), 5);
        assert_eq!(miller_rabin_rounds(1536), 4);
    }

    #[test]
    fn rejects_unsupported_sizes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        assert!(matches!(
            generate(&mut rng, 512),
            Err(RsaError::UnsupportedKeySize(512))
        ));
        assert!(matches!(
            generate(&mut rng, 8200),
            Err(RsaError::UnsupportedKeySize(8200))
        ));
    }
}
