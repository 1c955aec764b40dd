//! A pool of connections to one server, shared between threads.
//!
//! Calls run on the caller's own session: the pool lends it a connection
//! for the call ([`Session::put_link`]) and takes it back after, so that the
//! caller's timeouts, cancel, trace and envelope options apply and the
//! results are read exactly as after a session call. A connection is opened
//! when none is free and fewer than the maximum are open; otherwise the call
//! waits for one, within its call deadline.
//!
//! What the pool guarantees about a message (at most once):
//! - reported sent only when the reply after its data said so;
//! - sent again on a new connection only when the old one died (dropped,
//!   or closed by the server's 421) before the message's data went out in
//!   full: the server cannot have taken it;
//! - never sent again once its data went out in full: a connection lost
//!   before the reply makes it [`Error::OutcomeUnknown`].

mod send;

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::cancel::{wait, Woke};
use crate::error::{Error, Result};
use crate::session::{Kind, Link, Profile, Session};
use crate::trace::Direction;

/// How many times a message is tried: once, and again on a new connection
/// after each connection that died before its data went out.
const ATTEMPTS: usize = 3;

/// How often a call waiting for a free connection looks at its cancel.
const WAIT_SLICE: Duration = Duration::from_millis(10);

/// What a pool may do; set before or between calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Connections open at most (at least 1).
    pub max_connections: usize,
    /// STARTTLS on every connection (SMTP and LMTP sessions).
    pub starttls: bool,
    /// A connection is closed (QUIT) after this many messages; 0: never.
    pub max_messages: u64,
    /// An idle connection older than this is closed instead of reused.
    pub max_idle: Option<Duration>,
    /// An idle connection older than this is probed with NOOP before reuse.
    pub probe_idle: Option<Duration>,
    /// Messages per second at most, over the whole pool; 0: no limit.
    pub rate: u64,
}

impl Options {
    pub fn new(max_connections: usize) -> Options {
        Options {
            max_connections: max_connections.max(1),
            starttls: false,
            max_messages: 100,
            max_idle: Some(Duration::from_secs(60)),
            probe_idle: Some(Duration::from_secs(5)),
            rate: 0,
        }
    }
}

/// Counters since the pool was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections opened.
    pub opened: u64,
    /// Connections open now (lent or idle).
    pub open: u64,
    /// Connections idle now.
    pub idle: u64,
    /// Messages reported sent.
    pub sent: u64,
    /// Messages sent again on a new connection after one died.
    pub retried: u64,
    /// Idle connections probed, and of those found dead.
    pub probed: u64,
    pub probe_failed: u64,
    /// Connections closed after `max_messages` or `max_idle`.
    pub retired: u64,
    /// Messages whose outcome is unknown.
    pub unknown: u64,
}

/// Authenticates a newly opened connection (a login pair, or the caller's
/// SASL mechanism); called on any thread, maybe on several at once.
pub type Authenticate = Arc<dyn Fn(&mut Session) -> Result<()> + Send + Sync>;

struct Idle {
    link: Link,
    since: Instant,
    messages: u64,
}

struct Shared {
    profile: Profile,
    options: Options,
    auth: Option<Authenticate>,
    idle: Vec<Idle>,
    open: usize,
    /// The earliest a message may start under the rate limit.
    next_slot: Option<Instant>,
    stats: Stats,
}

/// A connection lent to a call: how many messages it carried before. If
/// the call never gives it back (a panic), its place in the pool frees.
struct Lent<'p> {
    pool: &'p Pool,
    messages: u64,
    returned: bool,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if !self.returned {
            self.pool.closed();
        }
    }
}

pub struct Pool {
    host: String,
    port: u16,
    shared: Mutex<Shared>,
    /// Rung when a connection comes back or closes.
    freed: Condvar,
}

