//! The reply reader on any bytes in any segmentation: no panic, bounded
//! memory, and the same replies (or error) however the bytes are split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp::reply::{Reply, ReplyError, ReplyParser};

fn parse(pieces: &[&[u8]]) -> (Vec<Reply>, Option<ReplyError>) {
    let mut p = ReplyParser::new();
    let mut out = Vec::new();
    for piece in pieces {
        p.feed(piece);
        loop {
            match p.next_reply() {
                Ok(Some(r)) => out.push(r),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
            assert!(p.buffered() <= 1 << 22);
        }
    }
    match p.finish() {
        Ok(Some(r)) => out.push(r),
        Ok(None) => {}
        Err(e) => return (out, Some(e)),
    }
    (out, None)
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses a split size for the rest.
    let Some((&split, rest)) = data.split_first() else { return };
    let whole = parse(&[rest]);
    let size = usize::from(split).max(1);
    let pieces: Vec<&[u8]> = rest.chunks(size).collect();
    let split_up = parse(&pieces);
    assert_eq!(whole, split_up);
    for r in &whole.0 {
        assert!(r.text.len() <= 1 << 20);
        assert!(r.code == -1 || (-99..=999).contains(&r.code));
    }
});
