'use strict';
// Errors without a server, the session's life cycle and library loading.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const koffi = require('koffi');
const smtp = require('..');
const { closedPort } = require('./helpers');

const INDEX = path.resolve(__dirname, '..', 'index.js');

test('a closed port throws SMTPConnectionError', async () => {
  const port = await closedPort();
  const s = new smtp.Session('smtp', { timeout: 5000 });
  try {
    assert.throws(() => s.connectSync('127.0.0.1', port), (e) => {
      assert.ok(e instanceof smtp.SMTPConnectionError);
      assert.ok(e instanceof smtp.SMTPOSError);
      assert.ok(e instanceof smtp.SMTPException);
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'SMTPConnectionError');
      assert.equal(e.code, 'SMTP_ERR_CONNECT');
      assert.equal(e.result, 10);
      assert.equal(e.smtpCode, null);
      assert.equal(e.smtpMessage, null);
      assert.match(e.message, new RegExp(String(port)));
      assert.match(String(e.stack), /SMTPConnectionError/);
      return true;
    });
    assert.equal(s.isConnected, false);
    assert.throws(() => s.openSync(`127.0.0.1:${port}`), smtp.SMTPConnectionError);
  } finally {
    s.close();
  }
});

test('commands before connect throw SMTPServerDisconnected', () => {
  const s = new smtp.Session();
  try {
    assert.throws(() => s.noopSync(), { name: 'SMTPServerDisconnected', code: 'SMTP_ERR_SERVER_DISCONNECTED', result: 14 });
    assert.throws(() => s.sendmailSync('a@example.com', 'b@example.com', 'x'), smtp.SMTPServerDisconnected);
    assert.throws(() => s.loginSync('a', 'b'), smtp.SMTPServerDisconnected);
  } finally {
    s.close();
  }
});

test('use after close throws; close() is idempotent', () => {
  const s = new smtp.Session('lmtp');
  assert.equal(s.kind, 'lmtp');
  assert.equal(s.closed, false);
  s.close();
  assert.equal(s.closed, true);
  s.close();
  s.close();
  for (const call of [
    () => s.noopSync(), () => s.connectSync('127.0.0.1', 25), () => s.sendmailSync('a@b', 'c@d', 'x'),
    () => s.authSync('X-TOKEN', () => null), () => s.features(), () => s.lastReply, () => s.isConnected,
    () => s.setDebugLevel(1), () => s.setTrace(() => {}), () => s.quitSync(),
  ]) {
    assert.throws(call, (e) => e instanceof smtp.SMTPStateError && e.code === 'SMTP_ERR_BAD_STATE' &&
      e.result === 3 && /closed/.test(e.message));
  }
});

test('kinds and options', () => {
  for (const [kind, name] of [['smtp', 'smtp'], ['SMTP_SSL', 'smtp_ssl'], ['smtps', 'smtp_ssl'], [2, 'lmtp']]) {
    const s = new smtp.Session(kind);
    assert.equal(s.kind, name);
    s.close();
  }
  const s = new smtp.Session({
    localHostname: 'client.example', timeout: 1234, timeouts: { reply: 5678 }, sourceAddress: ['127.0.0.1', 0],
    requireTls: false, trustLoopback: true, authMechanisms: 'PLAIN LOGIN', debugLevel: 0,
  });
  try {
    assert.equal(s.kind, 'smtp');
    // timeout is every per-wait limit (`all`); timeouts refine it.
    assert.deepEqual(s.getTimeouts(), {
      connect: 1234, io: 1234, reply: 5678, greeting: 1234, mail: 1234, rcpt: 1234, data: 1234,
      dataBlock: 1234, finalDot: 1234, call: 0, all: 5678,
    });
    s.setSourceAddress(null);
    s.setSourceAddress({ host: '127.0.0.1' });
    s.setSourceAddress('127.0.0.1');
    assert.throws(() => s.setAuthMechanisms('NOPE'), smtp.SMTPInvalidArgumentError);
  } finally {
    s.close();
  }
  // A bad option frees the half-made session (nothing to leak) and throws.
  assert.throws(() => new smtp.Session('smtp', { localHostname: '' }), smtp.SMTPInvalidArgumentError);
});

