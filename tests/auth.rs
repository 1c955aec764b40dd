//! Authentication through the C ABI: every mechanism against a real
//! aiosmtpd server (tests/servers/auth_server.py), and the bad inputs
//! (NULLs, callback aborts, malformed and endless challenges, a server
//! closing mid-exchange) against scripted servers. Also: no secret in a
//! level-2 trace.

mod common;

use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

use common::{cstr, PyServer, Scripted, Session};
use smtp::ffi::auth::*;
use smtp::ffi::commands::*;
use smtp::ffi::session::*;

// Result codes from the library, under this file's short names.
use common::codes::{
    SMTP_ERR_AUTH as ERR_AUTH, SMTP_ERR_AUTH_ABORTED as ERR_AUTH_ABORTED, SMTP_ERR_INVALID_ARGUMENT as ERR_INVALID,
    SMTP_ERR_NOT_SUPPORTED as ERR_NOT_SUPPORTED, SMTP_ERR_NULL_ARGUMENT as ERR_NULL,
    SMTP_ERR_SERVER_DISCONNECTED as ERR_DISCONNECTED, SMTP_ERR_SMTP as ERR_SMTP, SMTP_OK as OK,
};

/// One aiosmtpd server for the real-server tests.
static SERVER: Mutex<Option<PyServer>> = Mutex::new(None);

fn server_port() -> u16 {
    let mut guard = SERVER.lock().unwrap();
    guard.get_or_insert_with(|| PyServer::start("auth_server.py", &[])).port
}

fn login(s: &Session, user: &str, password: &str) -> c_int {
    unsafe { smtp_session_login(s.0, cstr(user).as_ptr(), cstr(password).as_ptr(), 0) }
}

fn builtin(s: &Session, mech: &str, user: &str, secret: &str, flags: u32) -> c_int {
    unsafe {
        smtp_session_ehlo_or_helo_if_needed(s.0);
        smtp_session_auth_builtin(s.0, cstr(mech).as_ptr(), cstr(user).as_ptr(), cstr(secret).as_ptr(), flags)
    }
}

fn noop_works(s: &Session) -> bool {
    let mut code = 0;
    unsafe { smtp_session_noop(s.0, &mut code) == OK && code == 250 }
}

#[test]
fn login_plain_then_login_mechanism() {
    let s = Session::connected(server_port());
    assert_eq!(login(&s, "alice", "s3cret"), OK, "{}", s.errmsg());
    assert_eq!(s.last_code(), 235);
    let s = Session::connected(server_port());
    unsafe { assert_eq!(smtp_session_set_auth_mechanisms(s.0, c"LOGIN".as_ptr()), OK) };
    assert_eq!(login(&s, "alice", "s3cret"), OK, "{}", s.errmsg());
    assert!(noop_works(&s));
}

#[test]
fn login_refused_everywhere_is_an_auth_error() {
    let s = Session::connected(server_port());
    assert_eq!(login(&s, "alice", "wrong"), ERR_AUTH);
    assert_eq!(s.last_code(), 535);
    assert!(noop_works(&s), "the session stays usable");
}

#[test]
fn non_ascii_credentials_are_sent_as_utf8() {
    let s = Session::connected(server_port());
    assert_eq!(login(&s, "jörg", "pässword"), OK, "{}", s.errmsg());
    let s = Session::connected(server_port());
    unsafe { smtp_session_set_auth_mechanisms(s.0, c"LOGIN".as_ptr()) };
    assert_eq!(login(&s, "jörg", "pässword"), OK, "{}", s.errmsg());
}

