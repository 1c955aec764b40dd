//! Load and threads: 64 threads, each with its own session, send 1,000
//! messages each to Postfix's smtp-sink (its -c counter must say 64,000);
//! sessions that are dropped by a flaky TLS server and reconnect in a loop,
//! sharing one TLS config, deliver every message exactly once; two sessions
//! on two threads interleave calls without interference.

mod common;

use std::collections::HashMap;
use std::ffi::{c_int, CString};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::pki::{ca, leaf};
use common::{cstr, Scripted, Session};
use rcgen::Issuer;
use smtp::ffi::commands::*;
use smtp::ffi::session::*;
use smtp::ffi::tls::*;

// Result codes from the library, under this file's short names.
use common::codes::SMTP_OK as OK;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Sink {
    child: Child,
    port: u16,
    counter: std::path::PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// smtp-sink with its delivery counter (-c) going to a file.
fn smtp_sink() -> Sink {
    let bin = ["/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("Postfix's smtp-sink is missing: run `sh scripts/deps.sh` (make test does)");
    let port = free_port();
    let counter = std::env::temp_dir().join(format!("libsmtp-sink-{}-{port}.count", std::process::id()));
    let out = std::fs::File::create(&counter).unwrap();
    let child = Command::new(bin)
        .args(["-u", "nobody", "-c", &format!("127.0.0.1:{port}"), "1024"])
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("start smtp-sink");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(10), "smtp-sink did not start");
        thread::sleep(Duration::from_millis(20));
    }
    Sink { child, port, counter }
}

/// The last `mesg=N` smtp-sink's -c counter printed.
fn delivered(sink: &Sink) -> u64 {
    let text = std::fs::read_to_string(&sink.counter).unwrap_or_default();
    text.rsplit('\r').find_map(|l| l.split("mesg=").nth(1)).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

fn message(id: &str) -> Vec<u8> {
    format!("From: load@example.com\r\nTo: sink@example.com\r\nMessage-ID: <{id}@load.test>\r\nSubject: {id}\r\n\r\nMessage {id}.\r\n.starts with a dot\r\n").into_bytes()
}

fn sendmail(s: *mut smtp::ffi::handle::smtp_session, msg: &[u8]) -> c_int {
    let to = [c"sink@example.com".as_ptr()];
    unsafe {
        smtp_session_sendmail(
            s,
            c"load@example.com".as_ptr(),
            to.as_ptr(),
            1,
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

#[test]
fn sixty_four_threads_a_thousand_messages_each() {
    const THREADS: usize = 64;
    const EACH: usize = 1000;
    let sink = smtp_sink();
    let port = sink.port;
    let start = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                let s = Session::connected(port);
                for m in 0..EACH {
                    let rc = sendmail(s.0, &message(&format!("t{t}-m{m}")));
                    assert_eq!(rc, OK, "thread {t} message {m}: {}", s.errmsg());
                }
                let mut code = 0;
                unsafe { assert_eq!(smtp_session_quit(s.0, &mut code), OK) };
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let took = start.elapsed();
    let want = (THREADS * EACH) as u64;
    let wait = Instant::now();
    while delivered(&sink) < want && wait.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(delivered(&sink), want, "smtp-sink's counter: none lost, none duplicated");
    println!(
        "load: {want} messages on {THREADS} threads in {took:.2?} ({:.0} messages/s)",
        want as f64 / took.as_secs_f64()
    );
}

// ---- a flaky TLS server -----------------------------------------------------

/// A TLS SMTP server that drops connections at random points (never after
/// it has accepted a message without saying so), and records each message's
/// Message-ID when it answers 250 to it.
/// Message-ID to how many times it was accepted.
type Taken = Arc<Mutex<HashMap<String, usize>>>;

fn flaky_tls_server(leaf: &common::pki::Leaf, stop_after: usize) -> (u16, Taken, thread::JoinHandle<()>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(leaf.chain.clone(), leaf.key())
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let seen2 = seen.clone();
    let h = thread::spawn(move || {
        let mut conns = Vec::new();
        let mut n: u64 = 0;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            n += 1;
            let (config, seen) = (config.clone(), seen2.clone());
            conns.push(thread::spawn(move || {
                let _ = serve_flaky(stream, config, seen, n);
            }));
            if seen2.lock().unwrap().values().sum::<usize>() >= stop_after {
                break;
            }
        }
        for c in conns {
            let _ = c.join();
        }
    });
    (port, seen, h)
}

fn serve_flaky(
    sock: TcpStream,
    config: Arc<rustls::ServerConfig>,
    seen: Arc<Mutex<HashMap<String, usize>>>,
    seed: u64,
) -> std::io::Result<()> {
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, sock));
    let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut roll = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % 100
    };
    tls.get_mut().write_all(b"220 flaky ready\r\n")?;
    loop {
        let mut line = String::new();
        if tls.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        // Drop before answering MAIL, RCPT or DATA now and then.
        if matches!(verb.as_str(), "MAIL" | "RCPT" | "DATA") && roll() < 4 {
            return Ok(());
        }
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-flaky\r\n250 8BITMIME\r\n",
            "DATA" => {
                tls.get_mut().write_all(b"354 go\r\n")?;
                let mut id = None;
                loop {
                    let mut l = String::new();
                    if tls.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    if let Some(v) = l.strip_prefix("Message-ID: ") {
                        id = Some(v.trim().to_string());
                    }
                    // Drop in the middle of the body now and then.
                    if roll() < 1 {
                        return Ok(());
                    }
                }
                let id = id.unwrap_or_default();
                tls.get_mut().write_all(b"250 2.0.0 queued\r\n")?;
                *seen.lock().unwrap().entry(id).or_default() += 1;
                continue;
            }
            "QUIT" => {
                tls.get_mut().write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => b"250 ok\r\n",
        };
        tls.get_mut().write_all(reply)?;
    }
}

