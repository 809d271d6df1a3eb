//! AES-128-GCM and GHASH throughput at 16 KiB (a full TLS record).
//!
//! The baseline is OpenSSL 3.0 on the same machine, measured outside criterion with
//! `openssl speed -evp aes-128-gcm -bytes 16384 -seconds 3` (encryption only, so compare it with
//! `seal`). Run with `cargo bench --bench gcm`.
//!
//! One run on the development machine (2-core AMD EPYC Zen 4 VM, shared and busy: load ~5),
//! medians at 16 KiB: seal 2.18 µs (7.0 GiB/s), open 3.46 µs (4.4 GiB/s, includes restoring the
//! buffer), seal+open 7.96 µs; GHASH alone: VPCLMULQDQ 8.8 GiB/s, PCLMULQDQ 3.0 GiB/s, portable
//! 27 MiB/s. `openssl speed -evp aes-128-gcm -bytes 16384` in the same minutes: 4.09 GB/s
//! (3.81 GiB/s), so seal runs at about 1.8x OpenSSL's encryption.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use toytls::crypto::aes::Backend as AesBackend;
use toytls::crypto::gcm::Aes128Gcm;
use toytls::crypto::ghash::{Backend as GhashBackend, GhashKey};

const KEY: [u8; 16] = [0x2b; 16];
const NONCE: [u8; 12] = [0xca; 12];
const AAD: [u8; 13] = [0x17; 13]; // the size of TLS 1.2's additional data
const SIZE: usize = 16 * 1024;

fn gcm(c: &mut Criterion) {
    let mut group = c.benchmark_group("aes128_gcm/16KiB");
    group.throughput(Throughput::Bytes(SIZE as u64));
    let gcm = Aes128Gcm::new(&KEY);
    let mut buf = vec![0x61u8; SIZE];

    group.bench_function("seal", |b| {
        b.iter(|| black_box(gcm.seal(&NONCE, &AAD, black_box(&mut buf))))
    });

    let tag = gcm.seal(&NONCE, &AAD, &mut buf);
    let ciphertext = buf.clone();
    group.bench_function("open", |b| {
        b.iter(|| {
            // Decrypting in place turns buf into plaintext; restore the ciphertext each time.
            buf.copy_from_slice(&ciphertext);
            gcm.open(&NONCE, &AAD, black_box(&mut buf), &tag).unwrap()
        })
    });

    group.bench_function("seal+open", |b| {
        b.iter(|| {
            let tag = gcm.seal(&NONCE, &AAD, black_box(&mut buf));
            gcm.open(&NONCE, &AAD, black_box(&mut buf), &tag).unwrap()
        })
    });
    group.finish();

    // The portable backends (what a CPU without AES-NI and PCLMULQDQ runs), sealing.
    let mut group = c.benchmark_group("aes128_gcm_portable/16KiB");
    group.throughput(Throughput::Bytes(SIZE as u64));
    let portable = Aes128Gcm::with_backends(&KEY, AesBackend::Fixsliced, GhashBackend::IntMul)
        .expect("portable backends are always available");
    group.bench_function("seal", |b| {
        b.iter(|| black_box(portable.seal(&NONCE, &AAD, black_box(&mut buf))))
    });
    group.finish();

    let mut group = c.benchmark_group("ghash/16KiB");
    group.throughput(Throughput::Bytes(SIZE as u64));
    for backend in GhashBackend::available() {
        let key = GhashKey::with_backend(&[0x42; 16], backend).unwrap();
        group.bench_function(BenchmarkId::from_parameter(format!("{backend:?}")), |b| {
            b.iter(|| {
                let mut hash = key.start();
                hash.update_padded(black_box(&buf));
                black_box(hash.finalize())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = gcm
}
criterion_main!(benches);
