'use strict';
/*
 * The few libc functions the stream feeder needs (stream.js), loaded on
 * first use: socketpair(2), write(2), close(2).
 *
 * Linux only (libc.so.6): stream.js ends a failed source with the
 * ECONNRESET that Linux gives the reader of a Unix stream socket whose
 * peer closed with unread data (net/unix/af_unix.c, unix_release_sock).
 */

const { koffi } = require('./native');

let C = null;

function libc() {
  if (C) return C;
  if (process.platform !== 'linux') {
    throw new Error(`libsmtp: sendmailStream() from a stream needs Linux (not ${process.platform}); ` +
      'pass a Buffer to sendmail(), or a synchronous iterable to sendmailStreamSync()');
  }
  const lib = koffi.load('libc.so.6');
  const f = {
    socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)'),
    write: lib.func('intptr_t write(int fd, const uint8_t *buf, size_t n)'),
    close: lib.func('int close(int fd)'),
  };
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
