use super::source::Reader;
use super::*;

fn basic() -> Message {
    let mut m = Message::new();
    m.set_from("Zoë <zoe@example.com>").unwrap();
    m.add_to("bob@example.org, Carol <carol@example.org>").unwrap();
    m.add_bcc("hidden@example.net").unwrap();
    m.set_subject("Hello").unwrap();
    m.set_date(1_700_000_000, 0).unwrap();
    m.set_message_id("id1@example.com").unwrap();
    m
}

fn text(m: &mut Message) -> String {
    String::from_utf8(m.to_bytes().unwrap()).unwrap()
}

#[test]
fn text_only() {
    let mut m = basic();
    m.set_text(Some("Hi Bob,\nsee you.\n"));
    let t = text(&mut m);
    assert_eq!(
        t,
        "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nFrom: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.com>\r\n\
To: bob@example.org, Carol <carol@example.org>\r\nSubject: Hello\r\nMessage-ID: <id1@example.com>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
Hi Bob,\r\nsee you.\r\n"
    );
    assert!(!t.to_ascii_lowercase().contains("hidden"));
    assert_eq!(
        m.envelope().unwrap(),
        (
            "zoe@example.com".into(),
            vec!["bob@example.org".into(), "carol@example.org".into(), "hidden@example.net".into()]
        )
    );
    // Written twice, the same bytes (Date and Message-ID are kept).
    assert_eq!(text(&mut m), t);
}

