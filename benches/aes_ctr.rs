//! AES-128-CTR throughput: toytls's backends against the RustCrypto `aes` + `ctr` crates
//! (`Ctr128BE<Aes128>`) measured in the same run, and the cost of CTR inside CTR + HMAC-SHA256
//! (the toy record suite: encrypt, then MAC the ciphertext) relative to HMAC-SHA256 alone.
//!
//! Run with `cargo bench --bench aes_ctr`; compare medians, never absolute numbers across runs.
//!
//! One run on the development machine (2-core AMD EPYC Zen 4 VM, shared, noisy), medians:
//!
//! | 16 KiB                | time     | throughput  | vs crates |
//! | --------------------- | -------- | ----------- | --------- |
//! | `aes` + `ctr` crates  | 3.85 µs  | 3.96 GiB/s  | 1.00x     |
//! | toytls VAES           | 0.925 µs | 16.5 GiB/s  | 4.16x     |
//! | toytls AES-NI         | 1.93 µs  | 7.90 GiB/s  | 1.99x     |
//! | toytls portable       | 15.9 ms  | 1.0 MiB/s   | (readable reference, not for speed) |
//!
//! The portable backends against the crates' *portable* backend: build the bench with
//! `RUSTFLAGS='--cfg aes_backend="soft"' CARGO_TARGET_DIR=target/aes-soft cargo bench --bench
//! aes_ctr` (the baseline is then labelled `aes+ctr crates (soft)`; toytls's backends are not
//! affected by the cfg). With the machine at load 8-10, per CPU-second over 64-128 MiB: toytls
//! Fixsliced 183-206 MiB/s, crates soft 121-175 MiB/s (about 1.15x); criterion's wall-clock
//! medians at that load were too noisy to rank them (README, "Without AES-NI").
//!
//! At 1 KiB: crates 319 ns, VAES 67.7 ns (4.7x), AES-NI 131 ns (2.4x).
//! CTR + HMAC-SHA256 over 16 KiB: 9.96 µs against 9.25 µs for HMAC-SHA256 alone, i.e. 0.93x the
//! speed of the MAC alone (the crates' CTR + HMAC: 13.9 µs, 0.67x).

use aes::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use std::hint::black_box;
use std::time::Duration;
use toytls::crypto::aes::Backend;
use toytls::crypto::ctr::Aes128Ctr;

const KEY: [u8; 16] = [0x2b; 16];
const COUNTER: [u8; 16] = [0xf0; 16];
const MAC_KEY: [u8; 32] = [0x0b; 32];

type CrateCtr = ctr::Ctr128BE<aes::Aes128>;

/// The baseline's label: which backend the `aes` crate was built with.
const CRATES: &str = if cfg!(aes_backend = "soft") {
    "aes+ctr crates (soft)"
} else {
    "aes+ctr crates"
};
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn ctr_throughput(c: &mut Criterion) {
    for (label, size) in [("16KiB", 16 * 1024), ("1KiB", 1024)] {
        let mut group = c.benchmark_group(format!("aes128_ctr/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0x61u8; size];

        // Baseline: the crates. `seek(0)` restarts the keystream without re-expanding the key,
        // the same work as our `set_counter`.
        let mut reference = CrateCtr::new(&KEY.into(), &COUNTER.into());
        group.bench_function(CRATES, |b| {
            b.iter(|| {
                reference.seek(0u64);
                reference.apply_keystream(black_box(&mut buf));
            })
        });

        for backend in Backend::available() {
            let mut ours = Aes128Ctr::with_backend(&KEY, &COUNTER, backend).unwrap();
            let id = BenchmarkId::new("toytls", format!("{backend:?}"));
            group.bench_function(id, |b| {
                b.iter(|| {
                    ours.set_counter(&COUNTER);
                    ours.apply_keystream(black_box(&mut buf));
                })
            });
        }
        group.finish();
    }
}

fn ctr_then_hmac(c: &mut Criterion) {
    let size = 16 * 1024;
    let mut group = c.benchmark_group("ctr+hmac_sha256/16KiB");
    group.throughput(Throughput::Bytes(size as u64));
    let mut buf = vec![0x61u8; size];
    let mac = HmacSha256::new_from_slice(&MAC_KEY).unwrap();

    group.bench_function("hmac-sha256 alone", |b| {
        b.iter(|| {
            let mut m = mac.clone();
            m.update(black_box(&buf));
            black_box(m.finalize().into_bytes())
        })
    });

    let mut ours = Aes128Ctr::new(&KEY, &COUNTER);
    group.bench_function("toytls ctr + hmac-sha256", |b| {
        b.iter(|| {
            ours.set_counter(&COUNTER);
            ours.apply_keystream(black_box(&mut buf));
            let mut m = mac.clone();
            m.update(&buf);
            black_box(m.finalize().into_bytes())
        })
    });

    let mut reference = CrateCtr::new(&KEY.into(), &COUNTER.into());
    group.bench_function("crates ctr + hmac-sha256", |b| {
        b.iter(|| {
            reference.seek(0u64);
            reference.apply_keystream(black_box(&mut buf));
            let mut m = mac.clone();
            m.update(&buf);
            black_box(m.finalize().into_bytes())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = ctr_throughput, ctr_then_hmac
}
criterion_main!(benches);
