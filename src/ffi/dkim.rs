//! DKIM signing (RFC 6376, RFC 8463): a signer handle holding the key,
//! domain, selector and choices, used on raw messages
//! (`smtp_dkim_sign()`) and on built ones (`smtp_message_set_dkim()`).

use std::ffi::{c_char, c_int, CString};
use std::sync::Arc;

use super::args;
use super::handle::{c_text, CallError, CallResult};
use crate::dkim::{Canon, Key, Signer};
use crate::error::Error;

/// `smtp_dkim_set_canonicalization()`: simple (RFC 6376 3.4.1, 3.4.3).
pub const SMTP_DKIM_SIMPLE: c_int = 1;
/// `smtp_dkim_set_canonicalization()`: relaxed (RFC 6376 3.4.2, 3.4.4), the
/// default for both.
pub const SMTP_DKIM_RELAXED: c_int = 2;

/// A DKIM signer: a private key (RSA of 2048 to 8192 bits for rsa-sha256,
/// or Ed25519 for ed25519-sha256, the algorithm following the key), the
/// signing domain (d=) and selector (s=), the header fields to sign and the
/// canonicalization. Made by `smtp_dkim_new()`, freed by `smtp_dkim_free()`;
/// not thread-safe (one thread at a time), and messages given it keep their
/// own copy.
#[allow(non_camel_case_types)]
pub struct smtp_dkim {
    key: Option<Arc<Key>>,
    domain: Option<String>,
    selector: Option<String>,
    headers: Option<Vec<String>>,
    canon: (Canon, Canon),
    errmsg: CString,
    /// The last field `smtp_dkim_sign()` or record `smtp_dkim_dns_record()` lent.
    out: CString,
}

impl smtp_dkim {
    /// The signer these settings make, or why they make none.
    pub(crate) fn signer(&self) -> CallResult<Signer> {
        let missing = |what: &str| CallError::Core(Error::InvalidArgument(format!("DKIM: no {what} set")));
        let key = self.key.clone().ok_or_else(|| missing("key (smtp_dkim_set_key_pem)"))?;
        let domain = self.domain.as_deref().ok_or_else(|| missing("domain (smtp_dkim_set_domain)"))?;
        let selector = self.selector.as_deref().ok_or_else(|| missing("selector (smtp_dkim_set_selector)"))?;
        let mut s = Signer::new(key, domain, selector)?;
        if let Some(h) = &self.headers {
            let names: Vec<&str> = h.iter().map(String::as_str).collect();
            s.set_headers(&names)?;
        }
        (s.header_canon, s.body_canon) = self.canon;
        Ok(s)
    }
}

/// A signer with nothing set: relaxed/relaxed, the default header list.
/// Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_dkim_new() -> *mut smtp_dkim {
    Box::into_raw(Box::new(smtp_dkim {
        key: None,
        domain: None,
        selector: None,
        headers: None,
        canon: (Canon::Relaxed, Canon::Relaxed),
        errmsg: c_text(b"no error"),
        out: CString::default(),
    }))
}

/// Free a signer (NULL is a no-op); its key is wiped by ring as it goes.
///
/// # Safety
/// `d` is NULL or a signer not yet freed; it is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_free(d: *mut smtp_dkim) {
    if !d.is_null() {
        // SAFETY: per the contract.
        drop(unsafe { Box::from_raw(d) });
    }
}

/// What the signer's last call did: "no error", or why it failed. Owned by
/// the signer, valid until its next call or its free; a static message for
/// NULL. Never contains the key.
///
/// # Safety
/// `d` is NULL or a live signer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_errmsg(d: *const smtp_dkim) -> *const c_char {
    // SAFETY: NULL or a live signer, per the contract.
    match unsafe { d.as_ref() } {
        Some(d) => d.errmsg.as_ptr(),
        None => c"signer is NULL".as_ptr(),
    }
}

/// Run `f` on the signer, keeping its message.
unsafe fn with(d: *mut smtp_dkim, f: impl FnOnce(&mut smtp_dkim) -> CallResult) -> c_int {
    unsafe { super::compose::with_errmsg(d, |d| &mut d.errmsg, f) }
}

/// The private key, PEM text of `len` bytes: `BEGIN RSA PRIVATE KEY`
/// (PKCS#1) or `BEGIN PRIVATE KEY` (PKCS#8, RSA or Ed25519), unencrypted.
/// The algorithm follows the key. Anything else is
/// `SMTP_ERR_INVALID_ARGUMENT` (an RSA key under 2048 bits too). The text is
/// not kept.
///
/// # Safety
/// `d` is NULL or a live signer; `pem` is readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_set_key_pem(d: *mut smtp_dkim, pem: *const u8, len: usize) -> c_int {
    unsafe {
        with(d, |d| {
            let pem = args::bytes(pem, len, "pem")?;
            d.key = Some(Arc::new(Key::from_pem(pem)?));
            Ok(())
        })
    }
}

