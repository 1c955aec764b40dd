//! One export per smtplib command. Each returns a result code; where
//! smtplib returns `(code, message)` the code goes to `*code` (NULL allowed)
//! and the text to `smtp_session_last_reply_text()`.

use std::ffi::{c_char, c_int, c_uint, c_void};

use super::args;
use super::handle::{call, smtp_session, CallError, CallResult};
use super::session::reply_call;
use crate::data::LineEndings;
use crate::error::Error;
use crate::pool::Pool;

/// Message flag: normalise line endings, lone CR and lone LF becoming CRLF
/// (smtplib's handling of a `str` message). The default.
pub const SMTP_MSG_NORMALIZE: c_uint = 0;
/// Message flag: send the bytes as given (smtplib's handling of `bytes`).
/// In every mode a dot after any line break (CR or LF) is doubled, so no
/// byte sequence can end DATA early (SMTP smuggling), and the message ends
/// in CRLF.
pub const SMTP_MSG_RAW: c_uint = 1;
/// Message flag: a lone CR or lone LF in the message is
/// `SMTP_ERR_INVALID_ARGUMENT` before anything is sent; otherwise as
/// `SMTP_MSG_RAW`.
pub const SMTP_MSG_REJECT_BARE_EOL: c_uint = 2;

pub(crate) fn line_endings(flags: c_uint) -> CallResult<LineEndings> {
    match flags {
        SMTP_MSG_NORMALIZE => Ok(LineEndings::Normalize),
        SMTP_MSG_RAW => Ok(LineEndings::Pass),
        SMTP_MSG_REJECT_BARE_EOL => Ok(LineEndings::Reject),
        _ => Err(Error::InvalidArgument(format!("unknown message flags {flags:#x}")).into()),
    }
}

/// smtplib's `helo`: send HELO with `name`, or the local hostname when
/// `name` is NULL or empty. The reply text becomes `smtp_session_helo_resp()`.
///
/// # Safety
/// `s` is NULL or a live session; `name` is NULL or a NUL-terminated string;
/// `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_helo(s: *mut smtp_session, name: *const c_char, code: *mut c_int) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let name = args::opt_text(name, "name")?;
            Ok(i.core.helo(name)?)
        })
    }
}

/// smtplib's `ehlo` (LHLO on an LMTP session): with `name`, or the local
/// hostname when NULL or empty. On 250 the session is ESMTP and the features
/// are parsed (see `smtp_session_feature_count()`); another code is returned
/// in `*code`, not as an error. A server that drops the connection instead
/// of answering is `SMTP_ERR_SERVER_DISCONNECTED`.
///
/// # Safety
/// As `smtp_session_helo()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_ehlo(s: *mut smtp_session, name: *const c_char, code: *mut c_int) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let name = args::opt_text(name, "name")?;
            Ok(i.core.ehlo(name)?)
        })
    }
}

/// smtplib's `ehlo_or_helo_if_needed`: when neither has been done, EHLO,
/// and if it is refused, HELO; both refused is `SMTP_ERR_HELO`.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_ehlo_or_helo_if_needed(s: *mut smtp_session) -> c_int {
    unsafe { call(s, |i| Ok(i.core.ehlo_or_helo_if_needed()?)) }
}

/// smtplib's `docmd`: send `cmd`, or `cmd args` joined by one space when
/// `args` is neither NULL nor empty, and read the reply. CR, LF or NUL in
/// either is `SMTP_ERR_INVALID_ARGUMENT` and nothing is sent.
///
/// # Safety
/// `s` is NULL or a live session; `cmd` and `args` are NULL or NUL-terminated
/// strings; `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_docmd(
    s: *mut smtp_session,
    cmd: *const c_char,
    args: *const c_char,
    code: *mut c_int,
) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let cmd = args::text(cmd, "cmd")?;
            let a = args::opt_text(args, "args")?.unwrap_or("");
            Ok(i.core.docmd(cmd, a)?)
        })
    }
}

/// smtplib's `noop`: NOOP.
///
/// # Safety
/// `s` is NULL or a live session; `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_noop(s: *mut smtp_session, code: *mut c_int) -> c_int {
    unsafe { reply_call(s, code, |i| Ok(i.core.noop()?)) }
}

/// smtplib's `rset`: RSET, ending the mail transaction.
///
/// # Safety
/// `s` is NULL or a live session; `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rset(s: *mut smtp_session, code: *mut c_int) -> c_int {
    unsafe { reply_call(s, code, |i| Ok(i.core.rset()?)) }
}

