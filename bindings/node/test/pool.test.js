'use strict';
// sendmailBatch() on a session, and Pool: many calls at once over shared
// connections, its options and counters, login and a JS authobject for
// each new connection, a caller's own session, cancel.

const test = require('node:test');
const assert = require('node:assert/strict');
const smtp = require('..');
const fs = require('node:fs');
const path = require('node:path');
const { server } = require('./helpers');

let sink;
let auth;
let slow;

test.before(async () => { [sink, auth, slow] = await Promise.all([server('sink'), server('auth'), server('slow')]); });
test.after(async () => { await Promise.all([sink, auth, slow].map((s) => s && s.stop())); });

const msg = (subject) => `Subject: ${subject}\r\n\r\nbody of ${subject}\r\n`;

test('sendmailBatch: one result per message, refused recipients, sync and async', async () => {
  const s = new smtp.Session({ timeout: 10000 });
  try {
    await s.connect(sink.host, sink.port);
    const results = await s.sendmailBatch([
      { from: 'a@example.com', to: ['b@example.com'], msg: msg('batch 1') },
      { from: 'a@example.com', to: ['refuse@example.com'], msg: msg('batch 2') },
      { from: 'a@example.com', to: ['c@example.com', 'refuse-too@example.com'], msg: Buffer.from(msg('batch 3')) },
    ]);
    assert.deepEqual(results.map((r) => [r.ok, r.refusedCount, r.rcptCodes]),
      [[true, 0, [250]], [false, 1, [550]], [true, 1, [250, 550]]]);
    assert.ok(results[1].error instanceof smtp.SMTPRecipientsRefused);
    assert.equal(results[1].refused['refuse@example.com'].code, 550);
    assert.equal(results[2].refused['refuse-too@example.com'].message, '5.1.1 <refuse-too@example.com>: Recipient address rejected');
    // The per-recipient details are the last message's.
    assert.deepEqual(s.rcptResults().map((r) => [r.addr, r.finalCode]), [['c@example.com', 250], ['refuse-too@example.com', 550]]);
    const sync = s.sendmailBatchSync([{ from: 'a@example.com', to: 'd@example.com', msg: msg('batch sync') }]);
    assert.equal(sync[0].ok, true);
    // Bad arguments: nothing sent, the promise rejects.
    await assert.rejects(s.sendmailBatch([{ from: 'a@example.com', to: 'b@example.com', msg: 42 }]), TypeError);
    await assert.rejects(s.sendmailBatch([{ from: 'a@example.com\0', to: 'b@example.com', msg: 'x' }]),
      smtp.SMTPInvalidArgumentError);
    // A CR or LF in an address is that message's error (the library's check).
    const [crlf] = await s.sendmailBatch([{ from: 'a@example.com\r\n', to: 'b@example.com', msg: 'x' }]);
    assert.ok(crlf.error instanceof smtp.SMTPInvalidArgumentError, String(crlf.error));
    assert.deepEqual(await s.sendmailBatch([]), []);
  } finally {
    s.close();
  }
});

test('a pool: ten messages at once over at most two connections; its counters', async () => {
  const pool = new smtp.Pool(sink.host, sink.port, { maxConnections: 2, timeout: 10000, maxMessages: 100 });
  try {
    const refused = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      pool.sendmail('a@example.com', ['b@example.com', 'refuse@example.com'], msg(`pool ${i}`))));
    for (const r of refused) assert.deepEqual(Object.keys(r), ['refuse@example.com']);
    const stats = pool.stats();
    assert.equal(stats.sent, 10);
    assert.ok(stats.opened >= 1 && stats.opened <= 2, JSON.stringify(stats));
    assert.ok(stats.open <= 2);
    assert.equal(pool.stat('unknown'), 0);
    assert.deepEqual(await pool.sendMessage('From: x@example.com\r\nTo: y@example.com\r\n\r\nm\r\n'), {});
    assert.deepEqual(pool.sendmailSync('a@example.com', 'b@example.com', msg('pool sync')), {});
    assert.deepEqual(pool.sendMessageSync(msg('pool sync 2'), 'a@example.com', ['b@example.com']), {});
    const batch = await pool.sendmailBatch([
      { from: 'a@example.com', to: 'b@example.com', msg: msg('pool batch 1') },
      { from: 'a@example.com', to: 'c@example.com', msg: msg('pool batch 2') },
    ]);
    assert.deepEqual(batch.map((b) => b.ok), [true, true]);
    assert.equal(pool.sendmailBatchSync([{ from: 'a@example.com', to: 'b@example.com', msg: 'x\r\n' }])[0].ok, true);
    assert.equal(pool.stat('sent'), 16);
    await assert.rejects(pool.sendmail('a@example.com', 'refuse@example.com', 'x'), smtp.SMTPRecipientsRefused);
    pool.setOption('rate', 0);
    pool.setOption('starttls', false);
    assert.throws(() => pool.setOption('nope', 1), smtp.SMTPInvalidArgumentError);
    assert.throws(() => pool.stat('nope'), smtp.SMTPInvalidArgumentError);
  } finally {
    pool.close();
  }
  assert.equal(pool.closed, true);
  await assert.rejects(pool.sendmail('a@example.com', 'b@example.com', 'x'), smtp.SMTPStateError);
  pool.close();
});

