'use strict';
// login() and auth() with a JS authobject against tests/servers/auth_server.py
// (PLAIN/LOGIN alice/s3cret; X-TOKEN: challenge "token?", answer "open sesame").

const test = require('node:test');
const assert = require('node:assert/strict');
const koffi = require('koffi');
const smtp = require('..');
const helpers = require('./helpers');

let server;

test.before(async () => { server = await helpers.server('auth'); });
test.after(async () => { if (server) await server.stop(); });

function session(options = {}) {
  const s = new smtp.Session('smtp', { timeout: 10000, ...options });
  s.connectSync('127.0.0.1', server.port);
  s.ehloSync();
  return s;
}

/** The X-TOKEN authobject: no initial response, then the token. */
function xToken(token, seen = []) {
  return (challenge) => {
    seen.push(challenge === null ? null : Buffer.from(challenge));
    return challenge === null ? null : token;
  };
}

test('login with PLAIN, LOGIN and the default order', () => {
  for (const mechanisms of [null, 'PLAIN', ['LOGIN']]) {
    const s = session();
    try {
      if (mechanisms) s.setAuthMechanisms(mechanisms);
      assert.deepEqual(s.loginSync('alice', 's3cret'), { code: 235, message: '2.7.0 Authentication successful' });
      assert.deepEqual(s.sendmailSync('alice@example.com', 'bob@example.com', 'x\r\n'), {});
    } finally {
      s.close();
    }
  }
  const s = session();
  try {
    assert.equal(s.loginSync('alice', 's3cret', { initialResponseOk: false }).code, 235);
  } finally {
    s.close();
  }
});

test('a wrong password throws SMTPAuthenticationError with the reply', () => {
  const s = session();
  try {
    assert.throws(() => s.loginSync('alice', 'wrong'), (e) => {
      assert.ok(e instanceof smtp.SMTPAuthenticationError);
      assert.ok(e instanceof smtp.SMTPResponseException);
      assert.equal(e.code, 'SMTP_ERR_AUTH');
      assert.equal(e.result, 24);
      assert.equal(e.smtpCode, 535);
      assert.match(e.smtpMessage, /credentials invalid/);
      assert.match(e.message, /535/);
      return true;
    });
    assert.equal(s.noopSync().code, 250);
    assert.equal(s.authBuiltinSync('PLAIN', 'alice', 's3cret').code, 235);
  } finally {
    s.close();
  }
});

test('a custom mechanism (X-TOKEN) through a JS authobject', () => {
  const s = session();
  try {
    assert.equal(s.hasExtn('auth'), true);
    assert.match(s.features().auth, /X-TOKEN/);
    const seen = [];
    assert.deepEqual(s.authSync('X-TOKEN', xToken('open sesame', seen)), { code: 235, message: '2.7.0 Authentication successful' });
    assert.deepEqual(seen, [null, Buffer.from('token?')]);
    // A Buffer answer works too, and the wrong token is refused.
    const s2 = session();
    try {
      assert.equal(s2.authSync('X-TOKEN', (c) => (c === null ? null : Buffer.from('open sesame'))).code, 235);
    } finally {
      s2.close();
    }
    const s3 = session();
    try {
      assert.throws(() => s3.authSync('X-TOKEN', xToken('open barley')), { name: 'SMTPAuthenticationError', smtpCode: 535 });
    } finally {
      s3.close();
    }
  } finally {
    s.close();
  }
});

test('PLAIN through the authobject, with and without an initial response', () => {
  const plain = (c) => '\0alice\0s3cret';
  for (const initialResponseOk of [true, false]) {
    const s = session();
    try {
      const seen = [];
      const r = s.authSync('PLAIN', (c) => { seen.push(c); return plain(c); }, { initialResponseOk });
      assert.equal(r.code, 235);
      assert.deepEqual(seen, initialResponseOk ? [null] : [Buffer.alloc(0)]);
    } finally {
      s.close();
    }
  }
});

