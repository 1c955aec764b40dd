//! Address handling for command arguments, following smtplib's `quoteaddr`
//! and `_addr_only`, which rely on `email.utils.parseaddr` (strict mode, as
//! in CPython 3.13): `"Name <addr>"` gives `addr`, `"addr (comment)"` gives
//! `addr`, and anything the parser refuses (several addresses, unbalanced
//! quotes or parentheses, a domain literal) is used as given.
//!
//! The parser is a pragmatic reading of RFC 5322 `mailbox`; address lists
//! for `send_message` live in their own module.

/// A parsed mailbox: display name and address, like `parseaddr`'s tuple.
#[derive(Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub display: String,
    pub addr: String,
}

/// smtplib's `quoteaddr`: the address in angle brackets, for MAIL and RCPT.
pub fn quote_addr(s: &str) -> String {
    match parse_mailbox(s) {
        Some(m) => format!("<{}>", m.addr),
        None if s.trim().starts_with('<') => s.to_string(),
        None => format!("<{s}>"),
    }
}

/// smtplib's `_addr_only`: the bare address, for VRFY and EXPN.
pub fn addr_only(s: &str) -> String {
    match parse_mailbox(s) {
        Some(m) => m.addr,
        None => s.to_string(),
    }
}

/// Parse one mailbox; `None` where `parseaddr` answers `('', '')`.
pub fn parse_mailbox(s: &str) -> Option<Mailbox> {
    let toks = tokenize(s)?;
    // Several addresses are refused in strict mode.
    if toks.iter().any(|t| matches!(t, Tok::Special(','))) && !toks.iter().any(|t| matches!(t, Tok::Special('<'))) {
        return None;
    }
    let comments: Vec<&str> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Comment(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    let words: Vec<&Tok> = toks.iter().filter(|t| !matches!(t, Tok::Comment(_))).collect();
    let mailbox = if let Some(lt) = words.iter().position(|t| matches!(t, Tok::Special('<'))) {
        let gt = words.iter().rposition(|t| matches!(t, Tok::Special('>')));
        let (inner, after) = match gt {
            Some(gt) if gt > lt => (&words[lt + 1..gt], &words[gt + 1..]),
            _ => (&words[lt + 1..], &words[words.len()..]),
        };
        if after.iter().any(|t| !matches!(t, Tok::Space)) || inner.iter().any(|t| matches!(t, Tok::Special('<'))) {
            return None;
        }
        let display_words: Vec<String> =
            words[..lt].iter().filter(|t| !matches!(t, Tok::Space)).map(|t| t.text()).collect();
        if words[..lt].iter().any(|t| matches!(t, Tok::Special(c) if *c != '.')) {
            return None;
        }
        Mailbox { display: display_words.join(" "), addr: route_addr(inner)? }
    } else {
        Mailbox { display: comments.join(" "), addr: addr_spec(&words)? }
    };
    if mailbox.addr.contains('[') || (mailbox.addr.is_empty() && mailbox.display.is_empty()) {
        return None;
    }
    Some(mailbox)
}

/// A lexical token of RFC 5322 addresses (quoted strings unquoted,
/// comments without their parentheses, `[...]` literals whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Atom(String),
    Quoted(String),
    Comment(String),
    /// A domain literal, brackets included.
    Literal(String),
    Space,
    Special(char),
}

impl Tok {
    /// The token as it stands in an address (quoted strings re-quoted).
    pub(crate) fn addr_text(&self) -> String {
        match self {
            Tok::Quoted(q) => format!("\"{q}\""),
            other => other.text(),
        }
    }

    pub(crate) fn text(&self) -> String {
        match self {
            Tok::Atom(a) => a.clone(),
            Tok::Quoted(q) => q.clone(),
            Tok::Comment(c) => c.clone(),
            Tok::Literal(l) => l.clone(),
            Tok::Space => " ".into(),
            Tok::Special(c) => c.to_string(),
        }
    }
}

/// A quoted-pair's character (RFC 5322 3.2.1); an escaped CR or LF (the
/// obsolete form) is dropped, so no address keeps a line break.
fn push_quoted_pair(out: &mut String, c: char) {
    if c != '\r' && c != '\n' {
        out.push(c);
    }
}

