//! RSA-2048 operations per second, the way `openssl speed rsa2048` counts them, so that
//! `benches/vs-openssl-rsa.sh` can put the two side by side.
//!
//! ```text
//! cargo run --release --example rsa_speed -- [--elapsed] [SECONDS]
//! ```
//!
//! Prints one line per operation, `name ops_per_second`:
//!
//! - `sign` / `sign-portable`: `RsaPrivateKey::sign_pkcs1v15_sha256`, i.e. the whole private
//!   operation (blinding, CRT, fault check) plus SHA-256 and padding, on the backend the key
//!   picks by itself and on the portable one. `openssl speed` signs a SHA-256-sized digest with
//!   the private key, so this is its counterpart.
//! - `verify` / `verify-portable`: `RsaPublicKey::verify_pkcs1v15_sha256`.
//! - `numbigint-crt`: the textbook CRT with `BigUint::modpow` (no blinding, no fault check), the
//!   baseline of the portable backend's goal.
//!
//! Each figure is operations divided by the CPU time this thread spent on them, over at least
//! `SECONDS` of it (default 2), which is also what `openssl speed` reports by default: on a
//! shared machine it does not count the time another process had the core. With `--elapsed`,
//! as with `openssl speed -elapsed`, wall-clock time instead. (CPU time comes from
//! `/proc/thread-self/schedstat`, so outside Linux only `--elapsed` works.)

use std::hint::black_box;
use std::time::{Duration, Instant};

use num_bigint::BigUint;
use rand::SeedableRng;
use rand::rngs::StdRng;
use toytls::crypto::rsa::{RsaBackend, RsaPrivateKey};

/// A clock: wall-clock time, or the CPU time of this thread.
#[derive(Clone, Copy)]
enum Clock {
    Wall(Instant),
    Cpu(Duration),
}

impl Clock {
    fn start(elapsed: bool) -> Clock {
        if elapsed {
            Clock::Wall(Instant::now())
        } else {
            Clock::Cpu(thread_cpu_time())
        }
    }

    fn elapsed(self) -> Duration {
        match self {
            Clock::Wall(start) => start.elapsed(),
            Clock::Cpu(start) => thread_cpu_time() - start,
        }
    }
}

/// Time this thread has spent on a CPU (the first field of `/proc/thread-self/schedstat`, in
/// nanoseconds; the kernel brings it up to date when it is read).
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat (Linux); use --elapsed elsewhere");
    let ns = stat.split_whitespace().next().and_then(|f| f.parse().ok());
    Duration::from_nanos(ns.expect("schedstat starts with a number"))
}

/// Runs `op` for at least `time` on `elapsed`'s clock and returns operations per second.
fn rate(time: Duration, elapsed: bool, mut op: impl FnMut()) -> f64 {
    // A short warm-up, so that caches and the CPU's clock have settled.
    let warm = Instant::now();
    while warm.elapsed() < time / 10 {
        op();
    }
    let clock = Clock::start(elapsed);
    let mut count = 0u64;
    loop {
        for _ in 0..8 {
            op();
        }
        count += 8;
        let spent = clock.elapsed();
        if spent >= time {
            return count as f64 / spent.as_secs_f64();
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let elapsed = args.iter().any(|a| a == "--elapsed");
    let seconds: f64 = args
        .iter()
        .find(|a| *a != "--elapsed")
        .map(|s| s.parse().expect("SECONDS is a number"))
        .unwrap_or(2.0);
    let time = Duration::from_secs_f64(seconds);

    let mut rng = StdRng::seed_from_u64(2048);
    let key = RsaPrivateKey::generate(&mut rng, 2048).expect("key generation");
    let portable = key
        .with_backend(RsaBackend::Portable)
        .expect("the portable backend runs every key");
    let public = key.public_key();
    let public_portable = portable.public_key();
    let msg = b"the quick brown fox";
    let signature = key.sign_pkcs1v15_sha256(&mut rng, msg).unwrap();

    let parts = key.components();
    let big = |v: &[u8]| BigUint::from_bytes_be(v);
    let (p, q, dp, dq, qinv) = (
        big(&parts.p),
        big(&parts.q),
        big(&parts.dp),
        big(&parts.dq),
        big(&parts.qinv),
    );
    let c = big(&signature);
    let crt = |c: &BigUint| {
        let m1 = (c % &p).modpow(&dp, &p);
        let m2 = (c % &q).modpow(&dq, &q);
        let h = (&qinv * ((&m1 + &p - (&m2 % &p)) % &p)) % &p;
        m2 + h * &q
    };

    println!("backend {}", key.backend());
    println!(
        "sign {:.1}",
        rate(time, elapsed, || {
            black_box(key.sign_pkcs1v15_sha256(&mut rng, black_box(msg)).unwrap());
        })
    );
    println!(
        "verify {:.1}",
        rate(time, elapsed, || {
            public
                .verify_pkcs1v15_sha256(black_box(msg), black_box(&signature))
                .unwrap();
        })
    );
    println!(
        "sign-portable {:.1}",
        rate(time, elapsed, || {
            black_box(
                portable
                    .sign_pkcs1v15_sha256(&mut rng, black_box(msg))
                    .unwrap(),
            );
        })
    );
    println!(
        "verify-portable {:.1}",
        rate(time, elapsed, || {
            public_portable
                .verify_pkcs1v15_sha256(black_box(msg), black_box(&signature))
                .unwrap();
        })
    );
    println!(
        "numbigint-crt {:.1}",
        rate(time, elapsed, || {
            black_box(crt(black_box(&c)));
        })
    );
}
