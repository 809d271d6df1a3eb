//! RSA-2048 with criterion: the private operation (what a TLS server does once per full
//! handshake) and the public operations (what a client does twice), each against a `num-bigint`
//! baseline measured in the same run, on every backend this CPU has; and key generation.
//!
//! - `private/num-bigint modpow + CRT (baseline)`: the textbook CRT with `BigUint::modpow`, no
//!   blinding, no fault check, no padding: strictly less work, and not constant time.
//! - `private/decrypt <backend>`: `RsaPrivateKey::decrypt_pkcs1v15` on a 48-byte pre-master
//!   secret, i.e. the whole private path: blinding (the cached pair r^e, r^-1, squared per use
//!   and redrawn every 32 uses), the two CRT exponentiations, Garner, the fault check and the
//!   constant-time padding check. `decrypt_pkcs1v15_exact_or` (48 bytes) adds the
//!   constant-time length check and select the RFC 5246 7.4.7.1 countermeasure is built on;
//!   `sign` adds SHA-256.
//! - `public/num-bigint modpow (baseline)`: `BigUint::modpow` with e = 65537.
//! - `public/verify <backend>` and `public/encrypt <backend>`: `verify_pkcs1v15_sha256` and
//!   `encrypt_pkcs1v15` of 48 bytes.
//!
//! `<backend>` is `avx512-ifma` where the CPU has it and always `portable` (forced, so the
//! portable code is measured on every machine).
//!
//! Run with `cargo bench --bench rsa`; compare medians within one run, never across runs. For the
//! comparison with OpenSSL on the same machine see `benches/vs-openssl-rsa.sh`.
//!
//! One run on the development machine (Xeon, Ice Lake server, AVX-512 IFMA; 2 cores shared with
//! other engineers' builds, load average 4.7 to 6.9 during the run, so the absolute figures are
//! inflated; the ratios within the run are what counts), criterion medians:
//!
//! | RSA-2048                                | median   | vs baseline |
//! | --------------------------------------- | -------- | ----------- |
//! | private: num-bigint modpow + CRT        | 2.67 ms  |             |
//! | private: decrypt avx512-ifma            | 325 µs   | 8.2x        |
//! | private: decrypt portable               | 908 µs   | 2.9x        |
//! | private: decrypt_pre_master_secret ifma | 260 µs   |             |
//! | private: sign SHA-256 portable          | 730 µs   |             |
//! | public: num-bigint modpow               | 214 µs   |             |
//! | public: verify avx512-ifma              | 10.1 µs  | 21x         |
//! | public: verify portable                 | 56 µs    | 3.8x        |
//! | public: encrypt 48 bytes avx512-ifma    | 14.5 µs  |             |
//!
//! (Criterion's medians move a lot on this machine: the same build measured 260-367 µs for the
//! three IFMA private-key rows, which do the same exponentiations. The decrypt_pre_master_secret
//! row was measured before the 7.4.7.1 split, under the old name; `decrypt_pkcs1v15_exact_or`
//! does the same work less a 2-byte version compare, now done by the handshake.)

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use num_bigint::BigUint;
use rand::SeedableRng;
use rand::rngs::StdRng;
use toytls::crypto::rsa::{RsaBackend, RsaPrivateKey};

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
    let pms = [0x03u8; 48];
    let ciphertext = key.public_key().encrypt_pkcs1v15(&mut rng, &pms).unwrap();
    // The key on every backend this CPU has, the best first.
    let keys: Vec<RsaPrivateKey> = RsaBackend::ALL
        .iter()
        .filter_map(|&b| key.with_backend(b))
        .collect();

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
    // Every contender must compute the same thing, or the comparison means nothing.
    let em = baseline.decrypt(&c_big).to_bytes_be();
    assert_eq!(&em[em.len() - 48..], &pms);
    for key in &keys {
        assert_eq!(key.decrypt_pkcs1v15(&mut rng, &ciphertext).unwrap(), pms);
    }

    let mut group = c.benchmark_group("rsa2048_private");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("num-bigint modpow + CRT (baseline)", |b| {
        b.iter(|| baseline.decrypt(black_box(&c_big)))
    });
    for key in &keys {
        let backend = key.backend();
        group.bench_function(format!("decrypt {backend}"), |b| {
            b.iter(|| key.decrypt_pkcs1v15(&mut rng, black_box(&ciphertext)))
        });
        group.bench_function(format!("decrypt_pkcs1v15_exact_or, 48 B {backend}"), |b| {
            b.iter(|| key.decrypt_pkcs1v15_exact_or(&mut rng, black_box(&ciphertext), &[0u8; 48]))
        });
        group.bench_function(format!("sign SHA-256 {backend}"), |b| {
            b.iter(|| key.sign_pkcs1v15_sha256(&mut rng, black_box(b"message")))
        });
    }
    group.finish();

    let signature = key.sign_pkcs1v15_sha256(&mut rng, b"message").unwrap();
    let (n, e) = (big(&parts.n), big(&parts.e));
    let s_big = big(&signature);
    let mut group = c.benchmark_group("rsa2048_public");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("num-bigint modpow (baseline)", |b| {
        b.iter(|| black_box(&s_big).modpow(&e, &n))
    });
    for key in &keys {
        let public = key.public_key();
        let backend = public.backend();
        group.bench_function(format!("verify SHA-256 {backend}"), |b| {
            b.iter(|| public.verify_pkcs1v15_sha256(black_box(b"message"), black_box(&signature)))
        });
        group.bench_function(format!("encrypt 48 bytes {backend}"), |b| {
            b.iter(|| public.encrypt_pkcs1v15(&mut rng, black_box(&pms)))
        });
    }
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