#[test]
fn structure_and_size() {
    let mut m = basic();
    m.set_text(Some("plain\n"));
    m.set_html(Some("<p>html <img src=\"cid:logo\"></p>\n"));
    m.attach(Source::Memory(vec![0u8, 1, 2, 255]), Some("data.bin"), None, Disposition::Attachment).unwrap();
    m.attach(Source::Memory(b"PNG".to_vec()), None, Some("image/png"), Disposition::Inline("<logo>".into())).unwrap();
    let w = m.write().unwrap();
    let size = w.size.unwrap();
    let t = String::from_utf8(w.stream.read_all_for_tests()).unwrap();
    assert_eq!(size, t.len() as u64);
    let order: Vec<usize> = [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/octet-stream",
    ]
    .iter()
    .map(|k| t.find(k).unwrap_or_else(|| panic!("{k} in {t}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}\n{t}");
    assert!(t.contains("Content-ID: <logo>\r\n"));
    assert!(t.contains("Content-Disposition: attachment; filename=\"data.bin\"\r\n"));
    assert!(t.contains("\r\nAAEC/w==\r\n"));
    assert!(!t.contains('\n') || t.matches('\n').count() == t.matches("\r\n").count());
}

impl Stream<'_> {
    fn read_all_for_tests(mut self) -> Vec<u8> {
        self.read_all().unwrap()
    }
}

#[test]
fn refusals() {
    let mut m = Message::new();
    assert!(m.to_bytes().is_err(), "no From");
    assert!(m.add_header("Bcc", "x@y").is_err());
    assert!(m.add_header("X-Ok", "a\r\nBcc: x@y").is_err());
    assert!(m.add_header("X Bad", "v").is_err());
    assert!(m.set_message_id("no-at").is_err());
    assert!(m.set_subject("a\nb").is_err());
    assert!(m.set_date(0, 24 * 60).is_err());
    assert!(m.attach(Source::Memory(vec![]), Some("a\r\n"), None, Disposition::Attachment).is_err());
    assert!(m.attach(Source::Memory(vec![]), None, Some("text"), Disposition::Attachment).is_err());
    assert!(m.attach(Source::Memory(vec![]), None, None, Disposition::Inline("a b".into())).is_err());
    m.set_from("a@example.com").unwrap();
    assert!(m.envelope().is_err(), "no recipient");
    assert!(m.set_sender(Some("a@x.org, b@x.org")).is_err());
}

struct Once(Vec<u8>, usize, bool);

impl Reader for Once {
    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, String> {
        let n = buf.len().min(self.0.len() - self.1).min(1000);
        buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
    fn can_rewind(&self) -> bool {
        self.2
    }
    fn rewind(&mut self) -> std::result::Result<(), String> {
        self.1 = 0;
        Ok(())
    }
}

#[test]
fn callbacks_read_once_unless_rewound() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut m = basic();
    m.attach(
        Source::Reader { reader: Box::new(Once(data.clone(), 0, false)), used: false },
        Some("a"),
        None,
        Disposition::Attachment,
    )
    .unwrap();
    let first = m.to_bytes().unwrap();
    assert!(first.windows(76).any(|w| w == &encode::base64_all(&data)[..76]));
    let e = m.to_bytes().unwrap_err();
    assert!(e.to_string().contains("rewind"), "{e}");

    let mut m = basic();
    m.attach(
        Source::Reader { reader: Box::new(Once(data.clone(), 0, true)), used: false },
        Some("a"),
        None,
        Disposition::Attachment,
    )
    .unwrap();
    assert_eq!(m.write().unwrap().size, None);
    let mut m2 = basic();
    m2.attach(Source::Memory(data), Some("a"), None, Disposition::Attachment).unwrap();
    m2.seed = m.seed.clone();
    assert_eq!(m.to_bytes().unwrap(), m2.to_bytes().unwrap());
    assert_eq!(m.to_bytes().unwrap(), m2.to_bytes().unwrap(), "rewound");
}

#[test]
fn files_stream_and_missing_files_fail_early() {
    let dir = std::env::temp_dir().join(format!("libsmtp-compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 256) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let mut m = basic();
    m.attach(Source::File(path.clone()), Some("big.bin"), None, Disposition::Attachment).unwrap();
    let w = m.write().unwrap();
    let size = w.size.unwrap();
    let all = w.stream.read_all_for_tests();
    assert_eq!(all.len() as u64, size);
    let enc = encode::base64_all(&data);
    assert!(all.windows(enc.len()).any(|w| w == enc.as_slice()));
    let mut m = basic();
    m.attach(Source::File(dir.join("missing")), None, None, Disposition::Attachment).unwrap();
    assert!(matches!(m.write(), Err(Error::InvalidArgument(_))));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn international_addresses() {
    let mut m = Message::new();
    m.set_from("a@example.com").unwrap();
    m.add_to("b@bücher.example").unwrap();
    assert!(!m.international());
    m.add_cc("zoë@example.com").unwrap();
    assert!(m.international());
    let t = text(&mut m);
    assert!(t.contains("To: b@xn--bcher-kva.example\r\nCc: zoë@example.com\r\n"), "{t}");
}

#[test]
fn dkim_signs_written_messages() {
    use base64::Engine;
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
    );
    let key = Arc::new(crate::dkim::Key::from_pem(pem.as_bytes()).unwrap());
    let mut m = basic();
    m.set_text(Some("body\n"));
    m.attach(Source::Memory(vec![7; 1000]), Some("x.bin"), None, Disposition::Attachment).unwrap();
    m.set_dkim(Some(Arc::new(Signer::new(key.clone(), "example.com", "s1").unwrap())));
    let w = m.write().unwrap();
    let size = w.size.unwrap();
    let all = w.stream.read_all_for_tests();
    assert_eq!(all.len() as u64, size);
    assert!(all.starts_with(b"DKIM-Signature: v=1; a=ed25519-sha256;"));
    // The same signature as signing the written message raw.
    let body_at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let sig_end = all.windows(3).position(|w| w == b"\r\nD").unwrap() + 2;
    let raw = &all[sig_end..];
    let signer = Signer::new(key, "example.com", "s1").unwrap();
    let bh = |m: &[u8]| {
        let mut h = signer.body_hasher();
        h.update(m);
        h.finish()
    };
    assert_eq!(bh(&all[body_at..]), bh(&raw[raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..]));
    let field = String::from_utf8_lossy(&all[..sig_end]).into_owned();
    let want = base64::engine::general_purpose::STANDARD.encode(bh(&all[body_at..]));
    assert!(field.replace("\r\n ", " ").contains(&format!("bh={want};")), "{field}");
}

#[test]
fn a_domain_whose_a_label_is_no_domain_is_refused() {
    // U+3203 maps to "(ㄷ)" under UTS #46: the A-label would carry parentheses.
    let e = super::address::parse("zoe@expe\u{3203}acom", "to").unwrap_err();
    assert!(e.to_string().contains("A-label"), "{e}");
    assert!(super::address::parse("zoe@b\u{fc}cher.example", "to").is_ok());
}
