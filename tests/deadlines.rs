//! Every wait bounded, every call cancellable, BDAT without deadlock and
//! without round trips: scripted servers that trickle every phase, stop
//! reading during DATA and BDAT, answer each chunk with a huge reply, read
//! a whole batch before answering, refuse a chunk early; a connect that
//! hangs; cancels from another thread at each stage. Each test asserts the
//! result and the time it took (the library's promise: no call outlives its
//! deadline by more than 10%, a cancel ends a call within 100 ms).

mod common;

use std::ffi::c_int;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::raw::*;
use smtp::ffi::commands::*;
use smtp::ffi::session::*;

const EHLO_CHUNKING: &str = "250-chunky.example\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SIZE 1000000000\r\n";
/// Without SIZE the client need not measure a message before sending it
/// (a pass over 16 MB in a debug build would blur the timings).
const EHLO_CHUNKING_NO_SIZE: &str = "250-chunky.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n";

/// A call's result and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed())
}

/// `took` is at least `limit` and at most 10% (and a scheduling slice) more.
#[track_caller]
fn within(took: Duration, limit: Duration) {
    let max = limit + limit / 10 + Duration::from_millis(30);
    assert!(took >= limit - Duration::from_millis(5) && took <= max, "took {took:?} for a limit of {limit:?}");
}

fn big_message(size: usize) -> Vec<u8> {
    let mut m = b"From: a@example.com\r\nSubject: big\r\n\r\n".to_vec();
    let line = b"0123456789012345678901234567890123456789012345678901234567890123456789\r\n";
    while m.len() < size {
        m.extend_from_slice(line);
    }
    m
}

/// Read a BDAT chunk of `n` bytes.
fn chunk(p: &mut Peer, n: usize) -> Result<(), String> {
    p.read_some(n)?;
    p.buf.drain(..n);
    Ok(())
}

/// The size and LAST flag of a BDAT line.
fn bdat_args(line: &[u8]) -> (usize, bool) {
    let text = String::from_utf8_lossy(line);
    let mut words = text.split_whitespace().skip(1);
    let n = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    (n, words.next().is_some_and(|w| w.eq_ignore_ascii_case("LAST")))
}

fn verb(line: &[u8]) -> String {
    String::from_utf8_lossy(line).split_whitespace().next().unwrap_or("").to_ascii_uppercase()
}

// ---- BDAT: no deadlock, no round trip, an early stop -------------------------

