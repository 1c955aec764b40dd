//! The pool's message calls: each runs the session call of the same name on
//! the caller's session with a lent connection, and sends a message again
//! on a new connection only when the server cannot have taken it.

use super::{Pool, Tally, ATTEMPTS};
use crate::data::LineEndings;
use crate::error::{Error, Refusal, Result};
use crate::session::{BatchMessage, BatchOutcome, Session};
use crate::trace::Direction;

/// Whether a message that failed this way may go again on a new connection:
/// the connection died before the message's data went out in full (dropped,
/// or closed after the server's 421, RFC 5321 3.8), so the server did not
/// take it.
fn worth_retry(e: &Error, link_open: bool) -> bool {
    !link_open
        && match e {
            Error::ServerDisconnected(_) | Error::Io(_) => true,
            e => e.reply().is_some_and(|r| r.code == 421),
        }
}

/// The error of a message whose data went out and whose reply never came.
fn unknown(e: &Error) -> Error {
    Error::OutcomeUnknown(format!(
        "the message went out in full but no reply decided it ({e}); the server may have taken it, so it is not sent again"
    ))
}

impl Pool {
    /// smtplib's `sendmail` through the pool (see [`Session::sendmail`]).
    #[allow(clippy::too_many_arguments)]
    pub fn sendmail(
        &self,
        seat: &mut Session,
        from: &str,
        to: &[&str],
        parts: &[&[u8]],
        mode: LineEndings,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Vec<Refusal>> {
        self.deliver(seat, |s| s.sendmail(from, to, parts, mode, mail_options, rcpt_options))
    }

    /// smtplib's `send_message` through the pool (see [`Session::send_message`]).
    #[allow(clippy::too_many_arguments)]
    pub fn send_message(
        &self,
        seat: &mut Session,
        msg: &[u8],
        from: Option<&str>,
        to: Option<&[&str]>,
        mode: LineEndings,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Vec<Refusal>> {
        self.deliver(seat, |s| s.send_message(msg, from, to, mode, mail_options, rcpt_options))
    }

    /// A built message through the pool (see [`Session::send_composed`]).
    /// Sent again on a new connection as the others are: attachments are
    /// read again, which a read callback without rewind refuses.
    pub fn send_composed(
        &self,
        seat: &mut Session,
        msg: &mut crate::compose::Message,
        mail_options: &[&str],
        rcpt_options: &[&str],
    ) -> Result<Vec<Refusal>> {
        self.deliver(seat, |s| s.send_composed(msg, mail_options, rcpt_options))
    }

    /// One message: lend a connection, run `op`, take the connection back;
    /// again on a new connection while the old one died before the data.
    fn deliver(
        &self,
        seat: &mut Session,
        mut op: impl FnMut(&mut Session) -> Result<Vec<Refusal>>,
    ) -> Result<Vec<Refusal>> {
        self.check_seat(seat)?;
        self.pace(seat, 1)?;
        let mut attempt = 1;
        loop {
            let lent = self.lend(seat)?;
            let result = op(seat);
            let unanswered = seat.unanswered();
            let open = seat.is_connected();
            let retry = matches!(&result, Err(e) if !unanswered && attempt < ATTEMPTS && worth_retry(e, open));
            let tally = Tally {
                sent: u64::from(result.is_ok()),
                retried: u64::from(retry),
                unknown: u64::from(result.is_err() && unanswered),
            };
            self.give_back(seat, lent, 1, tally);
            match result {
                Err(e) if unanswered => return Err(unknown(&e)),
                Err(e) if retry => {
                    seat.trace.line(Direction::Info, "pool", &format!("{e}; sending again on a new connection"));
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// `sendmail_batch` through the pool (see [`Session::sendmail_batch`]):
    /// the messages go on one connection; those that a dying connection
    /// left unsent go again on a new one.
    pub fn sendmail_batch(&self, seat: &mut Session, msgs: &[BatchMessage<'_>]) -> Vec<BatchOutcome> {
        let fail = |e: &Error| BatchOutcome { result: Err(e.clone()), rcpts: Vec::new(), unanswered: false };
        if let Err(e) = self.check_seat(seat).and_then(|()| self.pace(seat, msgs.len() as u64)) {
            return msgs.iter().map(|_| fail(&e)).collect();
        }
        let mut out: Vec<Option<BatchOutcome>> = msgs.iter().map(|_| None).collect();
        let mut todo: Vec<usize> = (0..msgs.len()).collect();
        for attempt in 1..=ATTEMPTS {
            if todo.is_empty() {
                break;
            }
            let lent = match self.lend(seat) {
                Ok(lent) => lent,
                Err(e) => {
                    for &i in &todo {
                        out[i] = Some(fail(&e));
                    }
                    break;
                }
            };
            let these: Vec<BatchMessage<'_>> = todo.iter().map(|&i| msgs[i]).collect();
            let outcomes = seat.sendmail_batch(&these);
            let open = seat.is_connected();
            let (mut again, mut tally) = (Vec::new(), Tally::default());
            for (i, mut o) in todo.into_iter().zip(outcomes) {
                match &o.result {
                    Ok(_) => tally.sent += 1,
                    Err(e) if o.unanswered => {
                        o.result = Err(unknown(e));
                        tally.unknown += 1;
                    }
                    Err(e) if attempt < ATTEMPTS && worth_retry(e, open) => {
                        again.push(i);
                        continue;
                    }
                    Err(_) => {}
                }
                out[i] = Some(o);
            }
            tally.retried = again.len() as u64;
            self.give_back(seat, lent, these.len() as u64, tally);
            if !again.is_empty() {
                seat.trace.line(
                    Direction::Info,
                    "pool",
                    &format!("{} message(s) left unsent by a lost connection; sending them on a new one", again.len()),
                );
            }
            todo = again;
        }
        out.into_iter().map(|o| o.expect("every message has an outcome")).collect()
    }
}
