'use strict';
// The Promise API: the event loop keeps running while a call waits (the
// slow server greets after 2 s), cancel() and AbortSignal end a call within
// 100 ms, calls on one session queue, and the whole API works this way.

const test = require('node:test');
const assert = require('node:assert/strict');
const smtp = require('..');
const { server, stored } = require('./helpers');

let sink;
let slow;
let auth;

test.before(async () => { [sink, slow, auth] = await Promise.all([server('sink'), server('slow'), server('auth')]); });
test.after(async () => { await Promise.all([sink, slow, auth].map((s) => s && s.stop())); });

/** Count the ticks of a 10 ms timer and the longest gap between two, until stop(). */
function ticker() {
  let last = performance.now();
  let maxGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 10);
  return { stop() { clearInterval(timer); return { ticks, maxGap: Math.round(maxGap) }; } };
}

function isCancelled(e) {
  assert.ok(e instanceof smtp.SMTPCancelledError, `${e && e.name}: ${e && e.message}`);
  assert.equal(e.code, 'SMTP_ERR_CANCELLED');
  return true;
}

test('the event loop keeps ticking while connect() waits 2 s for the slow greeting', async (t) => {
  const s = new smtp.Session({ timeout: 10000 });
  try {
    const tick = ticker();
    const t0 = performance.now();
    const greeting = await s.connect(slow.host, slow.port);
    const elapsed = performance.now() - t0;
    const { ticks, maxGap } = tick.stop();
    t.diagnostic(`connect took ${Math.round(elapsed)} ms; ${ticks} ticks of a 10 ms timer, longest gap ${maxGap} ms`);
    assert.equal(greeting.code, 220);
    assert.ok(elapsed >= 1900, `${elapsed} ms`);
    assert.ok(maxGap < 100, `the timer stalled for ${maxGap} ms`);
    assert.ok(ticks >= 20, `${ticks} ticks`);
    assert.deepEqual(await s.sendmail('a@example.com', ['b@example.com'], 'Subject: slow\r\n\r\nx\r\n'), {});
    assert.equal((await s.quit()).code, 221);
  } finally {
    s.close();
  }
});

test('sessions run at once: three slow greetings take 2 s, not 6 s', async (t) => {
  const sessions = [0, 1, 2].map(() => new smtp.Session({ timeout: 10000 }));
  try {
    const t0 = performance.now();
    const replies = await Promise.all(sessions.map((s) => s.connect(slow.host, slow.port)));
    const elapsed = performance.now() - t0;
    t.diagnostic(`three connects took ${Math.round(elapsed)} ms`);
    assert.deepEqual(replies.map((r) => r.code), [220, 220, 220]);
    assert.ok(elapsed < 4000, `${elapsed} ms`);
  } finally {
    for (const s of sessions) s.close();
  }
});

test('cancel() ends a connect waiting for the greeting within 100 ms', async (t) => {
  const s = new smtp.Session({ timeout: 10000 });
  try {
    const timings = [];
    for (let i = 0; i < 3; i++) {
      const call = s.connect(slow.host, slow.port);
      await new Promise((r) => setTimeout(r, 300 + 100 * i));
      const t0 = performance.now();
      s.cancel();
      await assert.rejects(call, isCancelled);
      timings.push(performance.now() - t0);
    }
    t.diagnostic(`cancel() to rejection: ${timings.map((x) => x.toFixed(1)).join(', ')} ms`);
    for (const ms of timings) assert.ok(ms < 100, `${ms} ms`);
    assert.equal(s.isConnected, false);
    assert.equal((await s.connect(sink.host, sink.port)).code, 220, 'the next call is not cancelled');
  } finally {
    s.close();
  }
});

