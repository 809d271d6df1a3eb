//! Threads that are reused from one connection to the next, for [`crate::net::serve`].
//!
//! The server's model is the simplest one there is: one thread per connection, running blocking
//! reads and writes straight down the handshake and the handler. A thread that waits for its peer
//! costs only the stack pages it has touched (on Linux about 20 KiB, of the 2 MiB reserved), so
//! a thousand idle connections are a thousand sleeping threads and a few tens of MiB.
//!
//! What this module adds is that the threads are not started and ended per connection. Starting
//! one costs a `clone`, a stack mapping, its guard page and its signal stack, and ending it
//! unmapping them again: tens of microseconds of kernel work, more than a whole resumed handshake
//! takes. So a thread that has finished a connection waits for the next one for
//! [`IDLE_EXIT`] before it ends, and a new thread is started only when a connection arrives and no
//! thread is waiting. There is no fixed pool size: a fixed pool of N threads would leave the
//! (N + 1)th client waiting however idle the first N are. How many connections run at once is
//! bounded by the caller (the server's connection slots), and the number of threads follows it.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long a thread without a connection waits for one before it ends.
pub const IDLE_EXIT: Duration = Duration::from_secs(10);

/// A unit of work: one connection, from the handshake to the close.
type Job = Box<dyn FnOnce() + Send>;

/// Runs jobs on reused threads (see the module documentation).
pub struct Workers {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a job is queued for a waiting thread.
    queued: Condvar,
}

#[derive(Default)]
struct State {
    /// Jobs handed to waiting threads and not yet picked up.
    queue: VecDeque<Job>,
    /// Threads waiting for a job.
    waiting: usize,
}

impl Default for Workers {
    fn default() -> Self {
        Self::new()
    }
}

impl Workers {
    pub fn new() -> Self {
        Workers {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                queued: Condvar::new(),
            }),
        }
    }

    /// Runs `job` on a thread that is waiting for work, or on a new one if none is. Fails only if
    /// a new thread was needed and could not be started; `job` is then dropped unrun.
    pub fn run(&self, job: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let mut state = lock(&self.shared.state);
        // Every queued job is taken by a different waiting thread, so a waiting thread is free
        // for this one only if there are more of them than queued jobs.
        if state.waiting > state.queue.len() {
            state.queue.push_back(Box::new(job));
            self.shared.queued.notify_one();
            return Ok(());
        }
        drop(state);
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("toytls worker".into())
            .spawn(move || {
                job();
                worker(&shared);
            })
            .map(drop)
    }

    /// Threads waiting for work now (for tests and tools).
    pub fn waiting(&self) -> usize {
        lock(&self.shared.state).waiting
    }
}

/// A thread's life after its first job: take the next job, or end after [`IDLE_EXIT`] without one.
fn worker(shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            job();
            state = lock(&shared.state);
            continue;
        }
        state.waiting += 1;
        let (s, timeout) = shared
            .queued
            .wait_timeout(state, IDLE_EXIT)
            .unwrap_or_else(|e| e.into_inner());
        state = s;
        state.waiting -= 1;
        // A job queued just as the wait timed out is still taken: `run` counted this thread.
        if timeout.timed_out() && state.queue.is_empty() {
            return;
        }
    }
}

/// The lock, also if a thread panicked while holding it (no job runs under it, so the state is
/// consistent whenever it is released).
fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn a_finished_thread_runs_the_next_job_instead_of_a_new_one() {
        let workers = Workers::new();
        let (tx, rx) = channel();
        let tx2 = tx.clone();
        workers
            .run(move || tx2.send(std::thread::current().id()).unwrap())
            .unwrap();
        let first = rx.recv().unwrap();
        // Wait until the thread is back waiting for work.
        while workers.waiting() == 0 {
            std::thread::yield_now();
        }
        workers
            .run(move || tx.send(std::thread::current().id()).unwrap())
            .unwrap();
        assert_eq!(rx.recv().unwrap(), first);
    }

    #[test]
    fn jobs_that_block_each_get_their_own_thread() {
        // Each job waits until all have started: with fewer threads than jobs this would hang.
        let workers = Workers::new();
        let n = 8;
        let barrier = Arc::new(std::sync::Barrier::new(n + 1));
        for _ in 0..n {
            let b = barrier.clone();
            workers
                .run(move || {
                    b.wait();
                })
                .unwrap();
        }
        barrier.wait();
    }

    #[test]
    fn a_job_queued_for_a_waiting_thread_is_run_when_several_arrive_at_once() {
        let workers = Workers::new();
        let (tx, rx) = channel();
        let t = tx.clone();
        workers.run(move || t.send(()).unwrap()).unwrap();
        rx.recv().unwrap();
        while workers.waiting() == 0 {
            std::thread::yield_now();
        }
        // One thread waits; three jobs come before it wakes: two new threads are needed, and
        // every job runs.
        let gate = Arc::new(std::sync::Barrier::new(4));
        for _ in 0..3 {
            let (t, g) = (tx.clone(), gate.clone());
            workers
                .run(move || {
                    g.wait();
                    t.send(()).unwrap()
                })
                .unwrap();
        }
        gate.wait();
        for _ in 0..3 {
            rx.recv().unwrap();
        }
    }
}
