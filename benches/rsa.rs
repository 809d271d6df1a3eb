//! RSA-2048: the private operation (what a TLS server does once per full handshake) against a
//! `num-bigint` baseline measured in the same run, the public operation, and key generation.
//!
//! - `toytls decrypt`: `RsaPrivateKey::decrypt_pkcs1v15` on a 48-byte pre-master secret, i.e. the
//!   whole private path: blinding (r^e, r^-1), CRT with the constant-time Montgomery
//!   exponentiation, Garner, the fault check and the constant-time padding check.
//! - `num-bigint modpow + CRT`: the textbook CRT with `BigUint::modpow`, no blinding, no fault
//!   check, no padding: strictly less work, and not constant time.
//!
//! Run with `cargo bench --bench rsa`; compare medians within one run, never across runs.
//!
//! The machine is shared (two cores, four people compiling): wall-clock medians move by 20% or
//! more between runs. The ratio between toytls and the baseline within one run is the figure to
//! quote.

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
