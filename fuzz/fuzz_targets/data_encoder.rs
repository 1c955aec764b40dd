//! The DATA encoder: for any message, mode and segmentation, the output
//! holds exactly one end-of-data sequence, at the end, no line starts with
//! an unstuffed dot, and unstuffing gives back the (normalised) input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp::data::{encode_all, normalized_len, DataEncoder, LineEndings};

fn fix_eols(m: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(m.len() * 2);
    let mut i = 0;
    while i < m.len() {
        match m[i] {
            b'\r' if m.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
                continue;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Remove the final `.\r\n`, then the doubled dots after line breaks.
fn unstuff(out: &[u8]) -> Vec<u8> {
    let body = &out[..out.len() - 3];
    let mut res = Vec::with_capacity(body.len());
    let mut line_start = true;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if line_start && b == b'.' {
            assert_eq!(body.get(i + 1), Some(&b'.'), "an unstuffed dot at a line start");
            i += 1;
        }
        res.push(body[i]);
        line_start = matches!(body[i], b'\r' | b'\n');
        i += 1;
    }
    res
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, msg)) = data.split_first() else { return };
    let mode = match ctl % 3 {
        0 => LineEndings::Normalize,
        1 => LineEndings::Pass,
        _ => LineEndings::Reject,
    };
    let out = encode_all(msg, mode);
    assert!(out.ends_with(b"\r\n.\r\n") || out == b"\r\n.\r\n");
    assert_eq!(out.windows(5).filter(|w| *w == b"\r\n.\r\n").count(), 1);
    let expected = if mode == LineEndings::Normalize { fix_eols(msg) } else { msg.to_vec() };
    let mut back = unstuff(&out);
    // The CRLF added when the message did not end in one.
    if !expected.ends_with(b"\r\n") {
        assert!(back.ends_with(b"\r\n"));
        back.truncate(back.len() - 2);
    }
    assert_eq!(back, expected);
    if mode == LineEndings::Normalize {
        assert_eq!(normalized_len(&[msg], mode), expected.len() as u64);
    }
    // Any segmentation gives the same bytes.
    let size = usize::from(ctl / 3).max(1);
    let mut enc = DataEncoder::new(mode);
    let mut pieces = Vec::new();
    for chunk in msg.chunks(size) {
        enc.encode(chunk, &mut pieces);
    }
    enc.finish(&mut pieces);
    assert_eq!(pieces, out);
});
