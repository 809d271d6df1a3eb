//! The two CRT halves of one private operation on two cores at once.
//!
//! The CRT splits `c^d mod n` into `c^dp mod p` and `c^dq mod q` (see `private`), two
//! exponentiations that share nothing until Garner's step combines them. On the portable
//! backend they run one after the other, and on a CPU without AVX-512 IFMA they are most of a
//! full TLS handshake's time in the server: about 1.3 ms of a handshake on a 2.4 GHz Zen 1 core,
//! while the machine's other core sits idle if no other client is being served. So a key can be
//! told ([`RsaPrivateKey::split_across_cores`]) to hand the second half to a helper thread while
//! the calling thread does the first: the private operation then takes about half as long, plus
//! one wake-up of the helper.
//!
//! # How
//! One helper thread per process, started on first use, waits for jobs on a channel. A job is a
//! copy of what the half needs (the prepared prime, `c mod q` and `dq`, all wiped when dropped),
//! a one-place channel for the answer, and who has claimed it. The caller runs its own half,
//! then looks at the claim:
//! - unclaimed: the helper has not started, so the caller takes the job back and runs it
//!   itself, and the split cost nothing against doing both halves in one thread. (The scheduler
//!   sometimes wakes the helper on the caller's own core, where it cannot start until the
//!   caller stops: measured here with the caller busy, the helper usually started within 20 us,
//!   but the slowest of a hundred wakes waited out the caller's whole 700 us.)
//! - claimed by the helper: its answer is less than one half away, usually tens of
//!   microseconds (it started one wake-up after the caller). The caller polls for it for up to
//!   [`POLL`], less than falling asleep and being woken again would cost, then sleeps on it.
//!
//! Measured on a 2-core Zen 1 VM (this module's first measurements): a lone private operation
//! took 1,286 us in one thread and 685 us split (medians of 200, back to back); `toytls server`
//! served 486-547 full handshakes per second to one `openssl s_time -new`, against 305-368
//! without the split and 334-373 for `openssl s_server`, in the same minutes.
//!
//! # When not
//! Only one split runs at a time: a caller that finds the helper busy with another
//! connection's half does both halves itself, exactly as without the split. So when every core
//! already has a handshake to do (several clients at once), nothing is handed off and nothing
//! waits; the split only spends a core that would otherwise be idle. If the helper thread could
//! not be started, or its answer never comes (it panicked), the caller computes the half itself.
//!
//! # Not for measuring
//! The split makes one operation faster in wall-clock time, not cheaper: it costs the same CPU
//! time, plus the hand-off. `examples/rsa_speed.rs` and the benches, which count operations per
//! second of one thread's time as `openssl speed` does, use keys that do not split.
//!
//! # Secrets
//! Which thread runs a half depends on what other connections are doing, never on the key or
//! the ciphertext, and each half is the same constant-time code as in one thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::mont1024::Mont1024;

/// How long the caller polls for the helper's answer before it sleeps on it.
const POLL: Duration = Duration::from_millis(1);

/// Who runs a job: nobody yet, the helper, or the caller (which took it back).
const UNCLAIMED: u8 = 0;
const BY_HELPER: u8 = 1;
const BY_CALLER: u8 = 2;

/// The second half of one private operation, for the helper.
struct Job {
    prime: Mont1024,
    base: Zeroizing<Vec<u64>>,
    exp: Zeroizing<Vec<u64>>,
    answer: SyncSender<Zeroizing<Vec<u64>>>,
    claim: Arc<AtomicU8>,
}

/// The caller's side of a handed-off job.
struct Pending {
    answer: Receiver<Zeroizing<Vec<u64>>>,
    claim: Arc<AtomicU8>,
}

/// The helper thread's side of things.
struct Helper {
    jobs: Mutex<mpsc::Sender<Job>>,
    /// Set while a job is handed off and not yet answered; taken by `compare_exchange`.
    busy: AtomicBool,
}

/// The helper, started on first use; `None` if its thread could not be started.
fn helper() -> Option<&'static Helper> {
    static THE_HELPER: OnceLock<Option<Helper>> = OnceLock::new();
    THE_HELPER
        .get_or_init(|| {
            let (jobs, inbox) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("toytls-rsa-half".into())
                .spawn(move || {
                    for job in inbox {
                        if job
                            .claim
                            .compare_exchange(
                                UNCLAIMED,
                                BY_HELPER,
                                Ordering::AcqRel,
                                Ordering::Acquire,
                            )
                            .is_err()
                        {
                            // The caller took it back and ran it itself.
                            continue;
                        }
                        let half = job.prime.pow(&job.base, &job.exp);
                        // The caller waits for this answer; should it be gone, a send to a
                        // dropped receiver is only an error.
                        let _ = job.answer.send(half);
                    }
                })
                .ok()?;
            Some(Helper {
                jobs: Mutex::new(jobs),
                busy: AtomicBool::new(false),
            })
        })
        .as_ref()
}