#[test]
fn reconnecting_sessions_share_one_tls_config() {
    const THREADS: usize = 16;
    const EACH: usize = 100;
    let dir = std::env::temp_dir().join(format!("libsmtp-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca_params, ca_key, _, ca_pem) = ca("load CA");
    std::fs::write(dir.join("ca.pem"), ca_pem).unwrap();
    let server_leaf = leaf(&dir, "server", &["127.0.0.1"], &Issuer::new(ca_params, ca_key), false);
    let (port, seen, server) = flaky_tls_server(&server_leaf, THREADS * EACH);

    let config = unsafe {
        let b = smtp_tls_config_builder_new();
        let ca = cstr(dir.join("ca.pem").to_str().unwrap());
        assert_eq!(smtp_tls_config_builder_add_ca_file(b, ca.as_ptr()), OK);
        let mut c = std::ptr::null_mut();
        assert_eq!(smtp_tls_config_builder_build(b, &mut c), OK);
        smtp_tls_config_builder_free(b);
        c as usize
    };
    let reconnects = Arc::new(Mutex::new(0usize));
    let start = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let reconnects = reconnects.clone();
            thread::spawn(move || {
                let s = Session::new(SMTP_KIND_SMTP_SSL);
                let host = cstr(&format!("127.0.0.1:{port}"));
                unsafe {
                    smtp_session_set_tls_config(s.0, config as *const smtp_tls_config);
                    smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_IO, 5000);
                }
                for m in 0..EACH {
                    let msg = message(&format!("tls-t{t}-m{m}"));
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        assert!(tries < 50, "thread {t} message {m}: {}", s.errmsg());
                        if !s.connected_now() {
                            let mut code = 0;
                            if unsafe { smtp_session_connect(s.0, host.as_ptr(), 0, &mut code) } != OK {
                                continue;
                            }
                            *reconnects.lock().unwrap() += 1;
                        }
                        if sendmail(s.0, &msg) == OK {
                            break;
                        }
                    }
                }
                let mut code = 0;
                unsafe { smtp_session_quit(s.0, &mut code) };
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let took = start.elapsed();
    unsafe { smtp_tls_config_free(config as *mut smtp_tls_config) };
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), THREADS * EACH, "every message arrived");
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(dups.is_empty(), "duplicated: {dups:?}");
    let reconnects = *reconnects.lock().unwrap();
    assert!(reconnects > THREADS, "the server dropped connections: {reconnects} connects");
    println!("load: {} messages over TLS on {THREADS} threads, {reconnects} connections, in {took:.2?}", seen.len());
    drop(server);
}

/// No global state: two sessions on two threads, each step of one between
/// the steps of the other, each seeing only its own server.
#[test]
fn two_sessions_on_two_threads_interleave() {
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|name| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let srv = Scripted::start(move |p| {
                    p.send(&format!("220 {name} ready\r\n"));
                    for i in 0..20 {
                        p.answer(&format!("250 {name} {i}\r\n"));
                    }
                });
                let s = Session::connected(srv.port);
                for i in 0..20 {
                    barrier.wait();
                    let mut code = 0;
                    unsafe {
                        let arg = CString::new(format!("{name}-{i}")).unwrap();
                        assert_eq!(smtp_session_docmd(s.0, c"XECHO".as_ptr(), arg.as_ptr(), &mut code), OK);
                    }
                    assert_eq!(s.last_text(), format!("{name} {i}"));
                }
                drop(s);
                let seen = srv.finish();
                assert!(seen.iter().all(|l| l.contains(name)), "{seen:?}");
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
