//! The message builder: a `smtp_message` handle gathering addresses,
//! fields, a text and an HTML part, attachments and inline parts, written
//! as MIME to a callback or a buffer, or sent by a session or a pool.

use std::ffi::{c_char, c_int, c_void, CString};
use std::path::PathBuf;
use std::sync::Arc;

use super::args;
use super::boundary::{self, guard};
use super::commands::smtp_read_fn;
use super::dkim::smtp_dkim;
use super::handle::{c_text, call, smtp_session, CallError, CallResult};
use crate::compose::source::{Reader, Source};
use crate::compose::{Disposition, Message};
use crate::error::Error;

/// A message being built: its header fields, its parts, and the DKIM
/// signer it is signed with. Made by `smtp_message_new()`, freed by
/// `smtp_message_free()`. One thread at a time; a session or pool call
/// sending it uses it only during the call.
///
/// What it writes: CRLF line ends; header fields folded to 78 characters,
/// non-ASCII text in RFC 2047 encoded words (names, Subject, other fields)
/// and RFC 2231 parameters (file names); a text part and an HTML part side
/// by side (multipart/alternative), inline parts with the HTML
/// (multipart/related), attachments after them (multipart/mixed); each
/// text part 7bit, quoted-printable or base64, whichever fits and is
/// shortest, attachments base64 in 76-character lines. No Bcc field is
/// written. Date and Message-ID are made at the first write when not set,
/// and then kept, so every later write gives the same bytes.
#[allow(non_camel_case_types)]
pub struct smtp_message {
    core: Message,
    errmsg: CString,
    /// What `smtp_message_bytes()` lent.
    bytes: Vec<u8>,
}

/// Starts a read callback attachment again from its first byte, for a
/// second write (`smtp_message_set_dkim()` reads every part twice; a pool
/// sending again on a new connection, a second send or write): return 0
/// when done, anything else to fail the call (`SMTP_ERR_IO`). Called on the
/// calling thread during a write or send call only, and must return
/// normally.
#[allow(non_camel_case_types)]
pub type smtp_rewind_fn = Option<unsafe extern "C" fn(userdata: *mut c_void) -> c_int>;

/// Receives the written message in pieces (`smtp_message_write()`): return
/// 0 to go on, anything else to stop (the call returns `SMTP_ERR_IO`).
/// Called on the calling thread during the call only, and must return
/// normally.
#[allow(non_camel_case_types)]
pub type smtp_write_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *const u8, len: usize) -> c_int>;

/// A message with nothing set. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_message_new() -> *mut smtp_message {
    Box::into_raw(Box::new(smtp_message { core: Message::new(), errmsg: c_text(b"no error"), bytes: Vec::new() }))
}

/// Free a message (NULL is a no-op), with its copies of attachments in
/// memory. Callback attachments are not called.
///
/// # Safety
/// `m` is NULL or a message not yet freed; it is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_free(m: *mut smtp_message) {
    if !m.is_null() {
        // SAFETY: per the contract.
        drop(unsafe { Box::from_raw(m) });
    }
}

/// What the message's last call did: "no error", or why it failed (which
/// field, which address, which file). Owned by the message, valid until
/// its next call or its free; a static message for NULL. Sending calls
/// report on the session instead (`smtp_session_errmsg()`).
///
/// # Safety
/// `m` is NULL or a live message.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_errmsg(m: *const smtp_message) -> *const c_char {
    // SAFETY: NULL or a live message, per the contract.
    match unsafe { m.as_ref() } {
        Some(m) => m.errmsg.as_ptr(),
        None => c"message is NULL".as_ptr(),
    }
}

