//! PIPELINING: for every mix of success and failure a server can answer a
//! transaction with, the pipelined exchange ends exactly as the lockstep one
//! does (result code, per-recipient codes, refused count, last reply,
//! connection state), and the server is left in step.

mod common;

use std::ffi::c_int;
use std::time::Duration;

use common::{Scripted, Session};
use smtp::ffi::commands::*;

/// How the server answers one transaction.
#[derive(Clone, Copy)]
struct Script {
    mail: &'static str,
    rcpts: &'static [&'static str],
    data: &'static str,
    final_reply: &'static str,
    /// Wait before each reply (a server that answers late).
    delay_ms: u64,
}

const OK_: &str = "250 ok";

/// Serve one session: EHLO (with or without PIPELINING), then commands as
/// they come, whether pipelined or not; RSET and NOOP answered 250; a 421
/// closes. Returns the commands seen.
fn server(script: Script, pipelining: bool) -> Scripted {
    Scripted::start(move |p| {
        p.send("220 ready\r\n");
        let ehlo = if pipelining {
            "250-mx\r\n250-PIPELINING\r\n250 SIZE 100000\r\n"
        } else {
            "250-mx\r\n250 SIZE 100000\r\n"
        };
        p.answer(ehlo);
        let mut rcpt = 0;
        let mut mail_ok = false;
        loop {
            let line = p.line();
            if line.is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(script.delay_ms));
            let verb = line.get(..4).unwrap_or("").to_ascii_lowercase();
            let reply = match verb.as_str() {
                "mail" => {
                    mail_ok = script.mail.starts_with('2');
                    script.mail
                }
                "rcpt" if !mail_ok => "503 5.5.1 need MAIL",
                "rcpt" => {
                    rcpt += 1;
                    script.rcpts[rcpt - 1]
                }
                "data" if !mail_ok => "503 5.5.1 need MAIL",
                "data" => script.data,
                "rset" | "noop" => "250 ok",
                "quit" => "221 bye",
                _ => "500 what",
            };
            p.send(&format!("{reply}\r\n"));
            if reply.starts_with("421") || verb == "quit" {
                return;
            }
            if verb == "data" && reply.starts_with("354") {
                let mut body = String::new();
                loop {
                    let l = p.line();
                    if l.is_empty() {
                        return;
                    }
                    body.push_str(&l);
                    if l == ".\r\n" {
                        break;
                    }
                }
                p.send(&format!(
                    "{}\r\n",
                    if body == ".\r\n" { "554 5.5.1 no valid recipients" } else { script.final_reply }
                ));
                if script.final_reply.starts_with("421") && body != ".\r\n" {
                    return;
                }
                mail_ok = false;
            }
        }
    })
}

#[derive(Debug, PartialEq)]
struct Outcome {
    rc: c_int,
    codes: Vec<c_int>,
    refused: usize,
    last_code: c_int,
    connected: bool,
    noop_after: Option<c_int>,
}

