//! Structured envelope options beside the raw option strings: DSN (RFC
//! 3461), SMTPUTF8 (RFC 6531), BODY (RFC 6152, RFC 3030), REQUIRETLS (RFC
//! 8689), MT-PRIORITY (RFC 6710), DELIVERBY (RFC 2852). Each is checked
//! against the server's EHLO before MAIL is sent: one it does not offer is
//! "not supported", never dropped silently.

use crate::error::{Error, Result};
use crate::features::Features;

/// DSN NOTIFY bits (RFC 3461 4.1).
pub(crate) const NOTIFY_SUCCESS: u32 = 1;
pub(crate) const NOTIFY_FAILURE: u32 = 2;
pub(crate) const NOTIFY_DELAY: u32 = 4;
pub(crate) const NOTIFY_NEVER: u32 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    Full,
    Hdrs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    SevenBit,
    EightBitMime,
    BinaryMime,
}

/// DELIVERBY's by-mode: return the message (R) or notify (N) when late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliverBy {
    pub seconds: i64,
    pub notify: bool,
    pub trace: bool,
}

/// Per-recipient DSN settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RcptDsn {
    pub notify: Option<u32>,
    pub orcpt: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvelopeOptions {
    pub ret: Option<Ret>,
    pub envid: Option<String>,
    /// NOTIFY for every recipient without its own.
    pub notify: Option<u32>,
    /// By recipient address (as given to sendmail).
    pub rcpt: Vec<(String, RcptDsn)>,
    pub smtputf8: bool,
    pub body: Option<Body>,
    pub requiretls: bool,
    pub mt_priority: Option<i32>,
    pub deliver_by: Option<DeliverBy>,
}