#[test]
fn xoauth2_and_oauthbearer() {
    for mech in ["XOAUTH2", "OAUTHBEARER"] {
        let s = Session::connected(server_port());
        assert_eq!(builtin(&s, mech, "alice@example.com", "good-token", 0), OK, "{mech}: {}", s.errmsg());
        let s = Session::connected(server_port());
        assert_eq!(builtin(&s, mech, "alice@example.com", "expired", 0), ERR_AUTH, "{mech}");
        assert_eq!(s.last_code(), 535);
        assert!(s.errmsg().contains("\"status\""), "{mech}: the provider's JSON reaches the caller: {}", s.errmsg());
        assert!(noop_works(&s));
        // Through login() with the token as the password.
        let s = Session::connected(server_port());
        unsafe { smtp_session_set_auth_mechanisms(s.0, cstr(mech).as_ptr()) };
        assert_eq!(login(&s, "alice@example.com", "good-token"), OK, "{mech}: {}", s.errmsg());
    }
}

#[test]
fn scram_sha_256() {
    let s = Session::connected(server_port());
    assert_eq!(builtin(&s, "SCRAM-SHA-256", "user", "pencil", 0), OK, "{}", s.errmsg());
    let s = Session::connected(server_port());
    assert_eq!(builtin(&s, "SCRAM-SHA-256", "user", "wrong", 0), ERR_AUTH);
    assert_eq!(s.last_code(), 535);
    // A server that cannot prove it knows the password is refused.
    let s = Session::connected(server_port());
    assert_eq!(builtin(&s, "SCRAM-SHA-256", "liar", "pencil", 0), ERR_AUTH);
    assert!(s.errmsg().contains("signature"), "{}", s.errmsg());
    assert!(noop_works(&s));
    // Without an initial response, and through login().
    let s = Session::connected(server_port());
    assert_eq!(builtin(&s, "SCRAM-SHA-256", "user", "pencil", SMTP_AUTH_NO_INITIAL_RESPONSE), OK, "{}", s.errmsg());
    let s = Session::connected(server_port());
    unsafe { smtp_session_set_auth_mechanisms(s.0, c"SCRAM-SHA-256 PLAIN".as_ptr()) };
    assert_eq!(login(&s, "user", "pencil"), OK, "{}", s.errmsg());
}

/// The X-TOKEN mechanism through the C callback, as examples-c/auth_callback.c.
unsafe extern "C" fn token_callback(
    userdata: *mut c_void,
    challenge: *const u8,
    challenge_len: usize,
    response: *mut u8,
    cap: usize,
    len: *mut usize,
) -> c_int {
    let seen = unsafe { &mut *userdata.cast::<Vec<Option<Vec<u8>>>>() };
    if challenge.is_null() {
        seen.push(None);
        return SMTP_SASL_NO_INITIAL_RESPONSE;
    }
    seen.push(Some(unsafe { std::slice::from_raw_parts(challenge, challenge_len) }.to_vec()));
    let answer = b"open sesame";
    unsafe { *len = answer.len() };
    if cap < answer.len() {
        return SMTP_SASL_NEED_SPACE;
    }
    unsafe { std::ptr::copy_nonoverlapping(answer.as_ptr(), response, answer.len()) };
    SMTP_SASL_CONTINUE
}

#[test]
fn custom_mechanism_through_the_callback() {
    let s = Session::connected(server_port());
    let mut seen: Vec<Option<Vec<u8>>> = Vec::new();
    unsafe {
        smtp_session_ehlo_or_helo_if_needed(s.0);
        let rc = smtp_session_auth(s.0, c"x-token".as_ptr(), Some(token_callback), (&raw mut seen).cast(), 0);
        assert_eq!(rc, OK, "{}", s.errmsg());
    }
    assert_eq!(seen, vec![None, Some(b"token?".to_vec())]);
}

// ---- secrets in the trace -------------------------------------------------

unsafe extern "C" fn collect(userdata: *mut c_void, _dir: c_int, line: *const c_char, len: usize) {
    let lines = unsafe { &mut *userdata.cast::<Vec<String>>() };
    let bytes = unsafe { std::slice::from_raw_parts(line.cast::<u8>(), len) };
    lines.push(String::from_utf8_lossy(bytes).into_owned());
}

