//! Addresses of a composed message: what the caller gives (`"Zoë
//! <zoe@example.com>"`, a bare address, or a comma-separated list) parsed
//! with the RFC 5322 list parser `send_message` uses, and written back as
//! header atoms: the display name as a phrase (encoded words when it is not
//! ASCII), the address in angle brackets.
//!
//! A domain that is not ASCII goes out as A-labels (IDNA) when the local
//! part is ASCII, so that the message needs no SMTPUTF8; a local part that is
//! not ASCII can only be carried by SMTPUTF8 (RFC 6531) with UTF-8 headers
//! (RFC 6532), which the send calls then ask for.

use super::header::{phrase, Atom};
use crate::error::{Error, Result};
use crate::message::address_list::parse_address_list;

/// One mailbox: display name (may be empty) and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: String,
    pub addr: String,
}

impl Mailbox {
    /// Needs SMTPUTF8 and UTF-8 headers: the local part is not ASCII.
    pub fn international(&self) -> bool {
        !self.addr.is_ascii()
    }

    /// The domain, for Message-ID.
    pub fn domain(&self) -> &str {
        self.addr.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// Every mailbox of `list` (`what` names the field in errors). Group
/// members count; an empty list is refused.
pub fn parse(list: &str, what: &str) -> Result<Vec<Mailbox>> {
    super::header::check_text(what, list)?;
    let parsed = parse_address_list(list).map_err(|e| Error::InvalidArgument(format!("{what}: {e}: {list:?}")))?;
    let mut out = Vec::new();
    for m in parsed.into_iter().filter(|m| !m.addr.is_empty()) {
        if m.addr.chars().any(char::is_control) {
            return Err(Error::InvalidArgument(format!("{what}: {:?} has a control character", m.addr)));
        }
        let Some((local, domain)) = m.addr.rsplit_once('@') else {
            return Err(Error::InvalidArgument(format!("{what}: {:?} has no domain", m.addr)));
        };
        if local.is_empty() || domain.is_empty() {
            return Err(Error::InvalidArgument(format!("{what}: {:?} is not an address", m.addr)));
        }
        if !valid_domain(domain) {
            return Err(Error::InvalidArgument(format!("{what}: {:?}: {domain:?} is not a domain", m.addr)));
        }
        let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
        if !quoted && local.contains(['"', '\\']) {
            // Quoted pairs in a local part: legal (RFC 5322 3.2.4) but
            // read differently by different parsers; refused rather than
            // written ambiguously.
            return Err(Error::InvalidArgument(format!(
                "{what}: {:?}: a quote or backslash in the local part",
                m.addr
            )));
        }
        let domain = if local.is_ascii() { crate::idna_host::to_ascii(domain)?.into_owned() } else { domain.into() };
        // IDNA's compatibility mapping can bring in what no domain may hold
        // ("㈃" becomes "(ㄷ)", so the A-label has parentheses, which a
        // reader would take for a comment): checked again after it.
        if !valid_domain(&domain) {
            return Err(Error::InvalidArgument(format!(
                "{what}: {:?}: {domain:?}, the domain's A-label form, is not a domain",
                m.addr
            )));
        }
        // A quoted local part comes back from the parser as written.
        let local = if quoted { local.to_string() } else { quote_local(local) };
        out.push(Mailbox { name: m.display, addr: format!("{local}@{domain}") });
    }
    if out.is_empty() {
        return Err(Error::InvalidArgument(format!("{what}: no address in {list:?}")));
    }
    Ok(out)
}

/// A host name (labels of letters, digits, '-' and '_', or characters
/// beyond ASCII for IDNA) or an address literal in brackets (RFC 5321 4.1.3).
fn valid_domain(d: &str) -> bool {
    if let Some(inner) = d.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_graphic() && !b"[]\\".contains(&b));
    }
    d.split('.').all(|l| {
        !l.is_empty()
            && l.chars()
                .all(|c| !c.is_ascii() && !c.is_whitespace() || c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// The local part as a dot-atom when it is one (RFC 5322 3.4.1; any
/// character beyond ASCII counts as atext, RFC 6532 3.2), else quoted.
fn quote_local(local: &str) -> String {
    let atext = |c: char| !c.is_ascii() || c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = local.split('.').all(|w| !w.is_empty() && w.chars().all(atext));
    if dot_atom {
        local.to_string()
    } else {
        format!("\"{}\"", local.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// A mailbox list as atoms, commas between mailboxes.
pub fn atoms(list: &[Mailbox]) -> Vec<Atom> {
    let mut out: Vec<Atom> = Vec::new();
    for (k, m) in list.iter().enumerate() {
        let first = out.len();
        if m.name.is_empty() {
            out.push(Atom { space: String::new(), text: m.addr.clone() });
        } else {
            out.extend(phrase(&m.name));
            out.push(Atom { space: " ".into(), text: format!("<{}>", m.addr) });
        }
        if k > 0 {
            out[first].space = " ".into();
        }
        if k + 1 < list.len() {
            out.last_mut().expect("a mailbox gives atoms").text.push(',');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::header::fold;
    use super::*;

    #[test]
    fn names_and_lists() {
        let l = parse("Zoë <zoe@example.com>, bob@example.com", "To").unwrap();
        assert_eq!(l[0], Mailbox { name: "Zoë".into(), addr: "zoe@example.com".into() });
        assert_eq!(l[1].name, "");
        assert_eq!(fold("To", &atoms(&l)), "To: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.com>, bob@example.com\r\n");
        let l = parse("\"Doe, Jane\" <jane@x.org>", "To").unwrap();
        assert_eq!(fold("To", &atoms(&l)), "To: \"Doe, Jane\" <jane@x.org>\r\n");
    }

    #[test]
    fn domains_to_a_labels_unless_the_local_part_needs_utf8() {
        let l = parse("a@bücher.example", "To").unwrap();
        assert_eq!(l[0].addr, "a@xn--bcher-kva.example");
        assert!(!l[0].international());
        let l = parse("zoë@bücher.example", "To").unwrap();
        assert_eq!(l[0].addr, "zoë@bücher.example");
        assert!(l[0].international());
    }

    #[test]
    fn refusals() {
        for bad in ["", "nobody", "a@", "<broken", "a@x\r\nBcc: b@y", "group:;", "a@[b c]", "a@b..c", "a@b@c"] {
            assert!(parse(bad, "To").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn long_lists_fold_between_addresses() {
        let many: Vec<String> = (0..12).map(|i| format!("Person Number{i} <person{i}@example.com>")).collect();
        let l = parse(&many.join(", "), "Cc").unwrap();
        let f = fold("Cc", &atoms(&l));
        for line in f.trim_end_matches("\r\n").split("\r\n") {
            assert!(line.len() <= 78, "{line:?}");
        }
        assert_eq!(parse(&f[3..].replace("\r\n", ""), "Cc").unwrap(), l);
    }

    #[test]
    fn quoted_local_parts() {
        assert_eq!(quote_local("john.doe"), "john.doe");
        assert_eq!(quote_local("john doe"), "\"john doe\"");
        assert_eq!(quote_local(".x"), "\".x\"");
        assert_eq!(parse("\"john doe\"@x.org", "to").unwrap()[0].addr, "\"john doe\"@x.org");
    }
}