/// RFC 3461 4: xtext, `+XX` for `+`, `=` and anything outside 33..126.
pub fn xtext(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

fn need(features: &Features, ext: &str, what: &str) -> Result<()> {
    if features.has(ext) {
        Ok(())
    } else {
        Err(Error::NotSupported(format!("{what} needs the server's {ext} extension, which it does not advertise")))
    }
}

fn notify_value(bits: u32) -> Result<String> {
    if bits == 0 || bits & !(NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY | NOTIFY_NEVER) != 0 {
        return Err(Error::InvalidArgument(format!("NOTIFY bits {bits:#x} are not a DSN notify set")));
    }
    if bits & NOTIFY_NEVER != 0 {
        if bits != NOTIFY_NEVER {
            return Err(Error::InvalidArgument("NOTIFY=NEVER cannot be combined with other values".into()));
        }
        return Ok("NEVER".into());
    }
    let names: Vec<&str> = [(NOTIFY_SUCCESS, "SUCCESS"), (NOTIFY_FAILURE, "FAILURE"), (NOTIFY_DELAY, "DELAY")]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    Ok(names.join(","))
}

impl EnvelopeOptions {
    pub fn is_empty(&self) -> bool {
        *self == EnvelopeOptions::default()
    }

    /// A recipient's own DSN options, replacing any it had (the last
    /// setting for an address wins; the order of first settings is kept
    /// for the others).
    pub fn set_rcpt_dsn(&mut self, rcpt: String, dsn: RcptDsn) {
        self.rcpt.retain(|(r, _)| *r != rcpt);
        self.rcpt.push((rcpt, dsn));
    }

    /// Check the settings themselves (when they are set).
    pub fn validate(&self) -> Result<()> {
        if let Some(n) = self.notify {
            notify_value(n)?;
        }
        for (_, d) in &self.rcpt {
            if let Some(n) = d.notify {
                notify_value(n)?;
            }
        }
        if let Some(p) = self.mt_priority {
            if !(-9..=9).contains(&p) {
                return Err(Error::InvalidArgument(format!("MT-PRIORITY {p} is outside -9..9")));
            }
        }
        if let Some(d) = self.deliver_by {
            if !d.notify && d.seconds <= 0 {
                return Err(Error::InvalidArgument("DELIVERBY in return mode needs a time above 0".into()));
            }
        }
        if let Some(e) = &self.envid {
            if e.is_empty() || e.len() > 100 {
                return Err(Error::InvalidArgument("ENVID must be 1 to 100 characters".into()));
            }
        }
        Ok(())
    }

    /// MAIL parameters, checked against what the server offers. `encrypted`:
    /// REQUIRETLS may only be sent over TLS (RFC 8689 4.1).
    pub fn mail_params(&self, features: &Features, encrypted: bool) -> Result<Vec<String>> {
        self.validate()?;
        let mut out = Vec::new();
        if self.smtputf8 {
            need(features, "smtputf8", "SMTPUTF8")?;
            out.push("SMTPUTF8".to_string());
        }
        if let Some(body) = self.body {
            out.push(match body {
                Body::SevenBit => "BODY=7BIT".to_string(),
                Body::EightBitMime => {
                    need(features, "8bitmime", "BODY=8BITMIME")?;
                    "BODY=8BITMIME".to_string()
                }
                Body::BinaryMime => {
                    need(features, "binarymime", "BODY=BINARYMIME")?;
                    need(features, "chunking", "BODY=BINARYMIME")?;
                    "BODY=BINARYMIME".to_string()
                }
            });
        }
        if let Some(ret) = self.ret {
            need(features, "dsn", "DSN RET")?;
            out.push(format!("RET={}", if ret == Ret::Full { "FULL" } else { "HDRS" }));
        }
        if let Some(envid) = &self.envid {
            need(features, "dsn", "DSN ENVID")?;
            out.push(format!("ENVID={}", xtext(envid)));
        }
        if self.requiretls {
            need(features, "requiretls", "REQUIRETLS")?;
            if !encrypted {
                return Err(Error::NotEncrypted("REQUIRETLS may only be sent over TLS".into()));
            }
            out.push("REQUIRETLS".to_string());
        }
        if let Some(p) = self.mt_priority {
            need(features, "mt-priority", "MT-PRIORITY")?;
            out.push(format!("MT-PRIORITY={p}"));
        }
        if let Some(d) = self.deliver_by {
            need(features, "deliverby", "DELIVERBY")?;
            let mode = if d.notify { "N" } else { "R" };
            out.push(format!("BY={};{mode}{}", d.seconds, if d.trace { "T" } else { "" }));
        }
        Ok(out)
    }

    /// RCPT parameters for `rcpt`: NOTIFY and ORCPT (RFC 3461 4.1, 4.2).
    pub fn rcpt_params(&self, rcpt: &str, features: &Features) -> Result<Vec<String>> {
        let own = self.rcpt.iter().find(|(r, _)| r == rcpt).map(|(_, d)| d);
        let mut out = Vec::new();
        if let Some(n) = own.and_then(|d| d.notify).or(self.notify) {
            need(features, "dsn", "DSN NOTIFY")?;
            out.push(format!("NOTIFY={}", notify_value(n)?));
        }
        if let Some(orcpt) = own.and_then(|d| d.orcpt.as_deref()) {
            need(features, "dsn", "DSN ORCPT")?;
            out.push(format!("ORCPT=rfc822;{}", xtext(orcpt)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(ehlo: &str) -> Features {
        Features::parse(format!("mx\n{}", ehlo.replace(' ', "\n")).as_bytes())
    }

    #[test]
    fn xtext_encoding() {
        assert_eq!(xtext("a+b=c d@x"), "a+2Bb+3Dc+20d@x");
        assert_eq!(xtext("jörg"), "j+C3+B6rg");
    }

    #[test]
    fn dsn_params() {
        let f = features("DSN 8BITMIME");
        let mut e = EnvelopeOptions {
            ret: Some(Ret::Hdrs),
            envid: Some("QQ314159".into()),
            notify: Some(NOTIFY_FAILURE | NOTIFY_DELAY),
            ..Default::default()
        };
        e.rcpt.push(("b@x".into(), RcptDsn { notify: Some(NOTIFY_NEVER), orcpt: Some("B@x.org".into()) }));
        assert_eq!(e.mail_params(&f, false).unwrap(), ["RET=HDRS", "ENVID=QQ314159"]);
        assert_eq!(e.rcpt_params("a@x", &f).unwrap(), ["NOTIFY=FAILURE,DELAY"]);
        assert_eq!(e.rcpt_params("b@x", &f).unwrap(), ["NOTIFY=NEVER", "ORCPT=rfc822;B@x.org"]);
    }

    #[test]
    fn unadvertised_is_not_supported() {
        let none = features("");
        let cases = [
            EnvelopeOptions { ret: Some(Ret::Full), ..Default::default() },
            EnvelopeOptions { smtputf8: true, ..Default::default() },
            EnvelopeOptions { body: Some(Body::EightBitMime), ..Default::default() },
            EnvelopeOptions { body: Some(Body::BinaryMime), ..Default::default() },
            EnvelopeOptions { mt_priority: Some(3), ..Default::default() },
            EnvelopeOptions { requiretls: true, ..Default::default() },
            EnvelopeOptions {
                deliver_by: Some(DeliverBy { seconds: 60, notify: false, trace: false }),
                ..Default::default()
            },
        ];
        for e in cases {
            assert!(matches!(e.mail_params(&none, true), Err(Error::NotSupported(_))), "{e:?}");
        }
        let e = EnvelopeOptions { notify: Some(NOTIFY_SUCCESS), ..Default::default() };
        assert!(matches!(e.rcpt_params("a@x", &none), Err(Error::NotSupported(_))));
    }

    #[test]
    fn other_extensions() {
        let f = features("SMTPUTF8 8BITMIME REQUIRETLS MT-PRIORITY DELIVERBY");
        let e = EnvelopeOptions {
            smtputf8: true,
            body: Some(Body::EightBitMime),
            requiretls: true,
            mt_priority: Some(-4),
            deliver_by: Some(DeliverBy { seconds: 3600, notify: true, trace: true }),
            ..Default::default()
        };
        assert_eq!(
            e.mail_params(&f, true).unwrap(),
            ["SMTPUTF8", "BODY=8BITMIME", "REQUIRETLS", "MT-PRIORITY=-4", "BY=3600;NT"]
        );
        assert!(matches!(e.mail_params(&f, false), Err(Error::NotEncrypted(_))));
    }

    #[test]
    fn invalid_settings() {
        for e in [
            EnvelopeOptions { notify: Some(NOTIFY_NEVER | NOTIFY_SUCCESS), ..Default::default() },
            EnvelopeOptions { notify: Some(0), ..Default::default() },
            EnvelopeOptions { mt_priority: Some(10), ..Default::default() },
            EnvelopeOptions {
                deliver_by: Some(DeliverBy { seconds: 0, notify: false, trace: false }),
                ..Default::default()
            },
            EnvelopeOptions { envid: Some(String::new()), ..Default::default() },
        ] {
            assert!(matches!(e.validate(), Err(Error::InvalidArgument(_))), "{e:?}");
        }
    }
}