/// Split into atoms, quoted strings (unquoted), comments, literals, spaces
/// and specials; `None` for unbalanced quotes, parentheses or brackets.
/// CR and LF count as white space (folded header lines).
pub(crate) fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                while matches!(chars.peek(), Some(' ' | '\t' | '\r' | '\n')) {
                    chars.next();
                }
                out.push(Tok::Space);
            }
            '"' => {
                let mut q = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => push_quoted_pair(&mut q, chars.next()?),
                        // Folding (RFC 5322 3.2.2): the line break goes, the
                        // white space after it stays.
                        '\r' | '\n' => {}
                        ch => q.push(ch),
                    }
                }
                out.push(Tok::Quoted(q));
            }
            '(' => {
                let mut depth = 1;
                let mut text = String::new();
                loop {
                    match chars.next()? {
                        '(' => {
                            depth += 1;
                            text.push('(');
                        }
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            text.push(')');
                        }
                        '\\' => push_quoted_pair(&mut text, chars.next()?),
                        ch => text.push(ch),
                    }
                }
                out.push(Tok::Comment(text));
            }
            ')' => return None,
            '[' => {
                let mut lit = String::from('[');
                loop {
                    match chars.next()? {
                        ']' => break,
                        '\\' => push_quoted_pair(&mut lit, chars.next()?),
                        '\r' | '\n' => {}
                        ch => lit.push(ch),
                    }
                }
                lit.push(']');
                out.push(Tok::Literal(lit));
            }
            ']' => return None,
            '<' | '>' | '@' | ',' | ':' | ';' | '.' => out.push(Tok::Special(c)),
            _ => {
                let mut a = String::from(c);
                while let Some(&n) = chars.peek() {
                    if " \t\r\n\"()<>@,:;.[]".contains(n) {
                        break;
                    }
                    a.push(n);
                    chars.next();
                }
                out.push(Tok::Atom(a));
            }
        }
    }
    Some(out)
}

/// The inside of `<...>`: an optional obsolete route (`@a,@b:`) then the
/// address, white space kept inside as `parseaddr` keeps it.
fn route_addr(inner: &[&Tok]) -> Option<String> {
    let start = inner.iter().position(|t| matches!(t, Tok::Special(':'))).map_or(0, |i| i + 1);
    let body = &inner[start..];
    let addr: String = body.iter().map(|t| t.addr_text()).collect();
    Some(addr.trim().to_string())
}

/// A bare `local@domain`: spaces around `.` and `@` are dropped, and where
/// words follow each other without either, the first word wins (as
/// `parseaddr("a b c")` gives `a`).
fn addr_spec(words: &[&Tok]) -> Option<String> {
    let mut addr = String::new();
    let mut pending_space = false;
    for t in words {
        match t {
            Tok::Space => pending_space = !addr.is_empty(),
            Tok::Special(c @ ('.' | '@')) => {
                addr.push(*c);
                pending_space = false;
            }
            Tok::Special(_) => return None,
            Tok::Atom(_) | Tok::Quoted(_) | Tok::Literal(_) => {
                if pending_space && !addr.ends_with(['.', '@']) {
                    break;
                }
                addr.push_str(&t.addr_text());
                pending_space = false;
            }
            Tok::Comment(_) => {}
        }
    }
    Some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, quoteaddr, _addr_only) as CPython 3.13 gives them.
    const TABLE: &[(&str, &str, &str)] = &[
        ("", "<>", ""),
        ("<>", "<>", "<>"),
        ("a@b.c", "<a@b.c>", "a@b.c"),
        ("<a@b.c>", "<a@b.c>", "a@b.c"),
        ("Jane Doe <jane@example.com>", "<jane@example.com>", "jane@example.com"),
        ("nobody", "<nobody>", "nobody"),
        ("a@b.c (Comment)", "<a@b.c>", "a@b.c"),
        ("\"Doe, Jane\" <j@x.y>", "<j@x.y>", "j@x.y"),
        ("a@b, c@d", "<a@b, c@d>", "a@b, c@d"),
        ("\"john doe\"@example.com", "<\"john doe\"@example.com>", "\"john doe\"@example.com"),
        ("a @ b . c", "<a@b.c>", "a@b.c"),
        ("a@[1.2.3.4]", "<a@[1.2.3.4]>", "a@[1.2.3.4]"),
        ("  spaced@x.y  ", "<spaced@x.y>", "spaced@x.y"),
        ("x <a@b", "<a@b>", "a@b"),
        ("(unbalanced a@b", "<(unbalanced a@b>", "(unbalanced a@b"),
        ("Ünï <ü@x.de>", "<ü@x.de>", "ü@x.de"),
        ("a b c", "<a>", "a"),
        ("<a@b> trailing", "<a@b> trailing", "<a@b> trailing"),
        ("  <a@b.c>  ", "<a@b.c>", "a@b.c"),
        ("<a b@c>", "<a b@c>", "a b@c"),
        ("=?utf-8?q?x?= <a@b>", "<a@b>", "a@b"),
        ("a@b.c <x@y.z>", "<a@b.c <x@y.z>>", "a@b.c <x@y.z>"),
    ];

    #[test]
    fn matches_smtplib() {
        for (input, quoted, only) in TABLE {
            assert_eq!(quote_addr(input), *quoted, "quoteaddr({input:?})");
            assert_eq!(addr_only(input), *only, "_addr_only({input:?})");
        }
    }

    #[test]
    fn display_names() {
        let m = parse_mailbox("\"Doe, Jane\" <j@x.y>").unwrap();
        assert_eq!(m.display, "Doe, Jane");
        let m = parse_mailbox("a@b.c (Comment)").unwrap();
        assert_eq!(m.display, "Comment");
    }
}