impl Pool {
    /// A pool of connections like `profile` to `host` (a name, an address,
    /// or for LMTP a Unix socket path) and `port` (0: the kind's default).
    pub fn new(profile: Profile, host: &str, port: u16, options: Options) -> Result<Pool> {
        if host.is_empty() {
            return Err(Error::InvalidArgument("host is empty".into()));
        }
        crate::command::check_line_text("host", host)?;
        Ok(Pool {
            host: host.to_string(),
            port,
            shared: Mutex::new(Shared {
                profile,
                options,
                auth: None,
                idle: Vec::new(),
                open: 0,
                next_slot: None,
                stats: Stats::default(),
            }),
            freed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic elsewhere cannot leave the counters half-updated.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn options(&self) -> Options {
        self.lock().options
    }

    pub fn set_options(&self, options: Options) {
        self.lock().options = Options { max_connections: options.max_connections.max(1), ..options };
        self.freed.notify_all();
    }

    /// How new connections authenticate; `None`: they do not.
    pub fn set_auth(&self, auth: Option<Authenticate>) {
        self.lock().auth = auth;
    }

    pub fn stats(&self) -> Stats {
        let sh = self.lock();
        Stats { open: sh.open as u64, idle: sh.idle.len() as u64, ..sh.stats }
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.lock().stats);
    }

    /// A pool call runs on an unconnected session of the pool's kind.
    fn check_seat(&self, seat: &Session) -> Result<()> {
        if seat.is_connected() {
            return Err(Error::BadState(
                "the session is connected; a pool call needs an unconnected session (the pool lends it a connection)"
                    .into(),
            ));
        }
        let kind = self.lock().profile.kind;
        if (seat.kind() == Kind::Lmtp) != (kind == Kind::Lmtp) {
            return Err(Error::InvalidArgument(format!(
                "the session is {:?} and the pool {:?}: LMTP and SMTP do not mix",
                seat.kind(),
                kind
            )));
        }
        Ok(())
    }

    /// Wait until `messages` more may start under the rate limit, within
    /// the call's deadline and cancel.
    fn pace(&self, seat: &Session, messages: u64) -> Result<()> {
        let start = {
            let mut sh = self.lock();
            if sh.options.rate == 0 {
                return Ok(());
            }
            let now = Instant::now();
            let start = sh.next_slot.map_or(now, |t| t.max(now));
            if seat.call_deadline().is_some_and(|d| d < start) {
                return Err(Error::Timeout(
                    "the pool's rate limit would start the message after the call deadline (SMTP_TIMEOUT_CALL)".into(),
                ));
            }
            let per = Duration::from_secs_f64(1.0 / sh.options.rate as f64);
            sh.next_slot = Some(start + per.mul_f64(messages as f64));
            start
        };
        match wait(None, 0, Some(start), &seat.canceller()) {
            Ok(Woke::Cancelled) => Err(crate::connect::cancelled()),
            Ok(_) => Ok(()),
            Err(e) => Err(Error::Io(format!("waiting for the rate limit: {e}"))),
        }
    }

    /// Put a connection into `seat`: an idle one (probed if it sat long,
    /// closed if it sat too long), else a new one, else wait for one.
    fn lend(&self, seat: &mut Session) -> Result<Lent<'_>> {
        let canceller = seat.canceller();
        loop {
            let mut sh = self.lock();
            // Most recently used first: the others age out.
            if let Some(idle) = sh.idle.pop() {
                let opts = sh.options;
                drop(sh);
                let age = idle.since.elapsed();
                if opts.max_idle.is_some_and(|m| age >= m) {
                    self.retire(seat, idle.link);
                    continue;
                }
                seat.put_link(idle.link);
                if opts.probe_idle.is_some_and(|p| age >= p) && !self.probe(seat) {
                    continue;
                }
                return Ok(Lent { pool: self, messages: idle.messages, returned: false });
            }
            if sh.open < sh.options.max_connections {
                sh.open += 1;
                let (profile, auth, starttls) = (sh.profile.clone(), sh.auth.clone(), sh.options.starttls);
                drop(sh);
                return match self.open(seat, &profile, auth, starttls) {
                    Ok(link) => {
                        seat.put_link(link);
                        Ok(Lent { pool: self, messages: 0, returned: false })
                    }
                    Err(e) => {
                        self.closed();
                        Err(e)
                    }
                };
            }
            if canceller.is_cancelled() {
                return Err(crate::connect::cancelled());
            }
            let slice = match seat.call_deadline() {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::Timeout(
                            "no connection of the pool became free within the call deadline (SMTP_TIMEOUT_CALL)".into(),
                        ));
                    }
                    left.min(WAIT_SLICE)
                }
                None => WAIT_SLICE,
            };
            drop(self.freed.wait_timeout(sh, slice).unwrap_or_else(|p| p.into_inner()));
        }
    }

    /// Open a connection like the pool's profile, as part of `seat`'s call:
    /// connect, EHLO, STARTTLS and EHLO again if asked, authenticate.
    fn open(&self, seat: &mut Session, profile: &Profile, auth: Option<Authenticate>, starttls: bool) -> Result<Link> {
        let mut s = Session::from_profile(profile);
        s.serve(seat);
        let r = (|| {
            s.open(&self.host, self.port)?;
            s.ehlo_or_helo_if_needed()?;
            if starttls {
                s.starttls(None)?;
                s.ehlo_or_helo_if_needed()?;
            }
            if let Some(auth) = &auth {
                auth(&mut s)?;
            }
            Ok(())
        })();
        s.end_serving(seat);
        if let Err(e) = r {
            s.close();
            return Err(e);
        }
        if profile.local_hostname.is_none() {
            // Learn the name once for the connections to come.
            if let Ok(name) = s.local_hostname() {
                self.lock().profile.local_hostname = Some(name);
            }
        }
        self.count(|st| st.opened += 1);
        Ok(s.take_link())
    }

    /// NOOP on a connection that sat idle; a dead one is dropped.
    fn probe(&self, seat: &mut Session) -> bool {
        let alive = matches!(seat.noop(), Ok(r) if r.code == 250);
        self.count(|st| {
            st.probed += 1;
            st.probe_failed += u64::from(!alive);
        });
        if !alive {
            seat.trace.line(Direction::Info, "pool", "the idle connection failed its probe; opening another");
            seat.take_link().close();
            self.closed();
        }
        alive
    }

    /// Take the connection back from `seat` after `messages` more: keep it,
    /// or retire it after `max_messages`. Returns whether it is still open.
    fn give_back(&self, seat: &mut Session, mut lent: Lent<'_>, messages: u64) -> bool {
        lent.returned = true;
        let link = seat.take_link();
        if !link.is_open() {
            self.closed();
            return false;
        }
        let messages = lent.messages + messages;
        let max = self.lock().options.max_messages;
        if max > 0 && messages >= max {
            self.retire(seat, link);
            return true;
        }
        self.lock().idle.push(Idle { link, since: Instant::now(), messages });
        self.freed.notify_one();
        true
    }

    /// QUIT and close a connection that served its time, within `seat`'s
    /// call (errors do not matter: the connection is done).
    fn retire(&self, seat: &mut Session, link: Link) {
        let last = seat.last_reply().cloned();
        seat.put_link(link);
        let _ = seat.quit();
        seat.close();
        seat.restore_last_reply(last);
        self.count(|st| st.retired += 1);
        self.closed();
    }

    /// One connection fewer: a waiting call may open one.
    fn closed(&self) {
        self.lock().open -= 1;
        self.freed.notify_one();
    }
}

impl Drop for Pool {
    /// Idle connections are closed without QUIT: freeing must not wait on
    /// a server.
    fn drop(&mut self) {
        let sh = self.shared.get_mut().unwrap_or_else(|p| p.into_inner());
        for idle in sh.idle.drain(..) {
            idle.link.close();
        }
    }
}