/// smtplib's `help`: HELP, with `args` when neither NULL nor empty. The text
/// is in `smtp_session_last_reply_text()`.
///
/// # Safety
/// As `smtp_session_docmd()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_help(s: *mut smtp_session, args: *const c_char, code: *mut c_int) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let a = args::opt_text(args, "args")?.unwrap_or("");
            Ok(i.core.help(a)?)
        })
    }
}

/// smtplib's `verify`: VRFY with the address part of `address`
/// (`"Jane <jane@example.com>"` sends `jane@example.com`).
///
/// # Safety
/// `s` is NULL or a live session; `address` is NULL or a NUL-terminated
/// string; `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_verify(s: *mut smtp_session, address: *const c_char, code: *mut c_int) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let a = args::text(address, "address")?;
            Ok(i.core.verify(a)?)
        })
    }
}

/// smtplib's `expn`: EXPN with the address part of `address`.
///
/// # Safety
/// As `smtp_session_verify()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_expn(s: *mut smtp_session, address: *const c_char, code: *mut c_int) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let a = args::text(address, "address")?;
            Ok(i.core.expn(a)?)
        })
    }
}

/// smtplib's `mail`: `MAIL FROM:<sender>`, followed by the `n_options`
/// options only once EHLO has succeeded. SMTPUTF8 among them needs the
/// server's SMTPUTF8 (`SMTP_ERR_NOT_SUPPORTED` otherwise, nothing sent) and
/// allows UTF-8 addresses until RSET; without it addresses must be ASCII.
/// `"Name <addr>"` sends `<addr>`; `""` and `"<>"` send the null path `<>`.
/// Starts a new transaction: the per-recipient results are cleared.
///
/// # Safety
/// `s` is NULL or a live session; `sender` is NULL or a NUL-terminated
/// string; `options` is NULL (only with `n_options` 0) or holds `n_options`
/// strings; `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_mail(
    s: *mut smtp_session,
    sender: *const c_char,
    options: *const *const c_char,
    n_options: usize,
    code: *mut c_int,
) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let sender = args::text(sender, "sender")?;
            let opts = args::text_array(options, n_options, "options")?;
            Ok(i.core.mail(sender, &opts)?)
        })
    }
}

/// smtplib's `rcpt`: `RCPT TO:<recipient>` with the options once EHLO has
/// succeeded. The reply is also kept as this recipient's result
/// (`smtp_session_rcpt_count()` and the accessors after it).
///
/// # Safety
/// As `smtp_session_mail()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_rcpt(
    s: *mut smtp_session,
    recipient: *const c_char,
    options: *const *const c_char,
    n_options: usize,
    code: *mut c_int,
) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let r = args::text(recipient, "recipient")?;
            let opts = args::text_array(options, n_options, "options")?;
            Ok(i.core.rcpt(r, &opts)?)
        })
    }
}

/// smtplib's `data`: DATA, then on 354 the `len` bytes of `msg` (line
/// endings per `flags`: `SMTP_MSG_NORMALIZE` or `SMTP_MSG_RAW`; a dot
/// starting a line doubled; CRLF added when missing; the final `.`), then
/// the reply. A reply to DATA other than 354 is `SMTP_ERR_DATA`. The
/// message is streamed from the caller's buffer, never copied whole.
///
/// On an LMTP session one reply is read per recipient accepted since MAIL
/// (RFC 2033 4.2), each kept on its recipient's result
/// (`smtp_session_rcpt_data_code()`); `*code` is the first failure, or the
/// last reply when all succeeded.
///
/// # Safety
/// `s` is NULL or a live session; `msg` is NULL (only with `len` 0) or
/// readable for `len` bytes; `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_data(
    s: *mut smtp_session,
    msg: *const u8,
    len: usize,
    flags: c_uint,
    code: *mut c_int,
) -> c_int {
    unsafe {
        reply_call(s, code, |i| {
            let msg = args::bytes(msg, len, "msg")?;
            let mode = line_endings(flags)?;
            Ok(i.core.data(&[msg], mode)?)
        })
    }
}