fn traced_logins(show_secrets: bool) -> String {
    let mut lines: Vec<String> = Vec::new();
    for mech in ["PLAIN", "LOGIN", "XOAUTH2"] {
        let s = Session::connected(server_port());
        unsafe {
            smtp_session_set_debuglevel(s.0, 2);
            smtp_session_set_debug_secrets(s.0, c_int::from(show_secrets));
            smtp_session_set_trace(s.0, Some(collect), (&raw mut lines).cast());
            smtp_session_set_auth_mechanisms(s.0, cstr(mech).as_ptr());
        }
        let secret = if mech == "XOAUTH2" { "good-token" } else { "s3cret" };
        assert_eq!(login(&s, "alice", secret), OK, "{mech}: {}", s.errmsg());
        unsafe { smtp_session_set_trace(s.0, None, std::ptr::null_mut()) };
    }
    lines.join("\n")
}

#[test]
fn no_secret_in_a_level_2_trace() {
    use base64::Engine;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let forbidden = [
        "s3cret".to_string(),
        "good-token".to_string(),
        b64(b"\0alice\0s3cret"),
        b64(b"s3cret"),
        b64(b"user=alice\x01auth=Bearer good-token\x01\x01"),
    ];
    let trace = traced_logins(false);
    assert!(trace.contains("AUTH PLAIN <redacted>"), "{trace}");
    assert!(trace.contains("'<redacted>'"), "LOGIN's password line is redacted: {trace}");
    for f in &forbidden {
        assert!(!trace.contains(f.as_str()), "{f} appears in the trace:\n{trace}");
    }
    // The check can fail: with secrets shown, they are there.
    let shown = traced_logins(true);
    assert!(shown.contains(&b64(b"\0alice\0s3cret")), "{shown}");
}

// ---- bad input --------------------------------------------------------------

#[test]
fn null_and_bad_arguments() {
    let s = Session::new(SMTP_KIND_SMTP);
    unsafe {
        assert_eq!(smtp_session_login(std::ptr::null_mut(), c"u".as_ptr(), c"p".as_ptr(), 0), ERR_NULL);
        assert_eq!(smtp_session_login(s.0, std::ptr::null(), c"p".as_ptr(), 0), ERR_NULL);
        assert!(s.errmsg().contains("user"), "{}", s.errmsg());
        assert_eq!(smtp_session_login(s.0, c"u".as_ptr(), std::ptr::null(), 0), ERR_NULL);
        assert!(s.errmsg().contains("password"), "{}", s.errmsg());
        assert_eq!(smtp_session_login(s.0, c"u".as_ptr(), c"p".as_ptr(), 0x80), ERR_INVALID);
        let bad = [0xffu8, 0];
        assert_eq!(smtp_session_login(s.0, bad.as_ptr().cast(), c"p".as_ptr(), 0), ERR_INVALID);
        assert_eq!(smtp_session_auth(s.0, c"X".as_ptr(), None, std::ptr::null_mut(), 0), ERR_NULL);
        assert_eq!(smtp_session_auth(s.0, std::ptr::null(), Some(token_callback), std::ptr::null_mut(), 0), ERR_NULL);
        assert_eq!(smtp_session_auth_builtin(s.0, c"GSSAPI".as_ptr(), c"u".as_ptr(), c"p".as_ptr(), 0), ERR_INVALID);
        assert_eq!(smtp_session_auth_builtin(s.0, c"PLAIN".as_ptr(), c"u".as_ptr(), std::ptr::null(), 0), ERR_NULL);
        assert_eq!(smtp_session_set_auth_mechanisms(s.0, c"PLAIN NTLM".as_ptr()), ERR_INVALID);
        assert_eq!(smtp_session_set_auth_mechanisms(s.0, c"  ".as_ptr()), ERR_INVALID);
        assert_eq!(smtp_session_set_auth_mechanisms(s.0, std::ptr::null()), OK);
        assert_eq!(smtp_session_set_debug_secrets(std::ptr::null_mut(), 1), ERR_NULL);
        // Not connected: login needs EHLO first.
        assert_eq!(smtp_session_login(s.0, c"u".as_ptr(), c"p".as_ptr(), 0), ERR_DISCONNECTED);
    }
}

