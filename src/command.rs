//! Command lines: the only place command text is built.
//!
//! smtplib's `putcmd` joins verb and arguments with one space and refuses CR
//! and LF anywhere in the line (ValueError, bpo-43124) before writing. We
//! check the same before any byte is written, with smtplib's message, and
//! also refuse NUL, which no server can take as part of a command.

use crate::error::{Error, Result};

/// smtplib's refusal of a line break (bpo-43124): the text shown with CR and
/// LF escaped, so that the message is one line and says what was refused.
fn newline_error(what: &str, text: &str) -> Error {
    let shown = text.replace('\n', "\\n").replace('\r', "\\r");
    Error::InvalidArgument(format!("{what} prohibited newline characters: {shown}"))
}

fn nul_error(what: &str) -> Error {
    Error::InvalidArgument(format!("{what} contains NUL, which cannot go on a command line"))
}

/// Check one piece of text bound for a command line.
pub fn check_line_text(what: &str, s: &str) -> Result<()> {
    if s.contains(['\r', '\n']) {
        return Err(newline_error(&format!("{what} contains"), s));
    }
    if s.contains('\0') {
        return Err(nul_error(what));
    }
    Ok(())
}

/// Check a whole command line as smtplib's `putcmd` does: CR or LF is
/// "command and arguments contain prohibited newline characters: <line>".
fn check_command_text(text: &str) -> Result<()> {
    if text.contains(['\r', '\n']) {
        return Err(newline_error("command and arguments contain", text));
    }
    if text.contains('\0') {
        return Err(nul_error("command"));
    }
    Ok(())
}

/// `verb` alone, or `verb SP args`, ending in CRLF (smtplib's `putcmd`).
pub fn line(verb: &str, args: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(verb.len() + args.len() + 3);
    out.extend_from_slice(verb.as_bytes());
    if !args.is_empty() {
        out.push(b' ');
        out.extend_from_slice(args.as_bytes());
    }
    check_command_text(std::str::from_utf8(&out).expect("joined from two strs"))?;
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// `MAIL FROM:<addr> opts` / `RCPT TO:<addr> opts` arguments: the options
/// joined with spaces after the quoted address (smtplib's `mail`, `rcpt`).
/// A line break anywhere is refused with the whole line `verb` would send.
pub fn path_args(verb: &str, keyword: &str, quoted_addr: &str, options: &[&str]) -> Result<String> {
    let mut s = format!("{keyword}{quoted_addr}");
    for opt in options {
        s.push(' ');
        s.push_str(opt);
    }
    check_command_text(&format!("{verb} {s}"))?;
    for opt in options {
        if opt.is_empty() || opt.contains([' ', '\t']) {
            return Err(Error::InvalidArgument(format!("option {opt:?} must be one non-empty word")));
        }
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
            assert!(matches!(path_args("mail", "from:", "<a>", &[bad]), Err(Error::InvalidArgument(_))));
            assert!(matches!(path_args("mail", "from:", bad, &[]), Err(Error::InvalidArgument(_))));
        }
    }

    #[test]
    fn newline_message_is_smtplibs() {
        // bpo-43124: the whole line, CR and LF escaped.
        let e = line("ehlo", "hi\nX-INJECTED").unwrap_err();
        assert_eq!(
            e,
            Error::InvalidArgument(
                "command and arguments contain prohibited newline characters: ehlo hi\\nX-INJECTED".into()
            )
        );
        let e = path_args("mail", "from:", "<a@b>", &["X-OPTION\nX-1", "X-OPTION2\rX-2"]).unwrap_err();
        assert!(e
            .to_string()
            .contains("prohibited newline characters: mail from:<a@b> X-OPTION\\nX-1 X-OPTION2\\rX-2"));
        let e = check_line_text("sender", "a\r\nb").unwrap_err();
        assert!(e.to_string().contains("sender contains prohibited newline characters: a\\r\\nb"));
    }

    #[test]
    fn options_follow_the_address() {
        assert_eq!(
            path_args("mail", "from:", "<a@b>", &["SIZE=10", "BODY=8BITMIME"]).unwrap(),
            "from:<a@b> SIZE=10 BODY=8BITMIME"
        );
        assert!(path_args("mail", "from:", "<a@b>", &["two words"]).is_err());
        assert!(path_args("mail", "from:", "<a@b>", &[""]).is_err());
    }

    #[test]
    fn ascii_check() {
        assert!(check_ascii("address", "a@b").is_ok());
        assert!(check_ascii("address", "jörg@x").is_err());
    }
}
