//! fastsink: a minimal, fast SMTP sink for the benchmark (std only; build
//! with `rustc -O bench/fastsink.rs`).
//!
//! Per connection it reads whatever is available (up to 1 MiB), answers every
//! complete command in that input with one write, and in DATA only looks for
//! the end (`CRLF . CRLF`; no dot-unstuffing, nothing stored). It counts
//! messages and message bytes over all connections; `XSTATS` answers
//! `250 <messages> <bytes> <sessions>`.
//!
//! Advertises PIPELINING, 8BITMIME and SIZE (and CHUNKING with --chunking).
//! With --delay-ms N each batch of replies is written N ms after the input
//! it answers was read (a one-way delay line, as a network path would be:
//! reading goes on meanwhile, so pipelined input is not held up by it).
//!
//! Usage: fastsink [--port P] [--port-file F] [--delay-ms N] [--chunking]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

static MESSAGES: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static SESSIONS: AtomicU64 = AtomicU64::new(0);

extern "C" {
    fn memmem(h: *const u8, hl: usize, n: *const u8, nl: usize) -> *const u8;
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    // SAFETY: both slices are valid for their lengths; glibc memmem.
    let p = unsafe { memmem(hay.as_ptr(), hay.len(), needle.as_ptr(), needle.len()) };
    if p.is_null() {
        None
    } else {
        Some(p as usize - hay.as_ptr() as usize)
    }
}

#[derive(Clone, Copy)]
struct Opts {
    delay: Duration,
    chunking: bool,
}

enum Mode {
    Commands,
    /// In DATA: bytes of this message counted so far; whether the data has
    /// just started (a "." line at once ends an empty message).
    Data { count: u64, at_start: bool },
    /// In BDAT: bytes left in this chunk, and whether it is the last.
    Bdat { left: u64, last: bool },
}

/// Where the reply batches go: straight to the socket, or through a delay
/// line (a writer thread that writes each batch when it is due).
enum Out {
    Direct(TcpStream),
    Delayed(mpsc::Sender<(Instant, Vec<u8>, bool)>),
}

impl Out {
    fn send(&mut self, bytes: Vec<u8>, close: bool, delay: Duration, read_at: Instant) -> bool {
        match self {
            Out::Direct(s) => {
                if s.write_all(&bytes).is_err() {
                    return false;
                }
                if close {
                    let _ = s.shutdown(Shutdown::Both);
                }
                true
            }
            Out::Delayed(tx) => tx.send((read_at + delay, bytes, close)).is_ok(),
        }
    }
}