/// Run `f` on a handle that keeps its own error message (a message, a
/// DKIM signer): NULL is `SMTP_ERR_NULL_ARGUMENT`, a panic is caught, and
/// the outcome's text goes where `errmsg` says.
pub(super) unsafe fn with_errmsg<H>(
    h: *mut H,
    errmsg: fn(&mut H) -> &mut CString,
    f: impl FnOnce(&mut H) -> CallResult,
) -> c_int {
    // SAFETY: NULL or a live handle, per every caller's contract.
    let Some(h) = (unsafe { h.as_mut() }) else {
        return super::result::smtp_result::SMTP_ERR_NULL_ARGUMENT as c_int;
    };
    let result = guard(|| f(h));
    *errmsg(h) = match &result {
        Ok(()) => c_text(b"no error"),
        Err(failure) => c_text(failure.message().as_bytes()),
    };
    boundary::code(&result)
}

/// Run `f` on the message, keeping its message text.
unsafe fn with(m: *mut smtp_message, f: impl FnOnce(&mut smtp_message) -> CallResult) -> c_int {
    unsafe { with_errmsg(m, |m| &mut m.errmsg, f) }
}

/// An address setter: the text, then the core call.
unsafe fn address(
    m: *mut smtp_message,
    list: *const c_char,
    what: &'static str,
    f: impl FnOnce(&mut Message, &str) -> crate::error::Result<()>,
) -> c_int {
    unsafe {
        with(m, |m| {
            let list = args::text(list, what)?;
            Ok(f(&mut m.core, list)?)
        })
    }
}

/// From (RFC 5322 3.6.2), replacing any before: a mailbox such as
/// `Zoë <zoe@example.com>` or `zoe@example.com`, or several separated by
/// commas. The display name may be any UTF-8 (written as encoded words
/// when not ASCII); a domain beyond ASCII is written as A-labels; a local
/// part beyond ASCII needs the server's SMTPUTF8 when sent (RFC 6531). The
/// first From is the envelope sender unless a Sender is set. Required.
///
/// # Safety
/// `m` is NULL or a live message; `addr` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_set_from(m: *mut smtp_message, addr: *const c_char) -> c_int {
    unsafe { address(m, addr, "from", |m, a| m.set_from(a)) }
}

/// Sender (one mailbox), the envelope sender when set; NULL removes it.
///
/// # Safety
/// `m` is NULL or a live message; `addr` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_set_sender(m: *mut smtp_message, addr: *const c_char) -> c_int {
    unsafe {
        with(m, |m| {
            let a = args::opt_text(addr, "sender")?;
            Ok(m.core.set_sender(a)?)
        })
    }
}

/// Add To recipients: one mailbox or several separated by commas, as for
/// `smtp_message_set_from()`. To, Cc and Bcc together are the envelope's
/// recipients.
///
/// # Safety
/// `m` is NULL or a live message; `addr` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_add_to(m: *mut smtp_message, addr: *const c_char) -> c_int {
    unsafe { address(m, addr, "to", |m, a| m.add_to(a)) }
}

/// Add Cc recipients, as `smtp_message_add_to()`.
///
/// # Safety
/// As `smtp_message_add_to()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_add_cc(m: *mut smtp_message, addr: *const c_char) -> c_int {
    unsafe { address(m, addr, "cc", |m, a| m.add_cc(a)) }
}

/// Add Bcc recipients: in the envelope only; no Bcc field is ever written.
///
/// # Safety
/// As `smtp_message_add_to()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_add_bcc(m: *mut smtp_message, addr: *const c_char) -> c_int {
    unsafe { address(m, addr, "bcc", |m, a| m.add_bcc(a)) }
}

/// Add Reply-To mailboxes.
///
/// # Safety
/// As `smtp_message_add_to()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_add_reply_to(m: *mut smtp_message, addr: *const c_char) -> c_int {
    unsafe { address(m, addr, "reply-to", |m, a| m.add_reply_to(a)) }
}

/// Subject: any UTF-8 text without CR, LF or NUL, folded and encoded as
/// needed.
///
/// # Safety
/// `m` is NULL or a live message; `subject` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_set_subject(m: *mut smtp_message, subject: *const c_char) -> c_int {
    unsafe { address(m, subject, "subject", |m, s| m.set_subject(s)) }
}

