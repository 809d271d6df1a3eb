//! RSA-2048: the private operation (what a TLS server does once per full handshake) against a
//! `num-bigint` baseline measured in the same run, the public operation, and key generation.
//!
//! - `toytls decrypt`: `RsaPrivateKey::decrypt_pkcs1v15` on a 48-byte pre-master secret, i.e. the
//!   whole private path: blinding (the cached pair r^e, r^-1, squared per use and redrawn every
//!   32 uses, so the modinv cost is amortised), CRT with the constant-time Montgomery
//!   exponentiation, Garner, the fault check and the constant-time padding check.
//! - `num-bigint modpow + CRT`: the textbook CRT with `BigUint::modpow`, no blinding, no fault
//!   check, no padding: strictly less work, and not constant time.
//!
//! Run with `cargo bench --bench rsa`; compare medians within one run, never across runs.
//!
//! The machine is shared (two cores, four people compiling, load average about 11 while these
//! were taken): wall-clock medians move a lot between runs, so quote the ratio within one run.
//! Two runs on the development machine (x86-64 with AVX-512 IFMA, so the private operation used
//! the IFMA backend), medians:
//!
//! | RSA-2048                                 | run 1    | run 2    |
//! | ---------------------------------------- | -------- | -------- |
//! | num-bigint modpow + CRT (baseline)       | 5.12 ms  | 3.92 ms  |
//! | toytls decrypt (CRT, blinded, const.)    | 1.76 ms  | 1.89 ms  |
//! | ratio                                    | 2.9x     | 2.1x     |
//! | toytls decrypt_pre_master_secret         | 1.76 ms  | 1.94 ms  |
//! | toytls sign SHA-256                      | 1.35 ms  | 1.92 ms  |
//! | public: encrypt 48 bytes                 | 459 µs   | 683 µs   |
//! | public: verify SHA-256                   | 583 µs   | 857 µs   |
//! | key generation (10 samples)              | 271 ms   | 364 ms   |
//!
//! Less disturbed by the load, the best of 100 single runs of one 1024-bit exponentiation (half of
//! the private operation): IFMA 225 µs, portable column Montgomery 470 µs, `BigUint::modpow`
//! 627 µs, i.e. the private operation is about 2.6x the baseline with IFMA and 1.3x without.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use num_bigint::BigUint;
use rand::SeedableRng;
use rand::rngs::StdRng;
use toytls::crypto::rsa::RsaPrivateKey;

/// Textbook RSA-CRT decryption with `num-bigint` (RFC 8017 5.1.2 step 2.b).
struct BigUintCrt {
    p: BigUint,
    q: BigUint,
    dp: BigUint,
    dq: BigUint,
    qinv: BigUint,
}

impl BigUintCrt {
    fn decrypt(&self, c: &BigUint) -> BigUint {
        let m1 = (c % &self.p).modpow(&self.dp, &self.p);
        let m2 = (c % &self.q).modpow(&self.dq, &self.q);
        let diff = (&m1 + &self.p - (&m2 % &self.p)) % &self.p;
        let h = (&self.qinv * diff) % &self.p;
        m2 + h * &self.q
    }
}

fn rsa2048(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(2048);
    let key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
    let public = key.public_key();
    let pms = [0x03u8; 48];
    let ciphertext = public.encrypt_pkcs1v15(&mut rng, &pms).unwrap();

    let parts = key.components();
    let big = |v: &[u8]| BigUint::from_bytes_be(v);
    let baseline = BigUintCrt {
        p: big(&parts.p),
        q: big(&parts.q),
        dp: big(&parts.dp),
        dq: big(&parts.dq),
        qinv: big(&parts.qinv),
    };
    let c_big = big(&ciphertext);
    // The baseline must compute the same thing, or the comparison means nothing.
    let em = baseline.decrypt(&c_big).to_bytes_be();
    assert_eq!(&em[em.len() - 48..], &pms);
    assert_eq!(key.decrypt_pkcs1v15(&mut rng, &ciphertext).unwrap(), pms);

    let mut group = c.benchmark_group("rsa2048_private");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("num-bigint modpow + CRT (baseline)", |b| {
        b.iter(|| baseline.decrypt(black_box(&c_big)))
    });
    group.bench_function("toytls decrypt (CRT, blinded, constant-time)", |b| {
        b.iter(|| key.decrypt_pkcs1v15(&mut rng, black_box(&ciphertext)))
    });
    group.bench_function("toytls decrypt_pre_master_secret", |b| {
        b.iter(|| key.decrypt_pre_master_secret(&mut rng, black_box(&ciphertext), [3, 3]))
    });
    group.bench_function("toytls sign SHA-256", |b| {
        b.iter(|| key.sign_pkcs1v15_sha256(&mut rng, black_box(b"message")))
    });
    group.finish();

    let signature = key.sign_pkcs1v15_sha256(&mut rng, b"message").unwrap();
    let mut group = c.benchmark_group("rsa2048_public");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("encrypt 48 bytes", |b| {
        b.iter(|| public.encrypt_pkcs1v15(&mut rng, black_box(&pms)))
    });
    group.bench_function("verify SHA-256", |b| {
        b.iter(|| public.verify_pkcs1v15_sha256(black_box(b"message"), black_box(&signature)))
    });
    group.finish();
}

fn keygen(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut group = c.benchmark_group("rsa_keygen");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("2048", |b| {
        b.iter(|| RsaPrivateKey::generate(&mut rng, 2048).unwrap())
    });
    group.finish();
}

criterion_group!(benches, rsa2048, keygen);
criterion_main!(benches);
