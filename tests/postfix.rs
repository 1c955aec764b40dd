//! Against a real Postfix (a private instance of Debian's package on
//! loopback), whose smtpd offers PIPELINING and CHUNKING by default: a batch
//! goes on one connection by BDAT, every message is delivered, and Postfix's
//! own log says so (its disconnect line counts the commands).

mod common;

use std::ffi::CString;

use common::postfix::{unavailable, Postfix};
use common::raw::*;
use smtp::ffi::commands::*;
use smtp::ffi::session::SMTP_TIMEOUT_ALL;

/// Postfix's `disconnect from ...` lines of the SMTP sessions (not of the
/// readiness probe, which said nothing).
fn sessions(log: &str) -> Vec<String> {
    log.lines().filter(|l| l.contains("disconnect from") && l.contains("ehlo=")).map(str::to_string).collect()
}

#[test]
fn a_batch_goes_by_bdat_on_one_connection_and_is_delivered() {
    if let Some(why) = unavailable() {
        eprintln!("SKIP: {why}");
        return;
    }
    const N: usize = 40;
    let pf = Postfix::start("batch", None);
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 20_000);
    assert_eq!(s.connect(pf.port), (SMTP_OK, 220), "{}", s.errmsg());
    let msgs: Vec<Vec<u8>> = (0..N)
        .map(|i| format!("From: sender@example.org\r\nTo: box@example.com\r\nSubject: batch {i}\r\n\r\nmessage {i}\r\n").into_bytes())
        .collect();
    let (rc, sent) = s.sendmail_batch("sender@example.org", &["box@example.com"], &msgs);
    assert_eq!(rc, SMTP_OK, "{}", s.errmsg());
    assert!(sent.iter().all(|m| m.rc == SMTP_OK && m.refused == 0 && m.codes == [250]), "{sent:?}");
    assert_eq!(s.quit(), (SMTP_OK, 221));
    assert_eq!(pf.wait_delivered(N), N, "delivered; the log:\n{}", pf.log());
    let lines = sessions(&pf.log());
    assert_eq!(lines.len(), 1, "one connection: {lines:?}");
    for want in [format!("mail={N} "), format!("bdat={N} "), format!("rcpt={N} ")] {
        assert!(lines[0].contains(&want), "{want:?} not in {:?}", lines[0]);
    }
    assert!(!lines[0].contains("data="), "no DATA: {}", lines[0]);
}

/// A message over Postfix's message_size_limit, sent by BDAT to the same
/// instance: refused, the connection stays in step, the next one goes.
#[test]
fn postfix_refuses_an_oversized_bdat_message_and_stays_in_step() {
    if let Some(why) = unavailable() {
        eprintln!("SKIP: {why}");
        return;
    }
    let pf = Postfix::start("size", None);
    let s = Client::new();
    s.timeout(SMTP_TIMEOUT_ALL, 20_000);
    let big = {
        let mut m = b"Subject: big\r\n\r\n".to_vec();
        while m.len() < 12 << 20 {
            m.extend_from_slice(b"0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
        }
        m
    };
    assert_eq!(s.connect(pf.port), (SMTP_OK, 220));
    assert_eq!(s.ehlo(), (SMTP_OK, 250));
    // Streamed with no size given, the client cannot check SIZE first:
    // Postfix refuses the chunk that crosses its 10 MB limit.
    let sent = unsafe {
        let from = CString::new("sender@example.org").unwrap();
        let to = CStrings::new(&["box@example.com"]);
        let mut refused = 0usize;
        let mut code = 0;
        let mut read = big.as_slice();
        unsafe extern "C" fn source(ud: *mut std::ffi::c_void, buf: *mut u8, cap: usize) -> isize {
            let rest = unsafe { &mut *(ud as *mut &[u8]) };
            let n = rest.len().min(cap);
            unsafe { std::ptr::copy_nonoverlapping(rest.as_ptr(), buf, n) };
            *rest = &rest[n..];
            n as isize
        }
        let rc = smtp_session_sendmail_stream(
            s.0,
            from.as_ptr(),
            to.ptr(),
            1,
            Some(source),
            (&raw mut read).cast(),
            -1,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            SMTP_MSG_RAW,
            &mut code,
            &mut refused,
        );
        (rc, code)
    };
    assert_eq!(sent.0, SMTP_ERR_DATA, "{}", s.errmsg());
    assert_eq!(s.reply_code(), 552, "{}", s.errmsg());
    assert_eq!(s.noop(), (SMTP_OK, 250), "in step after the refusal");
    assert_eq!(s.sendmail(&["box@example.com"], MSG).rc, SMTP_OK, "{}", s.errmsg());
    assert_eq!(s.quit(), (SMTP_OK, 221));
    assert_eq!(pf.wait_delivered(1), 1);
}