/// Date: `unix_time` seconds at `utc_offset_min` minutes east of UTC
/// (-1439 to 1439). When never set, the time of the first write in UTC.
///
/// # Safety
/// `m` is NULL or a live message.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_set_date(m: *mut smtp_message, unix_time: i64, utc_offset_min: c_int) -> c_int {
    unsafe { with(m, |m| Ok(m.core.set_date(unix_time, utc_offset_min)?)) }
}

/// Message-ID: `id@domain`, with or without angle brackets. When never
/// set, 128 random bits at the From domain, made at the first write.
///
/// # Safety
/// `m` is NULL or a live message; `id` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_set_message_id(m: *mut smtp_message, id: *const c_char) -> c_int {
    unsafe { address(m, id, "id", |m, i| m.set_message_id(i)) }
}

/// Add any other header field (In-Reply-To, References, List-Unsubscribe,
/// X-...), written after the builder's own fields in the order added; the
/// value is unstructured text, encoded when not ASCII and folded. The
/// fields the builder writes itself (From, To, Subject, Date, Message-ID,
/// MIME-Version, Content-*, DKIM-Signature...) are
/// `SMTP_ERR_INVALID_ARGUMENT`, as is a name outside printable ASCII or
/// with a colon, and CR, LF or NUL in the value.
///
/// # Safety
/// `m` is NULL or a live message; `name` and `value` are NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_add_header(
    m: *mut smtp_message,
    name: *const c_char,
    value: *const c_char,
) -> c_int {
    unsafe {
        with(m, |m| {
            let name = args::text(name, "name")?;
            let value = args::text(value, "value")?;
            Ok(m.core.add_header(name, value)?)
        })
    }
}

/// UTF-8 text of `len` bytes (not NUL-terminated), or NULL with 0 to take
/// it away. Invalid UTF-8 is `SMTP_ERR_INVALID_ARGUMENT`.
unsafe fn utf8<'a>(text: *const c_char, len: usize, what: &'static str) -> CallResult<Option<&'a str>> {
    if text.is_null() && len == 0 {
        return Ok(None);
    }
    let bytes = unsafe { args::bytes(text.cast(), len, what)? };
    std::str::from_utf8(bytes)
        .map(Some)
        .map_err(|_| CallError::Core(Error::InvalidArgument(format!("{what} is not valid UTF-8"))))
}

/// The plain text part: `len` bytes of UTF-8 (a NUL-terminated string need
/// not be); NULL with 0 removes it. Line ends (LF, CR or CRLF) are written
/// as CRLF.
///
/// # Safety
/// `m` is NULL or a live message; `text` is NULL or readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_set_text(m: *mut smtp_message, text: *const c_char, len: usize) -> c_int {
    unsafe {
        with(m, |m| {
            m.core.set_text(utf8(text, len, "text")?);
            Ok(())
        })
    }
}

/// The HTML part, as `smtp_message_set_text()`. With a text part too, the
/// two are alternatives (the reader shows one); inline parts
/// (`smtp_message_add_inline_memory()`) go with it.
///
/// # Safety
/// `m` is NULL or a live message; `html` is NULL or readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_set_html(m: *mut smtp_message, html: *const c_char, len: usize) -> c_int {
    unsafe {
        with(m, |m| {
            m.core.set_html(utf8(html, len, "html")?);
            Ok(())
        })
    }
}

/// Add a part from `source`, with its file name and type.
unsafe fn attach(
    m: *mut smtp_message,
    source: impl FnOnce() -> CallResult<Source>,
    filename: *const c_char,
    content_type: *const c_char,
    disposition: impl FnOnce() -> CallResult<Disposition>,
) -> c_int {
    unsafe {
        with(m, |m| {
            let filename = args::opt_text(filename, "filename")?;
            let content_type = args::opt_text(content_type, "content_type")?;
            let d = disposition()?;
            Ok(m.core.attach(source()?, filename, content_type, d)?)
        })
    }
}

