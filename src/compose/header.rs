//! Header fields as RFC 5322 wants them on the wire: names checked, text
//! that is not ASCII carried in RFC 2047 encoded words, and every field
//! folded at whitespace so that no line passes 78 characters (RFC 5322
//! 2.1.1) where a fold point exists.
//!
//! Encoded words use the Q encoding with the restricted set of RFC 2047
//! 5(3), which is valid in unstructured text and in display names alike,
//! and are at most 75 characters (RFC 2047 2), each split on a character
//! boundary (RFC 2047 5: a multi-byte character is never split).

use crate::error::{Error, Result};

/// The longest line we fold to (RFC 5322 2.1.1 "SHOULD be no more than 78").
pub(crate) const LINE: usize = 78;
/// The longest encoded word we write: RFC 2047 2 allows 75; shorter words
/// fit after most field names on the first line.
const WORD: usize = 66;
const PREFIX: &str = "=?UTF-8?Q?";
const SUFFIX: &str = "?=";

/// A token the folder places whole: what stands before it (whitespace,
/// kept as is on unfolding) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    pub space: String,
    pub text: String,
}

impl Atom {
    fn new(space: &str, text: impl Into<String>) -> Atom {
        Atom { space: space.to_string(), text: text.into() }
    }
}

/// A field name: printable ASCII but the colon (RFC 5322 2.2), not empty.
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        return Err(Error::InvalidArgument(format!("{name:?} is not a valid header field name")));
    }
    Ok(())
}

/// Text bound for a header: no CR, LF or NUL (a field's lines are ours to
/// make; a caller's line break would start a field of its own).
pub fn check_text(what: &str, text: &str) -> Result<()> {
    if text.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(Error::InvalidArgument(format!("{what} contains CR, LF or NUL")));
    }
    Ok(())
}

/// The Q encoding of one character in a phrase (RFC 2047 4.2 and 5(3)):
/// letters, digits and `!*+-/` stay, space is `_`, the rest `=XX`.
fn q_char(c: char, out: &mut String) {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | '!' | '*' | '+' | '-' | '/' => out.push(c),
        ' ' => out.push('_'),
        _ => {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("={b:02X}"));
            }
        }
    }
}

/// `text` as encoded words of at most [`WORD`] characters each.
pub fn encoded_words(text: &str) -> Vec<String> {
    let room = WORD - PREFIX.len() - SUFFIX.len();
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut one = String::new();
    for c in text.chars() {
        one.clear();
        q_char(c, &mut one);
        if !cur.is_empty() && cur.len() + one.len() > room {
            words.push(format!("{PREFIX}{cur}{SUFFIX}"));
            cur.clear();
        }
        cur.push_str(&one);
    }
    if !cur.is_empty() || words.is_empty() {
        words.push(format!("{PREFIX}{cur}{SUFFIX}"));
    }
    words
}

/// Whether a word of unstructured text must be encoded: not ASCII, or
/// read as an encoded word by a decoder, or too long for any line.
fn needs_encoding(word: &str) -> bool {
    !word.is_ascii()
        || word.bytes().any(|b| b < 0x20 || b == 0x7f)
        || (word.contains("=?") && word.contains("?="))
        || word.len() > LINE - 1
}

/// Words of `text` with the whitespace before each (runs of SP and HTAB).
fn words(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let (space, tail) = rest.split_at(ws);
        let w = tail.find([' ', '\t']).unwrap_or(tail.len());
        if w == 0 {
            break; // trailing whitespace
        }
        let (word, tail) = tail.split_at(w);
        out.push((space, word));
        rest = tail;
    }
    out
}

/// Unstructured text (RFC 5322 3.2.5, Subject and other free-text fields)
/// as atoms: ASCII words as they are, each run of words that must be
/// encoded (beyond ASCII, with control characters, read as an encoded
/// word, or too long for a line) as encoded words. The whitespace inside a run goes into the
/// encoded text, since whitespace between encoded words is dropped when
/// decoding (RFC 2047 6.2).
pub fn unstructured(text: &str) -> Vec<Atom> {
    let mut ws = words(text);
    if let Some(first) = ws.first_mut() {
        first.0 = ""; // leading whitespace is not kept
    }
    // A whitespace run too long to start a line goes inside an encoded word.
    let encode =
        |(space, word): (&str, &str)| needs_encoding(word) || space.len() > 8 || space.len() + word.len() > LINE;
    let mut atoms = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let (space, word) = ws[i];
        if !encode(ws[i]) {
            atoms.push(Atom::new(space, word));
            i += 1;
            continue;
        }
        // One whitespace character stays outside, as the separator.
        let split = space.chars().next().map_or(0, char::len_utf8);
        let mut run = format!("{}{word}", &space[split..]);
        let mut j = i + 1;
        while j < ws.len() && encode(ws[j]) {
            run.push_str(ws[j].0);
            run.push_str(ws[j].1);
            j += 1;
        }
        for (k, w) in encoded_words(&run).into_iter().enumerate() {
            atoms.push(Atom::new(if k == 0 { &space[..split] } else { " " }, w));
        }
        i = j;
    }
    // Trailing whitespace is not kept either: RFC 5322 readers (and
    // Python's email) strip it from unstructured values.
    atoms
}