test('every result code maps to its class', () => {
  const expected = {
    SMTP_ERR_NULL_ARGUMENT: 'SMTPInvalidArgumentError',
    SMTP_ERR_INVALID_ARGUMENT: 'SMTPInvalidArgumentError',
    SMTP_ERR_BAD_STATE: 'SMTPStateError',
    SMTP_ERR_PANIC: 'SMTPStateError',
    SMTP_ERR_CONNECT: 'SMTPConnectionError',
    SMTP_ERR_TIMEOUT: 'SMTPTimeoutError',
    SMTP_ERR_IO: 'SMTPOSError',
    SMTP_ERR_TLS: 'SMTPTLSError',
    SMTP_ERR_SERVER_DISCONNECTED: 'SMTPServerDisconnected',
    SMTP_ERR_NOT_ENCRYPTED: 'SMTPNotEncryptedError',
    SMTP_ERR_CANCELLED: 'SMTPCancelledError',
    SMTP_ERR_OUTCOME_UNKNOWN: 'SMTPOutcomeUnknownError',
    SMTP_ERR_RESPONSE: 'SMTPResponseException',
    SMTP_ERR_CONNECT_REPLY: 'SMTPConnectError',
    SMTP_ERR_HELO: 'SMTPHeloError',
    SMTP_ERR_NOT_SUPPORTED: 'SMTPNotSupportedError',
    SMTP_ERR_AUTH: 'SMTPAuthenticationError',
    SMTP_ERR_AUTH_ABORTED: 'SMTPAuthAbortedError',
    SMTP_ERR_SENDER_REFUSED: 'SMTPSenderRefused',
    SMTP_ERR_RECIPIENTS_REFUSED: 'SMTPRecipientsRefused',
    SMTP_ERR_DATA: 'SMTPDataError',
    SMTP_ERR_SMTP: 'SMTPException',
    SMTP_ERR_TOO_LARGE: 'SMTPMessageTooLargeError',
  };
  assert.deepEqual(Object.keys(smtp.RESULT).filter((n) => n !== 'SMTP_OK').sort(), Object.keys(expected).sort());
  for (const [name, cls] of Object.entries(expected)) {
    assert.ok(smtp[cls], cls);
    assert.ok(new smtp[cls]('x') instanceof smtp.SMTPException);
    // The library knows every code the binding names.
    assert.notEqual(smtp.resultString(smtp.RESULT[name]), 'unknown result code', name);
  }
  for (const cls of ['SMTPConnectionError', 'SMTPTimeoutError', 'SMTPCancelledError', 'SMTPTLSError']) {
    assert.ok(new smtp[cls]('x') instanceof smtp.SMTPOSError, cls);
  }
  for (const cls of ['SMTPSenderRefused', 'SMTPDataError', 'SMTPConnectError', 'SMTPHeloError', 'SMTPAuthenticationError']) {
    assert.ok(new smtp[cls]('x') instanceof smtp.SMTPResponseException, cls);
  }
  assert.deepEqual(new smtp.SMTPRecipientsRefused('x').recipients, {});
});

test('the result table comes from the library', () => {
  // RESULT and RESULT_NAMES are each other's inverse, SMTP_OK is 0, and the
  // numbers are the header's (a few pinned here: they are ABI).
  for (const [name, code] of Object.entries(smtp.RESULT)) assert.equal(smtp.RESULT_NAMES[code], name);
  assert.equal(Object.keys(smtp.RESULT_NAMES).length, Object.keys(smtp.RESULT).length);
  assert.equal(smtp.RESULT.SMTP_OK, 0);
  assert.equal(smtp.RESULT.SMTP_ERR_TIMEOUT, 11);
  assert.equal(smtp.RESULT.SMTP_ERR_TOO_LARGE, 30);
  // Which errors carry a reply is the library's answer (smtp_result_has_reply).
  const withReply = Object.keys(smtp.RESULT).filter((n) => smtp.resultHasReply(smtp.RESULT[n])).sort();
  assert.deepEqual(withReply, ['SMTP_ERR_AUTH', 'SMTP_ERR_AUTH_ABORTED', 'SMTP_ERR_CONNECT_REPLY', 'SMTP_ERR_DATA',
    'SMTP_ERR_HELO', 'SMTP_ERR_RECIPIENTS_REFUSED', 'SMTP_ERR_RESPONSE', 'SMTP_ERR_SENDER_REFUSED']);
  assert.equal(smtp.resultHasReply(1000), false);
});

