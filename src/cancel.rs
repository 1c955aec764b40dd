//! Waiting that another thread can end: the one poll(2) wait every network
//! operation goes through, and the session's canceller.
//!
//! A session owns one [`Canceller`]; `smtp_session_cancel` (from any
//! thread) marks the running call cancelled and writes a byte to a wake
//! pipe that every wait polls beside the socket, so the wait ends at once.
//! The mark is the truth and the pipe only a doorbell: a wait that wakes
//! reads the mark, so a stale byte costs one spurious wake, never a lost
//! cancel. A cancel while no call runs does nothing.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use crate::sys::{self, PollFd, POLLIN};

const IDLE: u8 = 0;
const RUNNING: u8 = 1;
const CANCELLED: u8 = 2;

/// A call's cancel mark and the pipe that wakes its waits.
#[derive(Debug, Default)]
pub struct Canceller {
    state: AtomicU8,
    /// (read end, write end), both non-blocking; made by the call thread on
    /// first use, only read (never made) by the cancelling thread. A socket
    /// pair rather than pipe2(2), which Apple's systems lack.
    pipe: OnceLock<(UnixStream, UnixStream)>,
}

impl Canceller {
    /// A call starts: cancels from now on apply to it.
    pub fn begin(&self) {
        self.state.store(RUNNING, Ordering::SeqCst);
        self.drain();
    }

    /// The call is over: a cancel now does nothing.
    pub fn end(&self) {
        self.state.store(IDLE, Ordering::SeqCst);
    }

    /// Cancel the running call, if any (callable from any thread).
    pub fn cancel(&self) {
        if self.state.compare_exchange(RUNNING, CANCELLED, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.wake();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.state.load(Ordering::SeqCst) == CANCELLED
    }

    /// Ring the doorbell: the current wait wakes and looks again (the
    /// cancel mark, or a resolver thread's answer).
    pub fn wake(&self) {
        if let Some((_, w)) = self.pipe.get() {
            // A full pipe (WouldBlock) already holds a wake-up: nothing lost.
            let _ = (&*w).write(&[1u8]);
        }
    }

    /// The read end of the wake pipe, made on first use. A thread that
    /// will ring the doorbell must not start before it exists (its ring
    /// would be lost): call this first.
    pub fn wake_fd(&self) -> io::Result<RawFd> {
        if let Some((r, _)) = self.pipe.get() {
            return Ok(r.as_raw_fd());
        }
        // std makes both ends close-on-exec.
        let pair = UnixStream::pair()?;
        pair.0.set_nonblocking(true)?;
        pair.1.set_nonblocking(true)?;
        // Only the call thread makes the pipe, so this set cannot lose a race.
        let _ = self.pipe.set(pair);
        Ok(self.pipe.get().expect("just set").0.as_raw_fd())
    }

    fn drain(&self) {
        if let Some((r, _)) = self.pipe.get() {
            let mut buf = [0u8; 64];
            while (&*r).read(&mut buf).is_ok_and(|n| n > 0) {}
        }
    }
}

/// How a [`wait`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Woke {
    /// The socket is ready: poll's revents (of [`wait_set`]: of every
    /// socket of the set, or'ed; each entry has its own).
    Ready(i16),
    /// The doorbell rang and the call is not cancelled: look again.
    Rung,
    /// `until` came.
    TimedOut,
    /// The call was cancelled.
    Cancelled,
}

/// Wait until `fd` (when given) has one of `events`, `until` comes, or the
/// call is cancelled; whichever is first.
pub fn wait(fd: Option<RawFd>, events: i16, until: Option<Instant>, canceller: &Canceller) -> io::Result<Woke> {
    let mut set = [PollFd::new(-1, 0), PollFd::new(fd.unwrap_or(-1), events)];
    wait_set(&mut set, until, canceller)
}

/// [`wait`] for several sockets at once: `set[1..]` are the sockets and
/// `set[0]` is the doorbell's place, filled in here. After `Ready` each
/// entry's `revents` says whether that socket is.
pub fn wait_set(set: &mut [PollFd], until: Option<Instant>, canceller: &Canceller) -> io::Result<Woke> {
    set[0] = PollFd::new(canceller.wake_fd()?, POLLIN);
    loop {
        if canceller.is_cancelled() {
            return Ok(Woke::Cancelled);
        }
        let ms = match until {
            None => -1,
            Some(t) => {
                let left = t.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(Woke::TimedOut);
                }
                // Rounded up: waking a little early would only spin.
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
            }
        };
        if let Err(e) = sys::poll(set, ms) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if set[0].revents() != 0 {
            canceller.drain();
            if canceller.is_cancelled() {
                return Ok(Woke::Cancelled);
            }
            return Ok(Woke::Rung);
        }
        let ready = set[1..].iter().fold(0, |acc, p| acc | p.revents());
        if ready != 0 {
            return Ok(Woke::Ready(ready));
        }
        // Nothing: loop to decide between the deadline and a spurious return.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn deadline_ends_a_wait() {
        let c = Canceller::default();
        c.begin();
        let t = Instant::now();
        assert_eq!(wait(None, 0, Some(t + Duration::from_millis(50)), &c).unwrap(), Woke::TimedOut);
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(50) && took < Duration::from_millis(150), "{took:?}");
    }

    #[test]
    fn cancel_from_another_thread_ends_a_wait() {
        let c = Arc::new(Canceller::default());
        c.begin();
        let c2 = c.clone();
        let t = Instant::now();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            c2.cancel();
        });
        assert_eq!(wait(None, 0, Some(t + Duration::from_secs(10)), &c).unwrap(), Woke::Cancelled);
        assert!(t.elapsed() < Duration::from_secs(1));
        h.join().unwrap();
        c.end();
    }

    #[test]
    fn cancel_while_idle_does_nothing() {
        let c = Canceller::default();
        c.cancel();
        c.begin();
        assert!(!c.is_cancelled());
        let t = Instant::now() + Duration::from_millis(20);
        assert_eq!(wait(None, 0, Some(t), &c).unwrap(), Woke::TimedOut);
        c.end();
    }

    /// A ring before the first wait is kept once the pipe exists (the
    /// lookup thread makes sure it does before it starts).
    #[test]
    fn a_ring_before_the_wait_is_not_lost() {
        let c = Canceller::default();
        c.begin();
        c.wake_fd().unwrap();
        c.wake();
        assert_eq!(wait(None, 0, Some(Instant::now() + Duration::from_secs(5)), &c).unwrap(), Woke::Rung);
    }

    #[test]
    fn a_stale_doorbell_is_a_spurious_wake_only() {
        let c = Canceller::default();
        c.begin();
        let _ = c.wake_fd().unwrap();
        c.wake();
        assert_eq!(wait(None, 0, Some(Instant::now() + Duration::from_secs(5)), &c).unwrap(), Woke::Rung);
        assert_eq!(wait(None, 0, Some(Instant::now() + Duration::from_millis(10)), &c).unwrap(), Woke::TimedOut);
    }
}
