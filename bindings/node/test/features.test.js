'use strict';
// Proxies (pproxy: SOCKS5 and HTTP CONNECT, with credentials), a socket
// the caller connected (connectFd), trust stores (roots), the pipelining
// and chunking switches, STARTTLS asynchronously, disconnect().

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');
const smtp = require('..');
const { server, stored, tlsFiles, REPO } = require('./helpers');

const VARS = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'servers', 'servers.json'), 'utf8')).vars;

let sink;
let starttls;
let socks;
let http;

test.before(async () => {
  [sink, starttls, socks, http] = await Promise.all(['sink', 'starttls', 'socks', 'httpproxy'].map((n) => server(n)));
});
test.after(async () => { await Promise.all([sink, starttls, socks, http].map((s) => s && s.stop())); });

/** user:password for the proxies, percent-encoded for a URL. */
function credentials() {
  const auth = process.env.LIBSMTP_PROXY_AUTH || VARS.proxy_auth;
  const i = auth.indexOf(':');
  return `${encodeURIComponent(auth.slice(0, i))}:${encodeURIComponent(auth.slice(i + 1))}`;
}

test('through a SOCKS5 proxy and an HTTP CONNECT proxy, with credentials', async () => {
  for (const [scheme, proxy] of [['socks5', socks], ['socks5h', socks], ['http', http]]) {
    const s = new smtp.Session({ timeout: 10000, proxy: `${scheme}://${credentials()}@${proxy.host}:${proxy.port}` });
    try {
      assert.equal((await s.connect(sink.host, sink.port)).code, 220, scheme);
      assert.deepEqual(await s.sendmail('a@example.com', 'b@example.com', `Subject: via ${scheme}\r\n\r\nx\r\n`), {});
      assert.match(stored(sink, s.lastReply).bytes.toString(), new RegExp(`via ${scheme}`));
      // Wrong credentials: the proxy refuses, SMTPConnectionError, no secret in the message.
      s.setProxy(`${scheme}://nobody:wrong-secret@${proxy.host}:${proxy.port}`);
      await assert.rejects(s.connect(sink.host, sink.port), (e) => {
        assert.ok(e instanceof smtp.SMTPConnectionError, `${e.name}: ${e.message}`);
        assert.doesNotMatch(e.message, /wrong-secret/);
        return true;
      });
      s.setProxy(null);
      assert.equal(s.connectSync(sink.host, sink.port).code, 220, 'direct again');
    } finally {
      s.close();
    }
  }
  assert.throws(() => new smtp.Session({ proxy: 'ftp://proxy.example' }), smtp.SMTPInvalidArgumentError);
});

/** A TCP socket connected to host:port by libc, as a caller with its own socket would have one. */
function connectedFd(host, port) {
  const libc = koffi.load('libc.so.6');
  const socket = libc.func('int socket(int domain, int type, int protocol)');
  const connect = libc.func('int connect(int fd, const void *addr, uint32_t len)');
  const fd = socket(2, 1, 0); // AF_INET, SOCK_STREAM
  const addr = Buffer.alloc(16);
  addr.writeUInt16LE(2, 0);
  addr.writeUInt16BE(port, 2);
  Buffer.from(host.split('.').map(Number)).copy(addr, 4);
  assert.equal(connect(fd, addr, addr.length), 0, `connect: errno ${koffi.errno()}`);
  return fd;
}

test('connectFd: the session runs over a socket the caller connected', async () => {
  const s = new smtp.Session({ timeout: 10000 });
  try {
    const fd = connectedFd(sink.host, sink.port);
    assert.equal((await s.connectFd(fd)).code, 220);
    assert.equal(s.fileno, fd);
    assert.deepEqual(await s.sendmail('a@example.com', 'b@example.com', 'Subject: over fd\r\n\r\nx\r\n'), {});
    s.disconnect(); // smtplib's close(): the library closes the descriptor
    assert.equal(s.isConnected, false);
    assert.equal(s.fileno, -1);
    assert.equal(s.connectFdSync(connectedFd(sink.host, sink.port)).code, 220);
    await s.quit();
    await assert.rejects(s.connectFd(-1), TypeError);
  } finally {
    s.close();
  }
});

test('trust stores: the system store (SSL_CERT_FILE), none but the CA given, none at all', async () => {
  const { ca } = tlsFiles();
  const saved = process.env.SSL_CERT_FILE;
  process.env.SSL_CERT_FILE = ca; // the library reads it when the system store is chosen
  let system;
  try {
    system = new smtp.TlsConfig({ roots: 'system', defaultRoots: false });
  } finally {
    if (saved === undefined) delete process.env.SSL_CERT_FILE; else process.env.SSL_CERT_FILE = saved;
  }
  assert.match(system.rootsInfo, /1 certificate|certificate/i);
  const s = new smtp.Session({ timeout: 10000, tls: system });
  try {
    await s.connect('localhost', starttls.port);
    assert.equal((await s.starttls()).code, 220);
    assert.equal(s.isEncrypted, true);
    assert.match(s.tlsVersion, /^TLSv1\.[23]$/);
    assert.equal(typeof s.tlsCipher, 'string');
    await s.ehlo();
    assert.deepEqual(await s.sendmail('a@example.com', 'b@example.com', 'Subject: tls\r\n\r\nx\r\n'), {});
    // Only the given CA: it verifies; the Mozilla roots alone do not know the test CA.
    // (EHLO again after each connect: the session keeps the last EHLO's answer, as smtplib does.)
    await s.connect('localhost', starttls.port);
    await s.ehlo();
    assert.equal((await s.starttls({ roots: 'none', caFile: ca })).code, 220);
    await s.connect('localhost', starttls.port);
    await s.ehlo();
    await assert.rejects(s.starttls({ roots: 'mozilla' }), smtp.SMTPTLSError);
  } finally {
    s.close();
    system.free();
  }
  assert.throws(() => new smtp.TlsConfig({ roots: 'none' }), smtp.SMTPTLSError); // no trust anchor at all
  assert.throws(() => new smtp.TlsConfig({ roots: 'everything' }), smtp.SMTPInvalidArgumentError);
});

test('the pipelining and chunking switches: the message arrives the same', async () => {
  for (const [pipelining, chunking] of [[false, false], [true, true], [false, true]]) {
    const s = new smtp.Session({ timeout: 10000, pipelining, chunking });
    try {
      await s.connect(sink.host, sink.port);
      const body = `Subject: switches ${pipelining} ${chunking}\r\n\r\n.dot\r\nx\r\n`;
      assert.deepEqual(await s.sendmail('a@example.com', ['b@example.com', 'c@example.com'], body), {});
      assert.equal(stored(sink, s.lastReply).bytes.toString(), body);
      s.setPipelining(!pipelining);
      s.setChunking(!chunking);
    } finally {
      s.close();
    }
  }
});