/// smtplib's `sendmail`: EHLO or HELO if not done yet, `MAIL FROM` (with
/// `SIZE=` when the server advertises SIZE, and `mail_options` once EHLO
/// succeeded), `RCPT TO` for each of the `to_count` recipients (with
/// `rcpt_options`), DATA and the message (`flags` as for
/// `smtp_session_data()`).
///
/// Returns `SMTP_OK` when at least one recipient was accepted and the
/// message was accepted; the others were refused. Errors, as smtplib's
/// exceptions: `SMTP_ERR_HELO`, `SMTP_ERR_SENDER_REFUSED` (then RSET, or the
/// connection closed on 421), `SMTP_ERR_RECIPIENTS_REFUSED` (every recipient
/// refused, then RSET; or a 421 during RCPT, connection closed),
/// `SMTP_ERR_DATA`, `SMTP_ERR_NOT_SUPPORTED` (SMTPUTF8 or a structured
/// option of `smtp_session_set_envelope()` not offered),
/// `SMTP_ERR_TOO_LARGE` (over the server's SIZE, refused before MAIL).
/// Every address and option is checked before anything is sent; an empty
/// recipient list is `SMTP_ERR_INVALID_ARGUMENT`.
///
/// `rcpt_codes` (NULL allowed) receives `to_count` codes in the caller's
/// order: each recipient's RCPT reply code (on LMTP, for a recipient
/// accepted at RCPT, its reply after the data, 0 when none came), 0 where
/// no RCPT reply was read. It
/// and `refused_count` (NULL allowed) are filled on every return, so also
/// when every recipient was refused. The details stay on the session:
/// `smtp_session_rcpt_count()` and the accessors after it.
///
/// On LMTP a recipient refused after the data counts as refused; only when
/// all of them are is it `SMTP_ERR_DATA`. A recipient accepted at RCPT
/// whose reply after the data never came (the connection ended, or the
/// data was refused) is refused too, with code 0: no reply said it was
/// delivered.
///
/// A message counts as sent only once its reply after the data said so: a
/// timeout, a cancel or a lost connection before that is an error, never
/// `SMTP_OK`.
///
/// # Safety
/// `s` is NULL or a live session; `from` is NULL or a NUL-terminated
/// string; `to` holds `to_count` strings; `msg` is NULL (only with `len` 0)
/// or readable for `len` bytes; each options array is NULL (only with a
/// count of 0) or holds that many strings; `rcpt_codes` is NULL or writable
/// for `to_count` ints; `refused_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_sendmail(
    s: *mut smtp_session,
    from: *const c_char,
    to: *const *const c_char,
    to_count: usize,
    msg: *const u8,
    len: usize,
    mail_options: *const *const c_char,
    n_mail_options: usize,
    rcpt_options: *const *const c_char,
    n_rcpt_options: usize,
    flags: c_uint,
    rcpt_codes: *mut c_int,
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        sendmail_via(
            None,
            s,
            from,
            to,
            to_count,
            msg,
            len,
            (mail_options, n_mail_options),
            (rcpt_options, n_rcpt_options),
            flags,
            rcpt_codes,
            refused_count,
        )
    }
}

/// `smtp_session_sendmail()` on the session's own connection, or on one
/// `pool` lends it.
///
/// # Safety
/// As `smtp_session_sendmail()`.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn sendmail_via(
    pool: Option<&Pool>,
    s: *mut smtp_session,
    from: *const c_char,
    to: *const *const c_char,
    to_count: usize,
    msg: *const u8,
    len: usize,
    (mail_options, n_mail_options): (*const *const c_char, usize),
    (rcpt_options, n_rcpt_options): (*const *const c_char, usize),
    flags: c_uint,
    rcpt_codes: *mut c_int,
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        // Filled on every return: no results yet.
        put_rcpt_outputs(&[], rcpt_codes, to_count, refused_count);
        call(s, |i| {
            let from = args::text(from, "from")?;
            let to = args::text_array(to, to_count, "to")?;
            let msg = args::bytes(msg, len, "msg")?;
            let mail_opts = args::text_array(mail_options, n_mail_options, "mail_options")?;
            let rcpt_opts = args::text_array(rcpt_options, n_rcpt_options, "rcpt_options")?;
            let mode = line_endings(flags)?;
            let result = match pool {
                Some(p) => p.sendmail(&mut i.core, from, &to, &[msg], mode, &mail_opts, &rcpt_opts),
                None => i.core.sendmail(from, &to, &[msg], mode, &mail_opts, &rcpt_opts),
            };
            fill_rcpt_outputs(&i.core, rcpt_codes, to_count, refused_count);
            result.map(|_| ()).map_err(Into::into)
        })
    }
}

