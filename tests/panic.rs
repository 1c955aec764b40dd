//! The panic boundary (built with `--features test-panic`): a panic inside
//! an export returns SMTP_ERR_PANIC, poisons the session (later calls are
//! SMTP_ERR_BAD_STATE, getters still answer), free works, and other
//! sessions are untouched. Also run under valgrind by scripts/run_tests.py (suite panic).

mod common;

use common::{Scripted, Session};
use smtp::ffi::commands::*;
use smtp::ffi::session::*;
use smtp::ffi::state::*;

const OK: i32 = 0;
const ERR_BAD_STATE: i32 = 3;
const ERR_PANIC: i32 = 4;

#[test]
fn a_panic_poisons_only_its_session() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        let _ = p.line();
    });
    let other_srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250 ok\r\n");
    });
    let s = Session::connected(srv.port);
    let other = Session::connected(other_srv.port);
    let mut code = 7;
    unsafe {
        let rc = smtp_session_docmd(s.0, c"X-LIBSMTP-TEST-PANIC".as_ptr(), std::ptr::null(), &mut code);
        assert_eq!(rc, ERR_PANIC);
        assert_eq!(code, 0);
        assert!(s.errmsg().contains("panic"), "{}", s.errmsg());
        // Poisoned: every later call is refused, getters still answer.
        assert_eq!(smtp_session_noop(s.0, &mut code), ERR_BAD_STATE);
        assert!(s.errmsg().contains("poisoned"), "{}", s.errmsg());
        assert_eq!(smtp_session_set_debuglevel(s.0, 1), ERR_BAD_STATE);
        assert_eq!(smtp_session_close(s.0), ERR_BAD_STATE);
        let _ = smtp_session_is_connected(s.0);
        // Another session is not affected.
        assert_eq!(smtp_session_noop(other.0, &mut code), OK);
        assert_eq!(code, 250);
    }
    drop(s); // smtp_session_free works on a poisoned session
}

#[test]
fn sessions_freed_mid_transaction_and_after_errors() {
    let srv = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250 mx\r\n");
        p.answer("250 ok\r\n");
        let _ = p.line();
    });
    let s = Session::connected(srv.port);
    let mut code = 0;
    unsafe {
        assert_eq!(smtp_session_ehlo(s.0, std::ptr::null(), &mut code), OK);
        assert_eq!(smtp_session_mail(s.0, c"a@x".as_ptr(), std::ptr::null(), 0, &mut code), OK);
        assert_eq!(smtp_session_rcpt(s.0, c"b\r@x".as_ptr(), std::ptr::null(), 0, &mut code), 2);
    }
    drop(s); // freed in the middle of a transaction, after an error
}
