//! Scripted loopback servers with byte-level control (they close, stall,
//! trickle, flood, stop reading), and a client session driven only through
//! the `extern "C"` functions, as a C program would drive it. Every server
//! runs on its own thread and is bounded in time (accept deadline, socket
//! timeouts, capped loops), so no test can hang.

use std::ffi::{c_char, c_int, CStr, CString};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use smtp::ffi::commands::*;
use smtp::ffi::handle::smtp_session;
use smtp::ffi::session::*;
use smtp::ffi::state::*;

pub use super::codes::*;

/// Longest any server thread lives, whatever the client does.
pub const SERVER_CAP: Duration = Duration::from_secs(10);
/// Read/write timeout on every accepted socket.
pub const SERVER_IO: Duration = Duration::from_secs(5);

pub const MSG: &[u8] = b"From: a@example.com\r\nSubject: hostile\r\n\r\nhello\r\n";

/// The server's side of one connection, with a line reader.
pub struct Peer {
    pub stream: TcpStream,
    pub buf: Vec<u8>,
}

pub type Script = Box<dyn FnOnce(&mut Peer) -> Result<(), String> + Send>;

impl Peer {
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> Result<(), String> {
        self.stream.write_all(bytes.as_ref()).map_err(|e| format!("server write: {e}"))
    }

    pub fn greet(&mut self) -> Result<(), String> {
        self.send("220 hostile.example ESMTP\r\n")
    }

    pub fn fill(&mut self) -> Result<usize, String> {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(0),
            Err(e) => Err(format!("server read: {e}")),
        }
    }

    /// The next line with its line end; `None` at end of stream.
    pub fn line(&mut self) -> Result<Option<Vec<u8>>, String> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                return Ok(Some(self.buf.drain(..=nl).collect()));
            }
            if self.buf.len() > 1 << 20 {
                return Ok(Some(std::mem::take(&mut self.buf)));
            }
            if self.fill()? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(std::mem::take(&mut self.buf)));
            }
        }
    }

    /// Read one command line whose verb is `verb` (case-insensitive).
    pub fn expect(&mut self, verb: &str) -> Result<Vec<u8>, String> {
        match self.line()? {
            None => Err(format!("client closed where {verb} was expected")),
            Some(l) => {
                let text = String::from_utf8_lossy(&l);
                let got = text.split_whitespace().next().unwrap_or("");
                if got.eq_ignore_ascii_case(verb) {
                    Ok(l)
                } else {
                    Err(format!("client sent {text:?} where {verb} was expected"))
                }
            }
        }
    }

    /// Read a command `verb` and answer it with `reply`.
    pub fn answer(&mut self, verb: &str, reply: impl AsRef<[u8]>) -> Result<(), String> {
        self.expect(verb)?;
        self.send(reply)
    }

    /// Read message data up to and including the final `.` line; the number
    /// of bytes read.
    pub fn read_data(&mut self) -> Result<usize, String> {
        let mut n = 0;
        loop {
            match self.line()? {
                None => return Err(format!("client closed inside the data after {n} bytes")),
                Some(l) if l == b".\r\n" => return Ok(n + l.len()),
                Some(l) => n += l.len(),
            }
        }
    }

    /// Read at least `n` bytes of whatever the client sends.
    pub fn read_some(&mut self, n: usize) -> Result<(), String> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(format!("client closed after {} bytes", self.buf.len()));
            }
        }
        Ok(())
    }

    /// The client must close without sending anything more (no RSET, no QUIT).
    pub fn expect_eof(&mut self) -> Result<(), String> {
        if !self.buf.is_empty() {
            return Err(format!("client sent {:?} instead of closing", String::from_utf8_lossy(&self.buf)));
        }
        match self.fill()? {
            0 => Ok(()),
            _ => Err(format!("client sent {:?} instead of closing", String::from_utf8_lossy(&self.buf))),
        }
    }

    /// Wait, reading and discarding, until the client closes (bounded).
    pub fn drain_until_eof(&mut self) -> Result<(), String> {
        let end = Instant::now() + SERVER_CAP;
        while Instant::now() < end {
            self.buf.clear();
            match self.fill() {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(_) => {} // read timeout: keep waiting until the cap
            }
        }
        Err("client never closed".into())
    }

    /// Write `chunk` over and over until the client goes away or the cap.
    pub fn flood(&mut self, chunk: &[u8]) -> Result<(), String> {
        let end = Instant::now() + SERVER_CAP;
        while Instant::now() < end {
            if self.stream.write_all(chunk).is_err() {
                return Ok(());
            }
        }
        Err("client kept reading the flood until the cap".into())
    }
}

