use super::*;
use ring::signature::{KeyPair, UnparsedPublicKey, ED25519};

fn ed_key() -> Arc<Key> {
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(pkcs8.as_ref()));
    Arc::new(Key::from_pem(pem.as_bytes()).unwrap())
}

/// RFC 8463 Appendix A's body and its relaxed body hash.
#[test]
fn rfc8463_body_hash() {
    let s = Signer::new(ed_key(), "football.example.com", "brisbane").unwrap();
    let mut h = s.body_hasher();
    h.update(b"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n");
    assert_eq!(STANDARD.encode(h.finish()), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
}

/// The b= value the signer writes verifies against the data RFC 6376 3.7
/// describes, recomputed here from the finished field.
#[test]
fn signature_covers_the_listed_fields_and_itself() {
    let key = ed_key();
    let mut s = Signer::new(key.clone(), "example.com", "sel").unwrap();
    s.timestamp = Some(1_700_000_000);
    let msg =
        b"From: A <a@example.com>\r\nTo: b@example.org\r\nSubject:  Hello\r\n\tthere\r\nX-Other: no\r\n\r\nBody\r\n";
    let field = s.sign_raw(msg).unwrap();
    let unfolded = field.replace("\r\n", "");
    assert!(unfolded.starts_with("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com; s=sel; t=1700000000; h=from:subject:to;"), "{field}");
    for line in field.trim_end().split("\r\n") {
        assert!(line.len() <= 78, "{line:?}");
    }
    let (unsigned, b) = field.split_at(field.find("b=").unwrap() + 2);
    let sig = STANDARD.decode(b.replace(['\r', '\n', ' '], "")).unwrap();
    let mut data = Vec::new();
    data.extend(canon::header(Canon::Relaxed, b"From: A <a@example.com>\r\n"));
    data.extend(canon::header(Canon::Relaxed, b"Subject:  Hello\r\n\tthere\r\n"));
    data.extend(canon::header(Canon::Relaxed, b"To: b@example.org\r\n"));
    let own = canon::header(Canon::Relaxed, unsigned.as_bytes());
    data.extend_from_slice(&own[..own.len() - 2]);
    let Key::Ed25519(k) = &*key else { unreachable!() };
    UnparsedPublicKey::new(&ED25519, k.public_key().as_ref()).verify(&Sha256::digest(&data), &sig).unwrap();
    // A changed field no longer verifies.
    data[3] ^= 1;
    assert!(UnparsedPublicKey::new(&ED25519, k.public_key().as_ref()).verify(&Sha256::digest(&data), &sig).is_err());
}

#[test]
fn repeated_fields_sign_bottom_up_and_from_is_required() {
    let mut s = Signer::new(ed_key(), "example.com", "sel").unwrap();
    s.set_headers(&["Received", "subject"]).unwrap();
    assert_eq!(s.headers, ["from", "received", "subject"]);
    let f = s.sign_raw(b"Received: 1\r\nReceived: 2\r\nFrom: a@example.com\r\n\r\n").unwrap();
    assert!(f.contains("h=from:received:received;"), "{f}");
    assert!(s.sign_raw(b"To: a@example.com\r\n\r\nx").is_err());
    assert!(Signer::new(ed_key(), "exa mple.com", "sel").is_err());
    assert!(Signer::new(ed_key(), "example.com", "se;l").is_err());
}

#[test]
fn keys() {
    assert!(Key::from_pem(b"nothing").is_err());
    let key = ed_key();
    assert_eq!(format!("{key:?}"), "Key(ed25519)");
    assert!(dns_record(&key).starts_with("v=DKIM1; k=ed25519; p="));
}
