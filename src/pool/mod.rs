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

mod queue;
mod send;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::cancel::{wait, Woke};
use crate::error::{Error, Result};
use crate::session::{Kind, Link, Profile, Session};
use crate::trace::Direction;
use queue::{Grant, Queue};

/// How many times a message is tried: once, and again on a new connection
/// after each connection that died before its data went out.
const ATTEMPTS: usize = 3;

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
            max_connections,
            starttls: false,
            max_messages: 1000,
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
    /// Connections open or being opened, lent or idle.
    open: usize,
    queue: Queue,
    /// The earliest a message may start under the rate limit.
    next_slot: Option<Instant>,
    stats: Stats,
}

/// A connection lent to a call: how many messages it carried before. If
/// the call never gives it back (a panic), its room in the pool frees.
struct Lent<'p> {
    pool: &'p Pool,
    messages: u64,
    returned: bool,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if !self.returned {
            Pool::release(&mut self.pool.lock(), Grant::Room);
        }
    }
}

/// What one call did, counted when it gives its connection back.
#[derive(Default)]
struct Tally {
    sent: u64,
    retried: u64,
    unknown: u64,
}

pub struct Pool {
    host: String,
    port: u16,
    kind: Kind,
    shared: Mutex<Shared>,
}

impl Pool {
    /// A pool of connections like `profile` to `host` (a name, an address,
    /// or for LMTP a Unix socket path) and `port` (0: the kind's default).
    pub fn new(profile: Profile, host: &str, port: u16, options: Options) -> Result<Pool> {
        if host.is_empty() {
            return Err(Error::InvalidArgument("host is empty".into()));
        }
        if options.max_connections == 0 {
            return Err(Error::InvalidArgument("max_connections is 0".into()));
        }
        crate::command::check_line_text("host", host)?;
        let kind = profile.kind;
        Ok(Pool {
            host: host.to_string(),
            port,
            kind,
            shared: Mutex::new(Shared {
                profile,
                options,
                auth: None,
                idle: Vec::new(),
                open: 0,
                queue: Queue::default(),
                next_slot: None,
                stats: Stats::default(),
            }),
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
        let mut sh = self.lock();
        sh.options = Options { max_connections: options.max_connections.max(1), ..options };
        Pool::grant_room(&mut sh);
    }

    /// How new connections authenticate; `None`: they do not.
    pub fn set_auth(&self, auth: Option<Authenticate>) {
        self.lock().auth = auth;
    }

    pub fn stats(&self) -> Stats {
        let sh = self.lock();
        Stats { open: sh.open as u64, idle: sh.idle.len() as u64, ..sh.stats }
    }

    /// A pool call runs on an unconnected session of the pool's kind.
    fn check_seat(&self, seat: &Session) -> Result<()> {
        if seat.is_connected() {
            return Err(Error::BadState(
                "the session is connected; a pool call needs an unconnected session (the pool lends it a connection)"
                    .into(),
            ));
        }
        if (seat.kind() == Kind::Lmtp) != (self.kind == Kind::Lmtp) {
            return Err(Error::InvalidArgument(format!(
                "the session is {:?} and the pool {:?}: LMTP and SMTP do not mix",
                seat.kind(),
                self.kind
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
    /// replaced if it sat too long or failed the probe), or a new one, in
    /// turn with the other calls.
    fn lend(&self, seat: &mut Session) -> Result<Lent<'_>> {
        let grant = self.acquire(seat.call_deadline(), &seat.canceller())?;
        let lent = |messages| Lent { pool: self, messages, returned: false };
        if let Grant::Idle(idle) = grant {
            let age = idle.since.elapsed();
            let (max_idle, probe_idle) = {
                let o = self.lock().options;
                (o.max_idle, o.probe_idle)
            };
            if max_idle.is_some_and(|m| age >= m) {
                // Too old to trust: close it and open another in its room.
                self.quit(seat, idle.link);
            } else {
                seat.put_link(idle.link);
                if probe_idle.is_none_or(|p| age < p) || self.probe(seat) {
                    return Ok(lent(idle.messages));
                }
            }
        }
        let (profile, auth, starttls) = {
            let sh = self.lock();
            (sh.profile.clone(), sh.auth.clone(), sh.options.starttls)
        };
        match self.open(seat, &profile, auth, starttls) {
            Ok(link) => {
                seat.put_link(link);
                Ok(lent(0))
            }
            Err(e) => {
                Pool::release(&mut self.lock(), Grant::Room);
                Err(e)
            }
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
        let name = if profile.local_hostname.is_none() { s.local_hostname().ok() } else { None };
        let mut sh = self.lock();
        sh.stats.opened += 1;
        if let Some(name) = name {
            // Learned once for the connections to come.
            sh.profile.local_hostname = Some(name);
        }
        Ok(s.take_link())
    }

    /// NOOP on a connection that sat idle; a dead one is closed.
    fn probe(&self, seat: &mut Session) -> bool {
        let alive = matches!(seat.noop(), Ok(r) if r.code == 250);
        {
            let mut sh = self.lock();
            sh.stats.probed += 1;
            sh.stats.probe_failed += u64::from(!alive);
        }
        if !alive {
            seat.trace.line(Direction::Info, "pool", "the idle connection failed its probe; opening another");
            seat.take_link().close();
        }
        alive
    }

    /// Take the connection back from `seat` after `messages` more: keep it
    /// for the next call, or retire it after `max_messages`.
    fn give_back(&self, seat: &mut Session, mut lent: Lent<'_>, messages: u64, tally: Tally) {
        lent.returned = true;
        let link = seat.take_link();
        let open = link.is_open();
        let messages = lent.messages + messages;
        let mut sh = self.lock();
        sh.stats.sent += tally.sent;
        sh.stats.retried += tally.retried;
        sh.stats.unknown += tally.unknown;
        let o = sh.options;
        let retire = open && ((o.max_messages > 0 && messages >= o.max_messages) || sh.open > o.max_connections);
        if open && !retire {
            Pool::release(&mut sh, Grant::Idle(Box::new(Idle { link, since: Instant::now(), messages })));
            return;
        }
        drop(sh);
        if retire {
            self.quit(seat, link);
        }
        Pool::release(&mut self.lock(), Grant::Room);
    }

    /// QUIT and close a connection that served its time, within `seat`'s
    /// call (errors do not matter: the connection is done).
    fn quit(&self, seat: &mut Session, link: Link) {
        let last = seat.last_reply().cloned();
        seat.put_link(link);
        let _ = seat.quit();
        seat.close();
        seat.restore_last_reply(last);
        self.lock().stats.retired += 1;
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