/// smtplib's `quit`: QUIT, then forget the EHLO state and close. The reply
/// code goes to `*code`.
///
/// # Safety
/// `s` is NULL or a live session; `code` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_quit(s: *mut smtp_session, code: *mut c_int) -> c_int {
    unsafe { reply_call(s, code, |i| Ok(i.core.quit()?)) }
}

/// With `on` 0, `smtp_session_sendmail()` and `smtp_session_send_message()`
/// wait for each reply even when the server offers PIPELINING (RFC 2920);
/// non-zero (the default) sends MAIL, every RCPT and DATA in one write.
/// The results are the same either way.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_pipelining(s: *mut smtp_session, on: c_int) -> c_int {
    unsafe {
        call(s, |i| {
            i.core.set_pipelining(on != 0);
            Ok(())
        })
    }
}

/// With `on` 0, messages go by DATA even when the server offers CHUNKING
/// (RFC 3030); non-zero (the default) sends them as BDAT chunks then, with
/// no dot-stuffing, and as BODY=BINARYMIME when the body is not text and the
/// server offers BINARYMIME. The bytes delivered are the same either way.
///
/// # Safety
/// `s` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_set_chunking(s: *mut smtp_session, on: c_int) -> c_int {
    unsafe {
        call(s, |i| {
            i.core.set_chunking(on != 0);
            Ok(())
        })
    }
}

/// Supplies a message in pieces for `smtp_session_sendmail_stream()`: write
/// up to `cap` bytes into `buf` and return how many, 0 at the end of the
/// message, or a negative number to abort (the call then fails with
/// `SMTP_ERR_IO` and the connection is closed mid-message, so that no
/// partial message is delivered). Called on the calling thread during the
/// call only; it must return normally, and a call on the same session from
/// inside it returns `SMTP_ERR_BAD_STATE`.
#[allow(non_camel_case_types)]
pub type smtp_read_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, cap: usize) -> isize>;

/// An `smtp_read_fn` over a file descriptor, `userdata` pointing to the
/// `int`: one read(2) per call, retried when a signal interrupts it; its
/// count, 0 at end of file, -1 when read fails (which aborts the message).
///
/// # Safety
/// `userdata` points to a readable `int`; `buf` is writable for `cap` bytes.
unsafe extern "C" fn read_fd(userdata: *mut c_void, buf: *mut u8, cap: usize) -> isize {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    if userdata.is_null() || (buf.is_null() && cap > 0) {
        return -1;
    }
    // SAFETY: userdata points to an int, per the contract.
    let fd = unsafe { *(userdata as *const c_int) };
    if fd < 0 {
        return -1;
    }
    // SAFETY: buf is writable for cap bytes, per the contract.
    let buf = if cap == 0 { &mut [][..] } else { unsafe { std::slice::from_raw_parts_mut(buf, cap) } };
    // SAFETY: the descriptor is the caller's and stays open for the call;
    // ManuallyDrop keeps the File from closing it.
    let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    loop {
        match file.read(buf) {
            Ok(n) => return n as isize,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return -1,
        }
    }
}

/// `smtp_session_sendmail()` with the message read from `read` in pieces,
/// so that a message larger than memory can be sent: line endings per
/// `flags`, dot-stuffing (or BDAT chunks) on the fly, no copy of the whole
/// message. `size_hint` (the message size, or -1 when unknown) is announced
/// as SIZE= and checked against the server's limit. Under
/// `SMTP_MSG_REJECT_BARE_EOL` a lone CR or LF is found only when read: the
/// call then returns `SMTP_ERR_INVALID_ARGUMENT` and closes the connection
/// mid-message. Outputs and results as `smtp_session_sendmail()`.
///
/// # Safety
/// As `smtp_session_sendmail()`; `read` is a valid function and `userdata`
/// whatever it expects.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_sendmail_stream(
    s: *mut smtp_session,
    from: *const c_char,
    to: *const *const c_char,
    to_count: usize,
    read: smtp_read_fn,
    userdata: *mut c_void,
    size_hint: i64,
    mail_options: *const *const c_char,
    n_mail_options: usize,
    rcpt_options: *const *const c_char,
    n_rcpt_options: usize,
    flags: c_uint,
    rcpt_codes: *mut c_int,
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        // Filled on every return: no results yet.
        put_rcpt_outputs(&[], rcpt_codes, to_count, refused_count);
        call(s, |i| {
            let from = args::text(from, "from")?;
            let to = args::text_array(to, to_count, "to")?;
            let read = read.ok_or(CallError::Null("read"))?;
            let mail_opts = args::text_array(mail_options, n_mail_options, "mail_options")?;
            let rcpt_opts = args::text_array(rcpt_options, n_rcpt_options, "rcpt_options")?;
            let mode = line_endings(flags)?;
            let mut source = |buf: &mut [u8]| -> Result<usize, String> {
                let n = read(userdata, buf.as_mut_ptr(), buf.len());
                usize::try_from(n).map_err(|_| format!("the read callback returned {n}"))
            };
            let size = u64::try_from(size_hint).ok();
            let result = i.core.sendmail_stream(from, &to, &mut source, size, mode, &mail_opts, &rcpt_opts);
            fill_rcpt_outputs(&i.core, rcpt_codes, to_count, refused_count);
            result.map(|_| ()).map_err(Into::into)
        })
    }
}