test('an AbortSignal ends the call within 100 ms; the error says why', async (t) => {
  const s = new smtp.Session({ timeout: 10000 });
  try {
    const ac = new AbortController();
    const call = s.connect(slow.host, slow.port, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    const why = new Error('the user went away');
    ac.abort(why);
    await assert.rejects(call, (e) => isCancelled(e) && e.cause === why);
    const ms = performance.now() - t0;
    t.diagnostic(`abort() to rejection: ${ms.toFixed(1)} ms`);
    assert.ok(ms < 100, `${ms} ms`);
    // AbortSignal.timeout(), and a signal already aborted: rejected before anything runs.
    await assert.rejects(s.connect(slow.host, slow.port, { signal: AbortSignal.timeout(200) }), isCancelled);
    await assert.rejects(s.noop({ signal: AbortSignal.abort() }), (e) => isCancelled(e) && /before it started/.test(e.message));
    // Options objects take the signal too.
    await s.connect(sink.host, sink.port);
    await assert.rejects(s.sendmail('a@example.com', 'b@example.com', 'x', { signal: AbortSignal.abort() }), isCancelled);
    assert.equal((await s.noop()).code, 250);
  } finally {
    s.close();
  }
});

test('calls on one session queue and run in order; synchronous calls and getters meanwhile are refused', async () => {
  const lines = [];
  const s = new smtp.Session({ timeout: 10000, debugLevel: 1, trace: (dir, line) => { if (dir === 'send') lines.push(line); } });
  try {
    const connected = s.connect(sink.host, sink.port);
    assert.equal(s.busy, true);
    assert.throws(() => s.noopSync(), (e) => e instanceof smtp.SMTPStateError && /asynchronous call/.test(e.message));
    assert.throws(() => s.lastReply, smtp.SMTPStateError);
    assert.throws(() => s.setTimeouts({ all: 1 }), smtp.SMTPStateError);
    const ac = new AbortController();
    const results = Promise.all([
      connected, s.ehlo('one.example'), s.noop(), s.help(), s.rset(),
    ]);
    const dropped = s.verify('x@example.com', { signal: ac.signal }); // queued: removed before it runs
    ac.abort();
    await assert.rejects(dropped, isCancelled);
    const [greet, ehlo, noop, help, rset] = await results;
    assert.deepEqual([greet.code, ehlo.code, noop.code, rset.code], [220, 250, 250, 250]);
    assert.equal(typeof help, 'string');
    assert.deepEqual(lines, ['ehlo one.example', 'noop', 'help', 'rset'].map((c) => `send: '${c}\\r\\n'`));
    assert.equal(s.busy, false);
    assert.equal(s.noopSync().code, 250);
  } finally {
    s.close();
  }
});

test('close() during a call cancels it, rejects the queued ones and frees the session once it is over', async () => {
  const s = new smtp.Session({ timeout: 10000 });
  const call = s.connect(slow.host, slow.port);
  const queued = s.noop();
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  s.close();
  assert.equal(s.closed, true);
  await assert.rejects(queued, (e) => e instanceof smtp.SMTPStateError && /closed/.test(e.message));
  await assert.rejects(call, isCancelled);
  assert.ok(performance.now() - t0 < 100);
  await assert.rejects(s.noop(), smtp.SMTPStateError);
  assert.throws(() => s.noopSync(), smtp.SMTPStateError);
  s.close();
});

test('the whole command set, asynchronously', async () => {
  const lines = [];
  const s = new smtp.Session({ timeout: 10000, localHostname: 'client.test', debugLevel: 1, trace: (d, l) => lines.push([d, l]) });
  try {
    assert.equal((await s.open(`${sink.host}:${sink.port}`)).code, 220);
    assert.equal((await s.helo()).code, 250);
    assert.equal(s.heloResp.length > 0, true);
    assert.equal((await s.ehlo()).code, 250);
    await s.ehloOrHeloIfNeeded();
    assert.equal(s.doesEsmtp, true);
    assert.equal(s.feature('size'), '209715200');
    assert.equal(s.feature('starttls'), null);
    assert.equal((await s.docmd('NOOP')).code, 250);
    assert.equal((await s.verify('someone@example.com')).code, 252);
    assert.ok([250, 252, 502].includes((await s.expn('list@example.com')).code));
    assert.equal((await s.mail('a@example.com')).code, 250);
    assert.equal(s.sender, 'a@example.com');
    assert.equal((await s.rcpt('b@example.com')).code, 250);
    assert.equal((await s.rcpt('refuse@example.com')).code, 550);
    const d = await s.data('Subject: by hand\r\n\r\nx\r\n');
    assert.equal(d.code, 250);
    assert.equal(stored(sink, d).envelope.mail_from, 'a@example.com');
    assert.deepEqual(s.rcptResults().map((r) => [r.addr, r.refused, r.finalCode]),
      [['b@example.com', false, 250], ['refuse@example.com', true, 550]]);

    // send_message: the envelope from the headers, Bcc removed, the sender it chose kept.
    const msg = 'From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nBcc: refuse@example.com\r\nSubject: m\r\n\r\nx\r\n';
    assert.deepEqual(await s.sendMessage(msg),
      { 'refuse@example.com': { code: 550, message: '5.1.1 <refuse@example.com>: Recipient address rejected' } });
    assert.equal(s.sender, 'alice@example.com');
    const got = stored(sink, s.lastReply);
    assert.doesNotMatch(got.bytes.toString(), /Bcc/);
    await assert.rejects(s.sendMessage('From: refuse-all <x@example.com>\r\nTo: refuse@example.com\r\n\r\nx\r\n'),
      (e) => e instanceof smtp.SMTPRecipientsRefused && e.recipients['refuse@example.com'].code === 550);

    // Raw bytes and a reply read by hand (smtplib's send and getreply).
    await s.send('NOOP\r\n');
    assert.deepEqual(await s.getreply(), { code: 250, message: 'OK' });
    assert.ok(s.fileno >= 0);
    assert.equal(s.utf8Commands, false);
    assert.equal((await s.quit()).code, 221);
    assert.equal(s.fileno, -1);
    assert.ok(lines.some(([dir, line]) => dir === 'send' && line === "send: 'NOOP\\r\\n'"), 'the raw command was traced');
  } finally {
    s.close();
  }
});

test('authentication, asynchronously: login, a JS authobject, a built-in mechanism', async () => {
  const s = new smtp.Session({ timeout: 10000 });
  try {
    await s.connect(auth.host, auth.port);
    await s.ehlo();
    const seen = [];
    const r = await s.auth('X-TOKEN', (c) => { seen.push(c); return c === null ? null : 'open sesame'; });
    assert.equal(r.code, 235);
    assert.deepEqual(seen, [null, Buffer.from('token?')]);
    await s.connect(auth.host, auth.port);
    await s.ehlo(); // the EHLO state survives a new connect, as in smtplib
    await assert.rejects(s.login('alice', 'wrong'), (e) => e instanceof smtp.SMTPAuthenticationError && e.smtpCode === 535);
    assert.equal((await s.login('alice', 's3cret')).code, 235);
    await s.connect(auth.host, auth.port);
    await s.ehlo();
    assert.equal((await s.authBuiltin('PLAIN', 'alice', 's3cret')).code, 235);
    await s.connect(auth.host, auth.port);
    await s.ehlo();
    const boom = new RangeError('boom');
    await assert.rejects(s.auth('X-TOKEN', (c) => { if (c) throw boom; return null; }), (e) => e === boom);
    assert.equal((await s.noop()).code, 250);
  } finally {
    s.close();
  }
});

test('a session dropped while its call runs is freed only once the call is over', () => {
  const { execFileSync } = require('node:child_process');
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', `
    const { Session } = require(${JSON.stringify(require.resolve('..'))});
    const calls = [];
    (function () {
      for (let i = 0; i < 3; i++) calls.push(new Session({ timeout: 10000 }).connect(${JSON.stringify(slow.host)}, ${slow.port}));
    })();
    (async () => {
      for (let i = 0; i < 10; i++) { global.gc(); await new Promise((r) => setTimeout(r, 20)); }
      const replies = await Promise.all(calls);
      for (let i = 0; i < 10; i++) { global.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log(JSON.stringify(replies.map((r) => r.code)));
    })();
  `], { encoding: 'utf8', env: process.env });
  assert.deepEqual(JSON.parse(out), [220, 220, 220]);
});
