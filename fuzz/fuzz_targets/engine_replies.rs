//! The transaction engine against random servers (engine::sim): random
//! batches, random answers to every command (codes, a 354 where none is
//! due, 421 anywhere), replies split at random, the server closing after a
//! random number of replies. Invariants, for lockstep and for a window of
//! N messages: a message is reported sent exactly when the server delivered
//! it (recipient by recipient on LMTP), every recipient has one verdict, the
//! engine never stalls; and when the server does not close, lockstep and the
//! window give the same results.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp::engine::sim::{check, run, Decisions, SimMessage};
use smtp::engine::Settings;

/// Reads the input a byte at a time (zeros once it runs out).
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head.to_vec()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte();
    let (lmtp, chunking, closes) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
    let window = 1 + usize::from(input.byte() % 8);
    let n = 1 + usize::from(input.byte() % 6);
    let msgs: Vec<SimMessage> = (0..n)
        .map(|_| {
            let rcpts = 1 + usize::from(input.byte() % 4);
            let len = usize::from(input.byte() % 100);
            SimMessage { rcpts, body: (0..len).map(|i| b"line\r\n"[i % 6]).collect() }
        })
        .collect();
    let close_after = closes.then(|| 1 + usize::from(input.byte() % 40));
    let splits_len = usize::from(input.byte() % 8);
    let splits = input.take(splits_len);
    let decisions = Decisions(input.0.to_vec());
    let settings =
        |pipelining: bool, window: usize| Settings { lmtp, pipelining, chunking, enhanced: false, window, chunk: 16 };
    let one = settings(false, 1);
    let many = settings(true, window);
    let (a, da) = run(one, &msgs, &decisions, close_after, &[]);
    check(&one, &msgs, &a, &da);
    let (b, db) = run(many, &msgs, &decisions, close_after, &splits);
    check(&many, &msgs, &b, &db);
    if close_after.is_none() {
        assert_eq!(da, db, "delivered differs");
        assert_eq!(a, b, "lockstep and pipelined differ");
    }
});
