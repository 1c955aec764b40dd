//! The session's state machine against scripted replies over a socketpair:
//! no network, no server process. The conformance vectors cover smtplib's
//! behaviour on the wire; these cover the paths they do not.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::thread;

use super::*;
use crate::data::LineEndings;
use crate::transport::Socket;

/// Play a server: send the greeting, then for each step read one command
/// line (or, for `DATA_BODY`, the message up to the final dot) and send the
/// reply. Returns what the client sent.
fn scripted(greeting: &'static str, steps: Vec<&'static str>) -> (Socket, thread::JoinHandle<Vec<String>>) {
    let (client, server) = UnixStream::pair().unwrap();
    let handle = thread::spawn(move || {
        let mut w = server.try_clone().unwrap();
        let mut r = BufReader::new(server);
        let mut seen = Vec::new();
        w.write_all(greeting.as_bytes()).unwrap();
        let mut in_data = false;
        for reply in steps {
            let mut got = String::new();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return seen;
                }
                got.push_str(&line);
                if !in_data || line == ".\r\n" {
                    break;
                }
            }
            in_data = reply.starts_with("354");
            seen.push(got);
            w.write_all(reply.as_bytes()).unwrap();
        }
        seen
    });
    (Socket::unix(client).unwrap(), handle)
}

fn session(kind: Kind, stream: Socket) -> Session {
    let mut s = Session::new(kind);
    s.set_local_hostname("client.example").unwrap();
    assert_eq!(s.connect_socket(stream).unwrap().code, 220);
    s
}

const EHLO: &str = "250-mx.example\r\n250 SIZE 1000\r\n";

#[test]
fn lmtp_reads_one_reply_per_accepted_recipient() {
    let (stream, server) = scripted(
        "220 lmtp ready\r\n",
        vec![
            EHLO,
            "250 ok\r\n",
            "250 ok\r\n",
            "550 no such user\r\n",
            "250 ok\r\n",
            "354 go\r\n",
            "250 2.0.0 <a> delivered\r\n452 4.2.2 <c> over quota\r\n",
        ],
    );
    let mut s = session(Kind::Lmtp, stream);
    let refused = s.sendmail("f@x", &["a@x", "b@x", "c@x"], &[b"hi\r\n"], LineEndings::Normalize, &[], &[]).unwrap();
    let refused: Vec<(&str, i32)> = refused.iter().map(|r| (r.recipient.as_str(), r.reply.code)).collect();
    assert_eq!(refused, vec![("b@x", 550), ("c@x", 452)]);
    let results = s.rcpt_results();
    assert_eq!(results[0].data_reply.as_ref().unwrap().code, 250);
    assert!(results[1].data_reply.is_none());
    assert_eq!(results[2].final_reply().code, 452);
    drop(s);
    let sent = server.join().unwrap();
    assert_eq!(sent[0], "lhlo client.example\r\n");
    assert_eq!(sent[1], "mail from:<f@x> size=4\r\n");
}

#[test]
fn lmtp_all_failing_after_data_is_a_data_error_then_rset() {
    let (stream, server) = scripted(
        "220 lmtp ready\r\n",
        vec![EHLO, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "452 full\r\n", "250 reset\r\n"],
    );
    let mut s = session(Kind::Lmtp, stream);
    let e = s.sendmail("f@x", &["a@x"], &[b"hi"], LineEndings::Normalize, &[], &[]).unwrap_err();
    assert_eq!(e, Error::Data(Reply::new(452, "full")));
    drop(s);
    assert_eq!(server.join().unwrap().last().unwrap(), "rset\r\n");
}

#[test]
fn rcpt_421_closes_and_reports_refusals() {
    let (stream, _server) = scripted("220 hi\r\n", vec![EHLO, "250 ok\r\n", "550 no\r\n", "421 bye\r\n"]);
    let mut s = session(Kind::Smtp, stream);
    let e = s.sendmail("f@x", &["a@x", "b@x", "c@x"], &[b"m"], LineEndings::Normalize, &[], &[]).unwrap_err();
    let Error::RecipientsRefused(list) = e else { panic!("{e:?}") };
    assert_eq!(list.iter().map(|r| r.reply.code).collect::<Vec<_>>(), vec![550, 421]);
    assert!(!s.is_connected());
    assert_eq!(s.rcpt_results().len(), 2, "c@x was never tried");
}

