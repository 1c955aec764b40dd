//! Shared pieces of the integration tests that drive the C ABI: a session
//! that frees itself, C-string helpers, a scripted loopback server and the
//! Python servers under tests/servers.
#![allow(dead_code)]

pub mod maildrop;
pub mod pki;
pub mod postfix;
pub mod raw;

/// Result codes, from the library's table (never as bare numbers).
pub use smtp::ffi::result::codes;

use std::ffi::{c_char, c_int, CStr, CString};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use smtp::ffi::handle::smtp_session;
use smtp::ffi::session::*;
use smtp::ffi::state::*;

/// A session freed on drop.
pub struct Session(pub *mut smtp_session);

impl Session {
    pub fn new(kind: c_int) -> Session {
        let s = smtp_session_new(kind);
        assert!(!s.is_null());
        Session(s)
    }

    /// Connected to `127.0.0.1:port` with short timeouts.
    pub fn connected(port: u16) -> Session {
        let s = Session::new(SMTP_KIND_SMTP);
        unsafe {
            smtp_session_set_local_hostname(s.0, c"client.example".as_ptr());
            smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_IO, 5000);
            smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_REPLY, 5000);
            let host = cstr(&format!("127.0.0.1:{port}"));
            let mut code = 0;
            assert_eq!(smtp_session_connect(s.0, host.as_ptr(), 0, &mut code), 0, "{}", s.errmsg());
        }
        s
    }

    pub fn errmsg(&self) -> String {
        text(unsafe { smtp_session_errmsg(self.0) }).unwrap_or_default()
    }

    pub fn last_code(&self) -> c_int {
        unsafe { smtp_session_last_reply_code(self.0) }
    }

    pub fn last_text(&self) -> String {
        text(unsafe { smtp_session_last_reply_text(self.0) }).unwrap_or_default()
    }

    pub fn connected_now(&self) -> bool {
        unsafe { smtp_session_is_connected(self.0) == 1 }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        unsafe { smtp_session_free(self.0) };
    }
}

pub fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub fn text(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The contents of `path` once it exists (a server writes it after the
/// fact); panics after 5 s.
pub fn wait_for_file(path: &std::path::Path) -> Vec<u8> {
    let start = Instant::now();
    loop {
        if let Ok(b) = std::fs::read(path) {
            return b;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{} never arrived", path.display());
        thread::sleep(Duration::from_millis(20));
    }
}

/// A trace callback (`smtp_session_set_trace`) appending each line to the
/// `Vec<String>` that `userdata` points to.
///
/// # Safety
/// `userdata` points to a live `Vec<String>`; `line` holds `len` bytes.
pub unsafe extern "C" fn collect_lines(userdata: *mut std::ffi::c_void, _dir: c_int, line: *const c_char, len: usize) {
    let lines = unsafe { &mut *userdata.cast::<Vec<String>>() };
    let bytes = unsafe { std::slice::from_raw_parts(line.cast::<u8>(), len) };
    lines.push(String::from_utf8_lossy(bytes).into_owned());
}

/// A loopback server running `script` on its first connection, with a
/// line reader and the raw stream. It stops by itself (read timeouts).
pub struct Scripted {
    pub port: u16,
    handle: Option<JoinHandle<Vec<String>>>,
}

pub struct Peer {
    reader: BufReader<std::net::TcpStream>,
    writer: std::net::TcpStream,
    /// Every line the client sent.
    pub seen: Vec<String>,
}

impl Peer {
    pub fn send(&mut self, s: &str) {
        let _ = self.writer.write_all(s.as_bytes());
    }

    /// The next line from the client ("" at end of stream or timeout).
    pub fn line(&mut self) -> String {
        let mut l = String::new();
        let _ = self.reader.read_line(&mut l);
        self.seen.push(l.clone());
        l
    }

    /// Read a line and answer it.
    pub fn answer(&mut self, reply: &str) -> String {
        let l = self.line();
        self.send(reply);
        l
    }
}

impl Scripted {
    pub fn start(script: impl FnOnce(&mut Peer) + Send + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut peer =
                Peer { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream, seen: Vec::new() };
            script(&mut peer);
            peer.seen
        });
        Scripted { port, handle: Some(handle) }
    }

    /// The lines the client sent.
    pub fn finish(mut self) -> Vec<String> {
        self.handle.take().unwrap().join().unwrap()
    }
}

/// A Python server from tests/servers, run with build/venv (made by
/// scripts/deps.sh, which `make test` runs first); killed on drop, and it
/// exits by itself when the test process is gone (a `static` is never dropped).
/// The interpreter, the scripts and how long one may take to start come from
/// tests/servers/servers.json, the description scripts/run_tests.py starts
/// the C, C++ and example suites' servers from.
pub struct PyServer {
    child: Child,
    pub port: u16,
}

impl PyServer {
    pub fn start(script: &str, extra: &[&str]) -> PyServer {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let described = root.join("tests/servers/servers.json");
        let described: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&described).expect("read tests/servers/servers.json"))
                .expect("tests/servers/servers.json is JSON");
        let servers = described["servers"].as_object().expect("servers.json: servers");
        assert!(
            servers.values().any(|s| s["script"] == script),
            "{script} is not described in tests/servers/servers.json"
        );
        let ready_within =
            Duration::from_secs(described["ready_within_s"].as_u64().expect("servers.json: ready_within_s"));
        let python = root.join(described["python"].as_str().expect("servers.json: python"));
        assert!(python.exists(), "{} is missing: run `sh scripts/deps.sh` (make test does)", python.display());
        let port_file = std::env::temp_dir().join(format!(
            "libsmtp-{script}-{}-{:?}.port",
            std::process::id(),
            thread::current().id()
        ));
        let _ = std::fs::remove_file(&port_file);
        let child = Command::new(python)
            .arg(root.join("tests/servers").join(script))
            .arg("--port-file")
            .arg(&port_file)
            .args(extra)
            .arg("--parent-pid")
            .arg(std::process::id().to_string())
            // Not the test's stdout: a server outliving the test binary
            // must not hold the harness's pipe open.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the Python server");
        let start = Instant::now();
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                if let Ok(p) = p.trim().parse() {
                    break p;
                }
            }
            assert!(start.elapsed() < ready_within, "{script} did not start");
            thread::sleep(Duration::from_millis(50));
        };
        let _ = std::fs::remove_file(&port_file);
        PyServer { child, port }
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
