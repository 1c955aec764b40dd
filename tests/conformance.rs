//! Replays the shared conformance vectors (CPython smtplib on the wire)
//! through the C ABI: a scripted server plays the transcript's server side
//! and checks every byte the client sends; the client is driven by the
//! vector's calls through the `extern "C"` functions, and each call's
//! result and the session state after it are compared with smtplib's.
//!
//! Directory: `SMTP_CONFORMANCE_DIR` (default `../shared/conformance/vectors`).
//! Prints `PASS name`, `FAIL name: what differed` or `SKIP name: why` per
//! vector, then `conformance: N passed, M failed`; exits 1 when
//! any failed.
//!
//! libsmtp's deliberate differences from smtplib are listed in README.md;
//! none of the shared vectors touches them today.
//!
//! Every vector also runs a second time with PIPELINING added to the
//! server's EHLO reply: the client then sends MAIL, RCPTs and DATA in one
//! write, the replaying server answers the commands lockstep would not
//! have sent (after a refused MAIL, say) with 503, and the results and
//! state must still be smtplib's.

mod common;

use std::ffi::{c_char, c_int, c_void, CString};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use base64::Engine;
use common::codes::*;
use common::cstr;
use common::raw::from_c;
use serde_json::{json, Map, Value};
use smtp::ffi::auth::*;
use smtp::ffi::commands::*;
use smtp::ffi::handle::smtp_session;
use smtp::ffi::message::smtp_session_send_message;
use smtp::ffi::session::*;
use smtp::ffi::state::*;
use smtp::ffi::tls::smtp_session_starttls;

fn main() {
    let dir = std::env::var("SMTP_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/vectors"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let vector: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = vector["name"].as_str().unwrap_or("?").to_string();
        // Each vector as recorded, then with PIPELINING advertised: the
        // results must be smtplib's either way.
        for (advertise, tag) in [(false, ""), (true, " [PIPELINING advertised]")] {
            match run_vector(&vector, advertise) {
                Ok(()) => {
                    println!("PASS {name}{tag}");
                    passed += 1;
                }
                Err(why) => {
                    println!("FAIL {name}{tag}: {why}");
                    failed += 1;
                }
            }
        }
    }
    println!("conformance: {passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        std::process::exit(1);
    }
}

// ---- the replaying server ------------------------------------------------

/// One transcript item as bytes.
enum Item {
    Send(Vec<u8>),
    Command(Vec<u8>),
    AuthLine(Vec<u8>),
    Data(Vec<u8>),
    ServerClose,
    ClientClose,
}

fn items(vector: &Value) -> Result<Vec<Item>, String> {
    let mut out = Vec::new();
    for item in vector["transcript"].as_array().ok_or("no transcript")? {
        let obj = item.as_object().ok_or("transcript item is not an object")?;
        let (key, value) = obj.iter().next().ok_or("empty transcript item")?;
        let text = value.as_str().unwrap_or("");
        let (key, bytes) = match key.strip_suffix("_b64") {
            Some(k) => (k, base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| e.to_string())?),
            None => (key.as_str(), text.as_bytes().to_vec()),
        };
        out.push(match key {
            "s" => Item::Send(bytes),
            "c" => Item::Command(bytes),
            "a" => Item::AuthLine(bytes),
            "d" => Item::Data(bytes),
            "s_close" => Item::ServerClose,
            "c_close" => Item::ClientClose,
            other => return Err(format!("unknown transcript item {other:?}")),
        });
    }
    Ok(out)
}