/// A server that answers every chunk with a ~200 KB reply (6 MB in all for
/// a 32 MB message) fills its send buffer and stops reading until the
/// client reads: a client that writes every chunk before reading a reply
/// deadlocks. Reading while writing, the message goes through at once.
#[test]
fn huge_replies_to_every_chunk_do_not_deadlock() {
    let long_reply: String =
        (0..800).map(|i| format!("250-{i:04} {}\r\n", "x".repeat(240))).collect::<String>() + "250 chunk ok\r\n";
    let server = Server::start(move |p| {
        p.greet()?;
        p.answer("EHLO", EHLO_CHUNKING)?;
        loop {
            let Some(line) = p.line()? else { return Err("client closed".into()) };
            match verb(&line).as_str() {
                "MAIL" | "RCPT" => p.send("250 ok\r\n")?,
                "BDAT" => {
                    let (n, last) = bdat_args(&line);
                    chunk(p, n)?;
                    p.send(if last { "250 2.0.0 queued\r\n" } else { long_reply.as_str() })?;
                }
                "QUIT" => return p.send("221 bye\r\n"),
                other => return Err(format!("unexpected {other}")),
            }
        }
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 4000);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    let msg = big_message(32 << 20);
    let (sent, took) = timed(|| s.sendmail_flags(&["one@example.com"], &msg, SMTP_MSG_RAW));
    assert_eq!(sent.rc, SMTP_OK, "{}", s.errmsg());
    assert!(took < Duration::from_secs(4), "32 MB took {took:?}");
    assert_eq!(s.quit(), (SMTP_OK, 221));
    server.finish().expect("server script");
}

/// With PIPELINING and CHUNKING a batch needs no round trip: this server
/// answers nothing before it has read every message of the batch, so a
/// client that waited for any reply would wait for ever (here, time out).
#[test]
fn a_chunking_batch_waits_for_no_reply() {
    const N: usize = 6;
    let (seen_tx, seen_rx) = mpsc::channel();
    let server = Server::start(move |p| {
        p.greet()?;
        p.answer("EHLO", EHLO_CHUNKING)?;
        let mut replies = String::new();
        let mut done = 0;
        let mut verbs = Vec::new();
        while done < N {
            let Some(line) = p.line()? else { return Err(format!("client closed after {done} messages")) };
            let v = verb(&line);
            match v.as_str() {
                "MAIL" | "RCPT" | "RSET" => replies.push_str("250 ok\r\n"),
                "BDAT" => {
                    let (n, last) = bdat_args(&line);
                    chunk(p, n)?;
                    replies.push_str("250 queued\r\n");
                    done += usize::from(last);
                }
                other => return Err(format!("unexpected {other}")),
            }
            verbs.push(v);
        }
        p.send(&replies)?;
        let _ = seen_tx.send(verbs);
        p.answer("QUIT", "221 bye\r\n")
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 3000);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    let msgs: Vec<Vec<u8>> = (0..N).map(|i| format!("Subject: {i}\r\n\r\nbody {i}\r\n").into_bytes()).collect();
    let ((rc, sent), took) = timed(|| s.sendmail_batch("sender@example.com", &["rcpt@example.com"], &msgs));
    assert_eq!(rc, SMTP_OK, "{}", s.errmsg());
    assert!(sent.iter().all(|m| m.rc == SMTP_OK && m.refused == 0 && m.codes == [250]), "{sent:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(s.quit(), (SMTP_OK, 221));
    server.finish().expect("server script");
    let verbs = seen_rx.recv().unwrap();
    // MAIL RCPT BDAT, then RSET MAIL RCPT BDAT for each message after the first.
    assert_eq!(verbs.len(), 3 + 4 * (N - 1), "{verbs:?}");
    assert_eq!(verbs.iter().filter(|v| *v == "RSET").count(), N - 1);
}

/// A chunk refused early stops the message at the next chunk boundary: of
/// a 10 MiB message refused at its second chunk, only what was already on
/// its way follows; then RSET, and the session is in step.
#[test]
fn a_refused_chunk_stops_the_rest_of_the_message() {
    let (bytes_tx, bytes_rx) = mpsc::channel();
    let server = Server::start(move |p| {
        p.greet()?;
        p.answer("EHLO", EHLO_CHUNKING)?;
        let mut chunks = 0;
        let mut total = 0;
        loop {
            let Some(line) = p.line()? else { return Err("client closed".into()) };
            match verb(&line).as_str() {
                "MAIL" | "RCPT" => p.send("250 ok\r\n")?,
                "BDAT" => {
                    let (n, _) = bdat_args(&line);
                    chunk(p, n)?;
                    total += n;
                    chunks += 1;
                    p.send(if chunks == 2 { "552 5.3.4 message too big for this mailbox\r\n" } else { "250 ok\r\n" })?;
                }
                "RSET" => {
                    let _ = bytes_tx.send(total);
                    p.send("250 reset\r\n")?;
                }
                "NOOP" => p.send("250 ok\r\n")?,
                "QUIT" => return p.send("221 bye\r\n"),
                other => return Err(format!("unexpected {other}")),
            }
        }
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 5000);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    let msg = big_message(10 << 20);
    let sent = s.sendmail_flags(&["one@example.com"], &msg, SMTP_MSG_RAW);
    assert_eq!(sent.rc, SMTP_ERR_DATA, "{}", s.errmsg());
    assert_eq!(s.reply_code(), 552);
    let total = bytes_rx.recv_timeout(Duration::from_secs(5)).expect("the client sent RSET");
    assert!(total < 5 << 20, "{} MiB of a 10 MiB message went after a refusal at 2 MiB", total >> 20);
    assert_eq!(s.noop(), (SMTP_OK, 250), "in step");
    assert_eq!(s.quit(), (SMTP_OK, 221));
    server.finish().expect("server script");
}

// ---- writes within their deadline ---------------------------------------------

/// A server that answers 354 (or takes the first BDAT chunk) and then stops
/// reading: the write ends at SMTP_TIMEOUT_DATA_BLOCK (set with
/// SMTP_TIMEOUT_ALL), not minutes later.
fn stops_reading(chunking: bool, which: c_int, limit_ms: u32, errmsg: &str) {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let server = Server::start(move |p| {
        p.greet()?;
        p.answer("EHLO", if chunking { EHLO_CHUNKING_NO_SIZE } else { "250-x\r\n250 8BITMIME\r\n" })?;
        p.answer("MAIL", "250 ok\r\n")?;
        p.answer("RCPT", "250 ok\r\n")?;
        if !chunking {
            p.answer("DATA", "354 go ahead\r\n")?;
        }
        // Never read again; wait for the test to say it is over.
        let _ = stop_rx.recv_timeout(SERVER_CAP);
        Ok(())
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 20_000);
    s.timeout(which, limit_ms);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    // More than the socket buffers hold.
    let msg = big_message(16 << 20);
    let (sent, took) = timed(|| s.sendmail_flags(&["one@example.com"], &msg, SMTP_MSG_RAW));
    drop(stop_tx);
    assert_eq!(sent.rc, SMTP_ERR_TIMEOUT, "{}", s.errmsg());
    assert_errmsg(&s, errmsg);
    // The call includes connecting the envelope: a few ms before the stall.
    within(took, Duration::from_millis(u64::from(limit_ms)));
    server.finish().expect("server script");
    assert_closed_and_reusable(&s);
}

#[test]
fn server_stops_reading_after_354() {
    stops_reading(false, SMTP_TIMEOUT_ALL, 1000, "SMTP_TIMEOUT_DATA_BLOCK");
}

#[test]
fn server_stops_reading_during_bdat() {
    stops_reading(true, SMTP_TIMEOUT_ALL, 1000, "SMTP_TIMEOUT_DATA_BLOCK");
}

#[test]
fn server_stops_reading_within_the_call_deadline() {
    stops_reading(false, SMTP_TIMEOUT_CALL, 1000, "SMTP_TIMEOUT_CALL");
}

// ---- trickled replies ------------------------------------------------------------

/// Where the server starts trickling.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Greeting,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Final,
}

/// A server that plays a transaction up to `phase`, then answers it one
/// byte per 100 ms, a reply that never ends.
fn trickle_at(phase: Phase) -> Server {
    Server::start(move |p| {
        let steps = [
            (Phase::Ehlo, "EHLO", "250-x\r\n250 8BITMIME\r\n"),
            (Phase::Mail, "MAIL", "250 ok\r\n"),
            (Phase::Rcpt, "RCPT", "250 ok\r\n"),
            (Phase::Data, "DATA", "354 go\r\n"),
        ];
        if phase != Phase::Greeting {
            p.greet()?;
            for (at, verb, reply) in steps {
                if at == phase {
                    p.expect(verb)?;
                    break;
                }
                p.answer(verb, reply)?;
            }
            if phase == Phase::Final {
                p.read_data()?;
            }
        }
        let end = Instant::now() + Duration::from_secs(3);
        for b in b"250-trickle\r\n".iter().cycle() {
            if Instant::now() > end || p.stream.write_all(&[*b]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    })
}

fn trickled(phase: Phase, errmsg: &str) {
    let server = trickle_at(phase);
    let s = Client::new();
    let limit = Duration::from_millis(1000);
    s.timeout(SMTP_TIMEOUT_ALL, limit.as_millis() as u32);
    let (rc, took) = timed(|| {
        let (rc, _) = s.connect(server.port);
        if rc != SMTP_OK {
            return rc;
        }
        s.sendmail(&["one@example.com"], MSG).rc
    });
    assert_eq!(rc, SMTP_ERR_TIMEOUT, "{phase:?}: {}", s.errmsg());
    assert_errmsg(&s, errmsg);
    within(took, limit);
    server.finish().expect("server script");
    assert_closed_and_reusable(&s);
}

#[test]
fn trickled_greeting() {
    trickled(Phase::Greeting, "greeting");
}

#[test]
fn trickled_ehlo_reply() {
    trickled(Phase::Ehlo, "SMTP_TIMEOUT_REPLY");
}

#[test]
fn trickled_mail_reply() {
    trickled(Phase::Mail, "MAIL reply");
}

#[test]
fn trickled_rcpt_reply() {
    trickled(Phase::Rcpt, "RCPT reply");
}

#[test]
fn trickled_data_reply() {
    trickled(Phase::Data, "DATA reply");
}

#[test]
fn trickled_final_reply() {
    trickled(Phase::Final, "final dot");
}

// ---- connect: the call's deadline, and cancel ----------------------------------

/// A listener whose accept queue is full: the kernel drops further SYNs,
/// so a connect to it hangs. The streams keep the queue full.
fn hanging_listener() -> (TcpListener, Vec<TcpStream>, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: re-listen on an open socket with a backlog of 0.
    assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
    let addr: SocketAddr = l.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..16 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => held.push(s),
            Err(_) => return (l, held, addr.port()),
        }
    }
    panic!("the accept queue never filled");
}

#[test]
fn a_hanging_connect_ends_at_the_call_deadline() {
    let (_l, _held, port) = hanging_listener();
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_CONNECT, 4000);
    s.timeout(SMTP_TIMEOUT_CALL, 1000);
    let ((rc, _), took) = timed(|| s.connect(port));
    assert_eq!(rc, SMTP_ERR_TIMEOUT, "{}", s.errmsg());
    assert_errmsg(&s, "SMTP_TIMEOUT_CALL");
    within(took, Duration::from_millis(1000));
}

// ---- cancel from another thread ------------------------------------------------

const CANCEL_AFTER: Duration = Duration::from_millis(300);

/// `call` is cancelled after CANCEL_AFTER: it returns SMTP_ERR_CANCELLED
/// within 100 ms of the cancel, and the session is closed and reusable.
#[track_caller]
fn cancelled(s: &Client, call: impl FnOnce() -> c_int) {
    let canceller = s.cancel_after(CANCEL_AFTER);
    let rc = call();
    let returned = Instant::now();
    let (cancel_rc, cancelled_at) = canceller.join().unwrap();
    assert_eq!(cancel_rc, SMTP_OK);
    assert_eq!(rc, SMTP_ERR_CANCELLED, "{}", s.errmsg());
    assert_errmsg(s, "cancel");
    let after = returned.saturating_duration_since(cancelled_at);
    assert!(returned > cancelled_at && after < Duration::from_millis(100), "returned {after:?} after the cancel");
    assert_closed_and_reusable(s);
}

#[test]
fn cancel_during_connect() {
    let (_l, _held, port) = hanging_listener();
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 20_000);
    cancelled(&s, || s.connect(port).0);
}

#[test]
fn cancel_while_waiting_for_the_greeting() {
    let server = Server::start(|p| p.drain_until_eof());
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 20_000);
    cancelled(&s, || s.connect(server.port).0);
    server.finish().expect("server script");
}

#[test]
fn cancel_during_the_data_write() {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let server = Server::start(move |p| {
        p.greet()?;
        p.answer("EHLO", "250-x\r\n250 8BITMIME\r\n")?;
        p.answer("MAIL", "250 ok\r\n")?;
        p.answer("RCPT", "250 ok\r\n")?;
        p.answer("DATA", "354 go ahead\r\n")?;
        let _ = stop_rx.recv_timeout(SERVER_CAP);
        Ok(())
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 20_000);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    let msg = big_message(16 << 20);
    cancelled(&s, || s.sendmail_flags(&["one@example.com"], &msg, SMTP_MSG_RAW).rc);
    drop(stop_tx);
    server.finish().expect("server script");
}

#[test]
fn cancel_while_waiting_for_the_final_reply() {
    let server = Server::start(|p| {
        greet_and_ehlo(p)?;
        p.answer("MAIL", "250 ok\r\n")?;
        p.answer("RCPT", "250 ok\r\n")?;
        p.answer("DATA", "354 go ahead\r\n")?;
        p.read_data()?;
        p.drain_until_eof()
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 20_000);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    let mut codes = Vec::new();
    cancelled(&s, || {
        let sent = s.sendmail(&["one@example.com"], MSG);
        codes = sent.codes;
        sent.rc
    });
    // The message is not reported sent: the recipient's RCPT reply stays
    // its result, the call's result is the cancel.
    assert_eq!(codes, vec![250]);
    server.finish().expect("server script");
}

// ---- smtplib's send and getreply (smtp_session_send/getreply) -------------------

use smtp::ffi::raw::{smtp_session_getreply, smtp_session_send};

fn raw_send(s: &Client, bytes: &[u8]) -> c_int {
    unsafe { smtp_session_send(s.0, bytes.as_ptr().cast(), bytes.len()) }
}

fn raw_getreply(s: &Client) -> c_int {
    let mut code = 0;
    unsafe { smtp_session_getreply(s.0, &mut code) }
}

/// A raw write to a server that never reads ends at the I/O limit.
#[test]
fn raw_send_to_a_server_that_stops_reading() {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let server = Server::start(move |p| {
        p.greet()?;
        let _ = stop_rx.recv_timeout(SERVER_CAP);
        Ok(())
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 1000);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    let bytes = big_message(16 << 20);
    let (rc, took) = timed(|| raw_send(&s, &bytes));
    drop(stop_tx);
    assert_eq!(rc, SMTP_ERR_TIMEOUT, "{}", s.errmsg());
    assert_errmsg(&s, "SMTP_TIMEOUT_IO");
    within(took, Duration::from_millis(1000));
    server.finish().expect("server script");
    assert_closed_and_reusable(&s);
}

/// A reply trickled a byte per 100 ms ends at the reply limit as a whole.
#[test]
fn raw_getreply_of_a_trickled_reply() {
    let server = Server::start(|p| {
        p.greet()?;
        p.expect("XCLIENT")?;
        let end = Instant::now() + Duration::from_secs(3);
        for b in b"250-trickle\r\n".iter().cycle() {
            if Instant::now() > end || p.stream.write_all(&[*b]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 1000);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    assert_eq!(raw_send(&s, b"XCLIENT NAME=x\r\n"), SMTP_OK);
    let (rc, took) = timed(|| raw_getreply(&s));
    assert_eq!(rc, SMTP_ERR_TIMEOUT, "{}", s.errmsg());
    assert_errmsg(&s, "SMTP_TIMEOUT_REPLY");
    within(took, Duration::from_millis(1000));
    server.finish().expect("server script");
    assert_closed_and_reusable(&s);
}

#[test]
fn cancel_during_a_raw_send_and_a_getreply() {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let server = Server::start(move |p| {
        p.greet()?;
        let _ = stop_rx.recv_timeout(SERVER_CAP);
        Ok(())
    });
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 20_000);
    assert_eq!(s.connect(server.port), (SMTP_OK, 220));
    let bytes = big_message(16 << 20);
    cancelled(&s, || raw_send(&s, &bytes));
    drop(stop_tx);
    server.finish().expect("server script");
    let server = Server::start(|p| {
        p.greet()?;
        p.drain_until_eof()
    });
    assert_eq!(s.connect(server.port), (SMTP_OK, 220), "{}", s.errmsg());
    cancelled(&s, || raw_getreply(&s));
    server.finish().expect("server script");
}
