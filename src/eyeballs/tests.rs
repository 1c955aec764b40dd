//! The race against real sockets on loopback: an address that never
//! answers is a listener whose accept queue is full (the kernel drops
//! further SYNs), so no network namespace and no internet are needed.

use std::net::TcpListener;
use std::sync::Arc;

use super::*;
use crate::cancel::Canceller;
use crate::deadline::Timeouts;

/// A listening socket whose accept queue is full: the kernel drops the
/// SYNs that come next (Linux with net.ipv4.tcp_abort_on_overflow = 0, the
/// default; 1 would refuse them instead), so a connect to it hangs.
pub(crate) struct SynSink {
    pub addr: SocketAddr,
    listener: RawSocket,
    /// The connections that filled the queue.
    held: Vec<RawSocket>,
}

impl SynSink {
    pub(crate) fn new(ip: &str) -> SynSink {
        let overflow = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_abort_on_overflow").unwrap_or_default();
        assert_ne!(overflow.trim(), "1", "tcp_abort_on_overflow=1 refuses instead of dropping SYNs");
        let at = any_port(ip);
        let listener = RawSocket::new(Domain::for_address(at), Type::STREAM, None).unwrap();
        listener.bind(&at.into()).unwrap();
        listener.listen(0).unwrap();
        let addr = listener.local_addr().unwrap().as_socket().unwrap();
        let mut held = Vec::new();
        for _ in 0..16 {
            let (sock, done) = start(&addr, None).unwrap();
            let mut set = [PollFd::new(sock.as_raw_fd(), POLLOUT)];
            if done || sys::poll(&mut set, 200).unwrap() == 1 {
                held.push(sock);
                continue;
            }
            // This one's SYN was dropped: the queue is full. Closing it
            // stops its retransmissions, which would take the next free place.
            return SynSink { addr, listener, held };
        }
        panic!("the accept queue of {addr} never filled");
    }

    /// Accept what is queued; the number of connections that did not come
    /// from the sockets that filled the queue.
    fn strangers(&self) -> usize {
        self.listener.set_nonblocking(true).unwrap();
        let ours: Vec<_> = self.held.iter().map(|s| s.local_addr().unwrap().as_socket()).collect();
        let mut n = 0;
        while let Ok((_, peer)) = self.listener.accept() {
            n += usize::from(!ours.contains(&peer.as_socket()));
        }
        n
    }
}

struct Limits {
    timeouts: Timeouts,
    call_deadline: Option<Instant>,
    canceller: Arc<Canceller>,
}

impl Limits {
    fn new(connect_ms: u64, call_ms: Option<u64>) -> Limits {
        let canceller = Arc::new(Canceller::default());
        canceller.begin();
        Limits {
            timeouts: Timeouts { connect: Some(Duration::from_millis(connect_ms)), ..Timeouts::default() },
            call_deadline: call_ms.map(|ms| Instant::now() + Duration::from_millis(ms)),
            canceller,
        }
    }

    fn race(&self, addrs: &[SocketAddr], sources: &[SocketAddr]) -> (Result<Socket>, Duration) {
        let t = Instant::now();
        let limits =
            ConnectLimits { timeouts: &self.timeouts, call_deadline: self.call_deadline, canceller: &self.canceller };
        (race("test", addrs, sources, &limits), t.elapsed())
    }
}

fn listener(ip: &str) -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind(any_port(ip)).unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

/// An address where nothing listens: refused at once.
fn refusing(ip: &str) -> SocketAddr {
    listener(ip).1
}

fn any_port(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 0)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn families_interleave_ipv6_first() {
    let got = interleave(&[addr("1.1.1.1:25"), addr("2.2.2.2:25"), addr("[::1]:25"), addr("3.3.3.3:25")]);
    assert_eq!(got, [addr("[::1]:25"), addr("1.1.1.1:25"), addr("2.2.2.2:25"), addr("3.3.3.3:25")]);
    let got = interleave(&[addr("[::2]:25"), addr("[::3]:25"), addr("1.1.1.1:25")]);
    assert_eq!(got, [addr("[::2]:25"), addr("1.1.1.1:25"), addr("[::3]:25")]);
}

