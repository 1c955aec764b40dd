//! Internationalized host names (IDNA): a name with non-ASCII labels goes
//! out as A-labels ("bücher.example" -> "xn--bcher-kva.example"), which is
//! all DNS and TLS understand (RFC 5890 2.3.2.1; SNI carries A-labels only,
//! RFC 6066 3). Done once where a session takes its host and where a TLS
//! config takes its server name, so the resolver, SNI and the certificate
//! check all see the same name.
//!
//! The mapping is UTS #46 non-transitional processing, as browsers and the
//! WHATWG URL standard do ("ß" stays "ß", IDNA 2008), not the IDNA 2003
//! of Python's "idna" codec.

use std::borrow::Cow;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use crate::error::{Error, Result};

/// `host` as DNS and TLS need it: ASCII names unchanged (case and all, as
/// before: the resolver and the certificate check ignore case), others
/// mapped and encoded as A-labels. A trailing root dot is kept. Names UTS
/// #46 refuses are `InvalidArgument`.
pub fn to_ascii(host: &str) -> Result<Cow<'_, str>> {
    if host.is_ascii() {
        return Ok(Cow::Borrowed(host));
    }
    let encode = |length| Uts46::new().to_ascii(host.as_bytes(), AsciiDenyList::URL, Hyphens::Allow, length);
    match encode(DnsLength::VerifyAllowRootDot) {
        Ok(ascii) => Ok(Cow::Owned(ascii.into_owned())),
        Err(_) => Err(Error::InvalidArgument(match encode(DnsLength::Ignore) {
            Ok(ascii) => format!(
                "host name {host:?} is too long for DNS once encoded ({ascii:?}: a label over 63 bytes or a name over 253)"
            ),
            Err(_) => format!(
                "host name {host:?} is not a valid internationalized domain name (UTS #46: a disallowed \
                 character, a label that starts with a combining mark, mixed-direction text, or a bad xn-- label)"
            ),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(host: &str) -> String {
        to_ascii(host).unwrap_or_else(|e| panic!("{host:?}: {e}")).into_owned()
    }

    fn refused(host: &str) -> String {
        match to_ascii(host) {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("{host:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn unicode_labels_become_a_labels() {
        assert_eq!(ok("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("mail.bücher.example"), "mail.xn--bcher-kva.example");
        assert_eq!(ok("例え.テスト"), "xn--r8jz45g.xn--zckzah");
        assert_eq!(ok("почта.рф"), "xn--80a1acny.xn--p1ai");
        // Non-transitional: ß is kept (IDNA 2008), not mapped to "ss".
        assert_eq!(ok("straße.example"), "xn--strae-oqa.example");
    }

    #[test]
    fn mapping_folds_case_and_width() {
        assert_eq!(ok("BÜCHER.Example"), "xn--bcher-kva.example");
        assert_eq!(ok("Bücher.EXAMPLE"), "xn--bcher-kva.example");
        // Full-width letters and the ideographic full stop map to ASCII.
        assert_eq!(ok("ｂüｃｈｅｒ。example"), "xn--bcher-kva.example");
    }

    #[test]
    fn trailing_root_dot_is_kept() {
        assert_eq!(ok("bücher.example."), "xn--bcher-kva.example.");
    }

    #[test]
    fn ascii_names_are_left_alone() {
        for h in ["localhost", "MX.Example.COM", "127.0.0.1", "::1", "[::1]", "mail_1.example", "/run/lmtp", ""] {
            assert!(matches!(to_ascii(h), Ok(Cow::Borrowed(b)) if b == h), "{h:?}");
        }
    }

    #[test]
    fn invalid_names_are_refused_clearly() {
        let m = refused("\u{301}bücher.example"); // starts with a combining mark
        assert!(m.contains("not a valid internationalized domain name"), "{m}");
        assert!(refused("bü cher.example").contains("UTS #46")); // a space
        assert!(refused("bücher/x.example").contains("UTS #46")); // forbidden by the URL deny list
        assert!(refused("bücher.xn--a.example").contains("UTS #46")); // a broken A-label beside
        assert!(refused("ü\u{5D0}.example").contains("UTS #46")); // Latin and Hebrew in one label (RFC 5893)
        let long = format!("{}ü.example", "a".repeat(70));
        let m = refused(&long);
        assert!(m.contains("too long") && m.contains("xn--"), "{m}");
    }
}