#[test]
fn arguments_are_checked_before_anything_is_sent() {
    let (stream, server) = scripted("220 hi\r\n", vec!["250 ok\r\n"]);
    let mut s = session(Kind::Smtp, stream);
    for (from, to, opt) in [("f@x\r\nRSET", "a@x", "X"), ("f@x", "a@x\n", "X"), ("f@x", "a@x", "A\rB")] {
        let e = s.sendmail(from, &[to], &[b"m"], LineEndings::Normalize, &[opt], &[]).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
    }
    assert!(matches!(
        s.sendmail("f@x", &[], &[b"m"], LineEndings::Normalize, &[], &[]),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(s.noop().unwrap().code, 250);
    drop(s);
    assert_eq!(server.join().unwrap(), vec!["noop\r\n".to_string()]);
}

#[test]
fn non_ascii_needs_smtputf8() {
    let (stream, server) =
        scripted("220 hi\r\n", vec!["250-mx\r\n250 SMTPUTF8\r\n", "250 ok\r\n", "250 ok\r\n", "250 reset\r\n"]);
    let mut s = session(Kind::Smtp, stream);
    s.ehlo(None).unwrap();
    assert!(matches!(s.mail("jörg@x", &[]), Err(Error::InvalidArgument(_))));
    assert_eq!(s.mail("jörg@x", &["SMTPUTF8"]).unwrap().code, 250);
    assert_eq!(s.rcpt("佐藤@x", &[]).unwrap().code, 250);
    s.rset().unwrap();
    assert!(matches!(s.rcpt("佐藤@x", &[]), Err(Error::InvalidArgument(_))), "RSET ends UTF-8 commands");
    drop(s);
    let sent = server.join().unwrap();
    assert_eq!(sent[1], "mail from:<jörg@x> SMTPUTF8\r\n");
}

#[test]
fn ehlo_dropped_connection_is_disconnected() {
    let (stream, _server) = scripted("220 hi\r\n", vec![]);
    let mut s = session(Kind::Smtp, stream);
    let e = s.ehlo(None).unwrap_err();
    assert!(matches!(e, Error::ServerDisconnected(_)), "{e:?}");
    assert!(!s.is_connected());
    assert!(matches!(s.noop(), Err(Error::ServerDisconnected(_))));
}

#[test]
fn commands_need_a_connection() {
    let mut s = Session::new(Kind::Smtp);
    assert_eq!(s.noop().unwrap_err(), Error::ServerDisconnected("please run connect() first".into()));
    // Argument errors come first, as smtplib's putcmd raises before sending.
    assert!(matches!(s.docmd("NOOP", "x\r\n"), Err(Error::InvalidArgument(_))));
}

#[test]
fn greeting_cut_by_close_counts_as_a_line() {
    let (client, mut server) = UnixStream::pair().unwrap();
    server.write_all(b"220 no line end").unwrap();
    drop(server);
    let mut s = Session::new(Kind::Smtp);
    assert_eq!(s.connect_socket(Socket::unix(client).unwrap()).unwrap(), Reply::new(220, "no line end"));
    assert!(matches!(s.noop(), Err(Error::ServerDisconnected(_))));
}

#[test]
fn line_breaks_in_addresses_are_refused_not_dropped() {
    let (stream, server) = scripted("220 hi\r\n", vec!["250 ok\r\n"]);
    let mut s = session(Kind::Smtp, stream);
    assert!(matches!(s.mail("bob@example.com\r\nRSET", &[]), Err(Error::InvalidArgument(_))));
    assert!(matches!(s.mail("a\r@example.com", &[]), Err(Error::InvalidArgument(_))));
    assert!(matches!(s.rcpt("b@example.com\n", &[]), Err(Error::InvalidArgument(_))));
    assert!(matches!(s.verify("x\ny"), Err(Error::InvalidArgument(_))));
    assert!(matches!(s.expn("x\ry"), Err(Error::InvalidArgument(_))));
    assert_eq!(s.noop().unwrap().code, 250);
    drop(s);
    assert_eq!(server.join().unwrap(), vec!["noop\r\n".to_string()]);
}

#[test]
fn non_ascii_recipient_without_smtputf8_is_refused_before_mail() {
    let (stream, server) = scripted("220 hi\r\n", vec!["250-mx\r\n250 SMTPUTF8\r\n", "250 ok\r\n"]);
    let mut s = session(Kind::Smtp, stream);
    let e = s.sendmail("a@x", &["b@x", "bøb@x"], &[b"m"], LineEndings::Normalize, &[], &[]).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
    assert_eq!(s.noop().unwrap().code, 250);
    drop(s);
    let sent = server.join().unwrap();
    assert_eq!(sent, ["ehlo client.example\r\n", "noop\r\n"], "no MAIL went out");
}

#[test]
fn raw_send_and_getreply_leave_the_state_alone() {
    let (stream, server) = scripted("220 hi\r\n", vec!["250-mx\r\n250 XCLIENT NAME\r\n", "220 xclient ok\r\n"]);
    let mut s = session(Kind::Smtp, stream);
    assert!(s.fileno().is_some());
    s.ehlo(None).unwrap();
    s.send(b"XCLIENT NAME=x").unwrap();
    s.send(b"\r\n").unwrap();
    let reply = s.getreply().unwrap();
    assert_eq!((reply.code, &reply.text[..]), (220, &b"xclient ok"[..]));
    assert_eq!(s.last_reply().unwrap().code, 220);
    assert!(s.has_extn("xclient"), "the EHLO state stays");
    // The server is done: the next reply is the end of the stream.
    assert!(matches!(s.getreply(), Err(Error::ServerDisconnected(_))));
    assert!(!s.is_connected() && s.fileno().is_none());
    assert!(matches!(s.send(b"NOOP\r\n"), Err(Error::ServerDisconnected(m)) if m.contains("connect() first")));
    assert_eq!(server.join().unwrap(), ["ehlo client.example\r\n", "XCLIENT NAME=x\r\n"]);
}

#[test]
fn getreply_returns_a_reply_read_ahead() {
    // Two replies in one segment: the second waits in the parser.
    let (stream, server) = scripted("220 hi\r\n", vec!["250 one\r\n251 two\r\n"]);
    let mut s = session(Kind::Smtp, stream);
    assert_eq!(s.noop().unwrap().code, 250);
    assert_eq!(s.getreply().unwrap().code, 251);
    drop(s);
    server.join().unwrap();
}
