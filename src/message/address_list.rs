//! RFC 5322 address lists (3.4), with the obsolete forms of 4.4: display
//! names, quoted strings, comments, groups, routes, empty list elements,
//! folded lines. Gives each mailbox's address, as `email.utils.getaddresses`
//! does for smtplib's `send_message`; refuses what cannot be parsed.

use crate::address::{tokenize, Tok};

/// One mailbox of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub display: String,
    pub addr: String,
}

/// Every mailbox of an address list, group members included, in order.
pub fn parse_address_list(value: &str) -> Result<Vec<Mailbox>, String> {
    let toks: Vec<Tok> = tokenize(value)
        .ok_or("unbalanced quotes, parentheses or brackets")?
        .into_iter()
        .filter(|t| !matches!(t, Tok::Space | Tok::Comment(_)))
        .collect();
    let mut p = Parser { toks: &toks, i: 0 };
    let mut out = Vec::new();
    while p.i < toks.len() {
        if p.eat(',') {
            continue; // obs-addr-list: empty elements
        }
        p.address(&mut out, false)?;
        if p.i < toks.len() && !p.eat(',') {
            return Err(format!("unexpected {:?} after an address", toks[p.i].text()));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: &'a [Tok],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek_special(&self) -> Option<char> {
        match self.toks.get(self.i) {
            Some(Tok::Special(c)) => Some(*c),
            _ => None,
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek_special() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Words (and obs-phrase dots) up to the next other special.
    fn phrase(&mut self) -> Vec<&'a Tok> {
        let start = self.i;
        while let Some(t) = self.toks.get(self.i) {
            match t {
                Tok::Atom(_) | Tok::Quoted(_) | Tok::Special('.') => self.i += 1,
                _ => break,
            }
        }
        let toks: &'a [Tok] = self.toks;
        toks[start..self.i].iter().collect()
    }

    /// mailbox / group; inside a group, groups are not allowed.
    fn address(&mut self, out: &mut Vec<Mailbox>, in_group: bool) -> Result<(), String> {
        let start = self.i;
        let words = self.phrase();
        match self.peek_special() {
            Some('<') => {
                self.i += 1;
                let addr = self.angle_addr()?;
                out.push(Mailbox { display: display(&words), addr });
                Ok(())
            }
            Some(':') if !in_group => {
                self.i += 1;
                loop {
                    if self.eat(';') || self.i >= self.toks.len() {
                        return Ok(()); // a group may lack its ';' at the end
                    }
                    if self.eat(',') {
                        continue;
                    }
                    self.address(out, true)?;
                    if !matches!(self.peek_special(), Some(',' | ';')) && self.i < self.toks.len() {
                        return Err(format!("unexpected {:?} in a group", self.toks[self.i].text()));
                    }
                }
            }
            Some('@') | Some(',') | Some(';') | None if !words.is_empty() => {
                self.i = start;
                let addr = self.addr_spec()?;
                out.push(Mailbox { display: String::new(), addr });
                Ok(())
            }
            _ => match self.toks.get(self.i) {
                Some(t) => Err(format!("unexpected {:?}", t.text())),
                None => Err("an address is missing".into()),
            },
        }
    }

    /// After `<`: an optional obsolete route, the addr-spec, `>`.
    fn angle_addr(&mut self) -> Result<String, String> {
        if self.eat('>') {
            return Ok(String::new()); // <>: the null path
        }
        if self.peek_special() == Some('@') {
            // obs-route: @domain *("," [@domain]) ":"
            while let Some(t) = self.toks.get(self.i) {
                self.i += 1;
                if matches!(t, Tok::Special(':')) {
                    break;
                }
                if matches!(t, Tok::Special('>')) {
                    return Err("a route without an address".into());
                }
            }
        }
        let addr = self.addr_spec()?;
        if !self.eat('>') {
            return Err(format!("<{addr} lacks its closing '>'"));
        }
        Ok(addr)
    }

    /// local-part [ "@" domain ]; a bare local part is kept as Python does.
    fn addr_spec(&mut self) -> Result<String, String> {
        let mut addr = String::new();
        let mut last_dot = true;
        while let Some(t) = self.toks.get(self.i) {
            match t {
                Tok::Atom(_) | Tok::Quoted(_) if last_dot => {
                    addr.push_str(&t.addr_text());
                    last_dot = false;
                }
                Tok::Special('.') => {
                    addr.push('.');
                    last_dot = true;
                }
                _ => break,
            }
            self.i += 1;
        }
        if addr.is_empty() {
            return Err("an address has no local part".into());
        }
        if self.eat('@') {
            addr.push('@');
            let mut domain = false;
            while let Some(t) = self.toks.get(self.i) {
                match t {
                    Tok::Atom(a) => addr.push_str(a),
                    Tok::Literal(l) => addr.push_str(l),
                    Tok::Special('.') => addr.push('.'),
                    _ => break,
                }
                domain = true;
                self.i += 1;
            }
            if !domain {
                return Err(format!("{addr} has no domain"));
            }
        }
        Ok(addr)
    }
}

fn display(words: &[&Tok]) -> String {
    let mut s = String::new();
    for w in words {
        if !s.is_empty() && !matches!(w, Tok::Special('.')) {
            s.push(' ');
        }
        s.push_str(&w.text());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(v: &str) -> Vec<String> {
        parse_address_list(v).unwrap_or_else(|e| panic!("{v:?}: {e}")).into_iter().map(|m| m.addr).collect()
    }

    #[test]
    fn forms() {
        let table: &[(&str, &[&str])] = &[
            ("bob@example.com, Carol <carol@example.com>", &["bob@example.com", "carol@example.com"]),
            ("\"Doe, Jane\" <jane@example.com>, x@y.z", &["jane@example.com", "x@y.z"]),
            ("a@b.c (Comment, with comma), (lead) d@e.f", &["a@b.c", "d@e.f"]),
            ("Team: ann@x.org, \"Bo B\" <bo@x.org>;, solo@x.org", &["ann@x.org", "bo@x.org", "solo@x.org"]),
            ("Undisclosed recipients:;", &[]),
            ("a@b.c,\r\n b@c.d,\r\n\tCarol\r\n <c@d.e>", &["a@b.c", "b@c.d", "c@d.e"]),
            (", , a@b.c ,,", &["a@b.c"]),
            ("<@route1,@route2:x@y.z>", &["x@y.z"]),
            ("\"john q\"@example.com", &["\"john q\"@example.com"]),
            ("first.last@sub.example.com", &["first.last@sub.example.com"]),
            ("user@[192.0.2.1]", &["user@[192.0.2.1]"]),
            ("Mr. J. Smith <js@x.y>", &["js@x.y"]),
            ("nobody", &["nobody"]),
            ("jörg@exämple.de, 佐藤 <佐藤@example.jp>", &["jörg@exämple.de", "佐藤@example.jp"]),
            ("<>", &[""]),
            ("", &[]),
        ];
        for (input, want) in table {
            assert_eq!(addrs(input), *want, "{input:?}");
        }
    }

    #[test]
    fn display_names() {
        let m = parse_address_list("Mr. J. Smith <js@x.y>, \"Doe, Jane\" <j@d.e>").unwrap();
        assert_eq!(m[0].display, "Mr. J. Smith");
        assert_eq!(m[1].display, "Doe, Jane");
    }

    #[test]
    fn refusals() {
        for bad in ["<a@b.c", "a@", "\"unterminated", "(open", "a@b.c d@e.f", "a@b.c >", "x: y: z@w;", "@b.c", "a@b.c]"]
        {
            assert!(parse_address_list(bad).is_err(), "{bad:?} should be refused");
        }
    }

    /// Folding inside quoted strings and domain literals is unfolded: no
    /// address keeps a line break (found by the fuzzer).
    #[test]
    fn folded_literals_and_quotes_are_unfolded() {
        for input in [
            "a@[x\\\ny]",
            "\"a\\\r\"@x",
            "a@[\r\n 192.0.2.1]",
            "\"jo\r\n hn\"@x.org",
            "From,\r\n c@x.org[\r\n []",
            "Ta@e.[\u{17}amTeam* a@b. a@b.\u{16}\0[\r\0[\0\u{16}]",
        ] {
            if let Ok(list) = parse_address_list(input) {
                for m in list {
                    assert!(!m.addr.contains(['\r', '\n']), "{input:?} gave {:?}", m.addr);
                }
            }
        }
        assert_eq!(parse_address_list("a@[\r\n 192.0.2.1]").unwrap()[0].addr, "a@[ 192.0.2.1]");
    }

    /// Any input: an answer, never a panic (a light fuzz here; the
    /// `address_list` cargo-fuzz target in fuzz/ runs long).
    #[test]
    fn random_inputs_never_panic() {
        let alphabet: Vec<char> = "ab@.<>,:;\"()[] \r\n\t\\é".chars().collect();
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..20_000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for k in 0..(x % 24) {
                s.push(alphabet[((x >> (k * 2)) % alphabet.len() as u64) as usize]);
            }
            let _ = parse_address_list(&s);
        }
    }
}