/// One scripted server on 127.0.0.1:0 serving one connection on its thread.
pub struct Server {
    pub port: u16,
    done: Option<mpsc::Receiver<Result<(), String>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(script: impl FnOnce(&mut Peer) -> Result<(), String> + Send + 'static) -> Server {
        let script: Script = Box::new(script);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            let _ = tx.send(serve_one(listener, script));
        });
        Server { port, done: Some(rx), thread: Some(thread) }
    }

    /// Wait for the script to end and return what it saw.
    pub fn finish(mut self) -> Result<(), String> {
        let rx = self.done.take().unwrap();
        let result = rx
            .recv_timeout(SERVER_CAP + SERVER_IO + Duration::from_secs(5))
            .unwrap_or_else(|e| Err(format!("server thread did not report: {e}")));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        result
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Every script is bounded, so this join is too.
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn serve_one(listener: TcpListener, script: Script) -> Result<(), String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + SERVER_CAP;
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    return Err("no client connected".into());
                }
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    };
    drop(listener);
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(SERVER_IO)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(SERVER_IO)).map_err(|e| e.to_string())?;
    let mut peer = Peer { stream, buf: Vec::new() };
    script(&mut peer)
}

/// A well-behaved server: answers everything until QUIT or end of stream.
pub fn well_behaved(p: &mut Peer) -> Result<(), String> {
    p.send("220 good.example ESMTP ready\r\n")?;
    for _ in 0..100 {
        let Some(line) = p.line()? else { return Ok(()) };
        let text = String::from_utf8_lossy(&line).to_ascii_uppercase();
        let verb = text.split_whitespace().next().unwrap_or("").to_string();
        match verb.as_str() {
            "EHLO" | "LHLO" => p.send("250-good.example\r\n250 8BITMIME\r\n")?,
            "HELO" => p.send("250 good.example\r\n")?,
            "MAIL" | "RCPT" | "RSET" | "NOOP" => p.send("250 ok\r\n")?,
            "DATA" => {
                p.send("354 go ahead\r\n")?;
                p.read_data()?;
                p.send("250 queued\r\n")?;
            }
            "QUIT" => {
                p.send("221 bye\r\n")?;
                return Ok(());
            }
            _ => p.send("500 unknown command\r\n")?,
        }
    }
    Err("well-behaved server: too many commands".into())
}

/// Greeting and EHLO with SIZE, the start of most scripts.
pub fn greet_and_ehlo(p: &mut Peer) -> Result<(), String> {
    p.greet()?;
    p.answer("EHLO", "250-hostile.example\r\n250-SIZE 100000000\r\n250 8BITMIME\r\n")
}

// ---- the client, through the C ABI ---------------------------------------

/// NUL-terminated strings and the array of pointers to them.
pub struct CStrings {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CStrings {
    pub fn new(items: &[&str]) -> CStrings {
        let owned: Vec<CString> = items.iter().map(|s| CString::new(*s).unwrap()).collect();
        let ptrs = owned.iter().map(|c| c.as_ptr()).collect();
        CStrings { _owned: owned, ptrs }
    }

    pub fn ptr(&self) -> *const *const c_char {
        if self.ptrs.is_empty() {
            std::ptr::null()
        } else {
            self.ptrs.as_ptr()
        }
    }

    pub fn len(&self) -> usize {
        self.ptrs.len()
    }
}

pub fn from_c(p: *const c_char) -> Option<Vec<u8>> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
}

