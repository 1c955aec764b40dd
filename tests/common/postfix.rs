//! A private Postfix (Debian's package, `postfix -c DIR start-fg`) on a
//! loopback port: its own configuration, queue and log under a temporary
//! directory, delivering every message for example.com into one Maildir.
//! Its smtpd offers PIPELINING and CHUNKING, as Postfix does by default, and
//! STARTTLS when given a certificate. Stopped (and its files removed) on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub struct Postfix {
    pub dir: PathBuf,
    pub port: u16,
    master: Child,
}

/// The uid and gid of a user, from /etc/passwd.
fn ids(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let f: Vec<&str> = passwd.lines().find(|l| l.starts_with(&format!("{user}:")))?.split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

fn chown(path: &Path, uid: u32, gid: u32) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid path string.
    assert_eq!(unsafe { libc::chown(c.as_ptr(), uid, gid) }, 0, "chown {}", path.display());
}

/// Why a private Postfix cannot run here, if it cannot.
pub fn unavailable() -> Option<&'static str> {
    // SAFETY: plain getuid.
    if unsafe { libc::getuid() } != 0 {
        return Some("a private Postfix needs root (its daemons drop to the postfix user)");
    }
    if !Path::new("/usr/sbin/postfix").exists() {
        return Some("/usr/sbin/postfix is missing: `sh scripts/deps.sh` installs it");
    }
    None
}

impl Postfix {
    /// Start one; `tls`: a certificate and key (PEM files) for STARTTLS.
    pub fn start(name: &str, tls: Option<(&Path, &Path)>) -> Postfix {
        let dir = std::env::temp_dir().join(format!("libsmtp-postfix-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["etc", "queue", "data", "mail"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let (uid, gid) = ids("postfix").expect("the postfix user (Debian's postfix package)");
        chown(&dir.join("data"), uid, gid);
        chown(&dir.join("mail"), uid, gid);
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let d = dir.display();
        let mut main = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {d}/queue\n\
             data_directory = {d}/data\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             myhostname = postfix.example\n\
             mydestination =\n\
             relayhost =\n\
             maillog_file = /dev/stdout\n\
             mynetworks = 127.0.0.0/8\n\
             smtpd_recipient_restrictions = permit_mynetworks, reject\n\
             virtual_mailbox_domains = example.com\n\
             virtual_mailbox_base = {d}/mail\n\
             virtual_mailbox_maps = static:box/\n\
             virtual_uid_maps = static:{uid}\n\
             virtual_gid_maps = static:{gid}\n\
             smtpd_error_sleep_time = 0\n"
        );
        if let Some((cert, key)) = tls {
            main.push_str(&format!(
                "smtpd_tls_security_level = may\nsmtpd_tls_loglevel = 1\nsmtpd_tls_cert_file = {}\nsmtpd_tls_key_file = {}\n",
                cert.display(),
                key.display()
            ));
        }
        std::fs::write(dir.join("etc/main.cf"), main).unwrap();
        let services = [
            ("pickup", "unix  n - n 60 1", "pickup"),
            ("cleanup", "unix n - n - 0", "cleanup"),
            ("qmgr", "unix n - n 300 1", "qmgr"),
            ("rewrite", "unix - - n - -", "trivial-rewrite"),
            ("bounce", "unix - - n - 0", "bounce"),
            ("defer", "unix - - n - 0", "bounce"),
            ("trace", "unix - - n - 0", "bounce"),
            ("verify", "unix - - n - 1", "verify"),
            ("flush", "unix n - n 1000? 0", "flush"),
            ("proxymap", "unix - - n - -", "proxymap"),
            ("showq", "unix n - n - -", "showq"),
            ("error", "unix - - n - -", "error"),
            ("retry", "unix - - n - -", "error"),
            ("discard", "unix - - n - -", "discard"),
            ("virtual", "unix - n n - -", "virtual"),
            ("anvil", "unix - - n - 1", "anvil"),
            ("scache", "unix - - n - 1", "scache"),
            ("tlsmgr", "unix - - n 1000? 1", "tlsmgr"),
            ("postlog", "unix-dgram n - n - 1", "postlogd"),
        ];
        let mut master = format!("127.0.0.1:{port} inet n - n - - smtpd\n");
        for (svc, flags, cmd) in services {
            master.push_str(&format!("{svc} {flags} {cmd}\n"));
        }
        std::fs::write(dir.join("etc/master.cf"), master).unwrap();
        let log = std::fs::File::create(dir.join("maillog")).unwrap();
        let child = Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(dir.join("etc"))
            .arg("start-fg")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start postfix");
        let pf = Postfix { dir, port, master: child };
        let end = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "postfix did not listen on {port}: {}", pf.log());
            thread::sleep(Duration::from_millis(50));
        }
        pf
    }

    /// Everything Postfix logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("maillog")).unwrap_or_default()
    }

    /// Wait (at most 20 s) until the log says what `seen` looks for (its
    /// daemons log through postlogd, after the fact); the log then.
    pub fn wait_log(&self, seen: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.log();
            if seen(&log) || Instant::now() >= end {
                return log;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The messages delivered into the Maildir so far.
    pub fn delivered(&self) -> usize {
        std::fs::read_dir(self.dir.join("mail/box/new")).map_or(0, |d| d.count())
    }

    /// Wait (at most 30 s) until `n` messages were delivered; how many were.
    pub fn wait_delivered(&self, n: usize) -> usize {
        let end = Instant::now() + Duration::from_secs(30);
        while self.delivered() < n && Instant::now() < end {
            thread::sleep(Duration::from_millis(50));
        }
        self.delivered()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(self.dir.join("etc"))
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let end = Instant::now() + Duration::from_secs(10);
        while matches!(self.master.try_wait(), Ok(None)) && Instant::now() < end {
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.master.kill();
        let _ = self.master.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
