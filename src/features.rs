//! EHLO reply to service extensions, as smtplib's `ehlo()` parses it.
//!
//! The first line (the server's name) is skipped. A line `AUTH=...` (the
//! pre-RFC form some servers still send) adds its mechanisms to `auth`;
//! otherwise the keyword is `[A-Za-z0-9][A-Za-z0-9-]*`, lower-cased, and the
//! parameters are the rest of the line stripped. AUTH lines merge (each adds
//! `" " + params`); any other keyword seen twice keeps its last parameters.
//! Lines that start with no keyword are ignored.

/// Extensions in the order the server listed them, keys lower-case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    entries: Vec<(String, String)>,
}

impl Features {
    /// Parse the text of a 250 EHLO reply (lines joined with `\n`).
    pub fn parse(ehlo_text: &[u8]) -> Features {
        let mut f = Features::default();
        // smtplib decodes the reply as latin-1: every byte is one character.
        let text: String = ehlo_text.iter().map(|&b| b as char).collect();
        for line in text.split('\n').skip(1) {
            // Compare bytes: a Latin-1 character above 0x7f takes two bytes
            // in the string, so slicing at 5 could split one.
            if line.as_bytes().get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"auth=")) {
                f.append_auth(&line[5..]);
                continue;
            }
            let kw_len = keyword_len(line);
            if kw_len == 0 {
                continue;
            }
            let keyword = line[..kw_len].to_ascii_lowercase();
            let params = line[kw_len..].trim_matches(|c: char| c.is_whitespace()).to_string();
            if keyword == "auth" {
                f.append_auth(&params);
            } else {
                f.set(keyword, params);
            }
        }
        f
    }

    fn append_auth(&mut self, mechs: &str) {
        let add = format!(" {mechs}");
        match self.entries.iter_mut().find(|(k, _)| k == "auth") {
            Some((_, v)) => v.push_str(&add),
            None => self.entries.push(("auth".into(), add)),
        }
    }

    fn set(&mut self, key: String, params: String) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = params,
            None => self.entries.push((key, params)),
        }
    }

    /// smtplib's `has_extn`: case-insensitive.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The parameters of an extension (case-insensitive name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).map(|i| self.entries[i].1.as_str())
    }

    /// Where an extension is in the server's order (case-insensitive name):
    /// the index [`Features::iter`] gives it.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k.eq_ignore_ascii_case(name))
    }

    /// `(keyword, parameters)` in the server's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The SIZE limit when advertised with a number greater than 0.
    pub fn size_limit(&self) -> Option<u64> {
        self.get("size")?.split_whitespace().next()?.parse().ok().filter(|&n| n > 0)
    }
}

/// Length of the leading `[A-Za-z0-9][A-Za-z0-9-]*`.
fn keyword_len(line: &str) -> usize {
    let b = line.as_bytes();
    if b.first().is_none_or(|c| !c.is_ascii_alphanumeric()) {
        return 0;
    }
    b.iter().position(|c| !(c.is_ascii_alphanumeric() || *c == b'-')).unwrap_or(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtplib_parsing() {
        let f = Features::parse(
            b"mx.example greets client.example\nPIPELINING\nSIZE 35882577\nstarttls\n\
              AUTH LOGIN PLAIN\nAUTH=LOGIN PLAIN\nDSN\nX-CUSTOM-EXT param1 param2",
        );
        let got: Vec<_> = f.iter().collect();
        assert_eq!(
            got,
            vec![
                ("pipelining", ""),
                ("size", "35882577"),
                ("starttls", ""),
                ("auth", " LOGIN PLAIN LOGIN PLAIN"),
                ("dsn", ""),
                ("x-custom-ext", "param1 param2"),
            ]
        );
        assert!(f.has("SIZE") && f.has("StartTLS") && !f.has("chunking"));
        assert_eq!(f.size_limit(), Some(35882577));
    }

    #[test]
    fn odd_lines() {
        let f = Features::parse(b"name\n\n   \n-bad\nSIZE\nSIZE 0\nX_Y 1\n8BITMIME\xff");
        assert_eq!(f.get("size"), Some("0"));
        assert_eq!(f.size_limit(), None);
        assert_eq!(f.get("x"), Some("_Y 1"));
        assert!(f.has("8bitmime"));
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn high_bytes_do_not_split_characters() {
        let f = Features::parse(b"x\nSIZE\xff\nAUT\xff=x\nAuth=\xffPLAIN\n\xff\x00");
        assert_eq!(f.get("size"), Some("\u{ff}"));
        assert_eq!(f.get("aut"), Some("\u{ff}=x"));
        assert_eq!(f.get("auth"), Some(" \u{ff}PLAIN"));
    }

    #[test]
    fn only_name_line() {
        assert!(Features::parse(b"mx.example").is_empty());
        assert!(Features::parse(b"").is_empty());
    }
}
