//! smtplib's `login` and `auth` (RFC 4954): the AUTH exchange around any
//! [`Mechanism`], with the limits smtplib lacks: a malformed challenge or an
//! abort cancels with `*` (RFC 4954 4) so the session stays in step, and
//! mechanisms that send secrets as they are refuse unprotected connections.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::Session;
use crate::auth::{self, decode_challenge, MechError, Mechanism, Secret, MAX_CHALLENGES};
use crate::conn::Sensitivity;
use crate::error::{Error, Result};
use crate::reply::Reply;

/// How a login or auth call may proceed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthOptions {
    /// smtplib's `initial_response_ok=False` when set.
    pub no_initial_response: bool,
    /// Allow PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER on an unprotected connection.
    pub allow_cleartext: bool,
}

impl Session {
    /// The mechanisms `login` tries, in order (default CRAM-MD5, PLAIN,
    /// LOGIN, as smtplib). Each must be built in.
    pub fn set_auth_mechanisms(&mut self, names: &[&str]) -> Result<()> {
        if names.is_empty() {
            return Err(Error::InvalidArgument("the mechanism list is empty".into()));
        }
        let mut list = Vec::new();
        for name in names {
            let upper = name.to_ascii_uppercase();
            if !auth::BUILTIN.contains(&upper.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "{name:?} is not a built-in mechanism ({})",
                    auth::BUILTIN.join(", ")
                )));
            }
            list.push(upper);
        }
        self.auth_preference = Some(list);
        Ok(())
    }

    /// Whether a loopback peer counts as protecting secrets (default yes:
    /// the bytes never leave the machine). Off, only TLS and Unix sockets do.
    pub fn set_trust_loopback(&mut self, trust: bool) {
        self.trust_loopback = trust;
    }

    /// Back to smtplib's order for `login`.
    pub fn reset_auth_mechanisms(&mut self) {
        self.auth_preference = None;
    }

    /// Refuse a mechanism that would put a secret on an unprotected wire.
    fn check_cleartext(&self, name: &str, opts: AuthOptions) -> Result<()> {
        let protected = self.conn.as_ref().is_some_and(|c| c.protects_secrets(self.trust_loopback));
        if auth::sends_secret_in_clear(name) && !protected && !opts.allow_cleartext {
            return Err(Error::NotEncrypted(format!(
                "{name} would send the credentials in clear; use TLS, or allow cleartext explicitly"
            )));
        }
        Ok(())
    }

    /// smtplib's `login`: EHLO/HELO if needed; the preferred mechanisms the
    /// server advertises are tried in turn until one succeeds (235, or 503
    /// "already authenticated"); all refused is the last refusal.
    pub fn login(&mut self, user: &str, password: &str, opts: AuthOptions) -> Result<Reply> {
        self.check_tls_required("login")?;
        self.ehlo_or_helo_if_needed()?;
        let Some(advertised) = self.features.get("auth").map(str::to_string) else {
            return Err(Error::NotSupported("SMTP AUTH extension not supported by server.".into()));
        };
        let preference: Vec<String> = match &self.auth_preference {
            Some(list) => list.clone(),
            None => auth::DEFAULT_PREFERENCE.iter().map(|s| s.to_string()).collect(),
        };
        let offered: Vec<String> = preference
            .into_iter()
            .filter(|m| advertised.split_whitespace().any(|a| a.eq_ignore_ascii_case(m)))
            .collect();
        let mut usable = Vec::new();
        let mut refused_here = None;
        for m in offered {
            match self.check_cleartext(&m, opts) {
                Ok(()) => usable.push(m),
                Err(e) => refused_here = Some(e),
            }
        }
        if usable.is_empty() {
            return Err(refused_here.unwrap_or_else(|| Error::Smtp("No suitable authentication method found.".into())));
        }
        let mut last = None;
        for name in usable {
            let mut mech = auth::builtin(&name, user, password)
                .ok_or_else(|| Error::Smtp(format!("{name}: cannot start (no random source)")))?;
            match self.run_auth(mech.as_mut(), opts) {
                Ok(reply) => return Ok(reply),
                Err(e @ Error::Auth { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one mechanism was tried"))
    }

    /// One built-in mechanism alone, with `user` and `secret` (the password,
    /// or the token for XOAUTH2 and OAUTHBEARER).
    pub fn auth_builtin(&mut self, name: &str, user: &str, secret: &str, opts: AuthOptions) -> Result<Reply> {
        let mut mech = auth::builtin(name, user, secret).ok_or_else(|| {
            Error::InvalidArgument(format!("{name:?} is not a built-in mechanism ({})", auth::BUILTIN.join(", ")))
        })?;
        self.auth(mech.as_mut(), opts)
    }

    /// smtplib's `auth` with any mechanism (a built-in one or the caller's).
    pub fn auth(&mut self, mech: &mut dyn Mechanism, opts: AuthOptions) -> Result<Reply> {
        if !auth::valid_name(mech.name()) {
            return Err(Error::InvalidArgument(format!("{:?} is not a SASL mechanism name", mech.name())));
        }
        if self.conn.is_none() {
            return Err(super::not_connected());
        }
        self.check_tls_required("auth")?;
        self.check_cleartext(mech.name(), opts)?;
        self.run_auth(mech, opts)
    }

    fn run_auth(&mut self, mech: &mut dyn Mechanism, opts: AuthOptions) -> Result<Reply> {
        if self.conn.is_none() {
            return Err(super::not_connected());
        }
        let name = mech.name().to_ascii_uppercase();
        let initial =
            if opts.no_initial_response { None } else { mech.initial().map_err(|e| self.mech_error(e, None))? };
        let (mut reply, mut steps) = match initial {
            Some(resp) => {
                // RFC 4954 4: an empty initial response is sent as "=".
                let payload = if resp.bytes().is_empty() { Secret::new("=") } else { encode(&resp) };
                let args = Secret::new([name.as_bytes(), b" ", payload.bytes()].concat());
                let line = std::str::from_utf8(args.bytes()).expect("ASCII").to_string();
                (self.command_with("AUTH", &line, Sensitivity::Secret)?, 1)
            }
            None => (self.command_with("AUTH", &name, Sensitivity::Plain)?, 0),
        };
        while reply.code == 334 {
            steps += 1;
            if steps > MAX_CHALLENGES {
                let cancel = self.cancel_auth()?;
                return Err(Error::Smtp(format!(
                    "Server AUTH mechanism infinite loop. Last response: {} {}",
                    cancel.code,
                    cancel.text_lossy()
                )));
            }
            let challenge = match decode_challenge(&reply.text) {
                Some(c) => c,
                None => {
                    let cancel = self.cancel_auth()?;
                    return Err(Error::AuthAborted {
                        why: format!("the server's challenge is not valid base64: {:?}", reply.text_lossy()),
                        reply: Some(cancel),
                    });
                }
            };
            let response = match mech.respond(&challenge) {
                Ok(r) => r,
                Err(e) => {
                    let cancel = self.cancel_auth()?;
                    return Err(self.mech_error(e, Some(cancel)));
                }
            };
            let line = String::from_utf8(encode(&response).bytes().to_vec()).expect("base64 is ASCII");
            self.put_command(&line, "", Sensitivity::Secret)?;
            reply = self.get_reply()?;
        }
        if reply.code == 235 || reply.code == 503 {
            mech.on_success().map_err(|e| self.mech_error(e, Some(reply.clone())))?;
            return Ok(reply);
        }
        Err(Error::Auth { reply, detail: mech.failure_detail() })
    }

    /// Send `*` to end the exchange (RFC 4954 4) and read the server's reply.
    fn cancel_auth(&mut self) -> Result<Reply> {
        self.put_command("*", "", Sensitivity::Plain)?;
        self.get_reply()
    }

    fn mech_error(&self, e: MechError, reply: Option<Reply>) -> Error {
        match e {
            MechError::Abort(why) => Error::AuthAborted { why, reply },
            MechError::Failed(why) => {
                Error::Auth { reply: reply.unwrap_or_else(|| Reply::new(0, "")), detail: Some(why) }
            }
        }
    }
}

fn encode(bytes: &Secret) -> Secret {
    Secret::new(B64.encode(bytes.bytes()))
}