/// `smtp_session_sendmail_stream()` with the message read from the file
/// descriptor `fd` to its end of file (one read(2) after another; the
/// descriptor stays the caller's, open). A read that fails aborts the
/// message: `SMTP_ERR_IO`, the connection closed mid-message, nothing
/// delivered. For a file, and for bindings whose code cannot run on the
/// thread of the call (Node's event loop, say): they pass the read end of a
/// pipe or socket pair and write the message into the other end from their
/// own thread, closing it at the end; to abort instead, they write a byte
/// towards the reading socket and close theirs, which makes the read fail
/// with a reset. While a read blocks, the call's deadlines and a cancel wait
/// for it to return, as with any read callback. A negative `fd` is
/// `SMTP_ERR_INVALID_ARGUMENT`. Outputs and results as
/// `smtp_session_sendmail()`.
///
/// # Safety
/// As `smtp_session_sendmail()`; `fd` is the caller's, open for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_sendmail_fd(
    s: *mut smtp_session,
    from: *const c_char,
    to: *const *const c_char,
    to_count: usize,
    fd: c_int,
    size_hint: i64,
    mail_options: *const *const c_char,
    n_mail_options: usize,
    rcpt_options: *const *const c_char,
    n_rcpt_options: usize,
    flags: c_uint,
    rcpt_codes: *mut c_int,
    refused_count: *mut usize,
) -> c_int {
    if fd < 0 {
        unsafe {
            // Filled on every return: no results yet.
            put_rcpt_outputs(&[], rcpt_codes, to_count, refused_count);
            return call(s, |_| Err(Error::InvalidArgument(format!("fd {fd} is not a file descriptor")).into()));
        }
    }
    let mut fd = fd;
    let userdata = (&mut fd as *mut c_int).cast::<c_void>();
    // SAFETY: as the caller's contract; `fd` outlives the call.
    unsafe {
        smtp_session_sendmail_stream(
            s,
            from,
            to,
            to_count,
            Some(read_fd),
            userdata,
            size_hint,
            mail_options,
            n_mail_options,
            rcpt_options,
            n_rcpt_options,
            flags,
            rcpt_codes,
            refused_count,
        )
    }
}

/// The caller's per-recipient outputs from the session's results.
///
/// # Safety
/// `rcpt_codes` is NULL or writable for `to_count` ints; `refused_count` is
/// NULL or writable.
unsafe fn fill_rcpt_outputs(
    core: &crate::session::Session,
    rcpt_codes: *mut c_int,
    to_count: usize,
    refused_count: *mut usize,
) {
    // SAFETY: per the contract.
    unsafe { put_rcpt_outputs(core.rcpt_results(), rcpt_codes, to_count, refused_count) }
}

/// Each recipient's deciding code into `rcpt_codes` (0 past the results),
/// and how many were refused.
///
/// # Safety
/// As [`fill_rcpt_outputs`].
unsafe fn put_rcpt_outputs(
    results: &[crate::session::RcptResult],
    rcpt_codes: *mut c_int,
    to_count: usize,
    refused_count: *mut usize,
) {
    if !rcpt_codes.is_null() {
        // SAFETY: per the contract.
        let codes = unsafe { std::slice::from_raw_parts_mut(rcpt_codes, to_count) };
        codes.fill(0);
        for (slot, r) in codes.iter_mut().zip(results) {
            *slot = r.final_reply().code;
        }
    }
    // SAFETY: per the contract.
    unsafe { args::put(refused_count, crate::engine::txn::refused_count(results)) };
}

