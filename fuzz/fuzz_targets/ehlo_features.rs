//! EHLO feature parsing on any reply text: no panic, and every listed
//! keyword is found by `has` in any letter case.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp::features::Features;

fuzz_target!(|data: &[u8]| {
    let f = Features::parse(data);
    for (k, v) in f.iter() {
        assert!(f.has(k));
        assert!(f.has(&k.to_ascii_uppercase()));
        assert_eq!(f.get(k), Some(v));
    }
    let _ = f.size_limit();
});