unsafe extern "C" fn refuse(
    _: *mut c_void,
    challenge: *const u8,
    _: usize,
    _: *mut u8,
    _: usize,
    _: *mut usize,
) -> c_int {
    if challenge.is_null() {
        SMTP_SASL_NO_INITIAL_RESPONSE
    } else {
        0 // what a throwing koffi callback returns: must abort, not continue
    }
}

unsafe extern "C" fn big_answer(
    _: *mut c_void,
    challenge: *const u8,
    _: usize,
    resp: *mut u8,
    cap: usize,
    len: *mut usize,
) -> c_int {
    if challenge.is_null() {
        return SMTP_SASL_NO_INITIAL_RESPONSE;
    }
    unsafe { *len = 5000 };
    if cap < 5000 {
        return SMTP_SASL_NEED_SPACE;
    }
    unsafe { std::ptr::write_bytes(resp, b'z', 5000) };
    SMTP_SASL_CONTINUE
}

unsafe extern "C" fn lies_about_length(
    _: *mut c_void,
    c: *const u8,
    _: usize,
    _: *mut u8,
    cap: usize,
    len: *mut usize,
) -> c_int {
    if c.is_null() {
        return SMTP_SASL_NO_INITIAL_RESPONSE;
    }
    unsafe { *len = cap + 1 };
    SMTP_SASL_CONTINUE
}

const EHLO_AUTH: &str = "250-mx\r\n250 AUTH X-CUSTOM PLAIN\r\n";

/// AUTH X-CUSTOM through `callback` (its userdata a `Vec<Option<Vec<u8>>>`)
/// against a scripted server.
fn exchange(
    callback: smtp_sasl_fn,
    server: impl FnOnce(&mut common::Peer) + Send + 'static,
) -> (Session, c_int, Scripted) {
    let srv = Scripted::start(move |p| {
        p.send("220 hi\r\n");
        p.answer(EHLO_AUTH);
        server(p);
    });
    let s = Session::connected(srv.port);
    let mut seen: Vec<Option<Vec<u8>>> = Vec::new();
    let rc = unsafe {
        smtp_session_ehlo(s.0, std::ptr::null(), std::ptr::null_mut());
        smtp_session_auth(s.0, c"X-CUSTOM".as_ptr(), callback, (&raw mut seen).cast(), 0)
    };
    (s, rc, srv)
}

#[test]
fn callback_abort_cancels_with_star() {
    let (s, rc, srv) = exchange(Some(refuse), |p| {
        p.answer("334 Y2hhbGxlbmdl\r\n");
        p.answer("501 5.7.0 cancelled\r\n");
        p.answer("250 ok\r\n");
    });
    assert_eq!(rc, ERR_AUTH_ABORTED, "{}", s.errmsg());
    assert!(noop_works(&s), "in step with the server after the cancel");
    drop(s);
    let seen = srv.finish();
    assert_eq!(seen[1], "AUTH X-CUSTOM\r\n");
    assert_eq!(seen[2], "*\r\n");
}

#[test]
fn callback_may_ask_for_more_space() {
    let (s, rc, srv) = exchange(Some(big_answer), |p| {
        p.answer("334 \r\n");
        p.answer("235 ok\r\n");
    });
    assert_eq!(rc, OK, "{}", s.errmsg());
    drop(s);
    use base64::Engine;
    let want = base64::engine::general_purpose::STANDARD.encode([b'z'; 5000]) + "\r\n";
    assert_eq!(srv.finish()[2], want);
}

#[test]
fn callback_overrunning_its_buffer_is_an_abort() {
    let (s, rc, _srv) = exchange(Some(lies_about_length), |p| {
        p.answer("334 \r\n");
        p.answer("501 cancelled\r\n");
    });
    assert_eq!(rc, ERR_AUTH_ABORTED, "{}", s.errmsg());
}