/// Command lines match after upper-casing the verb, the FROM:/TO: keyword
/// and each option's keyword (the README's rule).
fn normalize_command(line: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(line).into_owned();
    let body = text.trim_end_matches("\r\n");
    let mut words: Vec<String> = body.split(' ').map(str::to_string).collect();
    if let Some(first) = words.first_mut() {
        *first = first.to_ascii_uppercase();
    }
    let verb = words.first().cloned().unwrap_or_default();
    if (verb == "MAIL" || verb == "RCPT") && words.len() > 1 {
        let w = &mut words[1];
        if let Some(colon) = w.find(':') {
            let upper = w[..colon].to_ascii_uppercase();
            *w = format!("{upper}{}", &w[colon..]);
        }
        for w in words.iter_mut().skip(2) {
            *w = match w.split_once('=') {
                Some((k, v)) => format!("{}={v}", k.to_ascii_uppercase()),
                None => w.to_ascii_uppercase(),
            };
        }
    }
    let mut s = words.join(" ").into_bytes();
    s.extend_from_slice(&line[body.len()..]);
    s
}

fn read_line(conn: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match conn.read(&mut byte) {
            Ok(0) => return Ok(line),
            Ok(_) => {
                line.push(byte[0]);
                if byte[0] == b'\n' || line.len() > 1_000_000 {
                    return Ok(line);
                }
            }
            Err(e) => return Err(format!("reading from client: {e} (after {:?})", String::from_utf8_lossy(&line))),
        }
    }
}

fn read_exact_or_eof(conn: &mut TcpStream, n: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match conn.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) => return Err(format!("reading data: {e}")),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// Add PIPELINING to an EHLO reply (after its first line) unless it has it.
fn advertise_pipelining(reply: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(reply);
    if !text.starts_with("250") || text.to_ascii_uppercase().contains("PIPELINING") {
        return reply.to_vec();
    }
    let end = text.find('\n').map_or(text.len(), |i| i + 1);
    let (first, rest) = text.split_at(end);
    let eol = if first.ends_with("\r\n") { "\r\n" } else { "\n" };
    let first_text = first.trim_end_matches(['\r', '\n']);
    let out = if rest.is_empty() {
        format!("250-{}{eol}250 PIPELINING{eol}", &first_text[4..])
    } else {
        format!("250-{}{eol}250-PIPELINING{eol}{rest}", &first_text[4..])
    };
    out.into_bytes()
}

fn serve(listener: TcpListener, items: Vec<Item>, pipelining: bool) -> Result<(), String> {
    listener.set_nonblocking(false).ok();
    let (mut conn, _) = listener.accept().map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(Duration::from_secs(3))).ok();
    let mut after_hello = false;
    for (n, item) in items.into_iter().enumerate() {
        match item {
            Item::Send(b) => {
                let b = if pipelining && after_hello { advertise_pipelining(&b) } else { b };
                after_hello = false;
                // A client that closed early makes this fail; the next item says so.
                let _ = conn.write_all(&b);
            }
            Item::Command(want) => {
                let mut got = read_line(&mut conn)?;
                // Pipelined, the client may have sent RCPTs and DATA that
                // lockstep would not have: a server answers them 503.
                let mut extra = 0;
                while pipelining && normalize_command(&got) != normalize_command(&want) && extra < 1000 {
                    let verb = String::from_utf8_lossy(&got).get(..4).unwrap_or("").to_ascii_uppercase();
                    if verb != "RCPT" && verb != "DATA" {
                        break;
                    }
                    let _ = conn.write_all(b"503 5.5.1 Error: bad sequence of commands\r\n");
                    got = read_line(&mut conn)?;
                    extra += 1;
                }
                if normalize_command(&got) != normalize_command(&want) {
                    return Err(format!("item {n}: client sent {} where smtplib sent {}", show(&got), show(&want)));
                }
                let verb = String::from_utf8_lossy(&want).get(..4).unwrap_or("").to_ascii_uppercase();
                after_hello = verb == "EHLO" || verb == "LHLO";
                continue;
            }
            Item::AuthLine(want) => {
                let got = read_line(&mut conn)?;
                if got != want {
                    return Err(format!("item {n}: auth line {} where smtplib sent {}", show(&got), show(&want)));
                }
            }
            Item::Data(want) => {
                let got = read_exact_or_eof(&mut conn, want.len())?;
                if got != want {
                    return Err(format!("item {n}: message data {} where smtplib sent {}", show(&got), show(&want)));
                }
            }
            Item::ServerClose => {
                let _ = conn.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
            Item::ClientClose => {
                if pipelining {
                    // RCPTs and DATA pipelined before a 421 arrived may
                    // still be unread: they are not a command after the close.
                    loop {
                        let line = read_line(&mut conn).unwrap_or_default();
                        let verb = String::from_utf8_lossy(&line).get(..4).unwrap_or("").to_ascii_uppercase();
                        if line.is_empty() {
                            return Ok(());
                        }
                        if verb != "RCPT" && verb != "DATA" {
                            return Err(format!("item {n}: client sent {} instead of closing", show(&line)));
                        }
                    }
                }
                let mut b = [0u8; 1];
                return match conn.read(&mut b) {
                    Ok(0) => Ok(()),
                    Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(()),
                    Ok(_) => Err(format!("item {n}: client sent {} instead of closing", show(&b))),
                    Err(e) => Err(format!("item {n}: client did not close: {e}")),
                };
            }
        }
    }
    // Transcript done with the connection open: the client must send nothing more.
    conn.set_read_timeout(Some(Duration::from_millis(200))).ok();
    let mut b = [0u8; 64];
    match conn.read(&mut b) {
        Ok(k) if k > 0 => Err(format!("client sent {} after the transcript ended", show(&b[..k]))),
        _ => Ok(()),
    }
}