fn run(script: Script, pipelining: bool) -> (Outcome, Vec<String>) {
    let srv = server(script, pipelining);
    let s = Session::connected(srv.port);
    let to = [c"a@x".as_ptr(), c"b@x".as_ptr(), c"c@x".as_ptr()];
    let n = script.rcpts.len();
    let msg = b"Subject: t\r\n\r\nbody\r\n";
    let mut codes = vec![-1; n];
    let mut refused = 0usize;
    let rc = unsafe {
        smtp_session_sendmail(
            s.0,
            c"f@x".as_ptr(),
            to.as_ptr(),
            n,
            msg.as_ptr(),
            msg.len(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            0,
            codes.as_mut_ptr(),
            &mut refused,
        )
    };
    let last_code = s.last_code();
    let connected = s.connected_now();
    // The session is in step with the server: a NOOP gets its own 250.
    let noop_after = connected.then(|| {
        let mut code = 0;
        unsafe { smtp_session_noop(s.0, &mut code) };
        code
    });
    drop(s);
    (Outcome { rc, codes, refused, last_code, connected, noop_after }, srv.finish())
}

fn same_either_way(script: Script) {
    let (lockstep, lock_seen) = run(script, false);
    let (pipelined, pipe_seen) = run(script, true);
    assert_eq!(pipelined, lockstep, "pipelined vs lockstep\nlockstep saw {lock_seen:?}\npipelined saw {pipe_seen:?}");
    // After a 421 the server is gone (smtplib keeps the session open on a
    // 421 to DATA, and so do both modes); otherwise a NOOP gets its own 250.
    let went_away =
        [script.mail, script.data, script.final_reply].iter().chain(script.rcpts).any(|r| r.starts_with("421"));
    if let (Some(code), false) = (pipelined.noop_after, went_away) {
        assert_eq!(code, 250, "in step after the transaction: {pipelined:?}");
    }
}

fn script(mail: &'static str, rcpts: &'static [&'static str], data: &'static str, final_reply: &'static str) -> Script {
    Script { mail, rcpts, data, final_reply, delay_ms: 0 }
}

#[test]
fn every_outcome_matches_lockstep() {
    let cases = [
        script(OK_, &[OK_, OK_], "354 go", "250 queued"),
        script("550 5.7.1 sender refused", &[OK_, OK_], "354 go", "250 queued"),
        script("421 4.3.2 going away", &[OK_], "354 go", "250 queued"),
        script(OK_, &[OK_, "550 5.1.1 no such user", "251 forwarded"], "354 go", "250 queued"),
        script(OK_, &["550 no", "550 no"], "554 5.5.1 no valid recipients", "250 queued"),
        script(OK_, &["550 no", "550 no"], "354 go anyway", "250 queued"),
        script(OK_, &[OK_, "421 4.3.2 bye", OK_], "354 go", "250 queued"),
        script(OK_, &[OK_], "554 5.3.4 no data today", "250 queued"),
        script(OK_, &[OK_], "421 4.3.2 bye", "250 queued"),
        script(OK_, &[OK_, OK_], "354 go", "552 5.3.4 too big"),
        script(OK_, &[OK_, OK_], "354 go", "421 4.3.2 bye"),
        script(OK_, &["452 4.2.2 full", OK_], "354 go", "250 queued"),
    ];
    for case in cases {
        same_either_way(case);
    }
}

#[test]
fn late_answers_match_lockstep() {
    let mut late = script(OK_, &[OK_, "550 no"], "354 go", "250 queued");
    late.delay_ms = 100;
    same_either_way(late);
}

#[test]
fn pipelined_envelope_is_one_write() {
    let srv = server(script(OK_, &[OK_, OK_], "354 go", "250 queued"), true);
    let s = Session::connected(srv.port);
    let to = [c"a@x".as_ptr(), c"b@x".as_ptr()];
    let mut trace: Vec<String> = Vec::new();
    unsafe extern "C" fn collect(ud: *mut std::ffi::c_void, dir: c_int, line: *const std::ffi::c_char, len: usize) {
        let v = unsafe { &mut *ud.cast::<Vec<String>>() };
        let b = unsafe { std::slice::from_raw_parts(line.cast::<u8>(), len) };
        v.push(format!("{dir} {}", String::from_utf8_lossy(b)));
    }
    let msg = b"x\r\n";
    unsafe {
        smtp::ffi::session::smtp_session_set_debuglevel(s.0, 1);
        smtp::ffi::session::smtp_session_set_trace(s.0, Some(collect), (&raw mut trace).cast());
        let rc = smtp_session_sendmail(
            s.0,
            c"f@x".as_ptr(),
            to.as_ptr(),
            2,
            msg.as_ptr(),
            msg.len(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        assert_eq!(rc, 0, "{}", s.errmsg());
        smtp::ffi::session::smtp_session_set_trace(s.0, None, std::ptr::null_mut());
    }
    // MAIL, both RCPTs and DATA are sent before the first reply is read.
    let sends: Vec<usize> = trace.iter().enumerate().filter(|(_, l)| l.starts_with("1 send")).map(|(i, _)| i).collect();
    let first_reply =
        trace.iter().position(|l| l.starts_with("2 reply") && !l.contains("retcode") && l.contains("250 ok")).unwrap();
    assert!(sends.len() >= 4 && sends[3] < first_reply, "{trace:#?}");
    drop(s);
    srv.finish();
}

// ---- batches ------------------------------------------------------------------

/// A PIPELINING server for several transactions: the final reply to
/// transaction k is `finals[k]` (default 250); recipients whose name starts
/// with "bad" are refused; it closes after `close_after` transactions.
fn batch_server(finals: &'static [&'static str], close_after: usize) -> Scripted {
    Scripted::start(move |p| {
        p.send("220 ready\r\n");
        p.answer("250-mx\r\n250 PIPELINING\r\n");
        let (mut n, mut any_ok) = (0usize, false);
        loop {
            let line = p.line();
            if line.is_empty() {
                return;
            }
            match line.get(..4).unwrap_or("").to_ascii_lowercase().as_str() {
                "mail" => {
                    any_ok = false;
                    p.send("250 ok\r\n");
                }
                "rcpt" if line.contains("<bad") => p.send("550 no\r\n"),
                "rcpt" => {
                    any_ok = true;
                    p.send("250 ok\r\n");
                }
                "data" if !any_ok => p.send("554 no valid recipients\r\n"),
                "data" => {
                    p.send("354 go\r\n");
                    while !matches!(p.line().as_str(), ".\r\n" | "") {}
                    p.send(&format!("{}\r\n", finals.get(n).copied().unwrap_or("250 queued")));
                    n += 1;
                    if n == close_after {
                        return;
                    }
                }
                "quit" => {
                    p.send("221 bye\r\n");
                    return;
                }
                _ => p.send("250 ok\r\n"),
            }
        }
    })
}

fn batch(s: &Session, recipients: &[&[&std::ffi::CStr]]) -> (c_int, Vec<(c_int, usize, Vec<c_int>)>) {
    let msg = b"Subject: batch\r\n\r\nhello\r\n";
    let tos: Vec<Vec<*const std::ffi::c_char>> =
        recipients.iter().map(|r| r.iter().map(|c| c.as_ptr()).collect()).collect();
    let mut codes: Vec<Vec<c_int>> = recipients.iter().map(|r| vec![-1; r.len()]).collect();
    let mut items: Vec<smtp_batch_item> = tos
        .iter()
        .zip(codes.iter_mut())
        .map(|(to, c)| smtp_batch_item {
            from: c"f@x".as_ptr(),
            to: to.as_ptr(),
            to_count: to.len(),
            msg: msg.as_ptr(),
            len: msg.len(),
            flags: 0,
            result: -1,
            refused_count: 99,
            rcpt_codes: c.as_mut_ptr(),
        })
        .collect();
    let rc = unsafe { smtp_session_sendmail_batch(s.0, items.as_mut_ptr(), items.len()) };
    let results = items.iter().map(|i| (i.result, i.refused_count)).collect::<Vec<_>>();
    (rc, results.into_iter().zip(codes).map(|((r, n), c)| (r, n, c)).collect())
}

#[test]
fn batch_results_per_message() {
    let srv = batch_server(&["250 one", "552 5.3.4 too big", "250 three"], usize::MAX);
    let s = Session::connected(srv.port);
    let (rc, results) = batch(&s, &[&[c"a@x"], &[c"bad1@x", c"bad2@x"], &[c"b@x", c"bad@x"], &[c"c@x"]]);
    assert_eq!(rc, 27, "the first failure: all recipients of message 2 refused");
    assert_eq!(results[0], (0, 0, vec![250]));
    assert_eq!(results[1], (27, 2, vec![550, 550]));
    assert_eq!(results[2], (28, 1, vec![250, 550]), "552 after the data");
    assert_eq!(results[3], (0, 0, vec![250]));
    let mut code = 0;
    unsafe { assert_eq!(smtp_session_noop(s.0, &mut code), 0, "{}", s.errmsg()) };
    assert_eq!(code, 250, "in step after the batch");
    drop(s);
    let seen = srv.finish();
    // One RSET, after message 2's refused envelope; none after message 3's
    // 552, when message 4's envelope had already gone out behind its data.
    let rsets = seen.iter().filter(|l| l.to_ascii_lowercase().starts_with("rset")).count();
    assert_eq!(rsets, 1, "{seen:?}");
    let mails = seen.iter().filter(|l| l.to_ascii_lowercase().starts_with("mail")).count();
    assert_eq!(mails, 4);
}

#[test]
fn batch_after_the_server_leaves() {
    let srv = batch_server(&[], 2);
    let s = Session::connected(srv.port);
    let (rc, results) = batch(&s, &[&[c"a@x"], &[c"b@x"], &[c"c@x"], &[c"d@x"]]);
    assert_eq!(results[0].0, 0);
    assert_eq!(results[1].0, 0);
    assert_eq!(results[2].0, 14, "server disconnected");
    assert_eq!(results[3].0, 14);
    assert_eq!(rc, 14);
    drop(s);
    srv.finish();
}

#[test]
fn batch_matches_one_by_one() {
    let recipients: &[&[&std::ffi::CStr]] = &[&[c"a@x", c"bad@x"], &[c"bad@x"], &[c"b@x"]];
    let one_by_one: Vec<(c_int, usize, Vec<c_int>)> = {
        let srv = batch_server(&[], usize::MAX);
        let s = Session::connected(srv.port);
        let out = recipients.iter().map(|r| batch(&s, &[r]).1.remove(0)).collect();
        drop(s);
        srv.finish();
        out
    };
    let srv = batch_server(&[], usize::MAX);
    let s = Session::connected(srv.port);
    let (_, together) = batch(&s, recipients);
    assert_eq!(together, one_by_one);
    drop(s);
    srv.finish();
}