/// One message of `smtp_session_sendmail_batch()`: the caller fills the
/// inputs and may point `rcpt_codes` at `to_count` ints; the library fills
/// `result`, `refused_count` and `rcpt_codes`.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct smtp_batch_item {
    /// The sender (as for `smtp_session_sendmail()`).
    pub from: *const c_char,
    /// `to_count` recipients.
    pub to: *const *const c_char,
    pub to_count: usize,
    /// The message, `len` bytes.
    pub msg: *const u8,
    pub len: usize,
    /// `SMTP_MSG_*` line-ending flags.
    pub flags: c_uint,
    /// Out: this message's result code.
    pub result: c_int,
    /// Out: how many of its recipients were refused.
    pub refused_count: usize,
    /// Out (NULL allowed): each recipient's code, as `smtp_session_sendmail()`.
    pub rcpt_codes: *mut c_int,
}

/// Send `n` messages on one session, each with its own envelope and result
/// (`items[i].result`, as `smtp_session_sendmail()` would return it). When
/// the server offers PIPELINING, the end of one message's data and the next
/// message's MAIL, RCPTs and DATA go out together: one round trip per
/// message in steady state. When it offers CHUNKING too, messages go by
/// BDAT without waiting for any reply, up to 32 in flight (each after the
/// first begins with RSET while the previous outcome is unknown), and
/// replies are matched to messages as they come. Returns `SMTP_OK` when
/// every message was sent,
/// else the result of the first that was not (its details in
/// `smtp_session_errmsg()`); once the connection is lost the remaining
/// messages get `SMTP_ERR_SERVER_DISCONNECTED`. The per-recipient accessors
/// then describe the last message. When an item's arguments cannot be
/// read (NULL, invalid UTF-8, unknown flags) nothing is sent and no item's
/// outputs are changed; an argument that is readable but not valid (a line
/// break in an address, an empty recipient list) fails only its own
/// message (`SMTP_ERR_INVALID_ARGUMENT` in its `result`), the others are
/// sent.
///
/// # Safety
/// `s` is NULL or a live session; `items` is NULL (only with `n` 0) or holds
/// `n` items whose pointers are valid as documented on `smtp_batch_item`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_sendmail_batch(
    s: *mut smtp_session,
    items: *mut smtp_batch_item,
    n: usize,
) -> c_int {
    unsafe { sendmail_batch_via(None, s, items, n) }
}

/// `smtp_session_sendmail_batch()` on the session's own connection, or on
/// those `pool` lends it.
///
/// # Safety
/// As `smtp_session_sendmail_batch()`.
pub(super) unsafe fn sendmail_batch_via(
    pool: Option<&Pool>,
    s: *mut smtp_session,
    items: *mut smtp_batch_item,
    n: usize,
) -> c_int {
    unsafe {
        call(s, |i| {
            if n == 0 {
                return Ok(());
            }
            if items.is_null() {
                return Err(CallError::Null("items"));
            }
            let items = std::slice::from_raw_parts_mut(items, n);
            // Arguments first: a bad item is refused before anything is sent.
            let mut owned = Vec::with_capacity(n);
            for it in items.iter() {
                let from = args::text(it.from, "from")?;
                let to = args::text_array(it.to, it.to_count, "to")?;
                let msg = args::bytes(it.msg, it.len, "msg")?;
                owned.push((from, to, [msg], line_endings(it.flags)?));
            }
            let msgs: Vec<crate::session::BatchMessage<'_>> = owned
                .iter()
                .map(|(from, to, parts, mode)| crate::session::BatchMessage { from, to, parts, mode: *mode })
                .collect();
            let outcomes = match pool {
                Some(p) => p.sendmail_batch(&mut i.core, &msgs),
                None => i.core.sendmail_batch(&msgs),
            };
            for (it, o) in items.iter_mut().zip(&outcomes) {
                it.result = match &o.result {
                    Ok(_) => 0,
                    Err(e) => super::result::code_of(e) as c_int,
                };
                put_rcpt_outputs(&o.rcpts, it.rcpt_codes, it.to_count, &mut it.refused_count);
            }
            crate::session::first_failure(&outcomes).map_err(Into::into)
        })
    }
}