/// Attach `len` bytes from memory (copied now) as `filename` (NULL: none;
/// any UTF-8, written per RFC 2231 when not ASCII) of `content_type`
/// (`type/subtype`; NULL: guessed from the file name's extension, else
/// application/octet-stream). Written base64.
///
/// # Safety
/// `m` is NULL or a live message; `data` is readable for `len` bytes
/// (NULL only with 0); `filename` and `content_type` are NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_attach_memory(
    m: *mut smtp_message,
    data: *const u8,
    len: usize,
    filename: *const c_char,
    content_type: *const c_char,
) -> c_int {
    unsafe {
        let source = || Ok(Source::Memory(args::bytes(data, len, "data")?.to_vec()));
        attach(m, source, filename, content_type, || Ok(Disposition::Attachment))
    }
}

/// The path as a file system path (UTF-8, as every string argument).
unsafe fn path(p: *const c_char) -> CallResult<PathBuf> {
    Ok(PathBuf::from(unsafe { args::text(p, "path")? }))
}

/// Attach the file at `path`, opened and read a chunk at a time each time
/// the message is written or sent (never held whole in memory; a missing
/// file is reported then, before anything is sent). `filename` NULL: the
/// path's last component. `content_type` as `smtp_message_attach_memory()`.
///
/// # Safety
/// `m` is NULL or a live message; `path` is NULL or NUL-terminated;
/// `filename` and `content_type` are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_attach_file(
    m: *mut smtp_message,
    path: *const c_char,
    filename: *const c_char,
    content_type: *const c_char,
) -> c_int {
    unsafe {
        with(m, |msg| {
            let p = self::path(path)?;
            let own_name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let filename = match args::opt_text(filename, "filename")? {
                Some(f) => Some(f.to_string()),
                None => own_name,
            };
            let content_type = args::opt_text(content_type, "content_type")?;
            Ok(msg.core.attach(Source::File(p), filename.as_deref(), content_type, Disposition::Attachment)?)
        })
    }
}

/// The caller's read and rewind callbacks.
struct Callbacks {
    read: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> isize,
    rewind: smtp_rewind_fn,
    userdata: *mut c_void,
}

impl Reader for Callbacks {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        // SAFETY: the caller's callback, per smtp_message_attach_callback's contract.
        let n = unsafe { (self.read)(self.userdata, buf.as_mut_ptr(), buf.len()) };
        usize::try_from(n).map_err(|_| format!("the attachment's read callback returned {n}"))
    }

    fn can_rewind(&self) -> bool {
        self.rewind.is_some()
    }

    fn rewind(&mut self) -> Result<(), String> {
        let Some(rewind) = self.rewind else { return Err("no rewind callback".into()) };
        // SAFETY: as read.
        match unsafe { rewind(self.userdata) } {
            0 => Ok(()),
            r => Err(format!("it returned {r}")),
        }
    }
}

/// Attach what `read` supplies (`smtp_read_fn`: bytes into the buffer, 0 at
/// the end, negative to fail the write or send with `SMTP_ERR_IO`, which
/// closes a connection mid-message so that nothing partial is delivered),
/// read a chunk at a time while the message is written or sent. `rewind`
/// (NULL allowed) starts it again for a second write; without it, the part
/// can be written once (a second write or send is `SMTP_ERR_INVALID_ARGUMENT`,
/// before anything is written), and `smtp_message_set_dkim()` (two passes) is
/// refused at the write with `SMTP_ERR_INVALID_ARGUMENT`. Its size being
/// unknown, no SIZE= is announced for the message. `filename` and
/// `content_type` as `smtp_message_attach_memory()`.
///
/// # Safety
/// `m` is NULL or a live message; `read` (and `rewind` when not NULL) stay
/// callable with `userdata` until the message is freed, on the thread
/// using the message; `filename` and `content_type` are NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_attach_callback(
    m: *mut smtp_message,
    read: smtp_read_fn,
    rewind: smtp_rewind_fn,
    userdata: *mut c_void,
    filename: *const c_char,
    content_type: *const c_char,
) -> c_int {
    unsafe {
        let source = || {
            let read = read.ok_or(CallError::Null("read"))?;
            Ok(Source::Reader { reader: Box::new(Callbacks { read, rewind, userdata }), used: false })
        };
        attach(m, source, filename, content_type, || Ok(Disposition::Attachment))
    }
}

