//! SASL on hostile challenges: base64 decoding, and SCRAM-SHA-256's
//! server-first and server-final messages (with a fixed nonce, so the
//! fuzzer can reach the later states): errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp::auth::scram::ScramSha256;
use smtp::auth::{decode_challenge, Mechanism, Secret};

fuzz_target!(|data: &[u8]| {
    let _ = decode_challenge(data);
    let mut parts = data.splitn(2, |&b| b == 0);
    let first = parts.next().unwrap_or_default();
    let last = parts.next().unwrap_or_default();
    let mut m = ScramSha256::with_nonce(Secret::new("user"), Secret::new("pencil"), "fyko+d2lbbFgONRv9qkxdawL");
    let _ = m.initial();
    if m.respond(first).is_ok() {
        let _ = m.respond(last);
        let _ = m.on_success();
    }
});