/// What `smtp_session_sendmail` reported.
#[derive(Debug)]
pub struct Sent {
    pub rc: c_int,
    pub codes: Vec<c_int>,
    pub refused: usize,
}

/// A session, freed on drop.
pub struct Client(pub *mut smtp_session);

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { smtp_session_free(self.0) };
    }
}

impl Client {
    pub fn of_kind(kind: c_int) -> Client {
        let p = smtp_session_new(kind);
        assert!(!p.is_null());
        let s = Client(p);
        let name = CString::new("client.example").unwrap();
        unsafe {
            assert_eq!(smtp_session_set_local_hostname(s.0, name.as_ptr()), SMTP_OK);
        }
        // Nothing in these tests may wait long by default.
        s.timeout(SMTP_TIMEOUT_CONNECT, 5000);
        s.timeout(SMTP_TIMEOUT_IO, 5000);
        s.timeout(SMTP_TIMEOUT_REPLY, 5000);
        s
    }

    pub fn new() -> Client {
        Client::of_kind(SMTP_KIND_SMTP)
    }

    pub fn lmtp() -> Client {
        Client::of_kind(SMTP_KIND_LMTP)
    }

    pub fn timeout(&self, which: c_int, ms: u32) {
        assert_eq!(unsafe { smtp_session_set_timeout_ms(self.0, which, ms) }, SMTP_OK);
    }

    pub fn connect(&self, port: u16) -> (c_int, c_int) {
        let host = CString::new("127.0.0.1").unwrap();
        let mut code = -7;
        let rc = unsafe { smtp_session_connect(self.0, host.as_ptr(), port, &mut code) };
        (rc, code)
    }

    pub fn open(&self, port: u16) -> (c_int, c_int) {
        let host = CString::new("127.0.0.1").unwrap();
        let mut code = -7;
        let rc = unsafe { smtp_session_open(self.0, host.as_ptr(), port, &mut code) };
        (rc, code)
    }

    pub fn noop(&self) -> (c_int, c_int) {
        let mut code = -7;
        let rc = unsafe { smtp_session_noop(self.0, &mut code) };
        (rc, code)
    }

    pub fn ehlo(&self) -> (c_int, c_int) {
        let mut code = -7;
        let rc = unsafe { smtp_session_ehlo(self.0, std::ptr::null(), &mut code) };
        (rc, code)
    }

    pub fn quit(&self) -> (c_int, c_int) {
        let mut code = -7;
        let rc = unsafe { smtp_session_quit(self.0, &mut code) };
        (rc, code)
    }

    pub fn sendmail_flags(&self, to: &[&str], msg: &[u8], flags: u32) -> Sent {
        let from = CString::new("sender@example.com").unwrap();
        let to = CStrings::new(to);
        let none = CStrings::new(&[]);
        let mut codes = vec![-7; to.len()];
        let mut refused = usize::MAX;
        let rc = unsafe {
            smtp_session_sendmail(
                self.0,
                from.as_ptr(),
                to.ptr(),
                to.len(),
                msg.as_ptr(),
                msg.len(),
                none.ptr(),
                none.len(),
                none.ptr(),
                none.len(),
                flags,
                codes.as_mut_ptr(),
                &mut refused,
            )
        };
        Sent { rc, codes, refused }
    }

    /// smtp_session_sendmail_batch with one message per entry of `msgs`,
    /// each from `from` to `to`: the call's result and each message's.
    pub fn sendmail_batch(&self, from: &str, to: &[&str], msgs: &[Vec<u8>]) -> (c_int, Vec<Sent>) {
        let from = CString::new(from).unwrap();
        let to = CStrings::new(to);
        let mut codes: Vec<Vec<c_int>> = msgs.iter().map(|_| vec![-7; to.len()]).collect();
        let mut items: Vec<smtp_batch_item> = msgs
            .iter()
            .zip(codes.iter_mut())
            .map(|(m, c)| smtp_batch_item {
                from: from.as_ptr(),
                to: to.ptr(),
                to_count: to.len(),
                msg: m.as_ptr(),
                len: m.len(),
                flags: SMTP_MSG_NORMALIZE,
                result: -7,
                refused_count: usize::MAX,
                rcpt_codes: c.as_mut_ptr(),
            })
            .collect();
        let rc = unsafe { smtp_session_sendmail_batch(self.0, items.as_mut_ptr(), items.len()) };
        let sent = items
            .iter()
            .zip(codes)
            .map(|(it, codes)| Sent { rc: it.result, codes, refused: it.refused_count })
            .collect();
        (rc, sent)
    }