test('the library is found (after a bundled copy, see dist.sh) through LIBSMTP_PATH, pkg-config, the SONAME', () => {
  const run = (env, loadIt = true) => execFileSync(process.execPath, ['-e',
    `const m = require(${JSON.stringify(INDEX)}); const c = m.libraryCandidates();
     console.log(JSON.stringify(${loadIt} ? [c, m.libraryPath(), m.libraryVersion()] : [c]))`],
  { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const here = smtp.libraryPath();
  assert.match(smtp.libraryVersion(), /^\d+\.\d+\.\d+$/);
  if (!process.env.LIBSMTP_PATH) {
    // test.sh sets PKG_CONFIG_PATH only: the library came through pkg-config.
    const libdir = execFileSync('pkg-config', ['--variable=libdir', 'smtp'], { encoding: 'utf8' }).trim();
    assert.equal(here, path.join(libdir, 'libsmtp.so'));
    const [candidates] = JSON.parse(run({}, false));
    assert.deepEqual(candidates, [here, 'libsmtp.so.0']);
    // Without pkg-config's answer only the SONAME is left.
    const [fallback] = JSON.parse(run({ PKG_CONFIG_PATH: '/nonexistent', PKG_CONFIG_LIBDIR: '/nonexistent' }, false));
    assert.deepEqual(fallback, ['libsmtp.so.0']);
  }
  const [candidates, loaded, version] = JSON.parse(run({ LIBSMTP_PATH: here }));
  assert.equal(candidates[0], here);
  assert.equal(candidates[candidates.length - 1], 'libsmtp.so.0');
  assert.equal(loaded, here);
  assert.equal(version, smtp.libraryVersion());
  // A LIBSMTP_PATH that cannot be loaded is passed over for the next candidate.
  const [, next] = JSON.parse(run({ LIBSMTP_PATH: '/nonexistent/libsmtp.so' }));
  assert.equal(next, process.env.LIBSMTP_PATH ? 'libsmtp.so.0' : here);
  const nothing = { LIBSMTP_PATH: '/nonexistent/libsmtp.so', PKG_CONFIG_PATH: '/nonexistent', PKG_CONFIG_LIBDIR: '/nonexistent', LD_LIBRARY_PATH: '' };
  assert.throws(() => run(nothing), /cannot load the library[^]*nonexistent/);
});

test('sessions dropped without close() are freed by the GC, with their trace callbacks', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', `
    const koffi = require('koffi');
    const { Session } = require(${JSON.stringify(INDEX)});
    const before = koffi.stats().callbacks;
    (function () { for (let i = 0; i < 200; i++) new Session('smtp').setTrace(() => {}); })();
    const made = koffi.stats().callbacks - before;
    (async () => {
      for (let i = 0; i < 50 && koffi.stats().callbacks > before; i++) {
        global.gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      console.log(JSON.stringify({ made, left: koffi.stats().callbacks - before }));
    })();
  `], { encoding: 'utf8', env: process.env });
  assert.deepEqual(JSON.parse(out), { made: 200, left: 0 });
  // close() releases the trace callback at once.
  const before = koffi.stats().callbacks;
  const s = new smtp.Session('smtp', { trace: () => {} });
  assert.equal(koffi.stats().callbacks, before + 1);
  s.setTrace(() => {});
  assert.equal(koffi.stats().callbacks, before + 1);
  s.setTrace(null);
  assert.equal(koffi.stats().callbacks, before);
  s.setTrace(() => {});
  s.close();
  assert.equal(koffi.stats().callbacks, before);
});

test('sessions work in a worker thread', async () => {
  const { Worker } = require('node:worker_threads');
  const port = await closedPort();
  const w = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const { Session } = require(workerData.index);
    const s = new Session('smtp', { timeout: 5000 });
    try { s.connectSync('127.0.0.1', workerData.port); } catch (e) { parentPort.postMessage([e.name, e.code]); }
    s.close();
  `, { eval: true, workerData: { index: INDEX, port } });
  const [msg] = await Promise.all([
    new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }),
    new Promise((resolve) => w.once('exit', resolve)),
  ]);
  assert.deepEqual(msg, ['SMTPConnectionError', 'SMTP_ERR_CONNECT']);
  assert.ok(koffi);
});
