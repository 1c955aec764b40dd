//! A session's connection, and what it learned from the server, as one
//! value that moves between sessions: the pool (`crate::pool`) lends its
//! connections to the caller's session for one call and takes them back,
//! so that the caller's session runs the call (its timeouts, cancel, trace
//! and envelope options) and keeps the results, exactly as a call on its
//! own connection would.

use std::sync::Arc;
use std::time::Instant;

use super::{Kind, Session};
use crate::cancel::Canceller;
use crate::conn::Conn;
use crate::connect::SourceAddr;
use crate::deadline::Timeouts;
use crate::features::Features;
use crate::tls::TlsConfig;

/// An open connection and its server state (smtplib's `ehlo_resp`,
/// `does_esmtp`, `esmtp_features` and command encoding), which belong to
/// the connection rather than to the caller.
#[derive(Debug, Default)]
pub struct Link {
    conn: Option<Conn>,
    helo_resp: Option<Vec<u8>>,
    ehlo_resp: Option<Vec<u8>>,
    does_esmtp: bool,
    features: Features,
    utf8_commands: bool,
    tls_host: String,
}

impl Link {
    /// The connection is still open (no error or 421 closed it).
    pub fn is_open(&self) -> bool {
        self.conn.is_some()
    }

    /// Close without a word: for connections dropped when the pool is freed.
    pub fn close(mut self) {
        if let Some(conn) = self.conn.take() {
            conn.close();
        }
    }
}

/// The settings that make a connection what it is (the proxy included):
/// everything a pool needs
/// to open more connections like the session it was made from. Shared
/// between threads (no trace callback, no connection).
#[derive(Clone, Debug)]
pub struct Profile {
    pub kind: Kind,
    pub local_hostname: Option<String>,
    pub source: Option<SourceAddr>,
    pub tls_config: Option<TlsConfig>,
    pub require_tls: bool,
    pub auth_preference: Option<Vec<String>>,
    pub trust_loopback: bool,
    pub timeouts: Timeouts,
    pub proxy: Option<crate::proxy::Proxy>,
}

impl Session {
    /// This session's connection settings (see [`Profile`]).
    pub fn profile(&self) -> Profile {
        Profile {
            kind: self.kind,
            local_hostname: self.local_hostname.clone(),
            source: self.source.clone(),
            tls_config: self.tls_config.clone(),
            require_tls: self.require_tls,
            auth_preference: self.auth_preference.clone(),
            trust_loopback: self.trust_loopback,
            timeouts: self.timeouts,
            proxy: self.proxy.clone(),
        }
    }

    /// A new, unconnected session with `p`'s settings.
    pub fn from_profile(p: &Profile) -> Session {
        let mut s = Session::new(p.kind);
        s.local_hostname = p.local_hostname.clone();
        s.source = p.source.clone();
        s.tls_config = p.tls_config.clone();
        s.require_tls = p.require_tls;
        s.auth_preference = p.auth_preference.clone();
        s.trust_loopback = p.trust_loopback;
        s.timeouts = p.timeouts;
        s.proxy = p.proxy.clone();
        s
    }

    /// Take the connection and its server state out of this session, which
    /// is left unconnected (the results of the last call stay).
    pub fn take_link(&mut self) -> Link {
        Link {
            conn: self.conn.take(),
            helo_resp: self.helo_resp.take(),
            ehlo_resp: self.ehlo_resp.take(),
            does_esmtp: std::mem::take(&mut self.does_esmtp),
            features: std::mem::take(&mut self.features),
            utf8_commands: std::mem::take(&mut self.utf8_commands),
            tls_host: std::mem::take(&mut self.tls_host),
        }
    }

    /// Run on `link` from now on. Its waits take this session's limits,
    /// call deadline and cancel, as if this session had opened it.
    pub fn put_link(&mut self, link: Link) {
        self.close();
        let Link { mut conn, helo_resp, ehlo_resp, does_esmtp, features, utf8_commands, tls_host } = link;
        if let Some(c) = &mut conn {
            c.adopt(self.timeouts, self.canceller.clone(), self.call_deadline);
        }
        self.conn = conn;
        self.helo_resp = helo_resp;
        self.ehlo_resp = ehlo_resp;
        self.does_esmtp = does_esmtp;
        self.features = features;
        self.utf8_commands = utf8_commands;
        self.tls_host = tls_host;
    }

    /// Make `reply` the last reply again (after a pool's own commands).
    pub fn restore_last_reply(&mut self, reply: Option<crate::reply::Reply>) {
        self.last_reply = reply;
    }

    /// The end of the running call, if it has one (`SMTP_TIMEOUT_CALL`).
    pub fn call_deadline(&self) -> Option<Instant> {
        self.call_deadline
    }

    /// Run this session's next steps as part of `caller`'s call: its
    /// limits, deadline, cancel and trace. [`Session::end_serving`] gives
    /// the trace back.
    pub fn serve(&mut self, caller: &mut Session) {
        self.timeouts = caller.timeouts;
        self.call_deadline = caller.call_deadline;
        self.canceller = Arc::clone(&caller.canceller);
        if let Some(c) = &mut self.conn {
            c.adopt(self.timeouts, self.canceller.clone(), self.call_deadline);
        }
        std::mem::swap(&mut self.trace, &mut caller.trace);
    }

    /// The end of [`Session::serve`]: the caller's trace goes back.
    pub fn end_serving(&mut self, caller: &mut Session) {
        std::mem::swap(&mut self.trace, &mut caller.trace);
        self.canceller = Arc::new(Canceller::default());
    }
}
