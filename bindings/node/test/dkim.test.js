'use strict';
// DkimSigner: messages signed here, sent to tests/servers/sink.py and read
// back from its files verify with dkimpy, an independent verifier
// (tests/compose/dkim_verify.py, given the test keys' public records from
// tests/compose/keys/, made by OpenSSL); a changed message does not.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const smtp = require('..');
const { REPO, PYTHON, server, stored, tmpdir } = require('./helpers');

const KEYS = path.join(REPO, 'tests', 'compose', 'keys');
const pem = (key) => fs.readFileSync(path.join(KEYS, `${key}.pem`));
const record = (key) => fs.readFileSync(path.join(KEYS, `${key}.txt`), 'utf8').trim();

let sink;
let dir;
test.before(async () => {
  sink = await server('sink');
  dir = tmpdir('dkim');
});
test.after(async () => {
  if (sink) await sink.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function signer(key, options = {}) {
  return new smtp.DkimSigner({ key: pem(key), domain: 'example.com', selector: 'test', ...options });
}

/** `f(signer)`, the signer freed after. */
async function withSigner(key, options, f) {
  if (typeof options === 'function') return withSigner(key, {}, options);
  const d = signer(key, options);
  try {
    return await f(d);
  } finally {
    d.free();
  }
}

let files = 0;
/** dkimpy's verdict on `eml` with `key`'s public record: true for "pass", false for "fail: ...". */
function verifies(eml, key) {
  const file = path.join(dir, `m${files++}.eml`);
  fs.writeFileSync(file, eml);
  const r = spawnSync(PYTHON, [path.join(REPO, 'tests', 'compose', 'dkim_verify.py'), file, path.join(KEYS, `${key}.txt`)],
    { encoding: 'utf8', timeout: 30000 });
  const said = r.stdout.trim();
  assert.equal(r.status === 0, said === 'pass', `dkim_verify.py: ${said} ${r.stderr}`);
  return r.status === 0;
}

/** Python's email package's reading of `eml` (tests/compose/parse_message.py). */
function parsed(eml) {
  const file = path.join(dir, `p${files++}.eml`);
  fs.writeFileSync(file, eml);
  return JSON.parse(execFileSync(PYTHON, [path.join(REPO, 'tests', 'compose', 'parse_message.py'), file],
    { encoding: 'utf8', timeout: 30000 }));
}

/** `eml` with the first `from` replaced by `to` (it must be there). */
function tampered(eml, from, to) {
  const text = eml.toString('latin1');
  assert.ok(text.includes(from), `${from} in the message`);
  return Buffer.from(text.replace(from, to), 'latin1');
}

/** Send `msg` (as the caller would: sendmail, a Buffer going raw) and give what the sink stored. */
async function sendAndRead(msg, send = (s) => s.sendmail('alice@example.com', ['bob@example.org'], msg)) {
  const s = new smtp.Session('smtp', { timeout: 10000, localHostname: 'client.test' });
  try {
    await s.connect('127.0.0.1', sink.port);
    assert.deepEqual(await send(s), {});
    const { bytes } = stored(sink, s.lastReply);
    await s.quit();
    return bytes;
  } finally {
    s.close();
  }
}

const MULTIPART = [
  'From: Alice <alice@example.com>',
  'To: Bob <bob@example.org>',
  'Subject: signed with both parts',
  'Date: Mon, 01 Jan 2024 10:00:00 +0000',
  'Message-ID: <dkim-node-1@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hello Bob,',
  '.a line starting with a dot',
  '--b1',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Hello Bob,</p>',
  '--b1--',
  '',
].join('\r\n');

test('signed messages verify with dkimpy after the sink, for both algorithms; a change fails', async () => {
  for (const key of ['rsa2048', 'ed25519']) {
    await withSigner(key, async (d) => {
      const signed = d.sign(Buffer.from(MULTIPART));
      const alg = key === 'rsa2048' ? 'rsa-sha256' : 'ed25519-sha256';
      assert.ok(signed.toString().startsWith(`DKIM-Signature: v=1; a=${alg}; c=relaxed/relaxed; d=example.com;`),
        signed.toString().slice(0, 100));
      assert.ok(signed.subarray(signed.length - MULTIPART.length).equals(Buffer.from(MULTIPART)), 'the message follows');
      const eml = await sendAndRead(signed);
      assert.ok(verifies(eml, key), key);
      assert.ok(!verifies(tampered(eml, 'Hello Bob', 'Hello Rob'), key), `${key}: body changed`);
      assert.ok(!verifies(tampered(eml, 'Subject: signed', 'Subject: Re: signed'), key), `${key}: subject changed`);
      const p = parsed(eml);
      assert.equal(p.subject, 'signed with both parts');
      // The CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1).
      assert.equal(p.text, 'Hello Bob,\n.a line starting with a dot');
      assert.equal(p.html, '<p>Hello Bob,</p>');
      assert.deepEqual(p.defects, []);
    });
  }
});

test('a string with LF line ends comes back with CRLFs and verifies however it is sent', async () => {
  await withSigner('ed25519', { canonicalization: 'simple/simple' }, async (d) => {
    const raw = 'From: alice@example.com\nTo: bob@example.org\nSubject: lf\n\nLF line ends,\rand a lone CR.\n';
    const signed = d.sign(raw);
    assert.ok(Buffer.isBuffer(signed));
    assert.ok(signed.toString().includes('c=simple/simple;'));
    const crlf = raw.replace(/\r|\n/g, '\r\n');
    assert.ok(signed.toString().endsWith(crlf), JSON.stringify(signed.toString()));
    assert.equal(signed.toString('latin1').replace(/\r\n/g, '').search(/[\r\n]/), -1, 'no lone CR or LF');
    // A Buffer goes raw by default; as given it is already CRLF.
    let eml = await sendAndRead(signed);
    assert.ok(verifies(eml, 'ed25519'));
    assert.ok(!verifies(tampered(eml, 'lone CR', 'lone  CR'), 'ed25519'), 'simple body: a space counts');
    // The field alone, before the untouched string sent normalized (smtplib's str path).
    const field = d.signatureField(raw);
    assert.match(field, /^DKIM-Signature: .*\r\n$/s);
    eml = await sendAndRead(null, (s) => s.sendmail('alice@example.com', 'bob@example.org', field + raw));
    assert.ok(verifies(eml, 'ed25519'));
  });
});

test('sendMessage drops Bcc, which is not signed: the message still verifies', async () => {
  await withSigner('rsa2048', { canonicalization: ['relaxed', 'simple'] }, async (d) => {
    const signed = d.sign('From: alice@example.com\r\nTo: bob@example.org\r\nBcc: carol@example.net\r\n' +
      'Subject: bcc\r\n\r\nHidden copy.\r\n');
    assert.ok(signed.toString().includes('c=relaxed/simple;'));
    assert.doesNotMatch(/ h=([^;]*);/.exec(signed.toString().replace(/\r\n[ \t]/g, ' '))[1], /bcc/i);
    const eml = await sendAndRead(null, (s) => s.sendMessage(signed));
    assert.doesNotMatch(eml.toString(), /^Bcc:/im);
    assert.ok(verifies(eml, 'rsa2048'));
  });
});

test('headers: the fields named are signed (From always), the others may change', async () => {
  await withSigner('ed25519', { headers: ['Subject', 'X-Signed'] }, async (d) => {
    const signed = d.sign('From: a@example.com\r\nSubject: s\r\nX-Signed: 1\r\nX-Free: 1\r\n\r\nbody\r\n');
    assert.match(signed.toString().replace(/\r\n[ \t]/g, ' '), / h=from:subject:x-signed;/);
    const eml = await sendAndRead(signed);
    assert.ok(verifies(eml, 'ed25519'));
    assert.ok(verifies(tampered(eml, 'X-Free: 1', 'X-Free: 2'), 'ed25519'), 'an unsigned field');
    assert.ok(!verifies(tampered(eml, 'X-Signed: 1', 'X-Signed: 2'), 'ed25519'), 'a signed field');
  });
});

test('signAsync signs on a worker: the same signature, queued, and the signer busy meanwhile', async () => {
  await withSigner('rsa2048', async (d) => {
    const msg = `From: alice@example.com\r\nTo: bob@example.org\r\nSubject: async\r\n\r\n${'x'.repeat(70).concat('\r\n').repeat(2000)}`;
    const pending = [d.signAsync(msg), d.signAsync(Buffer.from(msg)), d.signAsync(new Uint8Array(Buffer.from(msg)))];
    assert.throws(() => d.sign(msg), { name: 'SMTPStateError', code: 'SMTP_ERR_BAD_STATE' });
    assert.throws(() => d.dnsRecord(), { name: 'SMTPStateError' });
    const signed = await Promise.all(pending);
    // rsa-sha256 is deterministic (PKCS#1 v1.5) and t= is in seconds: the
    // same message signed in the same second has the same field.
    const sameSecond = signed.map((b) => / t=(\d+);/.exec(b.toString())[1]);
    if (new Set(sameSecond).size === 1) assert.ok(signed[0].equals(signed[1]) && signed[1].equals(signed[2]));
    assert.ok(verifies(await sendAndRead(signed[2]), 'rsa2048'));
    assert.equal(d.dnsRecord(), record('rsa2048'), 'usable again once settled');
    await assert.rejects(d.signAsync(42), { name: 'TypeError' });
  });
});

test('free() while a sign runs frees the signer once it settled; later calls throw', async () => {
  const d = signer('ed25519');
  const p = d.signAsync('From: a@example.com\r\n\r\nx\r\n');
  d.free();
  assert.equal(d.freed, true);
  assert.ok((await p).toString().startsWith('DKIM-Signature: '), 'the running sign completes');
  assert.throws(() => d.sign('x'), { name: 'SMTPStateError', message: /freed/ });
  await assert.rejects(d.signAsync('x'), { name: 'SMTPStateError' });
  d.free(); // idempotent
  if (typeof Symbol.dispose === 'symbol') {
    const e = signer('ed25519');
    e[Symbol.dispose]();
    assert.equal(e.freed, true);
  }
});

test('dnsRecord() gives the record OpenSSL made for each test key', () => {
  for (const key of ['rsa2048', 'ed25519']) {
    const d = new smtp.DkimSigner({ key: pem(key).toString(), domain: 'example.com', selector: 'test' });
    assert.equal(d.dnsRecord(), record(key));
    assert.equal(d.domain, 'example.com');
    assert.equal(d.selector, 'test');
    d.free();
  }
});

test('bad settings are refused with SMTPInvalidArgumentError and a message, never the key', () => {
  const key = pem('ed25519');
  // The error may come when the first signature is made: the library
  // checks the domain's characters there (smtp_dkim_set_domain() only
  // converts an IDN).
  const bad = (options, message) => assert.throws(() => new smtp.DkimSigner({
    key, domain: 'example.com', selector: 'test', ...options,
  }).signatureField('From: a@example.com\r\n\r\nx\r\n'), (e) => {
    assert.equal(e.name, 'SMTPInvalidArgumentError', e.message);
    assert.equal(e.code, 'SMTP_ERR_INVALID_ARGUMENT');
    assert.match(e.message, message);
    assert.ok(!e.message.includes('PRIVATE KEY') && !e.message.includes(key.toString().split('\n')[1]), e.message);
    return true;
  });
  bad({ key: 'not a key' }, /no private key/);
  bad({ key: key.toString().replace(/\n[A-Za-z0-9+/=]+\n/, '\nAAAA\n') }, /key/);
  bad({ key: null }, /no key/);
  bad({ selector: 'te\r\nst' }, /selector/);
  bad({ selector: '' }, /selector/);
  bad({ domain: 'exa\0mple.com' }, /NUL/);
  bad({ domain: 'ex ample.com' }, /domain/);
  bad({ headers: ['Subject', 'Bad:Name'] }, /Bad:Name|header/i);
  bad({ canonicalization: 'relaxed/strict' }, /strict/);
  bad({ canonicalization: 'relaxed/simple/x' }, /header\/body/);
  assert.throws(() => new smtp.DkimSigner({ key, domain: 'example.com' }), { name: 'TypeError' });
  assert.throws(() => new smtp.DkimSigner(), { name: 'TypeError' });
  assert.throws(() => new smtp.DkimSigner({ key: 42, domain: 'example.com', selector: 's' }), { name: 'TypeError' });
});

test('an RSA key under 2048 bits is refused', () => {
  // Made by the venv's cryptography (trustme's dependency), PKCS#8.
  const short = execFileSync(PYTHON, ['-c', [
    'import sys',
    'from cryptography.hazmat.primitives import serialization as s',
    'from cryptography.hazmat.primitives.asymmetric import rsa',
    'k = rsa.generate_private_key(public_exponent=65537, key_size=1024)',
    'sys.stdout.buffer.write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))',
  ].join('\n')], { timeout: 30000 });
  assert.match(short.toString(), /BEGIN PRIVATE KEY/);
  assert.throws(() => new smtp.DkimSigner({ key: short, domain: 'example.com', selector: 's' }),
    { name: 'SMTPInvalidArgumentError', message: /RSA key \(TooSmall\)/ });
});

test('one name is the header canonicalization, the body\'s being simple (the c= tag, RFC 6376 3.5)', async () => {
  await withSigner('ed25519', { canonicalization: 'relaxed' }, async (d) => {
    assert.match(d.sign('From: a@example.com\r\n\r\nx\r\n').toString(), /c=relaxed\/simple;/);
  });
});