fn content_id(cid: *const c_char) -> CallResult<Disposition> {
    // SAFETY: the exports' contracts: NULL or NUL-terminated.
    Ok(Disposition::Inline(unsafe { args::text(cid, "content_id")? }.to_string()))
}

/// Add an inline part from memory (copied now), for the HTML part to show
/// as `cid:<content_id>` (RFC 2392): `content_id` printable ASCII, angle
/// brackets optional, unique in the message. Written with the HTML in
/// multipart/related (RFC 2387); without an HTML part, beside the
/// attachments. `content_type` NULL: application/octet-stream.
///
/// # Safety
/// `m` is NULL or a live message; `data` is readable for `len` bytes (NULL
/// only with 0); `content_id` and `content_type` are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_add_inline_memory(
    m: *mut smtp_message,
    data: *const u8,
    len: usize,
    content_id: *const c_char,
    content_type: *const c_char,
) -> c_int {
    unsafe {
        let source = || Ok(Source::Memory(args::bytes(data, len, "data")?.to_vec()));
        attach(m, source, std::ptr::null(), content_type, || self::content_id(content_id))
    }
}

/// Add an inline part read from the file at `path` when written, as
/// `smtp_message_add_inline_memory()` and `smtp_message_attach_file()`
/// (`content_type` NULL: guessed from the path's extension).
///
/// # Safety
/// `m` is NULL or a live message; `path`, `content_id` and `content_type`
/// are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_add_inline_file(
    m: *mut smtp_message,
    path: *const c_char,
    content_id: *const c_char,
    content_type: *const c_char,
) -> c_int {
    unsafe {
        with(m, |msg| {
            let p = self::path(path)?;
            let guessed = crate::compose::param::guess_type(&p.to_string_lossy());
            let content_type = args::opt_text(content_type, "content_type")?.unwrap_or(guessed);
            let d = self::content_id(content_id)?;
            Ok(msg.core.attach(Source::File(p), None, Some(content_type), d)?)
        })
    }
}

/// Sign every write and send of the message with DKIM, with a copy of
/// `signer`'s settings as they are now; NULL stops signing. A signer with
/// no key, domain or selector is `SMTP_ERR_INVALID_ARGUMENT`. Signing reads
/// the parts twice (the body hash, then the bytes): files are opened
/// again, callback parts need a rewind callback.
///
/// # Safety
/// `m` is NULL or a live message; `signer` is NULL or a live signer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_set_dkim(m: *mut smtp_message, signer: *const smtp_dkim) -> c_int {
    unsafe {
        with(m, |m| {
            let s = match signer.as_ref() {
                Some(d) => Some(Arc::new(d.signer()?)),
                None => None,
            };
            m.core.set_dkim(s);
            Ok(())
        })
    }
}

/// Write the whole message to `write` in pieces (at most 64 KiB each),
/// attachments read as it goes: what a send would send, DKIM signature
/// included. Makes Date and Message-ID when not set. Fails with
/// `SMTP_ERR_INVALID_ARGUMENT` with no From, `SMTP_ERR_IO` when a part
/// cannot be read or `write` returns non-zero.
///
/// # Safety
/// `m` is NULL or a live message; `write` is NULL or a valid function and
/// `userdata` whatever it expects.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_write(
    m: *mut smtp_message,
    write: smtp_write_fn,
    userdata: *mut c_void,
) -> c_int {
    unsafe {
        with(m, |m| {
            let write = write.ok_or(CallError::Null("write"))?;
            let mut w = m.core.write()?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = w.stream.read(&mut buf).map_err(Error::Io)?;
                if n == 0 {
                    return Ok(());
                }
                let r = write(userdata, buf.as_ptr(), n);
                if r != 0 {
                    return Err(Error::Io(format!("the write callback returned {r}")).into());
                }
            }
        })
    }
}

