//! The message builder and DKIM through the C ABI, checked by independent
//! parsers and verifiers: what the builder writes, parsed by Python's
//! `email` package (policy.default), gives back the subject, names, text,
//! HTML and attachment bytes (a binary of several MB, non-ASCII names and
//! file names, a long subject that folds); messages sent through aiosmtpd
//! arrive with the envelope from their fields and no Bcc; DKIM signatures of
//! both algorithms verify with dkimpy (keys made by OpenSSL, given through
//! its DNS hook) and stop verifying when the message changes.

mod common;

use std::ffi::{c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{cstr, text, PyServer, Scripted, Session};
use serde_json::Value;
use smtp::ffi::compose::*;
use smtp::ffi::dkim::*;
use smtp::ffi::message::smtp_session_send_message;

use common::codes::{
    SMTP_ERR_INVALID_ARGUMENT as ERR_INVALID, SMTP_ERR_IO as ERR_IO, SMTP_ERR_NOT_SUPPORTED as ERR_NOT_SUPPORTED,
    SMTP_ERR_NULL_ARGUMENT as ERR_NULL, SMTP_OK as OK,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let p = root().join("build/venv/bin/python");
    assert!(p.exists(), "{} is missing: run `sh scripts/deps.sh`", p.display());
    p
}

/// A fresh directory of this process (tests run in parallel: numbered).
fn temp(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("libsmtp-compose-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A message handle freed on drop; `ok` asserts a call succeeded.
struct Msg(*mut smtp_message);

impl Msg {
    fn new() -> Msg {
        Msg(smtp_message_new())
    }

    fn ok(&self, code: c_int) {
        assert_eq!(code, OK, "{}", self.errmsg());
    }

    fn errmsg(&self) -> String {
        text(unsafe { smtp_message_errmsg(self.0) }).unwrap()
    }

    fn bytes(&self) -> Vec<u8> {
        let (mut p, mut n) = (std::ptr::null(), 0usize);
        self.ok(unsafe { smtp_message_bytes(self.0, &mut p, &mut n) });
        unsafe { std::slice::from_raw_parts(p, n) }.to_vec()
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        unsafe { smtp_message_free(self.0) };
    }
}

struct Dkim(*mut smtp_dkim);

impl Dkim {
    /// A signer with one of the test keys (`rsa2048` or `ed25519`).
    fn new(key: &str, canon: (c_int, c_int)) -> Dkim {
        let d = Dkim(smtp_dkim_new());
        let pem = std::fs::read(root().join(format!("tests/compose/keys/{key}.pem"))).unwrap();
        unsafe {
            d.ok(smtp_dkim_set_key_pem(d.0, pem.as_ptr(), pem.len()));
            d.ok(smtp_dkim_set_domain(d.0, c"example.com".as_ptr()));
            d.ok(smtp_dkim_set_selector(d.0, c"test".as_ptr()));
            d.ok(smtp_dkim_set_canonicalization(d.0, canon.0, canon.1));
        }
        d
    }

    fn ok(&self, code: c_int) {
        assert_eq!(code, OK, "{}", text(unsafe { smtp_dkim_errmsg(self.0) }).unwrap());
    }
}

impl Drop for Dkim {
    fn drop(&mut self) {
        unsafe { smtp_dkim_free(self.0) };
    }
}

/// Python's reading of a message (tests/compose/parse_message.py).
fn parse(eml: &[u8]) -> Value {
    let dir = temp("parse");
    let path = dir.join("m.eml");
    std::fs::write(&path, eml).unwrap();
    let out = Command::new(python()).arg(root().join("tests/compose/parse_message.py")).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// dkimpy's verdict on `eml` with the public record of `key`.
fn dkim_verifies(eml: &[u8], key: &str) -> bool {
    let dir = temp("verify");
    let path = dir.join("m.eml");
    std::fs::write(&path, eml).unwrap();
    let out = Command::new(python())
        .arg(root().join("tests/compose/dkim_verify.py"))
        .arg(&path)
        .arg(root().join(format!("tests/compose/keys/{key}.txt")))
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success() == (said == "pass"), "{said} {}", String::from_utf8_lossy(&out.stderr));
    out.status.success()
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// Pseudo-random bytes (xorshift), so that base64 has every value to carry.
fn noise(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// A callback attachment over a byte vector, rewindable.
struct Cursor {
    data: Vec<u8>,
    at: usize,
}

unsafe extern "C" fn cursor_read(userdata: *mut c_void, buf: *mut u8, cap: usize) -> isize {
    let c = unsafe { &mut *userdata.cast::<Cursor>() };
    let n = cap.min(c.data.len() - c.at).min(10_000);
    unsafe { std::ptr::copy_nonoverlapping(c.data[c.at..].as_ptr(), buf, n) };
    c.at += n;
    n as isize
}

unsafe extern "C" fn cursor_rewind(userdata: *mut c_void) -> c_int {
    unsafe { (*userdata.cast::<Cursor>()).at = 0 };
    0
}

unsafe extern "C" fn failing_read(_: *mut c_void, _: *mut u8, _: usize) -> isize {
    -1
}

const SUBJECT: &str = "Quarterly report: Grüße aus Köln, 日本語の件名, and a long tail of plain words that \
must fold across several lines because it is far longer than seventy-eight characters";
const TEXT: &str = "Hello Bob,\n\nthe figures are attached. Ünïcödé, and a line starting with a dot:\n.hidden\n\nZoë\n";
const HTML: &str = "<html><body><p>Hello <b>Bob</b>, logo: <img src=\"cid:logo@example.com\"></p>\n</body></html>\n";
const LONG_NAME: &str = "Überweisungsträger für das Jahr 2024 – endgültige Fassung (Kopie).pdf";

/// A message with every kind of content; `big` is the path of a file to
/// attach, `cursor` a callback source.
fn full_message(big: &Path, cursor: &mut Cursor) -> Msg {
    let m = Msg::new();
    let big = cstr(big.to_str().unwrap());
    let name = cstr(LONG_NAME);
    let subject = cstr(SUBJECT);
    unsafe {
        m.ok(smtp_message_set_from(m.0, cstr("Zoë Ångström <zoe@example.com>").as_ptr()));
        m.ok(smtp_message_add_to(m.0, c"Bob <bob@example.org>, \"Doe, Jane\" <jane@example.org>".as_ptr()));
        m.ok(smtp_message_add_cc(m.0, cstr("Ünal <unal@bücher.example>").as_ptr()));
        m.ok(smtp_message_add_bcc(m.0, c"hidden@example.net".as_ptr()));
        m.ok(smtp_message_add_reply_to(m.0, c"replies@example.com".as_ptr()));
        m.ok(smtp_message_set_subject(m.0, subject.as_ptr()));
        m.ok(smtp_message_add_header(m.0, c"X-Mailer".as_ptr(), cstr("libsmtp tests – ünïcode").as_ptr()));
        m.ok(smtp_message_set_text(m.0, TEXT.as_ptr().cast(), TEXT.len()));
        m.ok(smtp_message_set_html(m.0, HTML.as_ptr().cast(), HTML.len()));
        m.ok(smtp_message_attach_file(m.0, big.as_ptr(), std::ptr::null(), std::ptr::null()));
        let pdf = b"%PDF-1.4 not really\n";
        m.ok(smtp_message_attach_memory(m.0, pdf.as_ptr(), pdf.len(), name.as_ptr(), std::ptr::null()));
        m.ok(smtp_message_attach_callback(
            m.0,
            Some(cursor_read),
            Some(cursor_rewind),
            (cursor as *mut Cursor).cast(),
            cstr("données.csv").as_ptr(),
            c"text/csv".as_ptr(),
        ));
        let png = noise(5000, 7);
        m.ok(smtp_message_add_inline_memory(
            m.0,
            png.as_ptr(),
            png.len(),
            c"<logo@example.com>".as_ptr(),
            c"image/png".as_ptr(),
        ));
    }
    m
}

/// What Python read matches what the builder was given.
fn check_parsed(p: &Value, big: &[u8], csv: &[u8]) {
    assert_eq!(p["defects"], serde_json::json!([]), "{p}");
    assert_eq!(p["bare_lf"], 0);
    assert!(p["max_line"].as_u64().unwrap() <= 78, "a line of {}", p["max_line"]);
    assert_eq!(p["subject"], SUBJECT);
    assert_eq!(p["from"], serde_json::json!([["Zoë Ångström", "zoe@example.com"]]));
    assert_eq!(p["to"], serde_json::json!([["Bob", "bob@example.org"], ["Doe, Jane", "jane@example.org"]]));
    assert_eq!(p["cc"], serde_json::json!([["Ünal", "unal@xn--bcher-kva.example"]]));
    assert_eq!(p["reply_to"], serde_json::json!([["", "replies@example.com"]]));
    assert_eq!(p["bcc_present"], false);
    assert_eq!(p["content_type"], "multipart/mixed");
    assert_eq!(p["text"], TEXT);
    assert_eq!(p["html"], HTML);
    let parts = p["parts"].as_array().unwrap();
    let find = |k: &str, v: &str| parts.iter().find(|x| x[k] == v).unwrap_or_else(|| panic!("no part {k}={v}: {p}"));
    let inline = find("content_id", "<logo@example.com>");
    assert_eq!((inline["disposition"].as_str(), inline["len"].as_u64()), (Some("inline"), Some(5000)));
    assert_eq!(inline["sha256"], sha256_hex(&noise(5000, 7)));
    let b = find("filename", "big.bin");
    assert_eq!(b["sha256"], sha256_hex(big));
    assert_eq!(b["content_type"], "application/octet-stream");
    let pdf = find("filename", LONG_NAME);
    assert_eq!(pdf["content_type"], "application/pdf");
    assert_eq!(pdf["sha256"], sha256_hex(b"%PDF-1.4 not really\n"));
    let c = find("filename", "données.csv");
    assert_eq!(c["sha256"], sha256_hex(csv));
    assert_eq!(parts.len(), 4);
}

#[test]
fn round_trip_through_python_email() {
    let dir = temp("round-trip");
    let big = noise(3 << 20, 42);
    std::fs::write(dir.join("big.bin"), &big).unwrap();
    let csv = "name;städte\nZoë;Köln\n".repeat(2000).into_bytes();
    let mut cursor = Cursor { data: csv.clone(), at: 0 };
    let m = full_message(&dir.join("big.bin"), &mut cursor);
    let eml = m.bytes();
    check_parsed(&parse(&eml), &big, &csv);
    // Every header line within 78 characters, the encoded words included.
    let head = &eml[..eml.windows(4).position(|w| w == b"\r\n\r\n").unwrap()];
    for line in head.split(|&b| b == b'\n') {
        assert!(line.len() <= 79, "{:?}", String::from_utf8_lossy(line));
    }
    // A second write gives the same bytes (the callback rewound).
    assert_eq!(m.bytes(), eml);
    // smtp_message_write gives them too, in pieces.
    unsafe extern "C" fn collect(userdata: *mut c_void, buf: *const u8, len: usize) -> c_int {
        let v = unsafe { &mut *userdata.cast::<Vec<u8>>() };
        v.extend_from_slice(unsafe { std::slice::from_raw_parts(buf, len) });
        0
    }
    let mut out: Vec<u8> = Vec::new();
    m.ok(unsafe { smtp_message_write(m.0, Some(collect), (&mut out as *mut Vec<u8>).cast()) });
    assert_eq!(out, eml);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn sink(name: &str) -> (PyServer, PathBuf) {
    let dir = temp(name);
    (PyServer::start("sink.py", &["--dir", dir.to_str().unwrap()]), dir)
}

fn arrived(dir: &Path, n: u32) -> (Vec<u8>, Value) {
    let json = dir.join(format!("{n:04}.json"));
    let start = Instant::now();
    while !json.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "message {n} never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(20));
    let eml = std::fs::read(dir.join(format!("{n:04}.eml"))).unwrap();
    (eml, serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap())
}

fn send(s: &Session, m: &Msg) -> (c_int, usize) {
    let mut refused = 99;
    let r = unsafe { smtp_session_send_composed(s.0, m.0, std::ptr::null(), 0, std::ptr::null(), 0, &mut refused) };
    (r, refused)
}

#[test]
fn sent_through_aiosmtpd_with_the_envelope_from_the_fields() {
    let (_server, dir) = sink("send");
    let files = temp("send-files");
    let big = noise(1 << 20, 3);
    std::fs::write(files.join("big.bin"), &big).unwrap();
    let csv = b"a;b\n1;2\n".to_vec();
    let mut cursor = Cursor { data: csv.clone(), at: 0 };
    let m = full_message(&files.join("big.bin"), &mut cursor);
    let s = Session::connected(_server.port);
    let (r, refused) = send(&s, &m);
    assert_eq!((r, refused), (OK, 0), "{}", s.errmsg());
    let (eml, env) = arrived(&dir, 1);
    assert_eq!(env["mail_from"], "zoe@example.com");
    assert_eq!(
        env["rcpt_tos"],
        serde_json::json!(["bob@example.org", "jane@example.org", "unal@xn--bcher-kva.example", "hidden@example.net"])
    );
    // SIZE= is the exact size: every part's size is known... except the
    // callback's, so none was announced here.
    assert!(!env["mail_options"].as_array().unwrap().iter().any(|o| o.as_str().unwrap().starts_with("SIZE=")));
    check_parsed(&parse(&eml), &big, &csv);
    assert_eq!(eml, m.bytes(), "the bytes sent are the bytes written");
    std::fs::remove_dir_all(&files).unwrap();
}

#[test]
fn size_announced_and_refused_recipients_reported() {
    let (server, dir) = sink("size");
    let m = Msg::new();
    unsafe {
        m.ok(smtp_message_set_from(m.0, c"a@example.com".as_ptr()));
        m.ok(smtp_message_add_to(m.0, c"refuse-me@example.org, ok@example.org".as_ptr()));
        m.ok(smtp_message_set_text(m.0, c"hi".as_ptr(), 2));
    }
    let s = Session::connected(server.port);
    assert_eq!(send(&s, &m), (OK, 1), "{}", s.errmsg());
    let (eml, env) = arrived(&dir, 1);
    let size = format!("SIZE={}", m.bytes().len());
    assert!(env["mail_options"].as_array().unwrap().iter().any(|o| *o == size.as_str()), "{env} {size}");
    assert_eq!(env["rcpt_tos"], serde_json::json!(["ok@example.org"]));
    assert!(eml.ends_with(b"\r\nhi\r\n"));
}

#[test]
fn international_addresses_need_smtputf8() {
    let m = Msg::new();
    unsafe {
        m.ok(smtp_message_set_from(m.0, c"a@example.com".as_ptr()));
        m.ok(smtp_message_add_to(m.0, cstr("zoë@example.org").as_ptr()));
    }
    // aiosmtpd offers SMTPUTF8: MAIL carries it, the address arrives as UTF-8.
    let (server, dir) = sink("utf8");
    let s = Session::connected(server.port);
    assert_eq!(send(&s, &m).0, OK, "{}", s.errmsg());
    let (eml, env) = arrived(&dir, 1);
    assert_eq!(env["rcpt_tos"], serde_json::json!(["zoë@example.org"]));
    assert!(env["mail_options"].as_array().unwrap().iter().any(|o| o == "SMTPUTF8"));
    assert!(String::from_utf8(eml).unwrap().contains("To: zoë@example.org\r\n"));
    // A server without it: refused before MAIL.
    let server = Scripted::start(|p| {
        p.send("220 hi\r\n");
        p.answer("250 plain\r\n");
        p.line();
    });
    let s = Session::connected(server.port);
    assert_eq!(send(&s, &m).0, ERR_NOT_SUPPORTED);
    assert!(s.errmsg().contains("SMTPUTF8"), "{}", s.errmsg());
    drop(s);
    assert!(!server.finish().iter().any(|l| l.starts_with("MAIL")));
}

#[test]
fn failing_parts_close_the_connection_mid_message() {
    let (server, dir) = sink("fail");
    let m = Msg::new();
    unsafe {
        m.ok(smtp_message_set_from(m.0, c"a@example.com".as_ptr()));
        m.ok(smtp_message_add_to(m.0, c"b@example.org".as_ptr()));
        m.ok(smtp_message_attach_callback(
            m.0,
            Some(failing_read),
            None,
            std::ptr::null_mut(),
            c"x".as_ptr(),
            std::ptr::null(),
        ));
    }
    let s = Session::connected(server.port);
    assert_eq!(send(&s, &m).0, ERR_IO);
    assert!(s.errmsg().contains("read callback"), "{}", s.errmsg());
    assert!(!s.connected_now());
    std::thread::sleep(Duration::from_millis(300));
    assert!(!dir.join("0001.eml").exists(), "nothing partial delivered");
    // A missing file is found before anything is sent.
    let m = Msg::new();
    unsafe {
        m.ok(smtp_message_set_from(m.0, c"a@example.com".as_ptr()));
        m.ok(smtp_message_add_to(m.0, c"b@example.org".as_ptr()));
        m.ok(smtp_message_attach_file(m.0, c"/nonexistent/file.pdf".as_ptr(), std::ptr::null(), std::ptr::null()));
    }
    let s = Session::connected(server.port);
    assert_eq!(send(&s, &m).0, ERR_INVALID);
    assert!(s.errmsg().contains("/nonexistent/file.pdf"), "{}", s.errmsg());
    assert!(s.connected_now());
}

const CANONS: [(c_int, c_int); 3] = [
    (SMTP_DKIM_RELAXED, SMTP_DKIM_RELAXED),
    (SMTP_DKIM_SIMPLE, SMTP_DKIM_SIMPLE),
    (SMTP_DKIM_RELAXED, SMTP_DKIM_SIMPLE),
];

/// `eml` with `from` replaced by `to` once.
fn tampered(eml: &[u8], from: &str, to: &str) -> Vec<u8> {
    let t = String::from_utf8_lossy(eml);
    assert!(t.contains(from), "{from:?} in the message");
    t.replacen(from, to, 1).into_bytes()
}

#[test]
fn dkim_built_messages_verify_with_dkimpy_after_aiosmtpd() {
    let (server, dir) = sink("dkim");
    let files = temp("dkim-files");
    let big = noise(200_000, 9);
    std::fs::write(files.join("big.bin"), &big).unwrap();
    let mut n = 0;
    for key in ["rsa2048", "ed25519"] {
        for canon in CANONS {
            let d = Dkim::new(key, canon);
            let mut cursor = Cursor { data: b"x;y\n".repeat(100), at: 0 };
            let m = full_message(&files.join("big.bin"), &mut cursor);
            m.ok(unsafe { smtp_message_set_dkim(m.0, d.0) });
            let s = Session::connected(server.port);
            assert_eq!(send(&s, &m).0, OK, "{}", s.errmsg());
            n += 1;
            let (eml, _) = arrived(&dir, n);
            assert!(eml.starts_with(b"DKIM-Signature: v=1; a="), "{key}");
            assert!(dkim_verifies(&eml, key), "{key} {canon:?}");
            assert!(!dkim_verifies(&tampered(&eml, "Hello Bob", "Hello Rob"), key), "{key} {canon:?}: body changed");
            assert!(!dkim_verifies(&tampered(&eml, "Subject: ", "Subject: Re: "), key), "{key} {canon:?}: subject");
        }
    }
    // A relaxed signature survives what relaxed forgives: refolded fields.
    let d = Dkim::new("ed25519", (SMTP_DKIM_RELAXED, SMTP_DKIM_RELAXED));
    let m = Msg::new();
    unsafe {
        m.ok(smtp_message_set_from(m.0, c"a@example.com".as_ptr()));
        m.ok(smtp_message_add_to(m.0, c"b@example.org".as_ptr()));
        m.ok(smtp_message_set_subject(m.0, c"one two".as_ptr()));
        m.ok(smtp_message_set_text(m.0, c"body".as_ptr(), 4));
        m.ok(smtp_message_set_dkim(m.0, d.0));
    }
    let eml = m.bytes();
    assert!(dkim_verifies(&tampered(&eml, "Subject: one two", "Subject:  one\r\n\ttwo "), "ed25519"));
    std::fs::remove_dir_all(&files).unwrap();
}

#[test]
fn dkim_raw_messages_verify_with_dkimpy() {
    let (server, dir) = sink("dkim-raw");
    let raw =
        b"From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: raw\n\nLF line ends,\nnormalized when sent.\n";
    for (i, key) in ["rsa2048", "ed25519"].iter().enumerate() {
        let d = Dkim::new(key, (SMTP_DKIM_RELAXED, SMTP_DKIM_RELAXED));
        let mut field: *const c_char = std::ptr::null();
        d.ok(unsafe { smtp_dkim_sign(d.0, raw.as_ptr(), raw.len(), &mut field) });
        let mut signed = text(field).unwrap().into_bytes();
        assert!(signed.ends_with(b"\r\n"));
        signed.extend_from_slice(raw);
        let s = Session::connected(server.port);
        let mut refused = 0;
        let r = unsafe {
            smtp_session_send_message(
                s.0,
                signed.as_ptr(),
                signed.len(),
                std::ptr::null(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                smtp::ffi::commands::SMTP_MSG_NORMALIZE,
                &mut refused,
            )
        };
        assert_eq!(r, OK, "{}", s.errmsg());
        let (eml, _) = arrived(&dir, i as u32 + 1);
        assert!(dkim_verifies(&eml, key), "{key}");
        assert!(!dkim_verifies(&tampered(&eml, "normalized", "normalised"), key), "{key}");
    }
}

#[test]
fn dns_records_match_openssl() {
    for key in ["rsa2048", "ed25519"] {
        let d = Dkim::new(key, (SMTP_DKIM_RELAXED, SMTP_DKIM_RELAXED));
        let mut record: *const c_char = std::ptr::null();
        d.ok(unsafe { smtp_dkim_dns_record(d.0, &mut record) });
        let want = std::fs::read_to_string(root().join(format!("tests/compose/keys/{key}.txt"))).unwrap();
        assert_eq!(text(record).unwrap(), want.trim());
    }
}

#[test]
fn arguments_are_checked() {
    let m = Msg::new();
    unsafe {
        assert_eq!(smtp_message_set_from(std::ptr::null_mut(), c"a@b.c".as_ptr()), ERR_NULL);
        assert_eq!(smtp_message_set_from(m.0, std::ptr::null()), ERR_NULL);
        assert!(m.errmsg().contains("from is NULL"), "{}", m.errmsg());
        assert_eq!(smtp_message_set_from(m.0, c"\xff@x.org".as_ptr()), ERR_INVALID);
        assert!(m.errmsg().contains("UTF-8"), "{}", m.errmsg());
        assert_eq!(smtp_message_set_subject(m.0, c"a\r\nBcc: x@y.z".as_ptr()), ERR_INVALID);
        assert_eq!(smtp_message_add_header(m.0, c"Bcc".as_ptr(), c"x@y.z".as_ptr()), ERR_INVALID);
        assert_eq!(smtp_message_add_header(m.0, c"X-A".as_ptr(), c"v\nw".as_ptr()), ERR_INVALID);
        assert_eq!(smtp_message_add_to(m.0, c"not an address".as_ptr()), ERR_INVALID);
        assert_eq!(smtp_message_set_text(m.0, c"\xff".as_ptr(), 1), ERR_INVALID);
        assert_eq!(smtp_message_set_text(m.0, std::ptr::null(), 3), ERR_NULL);
        assert_eq!(
            smtp_message_attach_callback(m.0, None, None, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()),
            ERR_NULL
        );
        assert_eq!(
            smtp_message_attach_memory(m.0, c"x".as_ptr().cast(), 1, std::ptr::null(), c"bad".as_ptr()),
            ERR_INVALID
        );
        assert_eq!(smtp_message_write(m.0, None, std::ptr::null_mut()), ERR_NULL);
        // No From yet.
        let (mut p, mut n) = (std::ptr::null(), 7usize);
        assert_eq!(smtp_message_bytes(m.0, &mut p, &mut n), ERR_INVALID);
        assert!(p.is_null() && n == 0);
        assert_eq!(text(smtp_message_errmsg(std::ptr::null())).unwrap(), "message is NULL");
        smtp_message_free(std::ptr::null_mut());

        let d = Dkim(smtp_dkim_new());
        assert_eq!(smtp_dkim_set_key_pem(d.0, c"junk".as_ptr().cast(), 4), ERR_INVALID);
        assert_eq!(smtp_dkim_set_selector(d.0, c"a;b".as_ptr()), ERR_INVALID);
        assert_eq!(smtp_dkim_set_canonicalization(d.0, 7, 1), ERR_INVALID);
        assert_eq!(smtp_dkim_set_headers(d.0, [c"bad name".as_ptr()].as_ptr(), 1), ERR_INVALID);
        // Incomplete signers are refused where they would be used.
        assert_eq!(smtp_message_set_dkim(m.0, d.0), ERR_INVALID);
        assert!(m.errmsg().contains("no key"), "{}", m.errmsg());
        let mut field: *const c_char = c"x".as_ptr();
        assert_eq!(smtp_dkim_sign(d.0, c"From: a@b.c\r\n\r\n".as_ptr().cast(), 15, &mut field), ERR_INVALID);
        assert!(field.is_null());
        // A callback part without rewind cannot be signed (two passes).
        let d = Dkim::new("ed25519", (SMTP_DKIM_RELAXED, SMTP_DKIM_RELAXED));
        m.ok(smtp_message_set_from(m.0, c"a@example.com".as_ptr()));
        m.ok(smtp_message_set_dkim(m.0, d.0));
        let mut cursor = Cursor { data: b"abc".to_vec(), at: 0 };
        m.ok(smtp_message_attach_callback(
            m.0,
            Some(cursor_read),
            None,
            (&mut cursor as *mut Cursor).cast(),
            std::ptr::null(),
            std::ptr::null(),
        ));
        assert_eq!(smtp_message_bytes(m.0, &mut p, &mut n), ERR_INVALID);
        assert!(m.errmsg().contains("rewind"), "{}", m.errmsg());
    }
}