/// RFC 8305's case: IPv6 first, and its SYNs vanish. IPv4 starts 250 ms
/// later and wins; the IPv6 attempt is closed, so it never reaches the
/// server even once the server has room.
#[test]
fn a_silent_address_costs_the_attempt_delay() {
    let sink = SynSink::new("::1");
    let (answering, v4) = listener("127.0.0.1");
    let (sock, took) = Limits::new(10_000, None).race(&[v4, sink.addr], &[]);
    let sock = sock.unwrap();
    eprintln!("happy eyeballs: connected over IPv4 in {took:?} (IPv6 dropped SYNs)");
    assert!(sock.peer().starts_with("127.0.0.1:"), "{}", sock.peer());
    assert!(took >= ATTEMPT_DELAY && took < Duration::from_millis(400), "{took:?}");
    // The winner is the only connection the answering server sees.
    answering.accept().unwrap();
    answering.set_nonblocking(true).unwrap();
    assert!(answering.accept().is_err());
    // The loser is closed: with the sink's queue emptied, a live attempt
    // would get in with its first SYN retransmission (after 1 s).
    assert_eq!(sink.strangers(), 0);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(sink.strangers(), 0, "the losing attempt was left running");
}

/// The first family refuses: the next address starts at once, not after
/// the attempt delay.
#[test]
fn a_refusal_starts_the_next_attempt_at_once() {
    let (_answering, v4) = listener("127.0.0.1");
    let (sock, took) = Limits::new(10_000, None).race(&[refusing("::1"), v4], &[]);
    assert!(sock.unwrap().peer().starts_with("127.0.0.1:"));
    assert!(took < Duration::from_millis(100), "{took:?}");
}

/// Every address refused: one error naming each.
#[test]
fn every_failure_is_named() {
    let (a, b) = (refusing("::1"), refusing("127.0.0.1"));
    let (e, _) = Limits::new(10_000, None).race(&[b, a], &[]);
    let e = e.unwrap_err();
    let Error::Connect(m) = &e else { panic!("{e:?}") };
    assert!(m.starts_with(&format!("{a}: ")) && m.contains(&format!("; {b}: ")), "{m}");
}

/// Every address silent: each gives way at SMTP_TIMEOUT_CONNECT (before
/// the attempt delay here), and the error is a timeout naming both.
#[test]
fn every_attempt_bounded_by_the_connect_limit() {
    let (s6, s4) = (SynSink::new("::1"), SynSink::new("127.0.0.1"));
    let (e, took) = Limits::new(100, None).race(&[s6.addr, s4.addr], &[]);
    let e = e.unwrap_err();
    let Error::Timeout(m) = &e else { panic!("{e:?}") };
    assert!(m.contains(&s6.addr.to_string()) && m.contains(&s4.addr.to_string()), "{m}");
    assert!(m.contains("SMTP_TIMEOUT_CONNECT"), "{m}");
    assert!(took >= Duration::from_millis(200) && took < Duration::from_millis(300), "{took:?}");
}

#[test]
fn the_whole_is_bounded_by_the_call_deadline() {
    let (s6, s4) = (SynSink::new("::1"), SynSink::new("127.0.0.1"));
    let (e, took) = Limits::new(10_000, Some(400)).race(&[s6.addr, s4.addr], &[]);
    let e = e.unwrap_err();
    assert!(matches!(&e, Error::Timeout(m) if m.contains("SMTP_TIMEOUT_CALL")), "{e:?}");
    assert!(took >= Duration::from_millis(390) && took < Duration::from_millis(440), "{took:?}");
}

#[test]
fn a_cancel_ends_the_race() {
    let (s6, s4) = (SynSink::new("::1"), SynSink::new("127.0.0.1"));
    let limits = Limits::new(10_000, None);
    let c = limits.canceller.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        c.cancel();
    });
    let (e, took) = limits.race(&[s6.addr, s4.addr], &[]);
    h.join().unwrap();
    assert!(matches!(e, Err(Error::Cancelled(_))), "{e:?}");
    assert!(took >= Duration::from_millis(300) && took < Duration::from_millis(400), "{took:?}");
}

/// A source address restricts the race to its family.
#[test]
fn a_source_address_keeps_to_its_family() {
    let (_l6, v6) = listener("::1");
    let (l4, v4) = listener("127.0.0.1");
    let (sock, _) = Limits::new(10_000, None).race(&[v6, v4], &[addr("127.0.0.2:0")]);
    assert!(sock.unwrap().peer().starts_with("127.0.0.1:"));
    assert_eq!(l4.accept().unwrap().1.ip(), addr("127.0.0.2:0").ip());
    let (e, _) = Limits::new(10_000, None).race(&[v4], &[addr("[::1]:0")]);
    assert!(matches!(&e, Err(Error::Connect(m)) if m.contains("source address's family")), "{e:?}");
}