/// Characters of `atext` (RFC 5322 3.2.3).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// A display name (a phrase, RFC 5322 3.2.5) as atoms: plain words when
/// every character may stand in an atom, one quoted string when ASCII
/// needs quoting, encoded words when it is not ASCII (RFC 2047 5(3)).
pub fn phrase(name: &str) -> Vec<Atom> {
    if name.is_ascii() && !name.contains("=?") && !name.bytes().any(|b| b < 0x20 || b == 0x7f) {
        let ws = words(name);
        let plain = ws.iter().all(|(s, w)| w.chars().all(is_atext) && s.len() + w.len() < LINE - 8)
            && !name.starts_with([' ', '\t']);
        if plain && !name.ends_with([' ', '\t']) {
            return ws.into_iter().map(|(s, w)| Atom::new(s, w)).collect();
        }
        let quoted = format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""));
        if quoted.len() < LINE - 2 {
            return vec![Atom::new("", quoted)];
        }
    }
    encoded_words(name).into_iter().enumerate().map(|(k, w)| Atom::new(if k == 0 { "" } else { " " }, w)).collect()
}

/// A field `Name: atoms`, folded before an atom that would pass [`LINE`]
/// (the whitespace before it starts the continuation line, RFC 5322
/// 2.2.3), ending in CRLF.
pub fn fold(name: &str, atoms: &[Atom]) -> String {
    let mut out = format!("{name}:");
    let mut col = out.len();
    for (k, a) in atoms.iter().enumerate() {
        // The first atom follows the colon after one space.
        let space = if k == 0 { " " } else { a.space.as_str() };
        // Before the first atom too when it cannot fit after the name
        // (FWS may start the value, RFC 5322 3.2.2).
        if !space.is_empty() && col + space.len() + a.text.len() > LINE && (k > 0 || a.text.len() < LINE) {
            out.push_str("\r\n");
            col = 0;
        }
        out.push_str(space);
        out.push_str(&a.text);
        col += space.len() + a.text.len();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unfold(s: &str) -> String {
        s.replace("\r\n", "")
    }

    #[test]
    fn ascii_subject_folds_at_spaces() {
        let text = "word ".repeat(40) + "end";
        let f = fold("Subject", &unstructured(&text));
        for line in f.trim_end_matches("\r\n").split("\r\n") {
            assert!(line.len() <= LINE, "{line:?}");
        }
        assert_eq!(unfold(&f), format!("Subject: {text}"));
    }

    #[test]
    fn non_ascii_becomes_encoded_words() {
        let f = fold("Subject", &unstructured("Grüße aus Köln, ok"));
        assert_eq!(f, "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?UTF-8?Q?K=C3=B6ln=2C?= ok\r\n");
        // Adjacent words that need encoding share one run, space included.
        let a = unstructured("Zoë Ågot x");
        assert_eq!(a[0].text, "=?UTF-8?Q?Zo=C3=AB_=C3=85got?=");
        assert_eq!(a[1], Atom::new(" ", "x"));
    }

    #[test]
    fn encoded_words_are_short_and_whole_characters() {
        let text = "日本語のテキスト".repeat(10);
        let words = encoded_words(&text);
        assert!(words.len() > 1);
        for w in &words {
            assert!(w.len() <= WORD, "{w}");
        }
        // Each word decodes alone to whole characters: it holds 3-byte
        // sequences only.
        for w in &words {
            let inner = &w[PREFIX.len()..w.len() - SUFFIX.len()];
            assert_eq!(inner.matches('=').count() % 3, 0, "{w}");
        }
        let f = fold("Subject", &unstructured(&text));
        for line in f.trim_end_matches("\r\n").split("\r\n") {
            assert!(line.len() <= LINE, "{line:?}");
        }
    }

    #[test]
    fn lookalikes_and_long_words_are_encoded() {
        assert!(unstructured("=?x?Q?y?=")[0].text.starts_with(PREFIX));
        let long = "x".repeat(200);
        let a = unstructured(&long);
        assert!(a.len() > 2 && a.iter().all(|a| a.text.len() <= WORD));
    }

    #[test]
    fn phrases() {
        assert_eq!(phrase("Jane Doe"), vec![Atom::new("", "Jane"), Atom::new(" ", "Doe")]);
        assert_eq!(phrase("Doe, Jane \"JD\""), vec![Atom::new("", "\"Doe, Jane \\\"JD\\\"\"")]);
        assert_eq!(phrase("Zoë"), vec![Atom::new("", "=?UTF-8?Q?Zo=C3=AB?=")]);
        // Q in a phrase: no '=' '?' '_' or specials unencoded.
        assert_eq!(encoded_words("a_b?c=d (e)"), vec!["=?UTF-8?Q?a=5Fb=3Fc=3Dd_=28e=29?="]);
    }

    #[test]
    fn names_and_text_checked() {
        assert!(check_name("X-Mailer").is_ok());
        for bad in ["", "X Mailer", "X:Y", "Ä"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_text("subject", "a\r\nBcc: x").is_err());
        assert!(check_text("subject", "a\0").is_err());
    }

    #[test]
    fn spaces_survive() {
        let f = fold("Subject", &unstructured("a  b\tc "));
        assert_eq!(unfold(&f), "Subject: a  b\tc");
        assert_eq!(unstructured("x\u{1}y")[0].text, "=?UTF-8?Q?x=01y?=");
        // A name too long for the first word: the field folds after it.
        let f = fold("X-A-Rather-Long-Field-Name", &unstructured(&"ü".repeat(40)));
        for line in f.trim_end_matches("\r\n").split("\r\n") {
            assert!(line.len() <= LINE, "{line:?}");
        }
    }
}
