//! A many-connection SMTP server on loopback that counts what arrives, by
//! Message-ID, and can misbehave on purpose: drop connections at chosen
//! moments, answer 421, close idle connections, require AUTH PLAIN. For
//! the pool's tests, where what matters is what the server took.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Where a connection may be dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// At MAIL, before replying (between messages).
    AtMail,
    /// At RCPT, after MAIL was accepted.
    AfterMail,
    /// After the final dot, the message taken, before the reply.
    AfterDot,
}

/// How the server behaves.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Drop the connection at each moment with this chance in a thousand.
    pub drop_per_mille: Vec<(Moment, u32)>,
    /// Answer this MAIL (counted over all connections, from 1) with 421
    /// and close.
    pub mail_421: Option<u64>,
    /// Close a connection idle this long, without a word.
    pub idle_close: Option<Duration>,
    /// Require AUTH PLAIN with this user and password before MAIL.
    pub auth: Option<(String, String)>,
    /// Wait this long before answering the final dot.
    pub dot_delay: Option<Duration>,
}

#[derive(Default)]
pub struct Record {
    /// Message-ID to how many times it was taken.
    pub taken: HashMap<String, u32>,
    pub connections: u64,
    pub concurrent: u64,
    pub max_concurrent: u64,
    pub quits: u64,
    pub auths: u64,
}

pub struct MailDrop {
    pub port: u16,
    pub record: Arc<Mutex<Record>>,
    stop: Arc<AtomicBool>,
}

impl MailDrop {
    pub fn start(behaviour: Behaviour) -> MailDrop {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let record = Arc::new(Mutex::new(Record::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let mails = Arc::new(AtomicU64::new(0));
        let (r, st, b) = (record.clone(), stop.clone(), Arc::new(behaviour));
        thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (r, b, mails) = (r.clone(), b.clone(), mails.clone());
                {
                    let mut rec = r.lock().unwrap();
                    rec.connections += 1;
                    rec.concurrent += 1;
                    rec.max_concurrent = rec.max_concurrent.max(rec.concurrent);
                }
                thread::spawn(move || {
                    let _ = serve(stream, &b, &r, &mails, 0x9e37_79b9 ^ n as u64);
                    r.lock().unwrap().concurrent -= 1;
                });
            }
        });
        MailDrop { port, record, stop }
    }

    /// How many times the message with this Message-ID was taken.
    pub fn taken(&self, id: &str) -> u32 {
        self.record.lock().unwrap().taken.get(id).copied().unwrap_or(0)
    }
}

impl Drop for MailDrop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A small deterministic random source (xorshift), one per connection.
struct Dice(u64);

impl Dice {
    fn per_mille(&mut self, chance: u32) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1000) < u64::from(chance)
    }
}

fn serve(stream: TcpStream, b: &Behaviour, r: &Mutex<Record>, mails: &AtomicU64, seed: u64) -> std::io::Result<()> {
    let mut dice = Dice(seed | 1);
    let mut drop_at = |m: Moment| b.drop_per_mille.iter().any(|&(at, pm)| at == m && dice.per_mille(pm));
    stream.set_read_timeout(b.idle_close)?;
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut authed = b.auth.is_none();
    out.write_all(b"220 maildrop ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            if b.auth.is_some() {
                b"250-maildrop\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
            } else {
                b"250-maildrop\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
            }
        } else if upper.starts_with("AUTH PLAIN ") {
            let (user, pass) = b.auth.clone().unwrap_or_default();
            let want = base64_plain(&user, &pass);
            if line[11..].trim() == want {
                authed = true;
                r.lock().unwrap().auths += 1;
                b"235 ok\r\n"
            } else {
                b"535 no\r\n"
            }
        } else if upper.starts_with("MAIL") {
            let n = mails.fetch_add(1, Ordering::SeqCst) + 1;
            if b.mail_421 == Some(n) {
                out.write_all(b"421 shutting down\r\n")?;
                return Ok(());
            }
            if drop_at(Moment::AtMail) {
                return Ok(());
            }
            if authed {
                b"250 ok\r\n"
            } else {
                b"530 authentication required\r\n"
            }
        } else if upper.starts_with("RCPT") {
            if drop_at(Moment::AfterMail) {
                return Ok(());
            }
            b"250 ok\r\n"
        } else if upper.starts_with("DATA") {
            out.write_all(b"354 go\r\n")?;
            let mut id = String::new();
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                if let Some(v) = line.strip_prefix("Message-ID:") {
                    id = v.trim().to_string();
                }
            }
            *r.lock().unwrap().taken.entry(id).or_default() += 1;
            if let Some(d) = b.dot_delay {
                thread::sleep(d);
            }
            if drop_at(Moment::AfterDot) {
                return Ok(());
            }
            b"250 taken\r\n"
        } else if upper.starts_with("QUIT") {
            r.lock().unwrap().quits += 1;
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
            b"250 ok\r\n"
        } else {
            b"502 unknown\r\n"
        };
        out.write_all(reply)?;
    }
}

/// AUTH PLAIN's initial response for `user` and `pass` (RFC 4616).
fn base64_plain(user: &str, pass: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"))
}
