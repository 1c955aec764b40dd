//! The one place that speaks to the operating system below std and socket2,
//! and the only module that names `libc`: what differs between Unix-likes
//! is `cfg`-guarded here and nowhere else.
//!
//! - poll(2) (POSIX): every wait of the library, see `cancel.rs`.
//! - SIGPIPE: a C program that links the library must not be killed when a
//!   server closes mid-write. Most Unix-likes take `MSG_NOSIGNAL` on each
//!   send; Apple's have no such flag and set `SO_NOSIGPIPE` on the socket
//!   instead (socket2 does for the sockets it makes; [`no_sigpipe`] does for
//!   any other, such as a socket the caller connected).
//! - TCP_QUICKACK exists only on Linux and Android; elsewhere a no-op.
//! - Whether a number is an open file descriptor, and whether an error says
//!   "not a socket" (for the caller's socket, `adopt.rs`).
//! - The host name and its canonical name (gethostname, getaddrinfo with
//!   AI_CANONNAME: POSIX), for smtplib's default `local_hostname`.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;

use socket2::SockRef;

/// poll(2) event bits, as `PollFd` takes and gives them. (Constants here
/// are `pub(crate)`: cbindgen would put a `pub` one in the C header.)
pub(crate) const POLLIN: i16 = libc::POLLIN;
pub(crate) const POLLOUT: i16 = libc::POLLOUT;
pub(crate) const POLLERR: i16 = libc::POLLERR;
pub(crate) const POLLHUP: i16 = libc::POLLHUP;

/// One entry of a poll(2) set.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct PollFd(libc::pollfd);

impl PollFd {
    /// Wait for `events` on `fd`; a negative fd is skipped by poll.
    pub fn new(fd: RawFd, events: i16) -> PollFd {
        PollFd(libc::pollfd { fd, events, revents: 0 })
    }

    /// What poll found (0: nothing).
    pub fn revents(&self) -> i16 {
        self.0.revents
    }
}

/// poll(2) on `fds` for at most `ms` milliseconds (-1: no limit); the
/// number of entries with events.
pub fn poll(fds: &mut [PollFd], ms: i32) -> io::Result<usize> {
    // SAFETY: PollFd is a transparent pollfd, and fds is valid for its length.
    let n = unsafe { libc::poll(fds.as_mut_ptr().cast(), fds.len() as libc::nfds_t, ms) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Flags for every send: no SIGPIPE where the flag exists.
#[cfg(not(target_vendor = "apple"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// Apple's platforms have no MSG_NOSIGNAL: [`no_sigpipe`] covers them.
#[cfg(target_vendor = "apple")]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// Make writes to a closed peer an EPIPE error, not a SIGPIPE, where that
/// is a socket option (Apple's); elsewhere [`SEND_FLAGS`] does it per send.
pub fn no_sigpipe(sock: SockRef<'_>) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    sock.set_nosigpipe(true)?;
    #[cfg(not(target_vendor = "apple"))]
    let _ = sock;
    Ok(())
}

/// Ask for an ACK at once rather than a delayed one (Linux, Android);
/// nothing elsewhere.
pub fn quick_ack(sock: SockRef<'_>) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = sock.set_tcp_quickack(true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = sock;
}

/// Whether a connect returned because it goes on in the background (a
/// non-blocking socket's EINPROGRESS).
pub fn in_progress(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINPROGRESS)
}

/// This machine's host name (gethostname), if it has one.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its length.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// getaddrinfo's canonical name for `host` (AI_CANONNAME), as Python's
/// getfqdn finds it.
pub fn canonical_name(host: &str) -> Option<String> {
    let c_host = CString::new(host).ok()?;
    // SAFETY: zeroed addrinfo is a valid hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string, hints and result pointer.
    if unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) } != 0 || res.is_null() {
        return None;
    }
    // SAFETY: res is a valid list from getaddrinfo until freeaddrinfo.
    unsafe {
        let c = (*res).ai_canonname;
        let name = if c.is_null() { None } else { Some(CStr::from_ptr(c).to_string_lossy().into_owned()) };
        libc::freeaddrinfo(res);
        name
    }
}

/// `fd` is an open file descriptor (fcntl F_GETFD: POSIX).
pub(crate) fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0
}

/// The error is ENOTSOCK (std has no kind for it).
pub(crate) fn is_not_a_socket(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOTSOCK)
}
