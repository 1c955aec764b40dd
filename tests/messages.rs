//! Messages and envelopes through the C ABI: send_message to aiosmtpd
//! (SMTPUTF8 addresses, Bcc removal, DSN parameters as given, a message over
//! SIZE refused locally), the smuggling corpus under every line-ending
//! policy, and per-recipient status codes.

mod common;

use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{text, PyServer, Scripted, Session};
use serde_json::Value;
use smtp::ffi::commands::*;
use smtp::ffi::message::*;
use smtp::ffi::state::*;

// Result codes from the library, under this file's short names.
use common::codes::{
    SMTP_ERR_INVALID_ARGUMENT as ERR_INVALID, SMTP_ERR_NOT_SUPPORTED as ERR_NOT_SUPPORTED,
    SMTP_ERR_TOO_LARGE as ERR_TOO_LARGE, SMTP_OK as OK,
};

fn sink(name: &str, extra: &[&str]) -> (PyServer, PathBuf) {
    let dir = std::env::temp_dir().join(format!("libsmtp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut args = vec!["--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    (PyServer::start("sink.py", &args), dir)
}

fn arrived(dir: &Path, n: u32) -> (Vec<u8>, Value) {
    let eml = dir.join(format!("{n:04}.eml"));
    let json = dir.join(format!("{n:04}.json"));
    let start = Instant::now();
    while !json.exists() {
        assert!(start.elapsed() < Duration::from_secs(5), "message {n} never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(20));
    (std::fs::read(eml).unwrap(), serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap())
}

fn send_message(s: &Session, msg: &[u8], flags: u32) -> c_int {
    let mut refused = 0usize;
    unsafe {
        smtp_session_send_message(
            s.0,
            msg.as_ptr(),
            msg.len(),
            std::ptr::null(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            flags,
            &mut refused,
        )
    }
}

#[test]
fn bcc_removed_and_envelope_from_headers() {
    let (server, dir) = sink("bcc", &[]);
    let s = Session::connected(server.port);
    let msg = b"From: Alice <alice@example.com>\r\nTo: bob@example.com,\r\n  \"Doe, Carol\" <carol@example.com>\r\n\
Bcc: hidden@example.com\r\nCc: Team: dan@example.com, refuse@example.com;\r\nBcc: also-hidden@example.com\r\n\
Subject: hi\r\n\r\nBody.\r\n";
    let mut refused = 0usize;
    let rc = unsafe {
        smtp_session_send_message(
            s.0,
            msg.as_ptr(),
            msg.len(),
            std::ptr::null(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            SMTP_MSG_NORMALIZE,
            &mut refused,
        )
    };
    assert_eq!(rc, OK, "{}", s.errmsg());
    assert_eq!(refused, 1);
    let (eml, env) = arrived(&dir, 1);
    assert_eq!(
        eml,
        b"From: Alice <alice@example.com>\r\nTo: bob@example.com,\r\n  \"Doe, Carol\" <carol@example.com>\r\n\
Cc: Team: dan@example.com, refuse@example.com;\r\nSubject: hi\r\n\r\nBody.\r\n"
    );
    assert_eq!(env["mail_from"], "alice@example.com");
    let to: Vec<&str> = env["rcpt_tos"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        to,
        ["bob@example.com", "carol@example.com", "hidden@example.com", "also-hidden@example.com", "dan@example.com"]
    );
    unsafe {
        assert_eq!(smtp_session_rcpt_count(s.0), 6);
        assert_eq!(text(smtp_session_rcpt_addr(s.0, 5)).unwrap(), "refuse@example.com");
        assert_eq!(smtp_session_rcpt_refused(s.0, 5), 1);
    }
}

#[test]
fn smtputf8_addresses() {
    let (server, dir) = sink("utf8", &[]);
    let s = Session::connected(server.port);
    let msg =
        "From: Jörg <jörg@exämple.de>\r\nTo: 佐藤 <佐藤@example.jp>\r\nSubject: Grüße\r\n\r\nHallo 佐藤\r\n".as_bytes();
    assert_eq!(send_message(&s, msg, SMTP_MSG_NORMALIZE), OK, "{}", s.errmsg());
    let (eml, env) = arrived(&dir, 1);
    assert_eq!(eml, msg);
    assert_eq!(env["mail_from"], "jörg@exämple.de");
    assert_eq!(env["rcpt_tos"][0], "佐藤@example.jp");
    let opts = env["mail_options"].to_string();
    assert!(opts.contains("SMTPUTF8") && opts.contains("BODY=8BITMIME"), "{opts}");
}

#[test]
fn smtputf8_needed_but_not_offered() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250-mx\r\n250 8BITMIME\r\n");
        let _ = p.line();
    });
    let s = Session::connected(srv.port);
    let msg = "From: jörg@exämple.de\r\nTo: b@example.com\r\n\r\nx\r\n".as_bytes();
    assert_eq!(send_message(&s, msg, 0), ERR_NOT_SUPPORTED);
    assert!(s.errmsg().contains("SMTPUTF8"), "{}", s.errmsg());
    drop(s);
    assert!(srv.finish().iter().all(|l| !l.to_ascii_lowercase().starts_with("mail")));
}

#[test]
fn dsn_parameters_as_given() {
    let (server, dir) = sink("dsn", &["--dsn"]);
    let s = Session::connected(server.port);
    unsafe {
        let e = smtp_envelope_new();
        assert_eq!(smtp_envelope_set_dsn_ret(e, SMTP_DSN_RET_HDRS), OK);
        assert_eq!(smtp_envelope_set_dsn_envid(e, c"QQ314159+id=1".as_ptr()), OK);
        assert_eq!(smtp_envelope_set_dsn_notify(e, SMTP_DSN_NOTIFY_FAILURE | SMTP_DSN_NOTIFY_DELAY), OK);
        assert_eq!(
            smtp_envelope_set_rcpt_dsn(e, c"c@example.com".as_ptr(), SMTP_DSN_NOTIFY_NEVER, c"C@Example.COM".as_ptr()),
            OK
        );
        assert_eq!(smtp_envelope_set_dsn_notify(e, SMTP_DSN_NOTIFY_NEVER | SMTP_DSN_NOTIFY_SUCCESS), ERR_INVALID);
        assert_eq!(smtp_envelope_set_mt_priority(e, 12), ERR_INVALID);
        assert_eq!(smtp_envelope_set_dsn_ret(e, 9), ERR_INVALID);
        assert_eq!(smtp_envelope_set_dsn_envid(e, std::ptr::null()), 1);
        assert_eq!(smtp_session_set_envelope(s.0, e), OK);
        smtp_envelope_free(e);
    }
    let msg = b"From: a@example.com\r\nTo: b@example.com, c@example.com\r\n\r\nDSN please.\r\n";
    assert_eq!(send_message(&s, msg, 0), OK, "{}", s.errmsg());
    let (_, env) = arrived(&dir, 1);
    let raw: Vec<&str> = env["raw"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        raw,
        [
            "from:<a@example.com> size=70 RET=HDRS ENVID=QQ314159+2Bid+3D1",
            "to:<b@example.com> NOTIFY=FAILURE,DELAY",
            "to:<c@example.com> NOTIFY=NEVER ORCPT=rfc822;C@Example.COM",
        ]
    );
    // The same envelope to a server without DSN: refused before MAIL.
    let (plain, plain_dir) = sink("no-dsn", &[]);
    let s2 = Session::connected(plain.port);
    unsafe {
        let e = smtp_envelope_new();
        smtp_envelope_set_dsn_ret(e, SMTP_DSN_RET_FULL);
        smtp_session_set_envelope(s2.0, e);
        smtp_envelope_free(e);
    }
    assert_eq!(send_message(&s2, msg, 0), ERR_NOT_SUPPORTED);
    assert!(s2.errmsg().contains("DSN"), "{}", s2.errmsg());
    unsafe { smtp_session_set_envelope(s2.0, std::ptr::null()) };
    assert_eq!(send_message(&s2, msg, 0), OK, "cleared envelope: {}", s2.errmsg());
    assert!(arrived(&plain_dir, 1).1["mail_options"].to_string().contains("SIZE"));
}

#[test]
fn over_size_is_refused_locally() {
    let (server, dir) = sink("size", &["--size-limit", "1000"]);
    let s = Session::connected(server.port);
    let mut msg = b"From: a@example.com\r\nTo: b@example.com\r\n\r\n".to_vec();
    msg.resize(1001, b'x');
    assert_eq!(send_message(&s, &msg, SMTP_MSG_RAW), ERR_TOO_LARGE);
    assert!(s.errmsg().contains("1001") && s.errmsg().contains("1000"), "{}", s.errmsg());
    msg.truncate(998);
    msg.extend_from_slice(b"\r\n");
    assert_eq!(send_message(&s, &msg, SMTP_MSG_RAW), OK, "at the limit: {}", s.errmsg());
    assert_eq!(arrived(&dir, 1).0, msg);
    assert!(!dir.join("0002.json").exists());
}

/// Every message of the corpus, under every policy, reaches the server
/// with exactly one end-of-data sequence, at the end (or is refused under
/// the reject policy when it has a bare line end).
#[test]
fn smuggling_corpus() {
    let corpus: &[&[u8]] =
        &[b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\n", b"a\0b\r\n", b"no line end", b"x\r\n.\r\nMAIL FROM:<e@x>\r\n"];
    for flags in [SMTP_MSG_NORMALIZE, SMTP_MSG_RAW, SMTP_MSG_REJECT_BARE_EOL] {
        for msg in corpus {
            let srv = Scripted::start(|p| {
                p.send("220 hi\r\n");
                p.answer("250 mx\r\n");
                p.answer("250 ok\r\n");
                p.answer("250 ok\r\n");
                if p.answer("354 go\r\n").is_empty() {
                    return;
                }
                let mut data = String::new();
                loop {
                    let l = p.line();
                    if l.is_empty() {
                        return;
                    }
                    data.push_str(&l);
                    if data.ends_with("\r\n.\r\n") {
                        break;
                    }
                }
                p.seen.push(format!("DATA:{data}"));
                p.send("250 ok\r\n");
            });
            let s = Session::connected(srv.port);
            let to = [c"b@x".as_ptr()];
            let rc = unsafe {
                smtp_session_sendmail(
                    s.0,
                    c"a@x".as_ptr(),
                    to.as_ptr(),
                    1,
                    msg.as_ptr(),
                    msg.len(),
                    std::ptr::null(),
                    0,
                    std::ptr::null(),
                    0,
                    flags,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            let has_bare = (0..msg.len()).any(|i| match msg[i] {
                b'\n' => i == 0 || msg[i - 1] != b'\r',
                b'\r' => msg.get(i + 1) != Some(&b'\n'),
                _ => false,
            });
            if flags == SMTP_MSG_REJECT_BARE_EOL && has_bare {
                assert_eq!(rc, ERR_INVALID, "{msg:?}");
                continue;
            }
            assert_eq!(rc, OK, "{msg:?} flags {flags}: {}", s.errmsg());
            drop(s);
            let seen = srv.finish();
            let data = seen.iter().find_map(|l| l.strip_prefix("DATA:")).expect("data captured");
            assert_eq!(data.matches("\r\n.\r\n").count(), 1, "{msg:?} flags {flags}: {data:?}");
            for (i, w) in data.as_bytes().windows(2).enumerate() {
                if matches!(w[0], b'\r' | b'\n') && w[1] == b'.' && i + 2 < data.len() - 3 {
                    assert_eq!(data.as_bytes()[i + 2], b'.', "an unstuffed dot after a line break: {data:?}");
                }
            }
            // The envelope, then only data: the server read one transaction.
            assert_eq!(&seen[..4], ["ehlo client.example\r\n", "mail from:<a@x>\r\n", "rcpt to:<b@x>\r\n", "data\r\n"]);
            assert!(data.ends_with("\r\n.\r\n"), "{data:?}");
        }
    }
}

#[test]
fn status_codes_per_recipient() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250-mx\r\n250 ENHANCEDSTATUSCODES\r\n");
        p.answer("250 2.1.0 ok\r\n");
        p.answer("250 2.1.5 ok\r\n");
        p.answer("550 5.1.1 no such user\r\n");
        p.answer("354 go\r\n");
        let mut l = p.line();
        while !l.is_empty() && l != ".\r\n" {
            l = p.line();
        }
        p.send("250 2.0.0 queued\r\n");
    });
    let s = Session::connected(srv.port);
    let to = [c"a@x".as_ptr(), c"b@x".as_ptr()];
    let mut codes = [0 as c_int; 2];
    let msg = b"hi\r\n";
    unsafe {
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
            codes.as_mut_ptr(),
            std::ptr::null_mut(),
        );
        assert_eq!(rc, OK, "{}", s.errmsg());
        assert_eq!(codes, [250, 550]);
        assert_eq!(text(smtp_session_rcpt_status(s.0, 0)).as_deref(), Some("2.1.5"));
        assert_eq!(text(smtp_session_rcpt_status(s.0, 1)).as_deref(), Some("5.1.1"));
        assert!(smtp_session_rcpt_status(s.0, 2).is_null());
        assert!(smtp_session_rcpt_data_status(s.0, 0).is_null());
    }
}

#[test]
fn send_message_argument_errors() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250 mx\r\n");
        p.answer("250 ok\r\n");
    });
    let s = Session::connected(srv.port);
    for (msg, needle) in [
        (&b"From: a@x\r\nResent-Date: 1\r\nResent-Date: 2\r\n\r\n"[..], "Resent"),
        (b"To: b@x\r\n\r\n", "From"),
        (b"From: a@x\r\nTo: <b@x\r\n\r\n", "To field"),
        (b"From: a@x\r\nSubject: none\r\n\r\n", "no recipients"),
    ] {
        assert_eq!(send_message(&s, msg, 0), ERR_INVALID, "{:?}", String::from_utf8_lossy(msg));
        assert!(s.errmsg().contains(needle), "{}", s.errmsg());
    }
    assert_eq!(send_message(&s, b"From: a@x\r\nTo: b@x\nbare LF\r\n", SMTP_MSG_REJECT_BARE_EOL), ERR_INVALID);
    unsafe {
        assert_eq!(
            smtp_session_send_message(
                s.0,
                std::ptr::null(),
                5,
                std::ptr::null(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                0,
                std::ptr::null_mut()
            ),
            1
        );
        assert_eq!(
            smtp_session_send_message(
                s.0,
                b"x".as_ptr(),
                1,
                std::ptr::null(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                7,
                std::ptr::null_mut()
            ),
            ERR_INVALID
        );
        let mut code = 0;
        assert_eq!(smtp_session_noop(s.0, &mut code), OK, "nothing was sent: the session is in step");
    }
}
