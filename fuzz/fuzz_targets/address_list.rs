//! RFC 5322 address lists and smtplib's quoteaddr on any text: no panic;
//! parsed addresses never carry CR or LF.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp::address::{addr_only, quote_addr};
use smtp::message::address_list::parse_address_list;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(list) = parse_address_list(text) {
        for m in list {
            assert!(!m.addr.contains(['\r', '\n']), "{:?}", m.addr);
        }
    }
    let q = quote_addr(text);
    assert!(q.starts_with('<') || text.trim().starts_with('<'));
    let _ = addr_only(text);
});