/// `(x_p^exp_p mod p, x_q^exp_q mod q)`: the second on the helper thread when it is free,
/// otherwise both here, one after the other. The results are the same either way.
pub(super) fn pow_pair(
    (p, x_p, exp_p): (&Mont1024, &[u64], &[u64]),
    (q, x_q, exp_q): (&Mont1024, &[u64], &[u64]),
) -> (Zeroizing<Vec<u64>>, Zeroizing<Vec<u64>>) {
    match hand_off(q, x_q, exp_q) {
        Some((helper, pending)) => {
            let first = p.pow(x_p, exp_p);
            let taken_back = pending
                .claim
                .compare_exchange(UNCLAIMED, BY_CALLER, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
            let second = match taken_back {
                true => None,
                false => wait(&pending.answer),
            };
            let second = second.unwrap_or_else(|| q.pow(x_q, exp_q));
            // Released only once the helper is done with this job, or will never start it.
            helper.busy.store(false, Ordering::Release);
            (first, second)
        }
        None => (p.pow(x_p, exp_p), q.pow(x_q, exp_q)),
    }
}

/// Gives the helper the job `x^exp mod q` if it is free; `None` if it is busy or missing.
fn hand_off(q: &Mont1024, x: &[u64], exp: &[u64]) -> Option<(&'static Helper, Pending)> {
    let helper = helper()?;
    if helper
        .busy
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return None;
    }
    let (answer, receiver) = mpsc::sync_channel(1);
    let claim = Arc::new(AtomicU8::new(UNCLAIMED));
    let job = Job {
        prime: q.clone(),
        base: Zeroizing::new(x.to_vec()),
        exp: Zeroizing::new(exp.to_vec()),
        answer,
        claim: Arc::clone(&claim),
    };
    let sent = helper
        .jobs
        .lock()
        .map(|jobs| jobs.send(job).is_ok())
        .unwrap_or(false);
    if !sent {
        helper.busy.store(false, Ordering::Release);
        return None;
    }
    Some((
        helper,
        Pending {
            answer: receiver,
            claim,
        },
    ))
}

/// The answer of a job the helper has started: polled for up to [`POLL`], then slept on.
/// `None` if the helper is gone.
fn wait(answer: &Receiver<Zeroizing<Vec<u64>>>) -> Option<Zeroizing<Vec<u64>>> {
    let start = Instant::now();
    while start.elapsed() < POLL {
        match answer.try_recv() {
            Ok(half) => return Some(half),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    answer.recv().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::limbs::{from_biguint, to_biguint};
    use num_bigint::BigUint;

    fn prime_like(k: u32) -> BigUint {
        // Any odd 1024-bit modulus will do for the arithmetic.
        (BigUint::ONE << 1024u32) - BigUint::from(k)
    }

    #[test]
    fn the_pair_is_the_two_exponentiations_whoever_runs_them() {
        let (mp, mq) = (prime_like(105), prime_like(123));
        let (p, q) = (Mont1024::new(&mp).unwrap(), Mont1024::new(&mq).unwrap());
        let limbs = |x: &BigUint| from_biguint(x, 16).unwrap();
        // Several threads at once, so that some find the helper busy and compute both halves
        // themselves, and some hand the second one off.
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let (p, q, mp, mq) = (&p, &q, &mp, &mq);
                s.spawn(move || {
                    for i in 0..8u32 {
                        let x = BigUint::from(3u32 + t * 100 + i).pow(300) % mp;
                        let y = BigUint::from(5u32 + t * 100 + i).pow(300) % mq;
                        let e = (BigUint::ONE << 1023u32) + BigUint::from(0x1234_5678u32 * (i + 1));
                        let f = (BigUint::ONE << 1022u32) + BigUint::from(0x7654_3210u32 + t);
                        let (a, b) =
                            pow_pair((p, &limbs(&x), &limbs(&e)), (q, &limbs(&y), &limbs(&f)));
                        assert_eq!(to_biguint(&a), x.modpow(&e, mp));
                        assert_eq!(to_biguint(&b), y.modpow(&f, mq));
                    }
                });
            }
        });
    }

    /// A handed-off half that the caller does not take back is computed by the helper thread
    /// (the test above passes even if every half ran in the caller; this one does not).
    #[test]
    fn the_helper_computes_a_half_handed_to_it() {
        let m = prime_like(123);
        let q = Mont1024::new(&m).unwrap();
        let x = BigUint::from(7u32).pow(400) % &m;
        let e = (BigUint::ONE << 1023u32) + BigUint::from(0xabcd_ef01u32);
        let (x_limbs, e_limbs) = (from_biguint(&x, 16).unwrap(), from_biguint(&e, 16).unwrap());
        // Another test may hold the helper for a moment; wait for it to be free.
        let (helper, pending) = loop {
            match hand_off(&q, &x_limbs, &e_limbs) {
                Some(taken) => break taken,
                None => std::thread::yield_now(),
            }
        };
        let half = wait(&pending.answer).expect("the helper answers");
        assert_eq!(pending.claim.load(Ordering::Acquire), BY_HELPER);
        helper.busy.store(false, Ordering::Release);
        assert_eq!(to_biguint(&half), x.modpow(&e, &m));
    }

    #[test]
    fn a_busy_helper_means_both_halves_here() {
        let h = helper().expect("the helper thread starts");
        // Hold the helper, as another connection's half would.
        while h
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::thread::yield_now();
        }
        let m = prime_like(105);
        let q = Mont1024::new(&m).unwrap();
        assert!(
            hand_off(&q, &[2; 16], &[3; 16]).is_none(),
            "the helper is taken"
        );
        h.busy.store(false, Ordering::Release);
    }
}
