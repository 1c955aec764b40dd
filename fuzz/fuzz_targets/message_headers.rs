//! send_message's header scan and envelope on any message: no panic; the
//! ranges to send are in order, inside the message, and only Bcc fields
//! are left out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp::message::{header_fields, prepare};

fuzz_target!(|data: &[u8]| {
    let fields = header_fields(data);
    for f in &fields {
        assert!(f.range.end <= data.len() && f.range.start < f.range.end);
    }
    if let Ok(p) = prepare(data, None, None) {
        let mut pos = 0;
        for r in &p.keep {
            assert!(r.start >= pos && r.end <= data.len() && r.start < r.end);
            pos = r.end;
        }
        let dropped: usize = data.len() - p.keep.iter().map(|r| r.len()).sum::<usize>();
        let bcc: usize = fields.iter().filter(|f| f.is("Bcc") || f.is("Resent-Bcc")).map(|f| f.range.len()).sum();
        assert_eq!(dropped, bcc);
        for a in p.to.iter().chain(std::iter::once(&p.from)) {
            assert!(!a.contains(['\r', '\n']));
        }
    }
});
