'use strict';
/*
 * The few libc functions the stream feeder needs (stream.js), loaded on
 * first use: socketpair(2), write(2), close(2), and the address of read(2)
 * (dlsym), which the library calls as its smtp_read_fn on the worker thread.
 *
 * Linux only: read(2) stands in for smtp_read_fn (ptrdiff_t (*)(void *,
 * uint8_t *, size_t)) with the descriptor passed as the userdata pointer,
 * which the LP64 calling conventions (x86-64 System V, AArch64) pass in
 * the same register as read's int; and stream.js ends a failed source with
 * the ECONNRESET that Linux gives the reader of a Unix stream socket whose
 * peer closed with unread data (net/unix/af_unix.c, unix_release_sock).
 */

const { koffi } = require('./native');

let C = null;

function libc() {
  if (C) return C;
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
    throw new Error(`libsmtp: sendmailStream() from a stream needs Linux on x64 or arm64 (not ${process.platform} ${process.arch}); ` +
      'pass a Buffer to sendmail(), or a synchronous iterable to sendmailStreamSync()');
  }
  const lib = koffi.load('libc.so.6');
  const f = {
    socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)'),
    write: lib.func('intptr_t write(int fd, const uint8_t *buf, size_t n)'),
    close: lib.func('int close(int fd)'),
  };
  let dlsym;
  try {
    dlsym = lib.func('void *dlsym(void *handle, const char *name)'); // glibc >= 2.34
  } catch (_) {
    dlsym = koffi.load('libdl.so.2').func('void *dlsym(void *handle, const char *name)');
  }
  f.readPtr = dlsym(null, 'read'); // RTLD_DEFAULT
  if (!f.readPtr) throw new Error('libsmtp: dlsym(read) failed');
  C = f;
  return C;
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

/** A connected pair of Unix stream sockets, close-on-exec: [fd, fd]. */
function socketPair() {
  const sv = [0, 0];
  if (libc().socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) !== 0) {
    throw new Error(`libsmtp: socketpair failed (errno ${koffi.errno()})`);
  }
  return sv;
}

module.exports = { libc, socketPair };
