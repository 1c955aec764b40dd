//! smtplib's `starttls` and `SMTP_SSL`, verified, with the protections
//! smtplib's peers learned through CVEs: bytes injected between the 220 and
//! the handshake end the connection (CVE-2021-22947 in curl), and "TLS
//! required" refuses to send mail or credentials in clear (CVE-2016-0772
//! in smtplib, CVE-2021-22946 in curl).

use super::Session;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::tls::TlsConfig;
use crate::trace::Direction;

impl Session {
    /// The configuration SMTP_SSL and STARTTLS use when none is given.
    pub fn set_tls_config(&mut self, config: Option<TlsConfig>) {
        self.tls_config = config;
    }

    /// Refuse sendmail, login and auth unless the connection is TLS.
    pub fn set_require_tls(&mut self, on: bool) {
        self.require_tls = on;
    }

    pub fn is_encrypted(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| c.is_encrypted())
    }

    /// (version, cipher suite) of the current TLS connection.
    pub fn tls_info(&self) -> Option<(String, String)> {
        self.conn.as_ref().and_then(|c| c.tls_info())
    }

    pub(super) fn check_tls_required(&self, what: &str) -> Result<()> {
        if self.require_tls && self.conn.is_some() && !self.is_encrypted() {
            return Err(Error::NotEncrypted(format!(
                "TLS is required and the connection is not encrypted: {what} refused (use STARTTLS or SMTP_SSL)"
            )));
        }
        Ok(())
    }

    /// The TLS handshake on the current connection with `config` (else
    /// the session's, else the default), traced.
    pub(super) fn tls_handshake(&mut self, config: Option<&TlsConfig>) -> Result<()> {
        let config = match config.or(self.tls_config.as_ref()) {
            Some(c) => c.clone(),
            None => {
                let c = TlsConfig::default_config()?;
                self.tls_config = Some(c.clone());
                c
            }
        };
        if config.verification_disabled() {
            self.trace.line(
                Direction::Info,
                "tls",
                "WARNING: certificate verification is DISABLED: anyone on the path can read and change this connection",
            );
        }
        let tls = config.connect(&self.tls_host).map_err(|e| match self.tls_host.is_empty() {
            // A caller's socket given without a host (`connect_socket_for`).
            true => Error::Tls(
                "no host name to check the server's certificate against: give the host with the socket \
                 (smtp_session_connect_fd) or a server name in the TLS configuration"
                    .into(),
            ),
            false => e,
        })?;
        let conn = self.conn.as_mut().ok_or_else(super::not_connected)?;
        conn.start_tls(tls, &self.tls_host, &mut self.trace)?;
        if let Some((version, suite)) = conn.tls_info() {
            let checked = if config.verification_disabled() { "NOT verified" } else { "verified" };
            let host = self.tls_host.clone();
            self.trace.line(Direction::Info, "tls", &format!("{version} {suite}, certificate {checked} for {host}"));
        }
        Ok(())
    }

    /// smtplib's `starttls`: EHLO/HELO if needed; not advertised is
    /// SMTPNotSupportedError; a reply other than 220 is
    /// SMTPResponseException. After the handshake the session forgets what
    /// it learned in clear (RFC 3207 4.2): helo_resp, ehlo_resp, the
    /// features, does_esmtp.
    pub fn starttls(&mut self, config: Option<&TlsConfig>) -> Result<Reply> {
        if self.is_encrypted() {
            return Err(Error::BadState("the connection is already encrypted".into()));
        }
        self.ehlo_or_helo_if_needed()?;
        if !self.has_extn("starttls") {
            return Err(Error::NotSupported("STARTTLS extension not supported by server.".into()));
        }
        let reply = self.docmd("STARTTLS", "")?;
        if reply.code != 220 {
            return Err(Error::Response(reply));
        }
        let injected = self.conn.as_ref().map_or(0, |c| c.buffered());
        if injected > 0 {
            self.close();
            return Err(Error::Tls(format!(
                "the server sent {injected} bytes after its 220 reply to STARTTLS, before the TLS handshake \
                 (response injection); the connection is closed"
            )));
        }
        if let Err(e) = self.tls_handshake(config) {
            self.close();
            return Err(e);
        }
        self.forget_ehlo();
        Ok(reply)
    }
}