/// The signing domain, d= (an A-label form is made of an IDN).
///
/// # Safety
/// `d` is NULL or a live signer; `domain` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_set_domain(d: *mut smtp_dkim, domain: *const c_char) -> c_int {
    unsafe {
        with(d, |d| {
            let domain = args::text(domain, "domain")?;
            // Checked now: the same check the signature makes.
            crate::dkim::checked_domain(domain)?;
            d.domain = Some(domain.to_string());
            Ok(())
        })
    }
}

/// The selector, s=: the key is published at `<selector>._domainkey.<domain>`.
///
/// # Safety
/// `d` is NULL or a live signer; `selector` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_set_selector(d: *mut smtp_dkim, selector: *const c_char) -> c_int {
    unsafe {
        with(d, |d| {
            let selector = args::text(selector, "selector")?;
            crate::dkim::check_selector(selector)?;
            d.selector = Some(selector.to_string());
            Ok(())
        })
    }
}

/// The header fields to sign (h=), `n` names, case ignored; From is always
/// signed. Every instance present is signed, from the bottom up. `n` 0
/// restores the default: RFC 6376 5.4.1's list (From, Sender, Reply-To,
/// Subject, Date, To, Cc, the Resent-, List- and threading fields) plus
/// Message-ID and the MIME fields.
///
/// # Safety
/// `d` is NULL or a live signer; `names` is NULL (only with `n` 0) or holds
/// `n` strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_set_headers(d: *mut smtp_dkim, names: *const *const c_char, n: usize) -> c_int {
    unsafe {
        with(d, |d| {
            let names = args::text_array(names, n, "names")?;
            for name in &names {
                crate::compose::header::check_name(name)?;
            }
            d.headers = (n > 0).then(|| names.iter().map(|s| s.to_string()).collect());
            Ok(())
        })
    }
}

/// Header and body canonicalization: `SMTP_DKIM_SIMPLE` or
/// `SMTP_DKIM_RELAXED` each.
///
/// # Safety
/// `d` is NULL or a live signer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_set_canonicalization(d: *mut smtp_dkim, header: c_int, body: c_int) -> c_int {
    let canon = |c: c_int| match c {
        SMTP_DKIM_SIMPLE => Ok(Canon::Simple),
        SMTP_DKIM_RELAXED => Ok(Canon::Relaxed),
        _ => Err(CallError::Core(Error::InvalidArgument(format!("unknown DKIM canonicalization {c}")))),
    };
    unsafe {
        with(d, |d| {
            d.canon = (canon(header)?, canon(body)?);
            Ok(())
        })
    }
}

/// Sign a raw message of `len` bytes: `*field` is set to the
/// `DKIM-Signature:` field, folded and ending in CRLF, to put before the
/// message's first line. Line ends are taken as `SMTP_MSG_NORMALIZE` sends
/// them (a lone LF or CR is a line end); send the signed message so, and
/// unchanged, or it no longer verifies (Bcc is not signed by default, so
/// `smtp_session_send_message()` may drop it). `*field` is owned by the
/// signer, valid until its next call or its free; NULL on failure.
///
/// # Safety
/// `d` is NULL or a live signer; `msg` is readable for `len` bytes; `field`
/// is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_sign(
    d: *mut smtp_dkim,
    msg: *const u8,
    len: usize,
    field: *mut *const c_char,
) -> c_int {
    unsafe {
        args::put(field, std::ptr::null());
        with(d, |d| {
            if field.is_null() {
                return Err(CallError::Null("field"));
            }
            let msg = args::bytes(msg, len, "msg")?;
            d.out = c_text(d.signer()?.sign_raw(msg)?.as_bytes());
            field.write(d.out.as_ptr());
            Ok(())
        })
    }
}

/// The DNS TXT record that publishes the key (`v=DKIM1; k=rsa; p=...`), to
/// put at `<selector>._domainkey.<domain>`. `*record` is owned by the signer,
/// valid until its next call or its free; NULL on failure (no key yet).
///
/// # Safety
/// `d` is NULL or a live signer; `record` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_dkim_dns_record(d: *mut smtp_dkim, record: *mut *const c_char) -> c_int {
    unsafe {
        args::put(record, std::ptr::null());
        with(d, |d| {
            if record.is_null() {
                return Err(CallError::Null("record"));
            }
            let key = d.key.clone().ok_or(Error::InvalidArgument("DKIM: no key set (smtp_dkim_set_key_pem)".into()))?;
            d.out = c_text(crate::dkim::dns_record(&key).as_bytes());
            record.write(d.out.as_ptr());
            Ok(())
        })
    }
}