test('a pool call on the caller\'s session takes its settings and its cancel', async (t) => {
  const pool = new smtp.Pool(slow.host, slow.port, { maxConnections: 1 });
  const s = new smtp.Session({ timeout: 10000 });
  try {
    const call = pool.sendmail('a@example.com', 'b@example.com', 'x', { session: s });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.busy, true);
    const t0 = performance.now();
    s.cancel();
    await assert.rejects(call, smtp.SMTPCancelledError);
    const ms = performance.now() - t0;
    t.diagnostic(`pool call cancelled in ${ms.toFixed(1)} ms`);
    assert.ok(ms < 100, `${ms} ms`);
    // An AbortSignal works on the pool's own sessions too.
    await assert.rejects(pool.sendmail('a@example.com', 'b@example.com', 'x', { signal: AbortSignal.timeout(300) }),
      smtp.SMTPCancelledError);
    // And a call that waits the greeting out succeeds, the loop running meanwhile.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    assert.deepEqual(await pool.sendmail('a@example.com', 'b@example.com', msg('slow pool')), {});
    clearInterval(timer);
    assert.ok(ticks > 50, `${ticks} ticks`);
  } finally {
    s.close();
    pool.close();
  }
});

test('a pool logs each new connection in: login, or a JS authobject', async () => {
  const withLogin = new smtp.Pool(auth.host, auth.port, { login: { user: 'alice', password: 's3cret' } });
  try {
    assert.deepEqual(await withLogin.sendmail('a@example.com', 'b@example.com', msg('after login')), {});
    withLogin.setLogin('alice', 'wrong');
    withLogin.setOption('maxMessages', 1); // the next call opens a new connection
    await withLogin.sendmail('a@example.com', 'b@example.com', msg('last on the first connection')).catch(() => {});
    await assert.rejects(withLogin.sendmail('a@example.com', 'b@example.com', 'x'), smtp.SMTPAuthenticationError);
  } finally {
    withLogin.close();
  }
  const seen = [];
  const withAuth = new smtp.Pool(auth.host, auth.port, {
    auth: { mechanism: 'X-TOKEN', authobject: (c) => { seen.push(c); return c === null ? null : 'open sesame'; } },
  });
  try {
    await Promise.all([1, 2].map((i) => withAuth.sendmail('a@example.com', 'b@example.com', msg(`token ${i}`))));
    assert.ok(seen.length >= 2 && seen.filter((c) => c !== null).every((c) => c.toString() === 'token?'));
    withAuth.setAuth(null, null);
  } finally {
    withAuth.close();
  }
});

/** The envelope the sink in `dir` stored with the message whose body holds `token`. */
function envelopeOf(dir, token) {
  const eml = fs.readdirSync(dir).filter((f) => f.endsWith('.eml'))
    .find((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes(token));
  assert.ok(eml, `no message with ${token}`);
  return JSON.parse(fs.readFileSync(path.join(dir, eml.replace(/\.eml$/, '.json')), 'utf8'));
}

test('the pool\'s envelope options go out on its own sessions; a caller\'s session brings its own', async () => {
  const dsn = await server('dsn');
  const pool = new smtp.Pool(dsn.host, dsn.port, { envelope: { dsnRet: 'HDRS', dsnNotify: 'SUCCESS' } });
  const mine = new smtp.Session({ timeout: 10000, envelope: { dsnRet: 'FULL' } });
  try {
    await pool.sendmail('a@example.com', 'b@example.com', msg('pool envelope 1'));
    let env = envelopeOf(dsn.dir, 'pool envelope 1');
    assert.match(env.raw[0], /RET=HDRS/);
    assert.match(env.raw[1], /NOTIFY=SUCCESS/);
    await pool.sendmail('a@example.com', 'b@example.com', msg('pool envelope 2'), { session: mine });
    env = envelopeOf(dsn.dir, 'pool envelope 2');
    assert.match(env.raw[0], /RET=FULL/);
    pool.setEnvelope(null);
    await pool.sendmail('a@example.com', 'b@example.com', msg('pool envelope 3'));
    assert.doesNotMatch(envelopeOf(dsn.dir, 'pool envelope 3').raw[0], /RET=/);
    assert.throws(() => pool.setEnvelope({ dsnRet: 'ALL' }), smtp.SMTPInvalidArgumentError);
  } finally {
    mine.close();
    pool.close();
    await dsn.stop();
  }
});
