//! The message builder's header encoder on any text: no panic; every
//! folded line of an unstructured field or a display name is within 78
//! characters; unfolding and decoding the encoded words (RFC 2047 6.2:
//! whitespace between adjacent encoded words dropped) gives the text back,
//! less its leading and trailing whitespace; no CR or LF but the folds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp::compose::address;
use smtp::compose::header::{fold, phrase, unstructured};

/// Decode one Q-encoded word's text.
fn q(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).expect("=XX"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A folded field's value, unfolded and decoded.
fn decode(field: &str) -> String {
    let value = field.strip_suffix("\r\n").expect("CRLF at the end");
    let value = value.split_once(':').expect("a colon").1.replace("\r\n", "");
    assert!(!value.contains(['\r', '\n']));
    let mut out: Vec<u8> = Vec::new();
    let mut pending_space = String::new();
    let mut last_encoded = false;
    let mut rest = value.trim_start_matches([' ', '\t']);
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        pending_space.push_str(&rest[..ws]);
        rest = &rest[ws..];
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        if word.is_empty() {
            continue;
        }
        let encoded = word.starts_with("=?UTF-8?Q?") && word.ends_with("?=") && word.len() >= 12;
        if !(encoded && last_encoded) {
            out.extend_from_slice(pending_space.as_bytes());
        }
        pending_space.clear();
        if encoded {
            out.extend(q(&word[10..word.len() - 2]));
        } else {
            out.extend_from_slice(word.as_bytes());
        }
        last_encoded = encoded;
    }
    String::from_utf8(out).expect("whole characters in each word")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).replace(['\r', '\n', '\0'], " ");
    let f = fold("Subject", &unstructured(&text));
    for line in f.trim_end_matches("\r\n").split("\r\n") {
        assert!(line.len() <= 78, "{line:?}");
    }
    assert_eq!(decode(&f), text.trim_matches([' ', '\t']));
    let name = text.trim_matches([' ', '\t']);
    let p = fold("From", &phrase(name));
    for line in p.trim_end_matches("\r\n").split("\r\n") {
        assert!(line.len() <= 78, "{line:?}");
    }
    // Mailbox lists the builder accepts are written back parseable, to the
    // same addresses.
    if let Ok(list) = address::parse(&text, "to") {
        let field = fold("To", &address::atoms(&list));
        let again = address::parse(field[3..].trim_end().replace("\r\n", "").as_str(), "to").expect("reparse");
        let addrs: Vec<&str> = list.iter().map(|m| m.addr.as_str()).collect();
        let again: Vec<&str> = again.iter().map(|m| m.addr.as_str()).collect();
        assert_eq!(addrs, again);
    }
});