/// Write the whole message into memory the message owns: `*data` and
/// `*len` are set to it, valid until the message's next call or its free
/// (NULL and 0 on failure). For small messages and for bindings; large
/// ones stream better through `smtp_message_write()` or the send calls.
///
/// # Safety
/// `m` is NULL or a live message; `data` and `len` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_message_bytes(m: *mut smtp_message, data: *mut *const u8, len: *mut usize) -> c_int {
    unsafe {
        args::put(data, std::ptr::null());
        args::put(len, 0);
        with(m, |m| {
            if data.is_null() || len.is_null() {
                return Err(CallError::Null(if data.is_null() { "data" } else { "len" }));
            }
            m.bytes = m.core.to_bytes()?;
            data.write(m.bytes.as_ptr());
            len.write(m.bytes.len());
            Ok(())
        })
    }
}

/// Send the message as `smtp_session_send_message()` sends a raw one:
/// EHLO or HELO if needed; the envelope sender is the Sender, else the
/// first From; the recipients every To, Cc and Bcc; SMTPUTF8 and
/// BODY=8BITMIME when an address needs them (the server's SMTPUTF8
/// missing is `SMTP_ERR_NOT_SUPPORTED`, nothing sent); SIZE= the exact size
/// when every part's is known. The message streams as the connection takes
/// it: an attachment is read a chunk at a time, never held whole. A part
/// that fails mid-message (unreadable file, failing callback) is
/// `SMTP_ERR_IO` and closes the connection, so that nothing partial is
/// delivered. Results, per-recipient accessors and `*refused_count` (NULL
/// allowed) as `smtp_session_sendmail()`; message errors are on the session
/// (`smtp_session_errmsg()`).
///
/// # Safety
/// `s` is NULL or a live session; `m` is NULL or a live message; each
/// options array is NULL (only with a count of 0) or holds that many
/// strings; `refused_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_session_send_composed(
    s: *mut smtp_session,
    m: *mut smtp_message,
    mail_options: *const *const c_char,
    n_mail_options: usize,
    rcpt_options: *const *const c_char,
    n_rcpt_options: usize,
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        send_composed_via(None, s, m, (mail_options, n_mail_options), (rcpt_options, n_rcpt_options), refused_count)
    }
}

/// `smtp_session_send_composed()` on the session's own connection, or on
/// one `pool` lends it.
///
/// # Safety
/// As `smtp_session_send_composed()`.
pub(super) unsafe fn send_composed_via(
    pool: Option<&crate::pool::Pool>,
    s: *mut smtp_session,
    m: *mut smtp_message,
    (mail_options, n_mail_options): (*const *const c_char, usize),
    (rcpt_options, n_rcpt_options): (*const *const c_char, usize),
    refused_count: *mut usize,
) -> c_int {
    unsafe {
        args::put(refused_count, 0);
        call(s, |i| {
            let m = m.as_mut().ok_or(CallError::Null("msg"))?;
            let mail_opts = args::text_array(mail_options, n_mail_options, "mail_options")?;
            let rcpt_opts = args::text_array(rcpt_options, n_rcpt_options, "rcpt_options")?;
            let result = match pool {
                Some(p) => p.send_composed(&mut i.core, &mut m.core, &mail_opts, &rcpt_opts),
                None => i.core.send_composed(&mut m.core, &mail_opts, &rcpt_opts),
            };
            args::put(refused_count, crate::engine::txn::refused_count(i.core.rcpt_results()));
            result.map(|_| ()).map_err(Into::into)
        })
    }
}