// ---- the client, through the C ABI ---------------------------------------

struct Session(*mut smtp_session);

impl Drop for Session {
    fn drop(&mut self) {
        unsafe { smtp_session_free(self.0) };
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// What a call produced, in the vector's terms.
struct Outcome {
    rc: c_int,
    code: c_int,
    returns: Value,
}

fn exception_code(kind: &str) -> Option<c_int> {
    Some(match kind {
        "ValueError" => SMTP_ERR_INVALID_ARGUMENT,
        "SMTPServerDisconnected" => SMTP_ERR_SERVER_DISCONNECTED,
        "SMTPResponseException" => SMTP_ERR_RESPONSE,
        "SMTPConnectError" => SMTP_ERR_CONNECT_REPLY,
        "SMTPHeloError" => SMTP_ERR_HELO,
        "SMTPNotSupportedError" => SMTP_ERR_NOT_SUPPORTED,
        "SMTPAuthenticationError" => SMTP_ERR_AUTH,
        "SMTPSenderRefused" => SMTP_ERR_SENDER_REFUSED,
        "SMTPRecipientsRefused" => SMTP_ERR_RECIPIENTS_REFUSED,
        "SMTPDataError" => SMTP_ERR_DATA,
        "SMTPException" => SMTP_ERR_SMTP,
        _ => return None,
    })
}

fn refused_map(s: &Session) -> Value {
    let mut m = Map::new();
    unsafe {
        for i in 0..smtp_session_rcpt_count(s.0) {
            if smtp_session_rcpt_refused(s.0, i) == 1 {
                let addr = String::from_utf8_lossy(&from_c(smtp_session_rcpt_addr(s.0, i)).unwrap()).into_owned();
                let (code, text) = if smtp_session_rcpt_data_code(s.0, i) != 0 {
                    (smtp_session_rcpt_data_code(s.0, i), smtp_session_rcpt_data_text(s.0, i))
                } else {
                    (smtp_session_rcpt_code(s.0, i), smtp_session_rcpt_text(s.0, i))
                };
                let text = String::from_utf8_lossy(&from_c(text).unwrap()).into_owned();
                m.insert(addr, json!({"code": code, "message": text}));
            }
        }
    }
    Value::Object(m)
}

fn reply_value(s: &Session, code: c_int) -> Value {
    let text = from_c(unsafe { smtp_session_last_reply_text(s.0) }).unwrap_or_default();
    json!({"code": code, "message": String::from_utf8_lossy(&text)})
}

fn run_call(s: &Session, call: &Value, host: &str, port: u16) -> Result<Outcome, String> {
    let op = call["op"].as_str().unwrap_or("");
    let args = &call["args"];
    let arg = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
    let mut code: c_int = 0;
    let rc = unsafe {
        match op {
            "connect" => {
                let h =
                    arg("host").unwrap_or("{host}".into()).replace("{host}", host).replace("{port}", &port.to_string());
                let p = match args.get("port") {
                    Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as u16,
                    _ => port,
                };
                smtp_session_connect(s.0, cstr(&h).as_ptr(), p, &mut code)
            }
            "helo" | "ehlo" => {
                let name = arg("name").map(|n| cstr(&n));
                let p = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
                if op == "helo" {
                    smtp_session_helo(s.0, p, &mut code)
                } else {
                    smtp_session_ehlo(s.0, p, &mut code)
                }
            }
            "ehlo_or_helo_if_needed" => smtp_session_ehlo_or_helo_if_needed(s.0),
            "noop" => smtp_session_noop(s.0, &mut code),
            "rset" => smtp_session_rset(s.0, &mut code),
            "quit" => smtp_session_quit(s.0, &mut code),
            "close" => smtp_session_close(s.0),
            "has_extn" => {
                let v = smtp_session_has_extn(s.0, cstr(&arg("name").unwrap_or_default()).as_ptr());
                return Ok(Outcome { rc: 0, code: 0, returns: json!({"value": v == 1}) });
            }
            "docmd" => {
                let a = arg("args").map(|a| cstr(&a));
                let ap = a.as_ref().map_or(std::ptr::null(), |a| a.as_ptr());
                smtp_session_docmd(s.0, cstr(&arg("cmd").unwrap_or_default()).as_ptr(), ap, &mut code)
            }
            "help" => {
                let a = arg("args").map(|a| cstr(&a));
                let ap = a.as_ref().map_or(std::ptr::null(), |a| a.as_ptr());
                let rc = smtp_session_help(s.0, ap, &mut code);
                if rc == 0 {
                    let text = from_c(smtp_session_last_reply_text(s.0)).unwrap_or_default();
                    return Ok(Outcome { rc, code, returns: json!({"message": String::from_utf8_lossy(&text)}) });
                }
                rc
            }
            "verify" | "expn" => {
                let a = cstr(&arg("address").unwrap_or_default());
                if op == "verify" {
                    smtp_session_verify(s.0, a.as_ptr(), &mut code)
                } else {
                    smtp_session_expn(s.0, a.as_ptr(), &mut code)
                }
            }
            "mail" | "rcpt" => {
                let who = cstr(&arg(if op == "mail" { "sender" } else { "recipient" }).unwrap_or_default());
                let opts: Vec<CString> = strings(&args["options"]).iter().map(|o| cstr(o)).collect();
                let ptrs: Vec<*const c_char> = opts.iter().map(|o| o.as_ptr()).collect();
                if op == "mail" {
                    smtp_session_mail(s.0, who.as_ptr(), ptrs.as_ptr(), ptrs.len(), &mut code)
                } else {
                    smtp_session_rcpt(s.0, who.as_ptr(), ptrs.as_ptr(), ptrs.len(), &mut code)
                }
            }
            "data" => {
                let msg = arg("msg").unwrap_or_default();
                let flags = if arg("msg_kind").as_deref() == Some("bytes") { SMTP_MSG_RAW } else { SMTP_MSG_NORMALIZE };
                smtp_session_data(s.0, msg.as_ptr(), msg.len(), flags, &mut code)
            }
            "sendmail" => {
                let from = cstr(&arg("from").unwrap_or_default());
                let to: Vec<CString> = strings(&args["to"]).iter().map(|o| cstr(o)).collect();
                let to_p: Vec<*const c_char> = to.iter().map(|o| o.as_ptr()).collect();
                let mo: Vec<CString> = strings(&args["mail_options"]).iter().map(|o| cstr(o)).collect();
                let mo_p: Vec<*const c_char> = mo.iter().map(|o| o.as_ptr()).collect();
                let ro: Vec<CString> = strings(&args["rcpt_options"]).iter().map(|o| cstr(o)).collect();
                let ro_p: Vec<*const c_char> = ro.iter().map(|o| o.as_ptr()).collect();
                let msg = arg("msg").unwrap_or_default();
                let flags = if arg("msg_kind").as_deref() == Some("bytes") { SMTP_MSG_RAW } else { SMTP_MSG_NORMALIZE };
                let mut codes = vec![-7; to_p.len()];
                let mut refused = usize::MAX;
                let rc = smtp_session_sendmail(
                    s.0,
                    from.as_ptr(),
                    to_p.as_ptr(),
                    to_p.len(),
                    msg.as_ptr(),
                    msg.len(),
                    mo_p.as_ptr(),
                    mo_p.len(),
                    ro_p.as_ptr(),
                    ro_p.len(),
                    flags,
                    codes.as_mut_ptr(),
                    &mut refused,
                );
                // The caller's arrays agree with the session's accessors.
                let n = smtp_session_rcpt_count(s.0);
                for (i, c) in codes.iter().enumerate() {
                    let want = if i < n {
                        match smtp_session_rcpt_data_code(s.0, i) {
                            0 => smtp_session_rcpt_code(s.0, i),
                            d => d,
                        }
                    } else {
                        0
                    };
                    if *c != want {
                        return Err(format!("rcpt_codes[{i}] is {c}, the session says {want}"));
                    }
                }
                let refused_now = (0..n).filter(|&i| smtp_session_rcpt_refused(s.0, i) == 1).count();
                if refused != refused_now {
                    return Err(format!("refused_count is {refused}, the session says {refused_now}"));
                }
                if rc == 0 {
                    return Ok(Outcome { rc, code, returns: json!({"refused": refused_map(s)}) });
                }
                rc
            }
            "starttls" => smtp_session_starttls(s.0, std::ptr::null(), &mut code),
            "send_message" => {
                let msg = arg("msg").unwrap_or_default();
                let from = arg("from").map(|f| cstr(&f));
                let to: Option<Vec<CString>> = args.get("to").map(|t| strings(t).iter().map(|o| cstr(o)).collect());
                let to_p: Option<Vec<*const c_char>> = to.as_ref().map(|t| t.iter().map(|o| o.as_ptr()).collect());
                let mo: Vec<CString> = strings(&args["mail_options"]).iter().map(|o| cstr(o)).collect();
                let mo_p: Vec<*const c_char> = mo.iter().map(|o| o.as_ptr()).collect();
                let ro: Vec<CString> = strings(&args["rcpt_options"]).iter().map(|o| cstr(o)).collect();
                let ro_p: Vec<*const c_char> = ro.iter().map(|o| o.as_ptr()).collect();
                let rc = smtp_session_send_message(
                    s.0,
                    msg.as_ptr(),
                    msg.len(),
                    from.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
                    to_p.as_ref().map_or(std::ptr::null(), |t| t.as_ptr()),
                    to_p.as_ref().map_or(0, |t| t.len()),
                    mo_p.as_ptr(),
                    mo_p.len(),
                    ro_p.as_ptr(),
                    ro_p.len(),
                    SMTP_MSG_NORMALIZE,
                    std::ptr::null_mut(),
                );
                if rc == 0 {
                    return Ok(Outcome { rc, code, returns: json!({"refused": refused_map(s)}) });
                }
                rc
            }
            "login" => {
                let flags = if args.get("initial_response_ok") == Some(&Value::Bool(false)) {
                    SMTP_AUTH_NO_INITIAL_RESPONSE
                } else {
                    0
                };
                let user = cstr(&arg("user").unwrap_or_default());
                let password = cstr(&arg("password").unwrap_or_default());
                let rc = smtp_session_login(s.0, user.as_ptr(), password.as_ptr(), flags);
                code = smtp_session_last_reply_code(s.0);
                rc
            }
            "auth" => {
                let flags = if args.get("initial_response_ok") == Some(&Value::Bool(false)) {
                    SMTP_AUTH_NO_INITIAL_RESPONSE
                } else {
                    0
                };
                let mut script = AuthScript {
                    initial: arg("initial"),
                    responses: strings(&args["responses"]).into_iter().rev().collect(),
                    challenges: Vec::new(),
                };
                let mech = cstr(&arg("mechanism").unwrap_or_default());
                let rc = smtp_session_auth(s.0, mech.as_ptr(), Some(scripted_auth), (&raw mut script).cast(), flags);
                // record.py keeps the challenges only when auth() returned.
                let want: Vec<String> = strings(&call["challenges"]);
                if call.get("challenges").is_some() && script.challenges != want {
                    return Err(format!(
                        "auth: callback saw challenges {:?} where smtplib's saw {want:?}",
                        script.challenges
                    ));
                }
                code = smtp_session_last_reply_code(s.0);
                rc
            }
            other => return Err(format!("unknown op {other:?}")),
        }
    };
    let returns = match op {
        "close" | "ehlo_or_helo_if_needed" => json!({}),
        _ => reply_value(s, code),
    };
    Ok(Outcome { rc, code, returns })
}

/// record.py's ScriptedAuth: an initial response (or none), then the
/// scripted responses in turn ("" once they run out); challenges recorded.
struct AuthScript {
    initial: Option<String>,
    responses: Vec<String>,
    challenges: Vec<String>,
}

unsafe extern "C" fn scripted_auth(
    userdata: *mut c_void,
    challenge: *const u8,
    challenge_len: usize,
    response: *mut u8,
    response_cap: usize,
    response_len: *mut usize,
) -> c_int {
    let script = unsafe { &mut *userdata.cast::<AuthScript>() };
    let answer = if challenge.is_null() {
        match &script.initial {
            None => return SMTP_SASL_NO_INITIAL_RESPONSE,
            Some(i) => i.clone(),
        }
    } else {
        let c = unsafe { std::slice::from_raw_parts(challenge, challenge_len) };
        script.challenges.push(String::from_utf8_lossy(c).into_owned());
        script.responses.pop().unwrap_or_default()
    };
    unsafe { *response_len = answer.len() };
    if answer.len() > response_cap {
        return SMTP_SASL_NEED_SPACE;
    }
    unsafe { std::ptr::copy_nonoverlapping(answer.as_ptr(), response, answer.len()) };
    SMTP_SASL_CONTINUE
}

fn check_call(s: &Session, call: &Value, out: Outcome) -> Result<(), String> {
    let op = call["op"].as_str().unwrap_or("");
    if let Some(want) = call.get("returns") {
        if out.rc != 0 {
            let msg = from_c(unsafe { smtp_session_errmsg(s.0) }).unwrap_or_default();
            return Err(format!(
                "{op}: returned {} ({}) where smtplib returned {want}",
                out.rc,
                String::from_utf8_lossy(&msg)
            ));
        }
        if op == "ehlo_or_helo_if_needed" {
            return Ok(());
        }
        if &out.returns != want {
            return Err(format!("{op}: returned {} where smtplib returned {want}", out.returns));
        }
        return Ok(());
    }
    let raises = call.get("raises").ok_or_else(|| format!("{op}: vector has neither returns nor raises"))?;
    let kind = raises["kind"].as_str().unwrap_or("");
    let want_rc = exception_code(kind).ok_or_else(|| format!("{op}: unknown exception {kind}"))?;
    if out.rc != want_rc {
        let msg = from_c(unsafe { smtp_session_errmsg(s.0) }).unwrap_or_default();
        return Err(format!(
            "{op}: result {} ({}) where smtplib raised {kind} ({want_rc})",
            out.rc,
            String::from_utf8_lossy(&msg)
        ));
    }
    if let Some(code) = raises.get("code").and_then(Value::as_i64) {
        // The error's reply is the session's last reply, whatever followed it (RSET).
        let got = unsafe { smtp_session_last_reply_code(s.0) };
        if i64::from(got) != code {
            return Err(format!("{op}: {kind} code {got} where smtplib had {code}"));
        }
        if out.code != 0 && out.code != got {
            return Err(format!("{op}: *code {} differs from the last reply code {got}", out.code));
        }
        let text = from_c(unsafe { smtp_session_last_reply_text(s.0) }).unwrap_or_default();
        if let Some(m) = raises.get("message").and_then(Value::as_str) {
            if text != m.as_bytes() {
                return Err(format!("{op}: {kind} message {} where smtplib had {m:?}", show(&text)));
            }
        }
    }
    if let Some(want) = raises.get("recipients") {
        let got = refused_map(s);
        if &got != want {
            return Err(format!("{op}: refused recipients {got} where smtplib had {want}"));
        }
    }
    Ok(())
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_state(s: &Session, op: &str, want: &Value, injected: bool) -> Result<(), String> {
    let text = |p: *const c_char| from_c(p).map(|b| Value::String(String::from_utf8_lossy(&b).into_owned()));
    let mut features = Map::new();
    unsafe {
        for i in 0..smtp_session_feature_count(s.0) {
            let k = text(smtp_session_feature_name(s.0, i)).unwrap();
            let v = text(smtp_session_feature_params(s.0, i)).unwrap();
            features.insert(k.as_str().unwrap().to_string(), Value::String(collapse(v.as_str().unwrap())));
        }
        let mut ehlo_resp = text(smtp_session_ehlo_resp(s.0)).unwrap_or(Value::Null);
        // Take back what the replaying server added, where it added it.
        let recorded_has_it = want["esmtp_features"].get("pipelining").is_some();
        if injected && !recorded_has_it {
            features.remove("pipelining");
            if let Value::String(r) = &ehlo_resp {
                ehlo_resp = Value::String(r.replacen("\nPIPELINING", "", 1));
            }
        }
        let got = json!({
            "connected": smtp_session_is_connected(s.0) == 1,
            "does_esmtp": smtp_session_does_esmtp(s.0) == 1,
            "esmtp_features": Value::Object(features),
            "ehlo_resp": ehlo_resp,
            "helo_resp": text(smtp_session_helo_resp(s.0)).unwrap_or(Value::Null),
        });
        if &got != want {
            return Err(format!("state after {op}: {got} where smtplib had {want}"));
        }
    }
    Ok(())
}

fn run_vector(vector: &Value, advertise: bool) -> Result<(), String> {
    let items = items(vector)?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let server = thread::spawn(move || {
        let _ = tx.send(serve(listener, items, advertise));
    });
    let kind = if vector["kind"] == "lmtp" { SMTP_KIND_LMTP } else { SMTP_KIND_SMTP };
    let s = Session(smtp_session_new(kind));
    let local = cstr(vector["local_hostname"].as_str().unwrap_or("client.example"));
    unsafe {
        assert_eq!(smtp_session_set_local_hostname(s.0, local.as_ptr()), 0);
        smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_IO, 5000);
        smtp_session_set_timeout_ms(s.0, SMTP_TIMEOUT_REPLY, 5000);
    }
    let mut client_result = Ok(());
    for call in vector["calls"].as_array().ok_or("no calls")? {
        let op = call["op"].as_str().unwrap_or("?");
        let step = run_call(&s, call, "127.0.0.1", port)
            .map(|mut out| {
                // The EHLO reply text carries the keyword the server added.
                let recorded = call["returns"]["message"].as_str().unwrap_or("");
                if advertise && !recorded.contains("PIPELINING") {
                    if let Some(Value::String(m)) = out.returns.get_mut("message") {
                        *m = m.replacen("\nPIPELINING", "", 1);
                    }
                }
                out
            })
            .and_then(|out| check_call(&s, call, out))
            .and_then(|()| check_state(&s, op, &call["state"], advertise));
        if let Err(e) = step {
            client_result = Err(e);
            break;
        }
    }
    drop(s);
    let server_result =
        rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| Err("server did not finish".into()));
    let _ = server.join();
    match (client_result, server_result) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(c), Ok(())) => Err(c),
        (Ok(()), Err(s)) => Err(format!("wire: {s}")),
        (Err(c), Err(s)) => Err(format!("{c}; wire: {s}")),
    }
}