    pub fn sendmail(&self, to: &[&str], msg: &[u8]) -> Sent {
        self.sendmail_flags(to, msg, SMTP_MSG_NORMALIZE)
    }

    /// Cancel this session's running call from another thread after
    /// `delay`; the thread returns smtp_session_cancel's result and when it
    /// returned.
    pub fn cancel_after(&self, delay: Duration) -> thread::JoinHandle<(c_int, Instant)> {
        struct Handle(*mut smtp_session);
        // SAFETY: smtp_session_cancel is the one function that may run on
        // another thread during a call; the test frees the session only
        // after joining this thread.
        unsafe impl Send for Handle {}
        let h = Handle(self.0);
        thread::spawn(move || {
            let h = h;
            thread::sleep(delay);
            let at = Instant::now();
            (unsafe { smtp_session_cancel(h.0) }, at)
        })
    }

    pub fn errmsg(&self) -> String {
        String::from_utf8_lossy(&from_c(unsafe { smtp_session_errmsg(self.0) }).unwrap()).into_owned()
    }

    pub fn reply_code(&self) -> c_int {
        unsafe { smtp_session_last_reply_code(self.0) }
    }

    pub fn reply_text(&self) -> Vec<u8> {
        from_c(unsafe { smtp_session_last_reply_text(self.0) }).unwrap()
    }

    pub fn connected(&self) -> bool {
        match unsafe { smtp_session_is_connected(self.0) } {
            0 => false,
            1 => true,
            other => panic!("smtp_session_is_connected returned {other}"),
        }
    }
}

/// The errmsg is non-empty, not "no error", and mentions `word`.
#[track_caller]
pub fn assert_errmsg(s: &Client, word: &str) {
    let m = s.errmsg();
    assert!(!m.is_empty() && m != "no error", "errmsg {m:?}");
    assert!(m.to_lowercase().contains(&word.to_lowercase()), "errmsg {m:?} does not mention {word:?}");
}

/// The session is cleanly closed, and a new connect on it to a good server
/// works (greeting, NOOP, QUIT).
#[track_caller]
pub fn assert_closed_and_reusable(s: &Client) {
    assert!(!s.connected(), "still connected after: {}", s.errmsg());
    let good = Server::start(well_behaved);
    assert_eq!(s.connect(good.port), (SMTP_OK, 220), "reconnect: {}", s.errmsg());
    assert!(s.connected());
    assert_eq!(s.errmsg(), "no error");
    assert_eq!(s.noop(), (SMTP_OK, 250), "{}", s.errmsg());
    assert_eq!(s.quit(), (SMTP_OK, 221), "{}", s.errmsg());
    assert!(!s.connected());
    good.finish().expect("good server");
}

/// One message from `from` to `to` through `pool`, on the session `seat`
/// (`smtp_pool_sendmail`, line endings normalized): the result code.
pub fn pool_sendmail(
    pool: *mut smtp::ffi::pool::smtp_pool,
    seat: *mut smtp_session,
    from: &str,
    to: &[&str],
    msg: &[u8],
) -> c_int {
    let from = CString::new(from).unwrap();
    let to = CStrings::new(to);
    unsafe {
        smtp::ffi::pool::smtp_pool_sendmail(
            pool,
            seat,
            from.as_ptr(),
            to.ptr(),
            to.len(),
            msg.as_ptr(),
            msg.len(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            SMTP_MSG_NORMALIZE,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }
}
