//! `memory.atomic.wait` and `memory.atomic.notify`: threads wait on an
//! address of a shared memory until another one notifies it.
//!
//! One process-wide table maps native addresses to their waiters, in the
//! order they came. The value at the address is compared under the table's
//! lock, and notifiers take the same lock, so a notify between the compare
//! and the wait is never lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex};
use std::time::{Duration, Instant};

/// One waiting thread: woken when `notified` turns true.
#[derive(Default)]
struct Waiter {
    notified: Mutex<bool>,
    wake: Condvar,
}

/// Waiters by native address.
static WAITERS: LazyLock<Mutex<HashMap<usize, Vec<Arc<Waiter>>>>> = LazyLock::new(Mutex::default);

/// What a wait ended with, as wasm numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Woken {
    /// Notified.
    Ok = 0,
    /// The value at the address was not the one expected.
    NotEqual = 1,
    /// The timeout passed first.
    TimedOut = 2,
}

/// Waits at `addr` while it holds `expected` (a 32-bit value unless
/// `wide`), for at most `timeout` (forever when `None`).
///
/// # Safety
///
/// `addr` must be aligned for its width and lie in a live memory.
pub(crate) unsafe fn wait(
    addr: usize,
    expected: u64,
    wide: bool,
    timeout: Option<Duration>,
) -> Woken {
    let waiter = Arc::new(Waiter::default());
    {
        let mut table = WAITERS.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: aligned and live, per the contract; other threads access
        // the word atomically too.
        let current = unsafe {
            if wide {
                AtomicU64::from_ptr(addr as *mut u64).load(Ordering::SeqCst)
            } else {
                u64::from(AtomicU32::from_ptr(addr as *mut u32).load(Ordering::SeqCst))
            }
        };
        if current != expected {
            return Woken::NotEqual;
        }
        table.entry(addr).or_default().push(waiter.clone());
    }
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut notified = waiter.notified.lock().unwrap_or_else(|e| e.into_inner());
    while !*notified {
        match deadline {
            None => {
                notified = waiter
                    .wake
                    .wait(notified)
                    .unwrap_or_else(|e| e.into_inner());
            }
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                notified = (waiter.wake.wait_timeout(notified, left))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
    if *notified {
        return Woken::Ok;
    }
    drop(notified);
    // Timed out: leave the queue, unless a notify took this waiter meanwhile.
    let mut table = WAITERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(queue) = table.get_mut(&addr) {
        queue.retain(|w| !Arc::ptr_eq(w, &waiter));
    }
    if *waiter.notified.lock().unwrap_or_else(|e| e.into_inner()) {
        Woken::Ok
    } else {
        Woken::TimedOut
    }
}

/// Wakes up to `count` of the threads waiting at `addr`, oldest first;
/// returns how many it woke.
pub(crate) fn notify(addr: usize, count: u32) -> u32 {
    let mut table = WAITERS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(queue) = table.get_mut(&addr) else {
        return 0;
    };
    let n = queue.len().min(count as usize);
    for waiter in queue.drain(..n) {
        *waiter.notified.lock().unwrap_or_else(|e| e.into_inner()) = true;
        waiter.wake.notify_one();
    }
    if queue.is_empty() {
        table.remove(&addr);
    }
    n as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_wakes_a_waiter_and_a_mismatch_or_timeout_returns_at_once() {
        let word = Box::new(AtomicU32::new(7));
        let addr = word.as_ptr() as usize;
        // SAFETY: the word is aligned and lives through the test.
        unsafe {
            assert_eq!(wait(addr, 8, false, None), Woken::NotEqual);
            assert_eq!(
                wait(addr, 7, false, Some(Duration::from_millis(1))),
                Woken::TimedOut
            );
        }
        let waiting = std::thread::spawn(move || {
            // SAFETY: as above; the box outlives the join below.
            unsafe { wait(addr, 7, false, None) }
        });
        // Notify until the waiter has queued and been woken.
        let mut woken = 0;
        while woken == 0 {
            woken = notify(addr, 1);
            std::thread::yield_now();
        }
        assert_eq!(waiting.join().unwrap(), Woken::Ok);
        assert_eq!(notify(addr, 1), 0);
        drop(word);
    }
}
