//! CHUNKING (RFC 3030): BDAT delivers the same bytes DATA does, pipelined
//! or not; a refused chunk is a data error with the session in step;
//! BINARYMIME for bodies that are not text; chunking can be turned off.

mod common;

use std::ffi::c_int;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use common::Session;
use smtp::ffi::commands::*;

/// A server that takes DATA and BDAT and returns, per transaction, the MAIL
/// line and the message bytes as delivered (DATA unstuffed).
/// Per transaction: the MAIL line and the message as delivered.
type Delivered = Vec<(String, Vec<u8>)>;

fn bdat_server(ehlo: &'static str, refuse_chunk: Option<usize>) -> (u16, thread::JoinHandle<Delivered>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut r = BufReader::new(sock);
        let mut out = Vec::new();
        let (mut mail, mut msg, mut chunks) = (String::new(), Vec::new(), 0usize);
        w.write_all(b"220 ready\r\n").unwrap();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return out;
            }
            let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" => w.write_all(ehlo.as_bytes()).unwrap(),
                "MAIL" => {
                    mail = line.trim_end().to_string();
                    w.write_all(b"250 ok\r\n").unwrap();
                }
                "BDAT" => {
                    let mut parts = line.split_whitespace().skip(1);
                    let n: usize = parts.next().unwrap().parse().unwrap();
                    let last = parts.next().is_some_and(|p| p.eq_ignore_ascii_case("LAST"));
                    let mut buf = vec![0u8; n];
                    r.read_exact(&mut buf).unwrap();
                    msg.extend_from_slice(&buf);
                    chunks += 1;
                    let refuse = refuse_chunk == Some(chunks);
                    w.write_all(if refuse { b"552 5.3.4 chunk refused\r\n" } else { b"250 ok\r\n" }).unwrap();
                    if last {
                        out.push((mail.clone(), std::mem::take(&mut msg)));
                        chunks = 0;
                    }
                }
                "DATA" => {
                    w.write_all(b"354 go\r\n").unwrap();
                    loop {
                        let mut l = Vec::new();
                        r.read_until(b'\n', &mut l).unwrap();
                        if l == b".\r\n" {
                            break;
                        }
                        let l = if l.first() == Some(&b'.') { &l[1..] } else { &l[..] };
                        msg.extend_from_slice(l);
                    }
                    out.push((mail.clone(), std::mem::take(&mut msg)));
                    w.write_all(b"250 queued\r\n").unwrap();
                }
                "QUIT" => {
                    w.write_all(b"221 bye\r\n").unwrap();
                    return out;
                }
                _ => w.write_all(b"250 ok\r\n").unwrap(),
            }
        }
    });
    (port, h)
}

fn send(s: &Session, msg: &[u8], flags: u32) -> c_int {
    let to = [c"b@x".as_ptr()];
    unsafe {
        smtp_session_sendmail(
            s.0,
            c"a@x".as_ptr(),
            to.as_ptr(),
            1,
            msg.as_ptr(),
            msg.len(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            flags,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }
}

fn quit(s: &Session) {
    let mut code = 0;
    unsafe { smtp_session_quit(s.0, &mut code) };
}

const MSG: &[u8] = b"Subject: chunks\n\n.dot line\nplain\r\n..two dots\rlast";

#[test]
fn bdat_delivers_what_data_delivers() {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| if i % 61 == 60 { b'\n' } else { b'a' + (i % 26) as u8 }).collect();
    for ehlo in ["250-mx\r\n250-CHUNKING\r\n250 PIPELINING\r\n", "250-mx\r\n250 CHUNKING\r\n"] {
        let (port, h) = bdat_server(ehlo, None);
        let s = Session::connected(port);
        assert_eq!(send(&s, MSG, SMTP_MSG_NORMALIZE), 0, "{}", s.errmsg());
        assert_eq!(send(&s, &big, SMTP_MSG_NORMALIZE), 0, "{}", s.errmsg());
        unsafe { smtp_session_set_chunking(s.0, 0) };
        assert_eq!(send(&s, MSG, SMTP_MSG_NORMALIZE), 0, "{}", s.errmsg());
        assert_eq!(send(&s, &big, SMTP_MSG_NORMALIZE), 0, "{}", s.errmsg());
        quit(&s);
        let got = h.join().unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].1, got[2].1, "BDAT and DATA deliver the same bytes ({ehlo:?})");
        assert_eq!(got[1].1, got[3].1, "a multi-chunk message ({ehlo:?})");
        assert_eq!(got[0].1, b"Subject: chunks\r\n\r\n.dot line\r\nplain\r\n..two dots\r\nlast\r\n");
    }
}

#[test]
fn refused_chunk_is_a_data_error_in_step() {
    let (port, h) = bdat_server("250-mx\r\n250-CHUNKING\r\n250 PIPELINING\r\n", Some(1));
    let s = Session::connected(port);
    let big = vec![b'x'; 2_500_000];
    assert_eq!(send(&s, &big, SMTP_MSG_RAW), 28, "{}", s.errmsg());
    assert_eq!(s.last_code(), 552);
    let mut code = 0;
    unsafe { assert_eq!(smtp_session_noop(s.0, &mut code), 0, "{}", s.errmsg()) };
    assert_eq!(code, 250);
    quit(&s);
    h.join().unwrap();
}

#[test]
fn binary_bodies_go_as_binarymime() {
    let (port, h) = bdat_server("250-mx\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 8BITMIME\r\n", None);
    let s = Session::connected(port);
    assert_eq!(send(&s, b"Subject: bin\r\n\r\n\x00\x01\x02\r\n", SMTP_MSG_RAW), 0, "{}", s.errmsg());
    assert_eq!(send(&s, b"Subject: text\r\n\r\nplain\r\n", SMTP_MSG_RAW), 0, "{}", s.errmsg());
    quit(&s);
    let got = h.join().unwrap();
    assert!(got[0].0.contains("BODY=BINARYMIME"), "{}", got[0].0);
    assert!(!got[1].0.contains("BINARYMIME"), "{}", got[1].0);
    assert_eq!(got[0].1, b"Subject: bin\r\n\r\n\x00\x01\x02\r\n");
}
