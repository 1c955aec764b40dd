//! Several messages on one session, each with its own envelope and result.
//! With PIPELINING the next message's MAIL, RCPTs and DATA go out with the
//! end of the current message's data, so in steady state a message costs
//! one round trip (RFC 2920 3.1 allows the group after the final dot).

use super::body::Body;
use super::transaction::Prepared;
use super::{RcptResult, Session};
use crate::data::{normalized_len, LineEndings};
use crate::error::{Error, Refusal, Result};

/// One message of a batch.
pub struct BatchMessage<'a> {
    pub from: &'a str,
    pub to: &'a [&'a str],
    pub parts: &'a [&'a [u8]],
    pub mode: LineEndings,
}

/// What happened to one message: sendmail's result and its recipients'.
pub struct BatchOutcome {
    pub result: Result<Vec<Refusal>>,
    pub rcpts: Vec<RcptResult>,
}

impl Session {
    /// Send `msgs` in order, each as `sendmail` would (same results); later
    /// messages fail with "server disconnected" once the connection is gone.
    pub fn sendmail_batch(&mut self, msgs: &[BatchMessage<'_>]) -> Vec<BatchOutcome> {
        let mut out: Vec<Option<BatchOutcome>> = msgs.iter().map(|_| None).collect();
        if let Err(e) = self.ehlo_or_helo_if_needed() {
            return msgs.iter().map(|_| BatchOutcome { result: Err(e.clone()), rcpts: Vec::new() }).collect();
        }
        if !self.pipelining() || self.chunking() {
            // Lockstep, or BDAT: one message after the other.
            for (m, slot) in msgs.iter().zip(out.iter_mut()) {
                let result = self.sendmail(m.from, m.to, m.parts, m.mode, &[], &[]);
                *slot = Some(BatchOutcome { result, rcpts: self.rcpts.clone() });
            }
            return out.into_iter().map(Option::unwrap).collect();
        }
        let mut next = 0;
        let mut queued = self.queue_next(msgs, &mut next, &mut out);
        while let Some((i, p)) = queued.take() {
            let result = self.run_queued(&p, msgs[i].parts, msgs[i].mode, msgs, &mut next, &mut out, &mut queued);
            out[i] = Some(BatchOutcome { result, rcpts: self.rcpts.clone() });
            if !self.is_connected() {
                break;
            }
            if queued.is_none() {
                queued = self.queue_next(msgs, &mut next, &mut out);
            }
        }
        out.into_iter()
            .map(|o| {
                o.unwrap_or_else(|| BatchOutcome {
                    result: Err(Error::ServerDisconnected("the connection closed before this message".into())),
                    rcpts: Vec::new(),
                })
            })
            .collect()
    }

    /// Prepare the next message that can be prepared (the others get their
    /// error) and queue its envelope.
    fn queue_next(&mut self, msgs: &[BatchMessage<'_>], next: &mut usize, out: &mut [Option<BatchOutcome>]) -> Option<(usize, Prepared)> {
        while *next < msgs.len() {
            let i = *next;
            *next += 1;
            let m = &msgs[i];
            let prepared = super::transaction::check_line_endings(m.parts, m.mode)
                .and_then(|()| self.prepare(m.from, m.to, Some(normalized_len(m.parts, m.mode)), false, &[], &[]));
            match prepared.and_then(|p| self.queue_envelope(&p, true).map(|()| p)) {
                Ok(p) => return Some((i, p)),
                Err(e) => out[i] = Some(BatchOutcome { result: Err(e), rcpts: Vec::new() }),
            }
        }
        None
    }

    /// One queued message: its envelope replies, its body, then (with the
    /// next envelope queued behind the body) its final reply.
    #[allow(clippy::too_many_arguments)]
    fn run_queued(
        &mut self,
        p: &Prepared,
        parts: &[&[u8]],
        mode: LineEndings,
        msgs: &[BatchMessage<'_>],
        next: &mut usize,
        out: &mut [Option<BatchOutcome>],
        queued: &mut Option<(usize, Prepared)>,
    ) -> Result<Vec<Refusal>> {
        self.begin_transaction(p.utf8);
        let refused = self.envelope_replies(p, true)?;
        self.send_body(&mut Body::Parts(parts), mode, false)?;
        // The next envelope joins the end of this message in one write.
        *queued = self.queue_next(msgs, next, out);
        let reply = self.final_replies()?;
        // The final reply ends the transaction either way; with the next
        // envelope already sent, a RSET now would reset that one instead.
        if queued.is_some() && reply.code != 421 {
            self.judge_data(reply, refused, false)
        } else {
            self.after_data(reply, refused)
        }
    }
}
