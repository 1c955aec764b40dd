//! Who gets a connection next. Calls take an idle connection (or room to
//! open one) whenever there is one, so a thread that sends message after
//! message keeps reusing a warm connection without a hand-over between
//! threads (each costs two context switches: on a loopback server, more
//! than the message itself). Calls that find none queue, and the queue is
//! served fairly: its head watches for a connection coming free, and once
//! it has been head for [`DUE`] the next connection given back goes to it
//! directly. So no call waits for ever behind busier threads: the k-th in
//! the queue gets a connection within about k times [`DUE`] while others
//! are being given back (and within its deadline, always).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, MutexGuard};
use std::time::{Duration, Instant};

use super::{Idle, Pool, Shared};
use crate::cancel::Canceller;
use crate::error::{Error, Result};

/// How long the head of the queue waits before connections given back go
/// to it rather than to whoever asks first.
const DUE: Duration = Duration::from_millis(2);
/// How often the head of the queue looks for a connection that came free
/// (and every waiter at its cancel: the doorbell is a pipe, which a
/// condition variable cannot wait on).
const HEAD_POLL: Duration = Duration::from_millis(1);
const CANCEL_POLL: Duration = Duration::from_millis(10);

/// What a call is given.
pub(super) enum Grant {
    /// An idle connection.
    Idle(Box<Idle>),
    /// Room to open a connection (counted in `open` already).
    Room,
}

/// A queued call.
pub(super) struct Waiter {
    ticket: u64,
    wake: Condvar,
}

/// The queue's state, inside the pool's one lock.
#[derive(Default)]
pub(super) struct Queue {
    waiting: VecDeque<Arc<Waiter>>,
    granted: HashMap<u64, Grant>,
    next_ticket: u64,
    /// Since when the head of the queue has been head.
    head_since: Option<Instant>,
}

impl Queue {
    fn is_head(&self, ticket: u64) -> bool {
        self.waiting.front().is_some_and(|w| w.ticket == ticket)
    }

    /// Take `ticket` out of the queue; a new head starts its turn.
    fn leave(&mut self, ticket: u64) {
        let was_head = self.is_head(ticket);
        self.waiting.retain(|w| w.ticket != ticket);
        if was_head {
            self.new_head();
        }
    }

    fn new_head(&mut self) {
        self.head_since = self.waiting.front().map(|_| Instant::now());
        if let Some(head) = self.waiting.front() {
            head.wake.notify_one();
        }
    }

    /// The head has waited its turn: it gets the next connection.
    fn head_due(&self) -> bool {
        self.head_since.is_some_and(|t| t.elapsed() >= DUE)
    }
}

impl Pool {
    /// An idle connection or room for a new one, if there is one now.
    fn take_free(sh: &mut MutexGuard<'_, Shared>) -> Option<Grant> {
        if let Some(idle) = sh.idle.pop() {
            return Some(Grant::Idle(Box::new(idle)));
        }
        if sh.open < sh.options.max_connections {
            sh.open += 1;
            return Some(Grant::Room);
        }
        None
    }

    /// An idle connection or room for a new one, waiting in the queue for
    /// as long as the call's deadline allows.
    pub(super) fn acquire(&self, deadline: Option<Instant>, canceller: &Canceller) -> Result<Grant> {
        let mut sh = self.lock();
        if let Some(grant) = Pool::take_free(&mut sh) {
            return Ok(grant);
        }
        let ticket = sh.queue.next_ticket;
        sh.queue.next_ticket += 1;
        let me = Arc::new(Waiter { ticket, wake: Condvar::new() });
        sh.queue.waiting.push_back(me.clone());
        if sh.queue.waiting.len() == 1 {
            sh.queue.head_since = Some(Instant::now());
        }
        loop {
            if let Some(grant) = sh.queue.granted.remove(&ticket) {
                return Ok(grant);
            }
            let head = sh.queue.is_head(ticket);
            if head {
                if let Some(grant) = Pool::take_free(&mut sh) {
                    sh.queue.leave(ticket);
                    return Ok(grant);
                }
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let gave_up = if canceller.is_cancelled() {
                Some(crate::connect::cancelled())
            } else if left.is_some_and(|l| l.is_zero()) {
                Some(Error::Timeout(
                    "no connection of the pool became free within the call deadline (SMTP_TIMEOUT_CALL)".into(),
                ))
            } else {
                None
            };
            if let Some(e) = gave_up {
                sh.queue.leave(ticket);
                return Err(e);
            }
            let poll = if head { HEAD_POLL } else { CANCEL_POLL };
            let slice = left.map_or(poll, |l| l.min(poll));
            sh = me.wake.wait_timeout(sh, slice).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// A connection comes back, or the room a closed one left: to the head
    /// of the queue when its turn is due (or, for room, at once: closing is
    /// rare), else kept for whoever asks first.
    pub(super) fn release(sh: &mut MutexGuard<'_, Shared>, grant: Grant) {
        if matches!(grant, Grant::Room) && sh.open > sh.options.max_connections {
            // The maximum was lowered: this room is gone.
            sh.open -= 1;
            return;
        }
        let to_head = match grant {
            Grant::Idle(_) => sh.queue.head_due(),
            Grant::Room => !sh.queue.waiting.is_empty(),
        };
        if to_head {
            if let Some(head) = sh.queue.waiting.pop_front() {
                sh.queue.granted.insert(head.ticket, grant);
                head.wake.notify_one();
                sh.queue.new_head();
                return;
            }
        }
        match grant {
            Grant::Idle(idle) => sh.idle.push(*idle),
            Grant::Room => sh.open -= 1,
        }
    }

    /// More room (a larger maximum): the queue's head calls may open.
    pub(super) fn grant_room(sh: &mut MutexGuard<'_, Shared>) {
        while sh.open < sh.options.max_connections && !sh.queue.waiting.is_empty() {
            sh.open += 1;
            Pool::release(sh, Grant::Room);
        }
    }
}
