'use strict';
// STARTTLS and implicit TLS against tests/servers/tls_server.py with a
// trustme test CA.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const smtp = require('..');
const { server, tlsFiles, otherCa, stored } = require('./helpers');

let certs;
let starttlsServer;
let implicitServer;

test.before(async () => {
  certs = { ...tlsFiles(), otherCa: otherCa() };
  [starttlsServer, implicitServer] = await Promise.all([server('starttls'), server('implicit')]);
});
test.after(async () => {
  await Promise.all([starttlsServer && starttlsServer.stop(), implicitServer && implicitServer.stop()]);
});

test('STARTTLS with a TlsConfig trusting the test CA, then a message', () => {
  const config = new smtp.TlsConfig({ caFile: certs.ca, defaultRoots: false });
  const s = new smtp.Session('smtp', { timeout: 10000, tls: config, requireTls: true });
  config.free(); // the session keeps its own reference
  config.free();
  try {
    s.connectSync('localhost', starttlsServer.port);
    s.ehloSync();
    assert.equal(s.hasExtn('starttls'), true);
    assert.throws(() => s.sendmailSync('a@example.com', 'b@example.com', 'x'), smtp.SMTPNotEncryptedError);
    assert.equal(s.starttlsSync().code, 220);
    assert.equal(s.isEncrypted, true);
    assert.match(s.tlsVersion, /^TLSv1\.[23]$/);
    assert.ok(s.tlsCipher);
    assert.equal(s.ehloResp, null, 'what EHLO said in clear is forgotten');
    s.ehloSync();
    const msg = Buffer.from('Subject: tls\r\n\r\nOnly the server can read this.\r\n');
    assert.deepEqual(s.sendmailSync('alice@example.com', 'bob@example.com', msg), {});
    assert.ok(stored(starttlsServer, s.lastReply).bytes.equals(msg));
    s.quitSync();
  } finally {
    s.close();
  }
});

test('implicit TLS (smtp_ssl) with the options given to starttls-less sessions', () => {
  const s = new smtp.Session('smtp_ssl', { timeout: 10000, tls: { caFile: [certs.ca] } });
  try {
    assert.equal(s.connectSync('127.0.0.1', implicitServer.port).code, 220);
    assert.equal(s.isEncrypted, true);
    assert.deepEqual(s.sendmailSync('a@example.com', ['b@example.com', 'refuse@example.com'], 'x\r\n'),
      { 'refuse@example.com': { code: 550, message: '5.1.1 <refuse@example.com>: Recipient address rejected' } });
  } finally {
    s.close();
  }
});

test('an unknown CA fails the handshake with SMTPTLSError; starttls takes per-call options', () => {
  const s = new smtp.Session('smtp', { timeout: 10000 });
  try {
    s.connectSync('localhost', starttlsServer.port);
    assert.throws(() => s.starttlsSync({ caFile: certs.otherCa, defaultRoots: false }), (e) => {
      assert.ok(e instanceof smtp.SMTPTLSError);
      assert.ok(e instanceof smtp.SMTPOSError);
      assert.equal(e.code, 'SMTP_ERR_TLS');
      assert.match(e.message, /issuer|certificate/i);
      return true;
    });
    assert.equal(s.isConnected, false);
    // A wrong name is refused too; the right CA and name work.
    s.connectSync('localhost', starttlsServer.port);
    assert.throws(() => s.starttlsSync({ caFile: certs.ca, serverName: 'mail.example.org' }), smtp.SMTPTLSError);
    s.connectSync('localhost', starttlsServer.port);
    assert.equal(s.starttlsSync({ caFile: certs.ca }).code, 220);
  } finally {
    s.close();
  }
  assert.throws(() => new smtp.TlsConfig({ caFile: '/nonexistent/ca.pem' }), smtp.SMTPTLSError);
  assert.throws(() => new smtp.TlsConfig({ serverName: 'not a name' }), smtp.SMTPInvalidArgumentError);
  const freed = new smtp.TlsConfig({});
  freed.free();
  assert.throws(() => new smtp.Session('smtp', { tls: freed }), smtp.SMTPStateError);
});