test('a throwing authobject: the exchange is cancelled, the error re-thrown, the session usable', () => {
  const s = session();
  try {
    const boom = new RangeError('boom at the challenge');
    assert.throws(() => s.authSync('X-TOKEN', (c) => { if (c !== null) throw boom; return null; }), (e) => e === boom);
    // The library sent "*" and read the server's reply: still in step.
    assert.equal(s.lastReply.code, 501);
    assert.match(s.errmsg, /aborted/);
    assert.deepEqual(s.noopSync(), { code: 250, message: 'OK' });

    const early = new Error('boom before AUTH');
    assert.throws(() => s.authSync('X-TOKEN', () => { throw early; }), (e) => e === early);
    assert.equal(s.noopSync().code, 250);

    // Whatever is thrown comes back as it was, even a non-Error.
    assert.throws(() => s.authSync('X-TOKEN', (c) => { if (c) throw 'a string'; return null; }), (e) => e === 'a string');
    assert.throws(() => s.authSync('X-TOKEN', (c) => (c ? 42 : null)), TypeError);
    assert.throws(() => s.authSync('X-TOKEN', (c) => undefined), /no response to a challenge/);

    // A call into the same session from inside the authobject is refused.
    assert.throws(() => s.authSync('X-TOKEN', (c) => { s.noopSync(); return null; }), smtp.SMTPStateError);
    assert.throws(() => s.authSync('X-TOKEN', (c) => { s.close(); return null; }), smtp.SMTPStateError);
    assert.equal(s.closed, false);

    assert.equal(s.noopSync().code, 250);
    assert.equal(s.authSync('X-TOKEN', xToken('open sesame')).code, 235);
  } finally {
    s.close();
  }
});

test('a response larger than the library\'s first buffer is sent whole, the authobject called once', () => {
  const lines = [];
  const s = session({ debugLevel: 1, trace: (dir, line) => lines.push([dir, line]) });
  try {
    s.setDebugSecrets(true);
    const big = 'x'.repeat(5000);
    let calls = 0;
    // aiosmtpd refuses so long a line (500) after reading it whole.
    assert.throws(() => s.authSync('X-TOKEN', (c) => { calls++; return c === null ? null : big; }),
      (e) => e instanceof smtp.SMTPAuthenticationError && [500, 535].includes(e.smtpCode));
    assert.equal(calls, 2);
    const b64 = Buffer.from(big).toString('base64');
    assert.ok(lines.some(([dir, line]) => dir === 'send' && line.includes(b64)), 'the whole response was sent');
    assert.equal(s.noopSync().code, 250);
  } finally {
    s.close();
  }
});

test('no callback slot leaks, whatever the outcome', () => {
  const before = koffi.stats().callbacks;
  const s = session();
  try {
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) assert.throws(() => s.authSync('X-TOKEN', () => { throw new Error('x'); }));
      else if (i % 3 === 1) assert.throws(() => s.authSync('X-TOKEN', xToken('wrong')), smtp.SMTPAuthenticationError);
      else assert.throws(() => s.authSync('X-TOKEN\r\n', xToken('x')), smtp.SMTPInvalidArgumentError);
    }
    assert.equal(koffi.stats().callbacks, before);
    assert.equal(s.authSync('X-TOKEN', xToken('open sesame')).code, 235);
    assert.equal(koffi.stats().callbacks, before);
  } finally {
    s.close();
  }
});

test('requireTls refuses login in clear, before anything is sent', () => {
  const lines = [];
  const s = session({ requireTls: true, debugLevel: 1, trace: (dir, line) => lines.push(dir) });
  try {
    lines.length = 0;
    assert.throws(() => s.loginSync('alice', 's3cret'), { name: 'SMTPNotEncryptedError', code: 'SMTP_ERR_NOT_ENCRYPTED', smtpCode: null });
    assert.throws(() => s.authSync('X-TOKEN', xToken('open sesame')), smtp.SMTPNotEncryptedError);
    assert.throws(() => s.sendmailSync('a@example.com', 'b@example.com', 'x'), smtp.SMTPNotEncryptedError);
    assert.deepEqual(lines.filter((d) => d === 'send'), []);
  } finally {
    s.close();
  }
});