#[test]
fn invalid_base64_challenge_is_a_clear_error() {
    let (s, rc, srv) = exchange(Some(token_callback), |p| {
        p.answer("334 %%%not base64%%%\r\n");
        p.answer("501 cancelled\r\n");
        p.answer("250 ok\r\n");
    });
    assert_eq!(rc, ERR_AUTH_ABORTED);
    assert!(s.errmsg().contains("base64"), "{}", s.errmsg());
    assert!(noop_works(&s));
    drop(s);
    assert_eq!(srv.finish()[2], "*\r\n");
}

#[test]
fn endless_challenges_end_after_five() {
    let mut seen = Vec::<Option<Vec<u8>>>::new();
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer(EHLO_AUTH);
        loop {
            let l = p.line();
            if l.is_empty() {
                return;
            }
            if l == "*\r\n" {
                p.send("501 cancelled\r\n");
                p.answer("250 ok\r\n");
                return;
            }
            p.send("334 bW9yZQ==\r\n");
        }
    });
    let s = Session::connected(srv.port);
    let rc = unsafe {
        smtp_session_ehlo(s.0, std::ptr::null(), std::ptr::null_mut());
        smtp_session_auth(s.0, c"X-CUSTOM".as_ptr(), Some(token_callback), (&raw mut seen).cast(), 0)
    };
    assert_eq!(rc, ERR_SMTP, "{}", s.errmsg());
    assert!(s.errmsg().contains("infinite loop"), "{}", s.errmsg());
    assert_eq!(seen.iter().filter(|c| c.is_some()).count(), 5, "five challenges answered");
    assert!(noop_works(&s));
}

#[test]
fn server_closing_mid_exchange() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250-mx\r\n250 AUTH LOGIN\r\n");
        p.answer("334 UGFzc3dvcmQ6\r\n");
    });
    let s = Session::connected(srv.port);
    unsafe { smtp_session_set_auth_mechanisms(s.0, c"LOGIN".as_ptr()) };
    assert_eq!(login(&s, "alice", "s3cret"), ERR_DISCONNECTED, "{}", s.errmsg());
    assert!(!s.connected_now());
}

#[test]
fn login_without_auth_is_not_supported() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250 mx\r\n");
    });
    let s = Session::connected(srv.port);
    assert_eq!(login(&s, "u", "p"), ERR_NOT_SUPPORTED);
}

/// The cleartext rule, on a TCP connection the session is told not to
/// trust as loopback (a real remote host cannot be used in tests).
#[test]
fn cleartext_mechanisms_need_protection() {
    use smtp::session::{AuthOptions, Kind};
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250-mx\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n");
        p.answer("334 PDEyMzQ1QGV4YW1wbGU+\r\n");
        p.answer("535 no\r\n");
        p.answer("235 ok\r\n");
    });
    let mut core = smtp::Session::new(Kind::Smtp);
    core.set_trust_loopback(false);
    core.set_local_hostname("client.example").unwrap();
    core.connect("127.0.0.1", srv.port).unwrap();
    let e = core.auth_builtin("PLAIN", "u", "p", AuthOptions::default()).unwrap_err();
    assert!(matches!(e, smtp::Error::NotEncrypted(_)), "{e:?}");
    // login() skips PLAIN and LOGIN: CRAM-MD5 is tried, and its refusal is
    // reported (it is the only mechanism it could use).
    let e = core.login("u", "p", AuthOptions::default()).unwrap_err();
    assert!(matches!(e, smtp::Error::Auth { .. }), "{e:?}");
    // Allowed explicitly, PLAIN goes.
    let allow = AuthOptions { allow_cleartext: true, ..AuthOptions::default() };
    assert_eq!(core.auth_builtin("PLAIN", "u", "p", allow).unwrap().code, 235);
    drop(core);
    let seen = srv.finish();
    assert!(seen[1].starts_with("AUTH CRAM-MD5"), "{seen:?}");
    assert!(seen[3].starts_with("AUTH PLAIN "), "{seen:?}");
}