fn session(mut sock: TcpStream, opts: Opts) {
    SESSIONS.fetch_add(1, Ordering::Relaxed);
    let _ = sock.set_nodelay(true);
    let mut out = if opts.delay.is_zero() {
        Out::Direct(sock.try_clone().expect("clone"))
    } else {
        let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>, bool)>();
        let mut w = sock.try_clone().expect("clone");
        thread::spawn(move || {
            for (due, bytes, close) in rx {
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
                if w.write_all(&bytes).is_err() {
                    return;
                }
                if close {
                    let _ = w.shutdown(Shutdown::Both);
                    return;
                }
            }
        });
        Out::Delayed(tx)
    };
    let mut ehlo = String::from("250-fastsink\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
    if opts.chunking {
        ehlo.push_str("250-CHUNKING\r\n");
    }
    ehlo.push_str("250 SIZE 0\r\n");

    let _ = out.send(b"220 fastsink ESMTP\r\n".to_vec(), false, opts.delay, Instant::now());
    const CAP: usize = 1 << 20;
    let mut buf = vec![0u8; CAP];
    let mut have = 0usize; // bytes in buf[..have] not yet consumed
    let mut mode = Mode::Commands;
    loop {
        let n = match sock.read(&mut buf[have..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let read_at = Instant::now();
        have += n;
        let mut reply: Vec<u8> = Vec::new();
        let mut pos = 0usize;
        let mut close = false;
        loop {
            match mode {
                Mode::Data { count, at_start } => {
                    let avail = &buf[pos..have];
                    if at_start {
                        if avail.len() < 3 {
                            break;
                        }
                        if &avail[..3] == b".\r\n" {
                            pos += 3;
                            MESSAGES.fetch_add(1, Ordering::Relaxed);
                            reply.extend_from_slice(b"250 2.0.0 Ok: queued\r\n");
                            mode = Mode::Commands;
                            continue;
                        }
                    }
                    match find(avail, b"\r\n.\r\n") {
                        Some(i) => {
                            pos += i + 5;
                            MESSAGES.fetch_add(1, Ordering::Relaxed);
                            BYTES.fetch_add(count + i as u64 + 2, Ordering::Relaxed);
                            reply.extend_from_slice(b"250 2.0.0 Ok: queued\r\n");
                            mode = Mode::Commands;
                        }
                        None => {
                            // Keep the last 4 bytes: the end may straddle reads.
                            let keep = avail.len().min(4);
                            let done = avail.len() - keep;
                            pos += done;
                            mode = Mode::Data { count: count + done as u64, at_start: at_start && done == 0 };
                            break;
                        }
                    }
                }
                Mode::Bdat { left, last } => {
                    let take = (left as usize).min(have - pos);
                    pos += take;
                    BYTES.fetch_add(take as u64, Ordering::Relaxed);
                    if take as u64 == left {
                        if last {
                            MESSAGES.fetch_add(1, Ordering::Relaxed);
                        }
                        reply.extend_from_slice(b"250 2.0.0 Ok\r\n");
                        mode = Mode::Commands;
                    } else {
                        mode = Mode::Bdat { left: left - take as u64, last };
                        break;
                    }
                }
                Mode::Commands => {
                    let Some(i) = find(&buf[pos..have], b"\r\n") else { break };
                    let line = &buf[pos..pos + i];
                    pos += i + 2;
                    let verb: Vec<u8> = line.iter().take_while(|&&b| b != b' ').map(|b| b.to_ascii_uppercase()).collect();
                    match &verb[..] {
                        b"EHLO" | b"LHLO" => reply.extend_from_slice(ehlo.as_bytes()),
                        b"HELO" => reply.extend_from_slice(b"250 fastsink\r\n"),
                        b"MAIL" => reply.extend_from_slice(b"250 2.1.0 Ok\r\n"),
                        b"RCPT" => reply.extend_from_slice(b"250 2.1.5 Ok\r\n"),
                        b"DATA" => {
                            reply.extend_from_slice(b"354 End data with <CR><LF>.<CR><LF>\r\n");
                            mode = Mode::Data { count: 0, at_start: true };
                        }
                        b"BDAT" => {
                            let text = String::from_utf8_lossy(line).into_owned();
                            let mut it = text.split_whitespace().skip(1);
                            let size: u64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                            let last = it.next().is_some_and(|s| s.eq_ignore_ascii_case("last"));
                            mode = Mode::Bdat { left: size, last };
                            if size == 0 {
                                if last {
                                    MESSAGES.fetch_add(1, Ordering::Relaxed);
                                }
                                reply.extend_from_slice(b"250 2.0.0 Ok\r\n");
                                mode = Mode::Commands;
                            }
                        }
                        b"RSET" | b"NOOP" => reply.extend_from_slice(b"250 2.0.0 Ok\r\n"),
                        b"XSTATS" => reply.extend_from_slice(
                            format!(
                                "250 {} {} {}\r\n",
                                MESSAGES.load(Ordering::Relaxed),
                                BYTES.load(Ordering::Relaxed),
                                SESSIONS.load(Ordering::Relaxed)
                            )
                            .as_bytes(),
                        ),
                        b"QUIT" => {
                            reply.extend_from_slice(b"221 2.0.0 Bye\r\n");
                            close = true;
                            break;
                        }
                        _ => reply.extend_from_slice(b"502 5.5.2 Error: command not recognized\r\n"),
                    }
                }
            }
        }
        if !reply.is_empty() && !out.send(reply, close, opts.delay, read_at) {
            return;
        }
        if close {
            return;
        }
        // Move what is left (a partial command, the last bytes of data) to the front.
        buf.copy_within(pos..have, 0);
        have -= pos;
        if have == CAP {
            // A command line of 1 MiB: refuse it and drop the connection.
            let _ = out.send(b"500 5.5.2 Line too long\r\n".to_vec(), true, opts.delay, read_at);
            return;
        }
    }
}

fn main() {
    let mut port = 0u16;
    let mut port_file: Option<String> = None;
    let mut opts = Opts { delay: Duration::ZERO, chunking: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|v| v.parse().ok()).expect("--port N"),
            "--port-file" => port_file = args.next(),
            "--delay-ms" => opts.delay = Duration::from_millis(args.next().and_then(|v| v.parse().ok()).expect("--delay-ms N")),
            "--chunking" => opts.chunking = true,
            _ => {
                eprintln!("usage: fastsink [--port P] [--port-file F] [--delay-ms N] [--chunking]");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    if let Some(f) = port_file {
        std::fs::write(&f, format!("{port}\n")).expect("port file");
    }
    eprintln!("fastsink: 127.0.0.1:{port} delay {:?} chunking {}", opts.delay, opts.chunking);
    for conn in listener.incoming() {
        match conn {
            Ok(s) => {
                thread::spawn(move || session(s, opts));
            }
            Err(e) => eprintln!("fastsink: accept: {e}"),
        }
    }
}
