//! An ordered, bounded parallel map: jobs `0..n` run on `threads` worker
//! threads and their results reach one consumer, on the calling thread, in
//! job order, with at most `window` results alive at a time.
//!
//! The packing pass needs this shape: row groups are decoded and compressed
//! in parallel but appended to their files in order (so the output bytes do
//! not depend on the thread count), and memory must stay bounded whatever
//! the dataset size. rayon's parallel iterators either collect everything or,
//! run batch by batch, make every thread wait at each batch's end for the
//! slowest job (the packing pass scaled 1.4x on 2 threads that way); with a
//! sliding window a thread starts the next job as soon as it is within
//! `window` of the consumer. No maintained crate offers an ordered streaming
//! map with a bound on memory, so it is written here on std's `Mutex` and
//! `Condvar` (about 60 lines). Worker threads are plain threads, not rayon's:
//! the caller may itself be a rayon worker, and blocking it as the consumer
//! must not take a thread from the jobs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

struct State<T> {
    done: BTreeMap<usize, T>,
    /// The first job not yet consumed; jobs from `next + window` on wait.
    next: usize,
    /// The consumer stopped (an error) or a worker panicked.
    stop: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    cv: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.cv.notify_all();
    }
}

/// Tells the others to stop when its worker unwinds.
struct PanicGuard<'a, T>(&'a Shared<T>);

impl<T> Drop for PanicGuard<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

/// Runs `job(i)` for `i` in `0..n` on `threads` threads and calls
/// `consume(i, result)` for each in order of `i`, on this thread. The first
/// error of `consume` stops the jobs not yet started and is returned. A
/// panic in a job is raised here once the workers have stopped.
pub fn ordered_map<T, E>(
    n: usize,
    threads: usize,
    window: usize,
    job: impl Fn(usize) -> T + Sync,
    mut consume: impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
{
    let window = window.max(1);
    let shared = Shared {
        state: Mutex::new(State {
            done: BTreeMap::new(),
            next: 0,
            stop: false,
        }),
        cv: Condvar::new(),
    };
    let claim = AtomicUsize::new(0);
    let worker = || {
        let _guard = PanicGuard(&shared);
        loop {
            let i = claim.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return;
            }
            {
                let mut st = shared.lock();
                while !st.stop && i >= st.next + window {
                    st = shared.cv.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                if st.stop {
                    return;
                }
            }
            let r = job(i);
            shared.lock().done.insert(i, r);
            shared.cv.notify_all();
        }
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1).min(n.max(1)))
            .map(|_| scope.spawn(worker))
            .collect();
        let consumed = (|| {
            for i in 0..n {
                let r = {
                    let mut st = shared.lock();
                    loop {
                        if let Some(r) = st.done.remove(&i) {
                            break Some(r);
                        }
                        if st.stop {
                            break None; // a worker panicked: raised below
                        }
                        st = shared.cv.wait(st).unwrap_or_else(|p| p.into_inner());
                    }
                };
                let Some(r) = r else { return Ok(()) };
                if let Err(e) = consume(i, r) {
                    shared.stop();
                    return Err(e);
                }
                // Job i is gone only now: at most `window` results are alive.
                shared.lock().next = i + 1;
                shared.cv.notify_all();
            }
            Ok(())
        })();
        for w in workers {
            if let Err(payload) = w.join() {
                std::panic::resume_unwind(payload);
            }
        }
        consumed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn results_arrive_in_order_with_a_bounded_window() {
        for threads in [1, 2, 5] {
            let alive = AtomicUsize::new(0);
            let peak = AtomicUsize::new(0);
            let mut seen = Vec::new();
            ordered_map(
                200,
                threads,
                4,
                |i| {
                    let a = alive.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(a, Ordering::SeqCst);
                    // Later jobs finish first sometimes.
                    std::thread::sleep(std::time::Duration::from_micros((7 * i % 5) as u64 * 50));
                    i * 3
                },
                |i, v| {
                    assert_eq!(v, i * 3);
                    seen.push(i);
                    alive.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, ()>(())
                },
            )
            .unwrap();
            assert_eq!(seen, (0..200).collect::<Vec<_>>());
            assert!(
                peak.load(Ordering::SeqCst) <= 4,
                "threads {threads}: {peak:?}"
            );
        }
    }

    #[test]
    fn an_error_stops_the_jobs_and_is_returned() {
        let ran = AtomicUsize::new(0);
        let r = ordered_map(
            10_000,
            2,
            3,
            |i| {
                ran.fetch_add(1, Ordering::SeqCst);
                i
            },
            |i, _| {
                if i == 5 {
                    Err(format!("job {i}"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r, Err("job 5".to_string()));
        // Jobs 0..5 + 3 at most started before the consumer stopped them.
        assert!(ran.load(Ordering::SeqCst) <= 8, "{ran:?}");
    }

    #[test]
    #[should_panic(expected = "job 3 failed")]
    fn a_panicking_job_is_raised_not_hung() {
        let _ = ordered_map(
            100,
            2,
            4,
            |i| {
                if i == 3 {
                    panic!("job 3 failed");
                }
                i
            },
            |_, _| Ok::<_, ()>(()),
        );
    }
}
