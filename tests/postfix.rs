//! Against a real Postfix (a private instance of Debian's package on
//! loopback), whose smtpd offers PIPELINING and CHUNKING by default: a batch
//! goes on one connection by BDAT, every message is delivered, and Postfix's
//! own log says so (its disconnect line counts the commands).

mod common;

use std::ffi::CString;
use std::time::{Duration, Instant};

use common::postfix::{unavailable, Postfix};
use common::raw::*;
use smtp::ffi::commands::*;
use smtp::ffi::session::SMTP_TIMEOUT_ALL;
use smtp::ffi::tls::*;

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
        .map(|i| {
            format!("From: sender@example.org\r\nTo: box@example.com\r\nSubject: batch {i}\r\n\r\nmessage {i}\r\n")
                .into_bytes()
        })
        .collect();
    let (rc, sent) = s.sendmail_batch("sender@example.org", &["box@example.com"], &msgs);
    assert_eq!(rc, SMTP_OK, "{}; per message {sent:?}; Postfix's log:\n{}", s.errmsg(), pf.log());
    assert!(sent.iter().all(|m| m.rc == SMTP_OK && m.refused == 0 && m.codes == [250]), "{sent:?}");
    assert_eq!(s.quit(), (SMTP_OK, 221));
    assert_eq!(pf.wait_delivered(N), N, "delivered; the log:\n{}", pf.log());
    let lines = sessions(&pf.wait_log(|log| !sessions(log).is_empty()));
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

/// After STARTTLS a TLS 1.3 server sends its session tickets, which the
/// client's EHLO overtakes; Postfix then holds its reply (Nagle) until the
/// client acknowledges the tickets, which a delayed ACK does only after 40
/// ms: about half the sessions stalled so. The client asks for immediate
/// ACKs (TCP_QUICKACK) in its first waits for a reply after a TLS
/// handshake. Measured here: the
/// EHLO after STARTTLS in 40 sessions (with the fix all take well under a
/// millisecond or two; without it, 10 to 20 of 40 take 40 ms). And mail
/// sent over that TLS is delivered.
#[test]
fn starttls_with_postfix_does_not_stall_on_a_delayed_ack() {
    if let Some(why) = unavailable() {
        eprintln!("SKIP: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("libsmtp-postfix-pki-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca_params, ca_key, _, ca_pem) = common::pki::ca("libsmtp test CA");
    let leaf =
        common::pki::leaf(&dir, "postfix", &["localhost", "127.0.0.1"], &rcgen::Issuer::new(ca_params, ca_key), false);
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca_pem).unwrap();
    let pf = Postfix::start("tls", Some((&leaf.cert_path, &leaf.key_path)));
    let ca = CString::new(ca_path.to_str().unwrap()).unwrap();
    let config = unsafe {
        let b = smtp_tls_config_builder_new();
        assert_eq!(smtp_tls_config_builder_add_ca_file(b, ca.as_ptr()), SMTP_OK);
        let mut config = std::ptr::null_mut();
        assert_eq!(smtp_tls_config_builder_build(b, &mut config), SMTP_OK);
        config
    };
    let mut stalls = Vec::new();
    for i in 0..40 {
        let s = Client::new();
        s.timeout(SMTP_TIMEOUT_ALL, 20_000);
        assert_eq!(unsafe { smtp_session_set_tls_config(s.0, config) }, SMTP_OK);
        assert_eq!(s.connect(pf.port), (SMTP_OK, 220));
        assert_eq!(s.ehlo(), (SMTP_OK, 250));
        let mut code = 0;
        assert_eq!(unsafe { smtp_session_starttls(s.0, std::ptr::null(), &mut code) }, SMTP_OK, "{}", s.errmsg());
        let start = Instant::now();
        assert_eq!(s.ehlo(), (SMTP_OK, 250));
        let took = start.elapsed();
        if took > Duration::from_millis(30) {
            stalls.push(took);
        }
        if i == 0 {
            assert_eq!(s.sendmail(&["box@example.com"], MSG).rc, SMTP_OK, "{}", s.errmsg());
        }
        assert_eq!(s.quit(), (SMTP_OK, 221));
    }
    unsafe { smtp_tls_config_free(config) };
    assert!(stalls.len() <= 2, "{} of 40 EHLOs after STARTTLS stalled: {stalls:?}", stalls.len());
    assert_eq!(pf.wait_delivered(1), 1);
    let established = pf
        .wait_log(|log| log.matches("TLS connection established").count() >= 40)
        .matches("TLS connection established from localhost")
        .count();
    assert_eq!(established, 40, "Postfix saw every session in TLS");
    let _ = std::fs::remove_dir_all(&dir);
}
