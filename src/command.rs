//! Command lines: the only place command text is built.
//!
//! smtplib's `putcmd` joins verb and arguments with one space and refuses CR
//! and LF anywhere in the line (ValueError) before writing. We check the same
//! before any byte is written, and also refuse NUL, which no server can take
//! as part of a command.

use crate::error::{Error, Result};

/// Check one piece of text bound for a command line.
pub fn check_line_text(what: &str, s: &str) -> Result<()> {
    if let Some(bad) = s.bytes().find(|b| matches!(b, b'\r' | b'\n' | b'\0')) {
        let name = match bad {
            b'\r' => "CR",
            b'\n' => "LF",
            _ => "NUL",
        };
        return Err(Error::InvalidArgument(format!("{what} contains {name}, which cannot go on a command line")));
    }
    Ok(())
}

/// `verb` alone, or `verb SP args`, ending in CRLF (smtplib's `putcmd`).
pub fn line(verb: &str, args: &str) -> Result<Vec<u8>> {
    check_line_text("command", verb)?;
    check_line_text("command argument", args)?;
    let mut out = Vec::with_capacity(verb.len() + args.len() + 3);
    out.extend_from_slice(verb.as_bytes());
    if !args.is_empty() {
        out.push(b' ');
        out.extend_from_slice(args.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// `MAIL FROM:<addr> opts` / `RCPT TO:<addr> opts` arguments: the options
/// joined with spaces after the quoted address (smtplib's `mail`, `rcpt`).
pub fn path_args(keyword: &str, quoted_addr: &str, options: &[&str]) -> Result<String> {
    check_line_text("address", quoted_addr)?;
    let mut s = format!("{keyword}{quoted_addr}");
    for opt in options {
        check_line_text("option", opt)?;
        if opt.is_empty() || opt.contains([' ', '\t']) {
            return Err(Error::InvalidArgument(format!("option {opt:?} must be one non-empty word")));
        }
        s.push(' ');
        s.push_str(opt);
    }
    Ok(s)
}

/// Without SMTPUTF8, commands are ASCII (smtplib encodes them as 'ascii'
/// and fails on anything else).
pub fn check_ascii(what: &str, s: &str) -> Result<()> {
    if s.is_ascii() {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} {s:?} is not ASCII: it needs the SMTPUTF8 option and a server that offers it"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_one_space() {
        assert_eq!(line("noop", "").unwrap(), b"noop\r\n");
        assert_eq!(line("XFOO", "bar baz").unwrap(), b"XFOO bar baz\r\n");
    }

    #[test]
    fn refuses_line_breaks_and_nul() {
        for bad in ["x\r\nRSET", "x\ry", "x\ny", "x\0y"] {
            assert!(matches!(line("NOOP", bad), Err(Error::InvalidArgument(_))), "{bad:?}");
            assert!(matches!(line(bad, ""), Err(Error::InvalidArgument(_))), "{bad:?}");
            assert!(matches!(path_args("from:", "<a>", &[bad]), Err(Error::InvalidArgument(_))));
            assert!(matches!(path_args("from:", bad, &[]), Err(Error::InvalidArgument(_))));
        }
    }

    #[test]
    fn options_follow_the_address() {
        assert_eq!(
            path_args("from:", "<a@b>", &["SIZE=10", "BODY=8BITMIME"]).unwrap(),
            "from:<a@b> SIZE=10 BODY=8BITMIME"
        );
        assert!(path_args("from:", "<a@b>", &["two words"]).is_err());
        assert!(path_args("from:", "<a@b>", &[""]).is_err());
    }

    #[test]
    fn ascii_check() {
        assert!(check_ascii("address", "a@b").is_ok());
        assert!(check_ascii("address", "jörg@x").is_err());
    }
}
