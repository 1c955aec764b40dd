'use strict';
// sendmailStream(): a message from a stream.Readable or an (async)
// iterable, fed to the library's read function through a socket pair
// (lib/stream.js) while the event loop keeps running; a failing source and
// a cancel abort the message (nothing is delivered); sendmailStreamSync()
// from a synchronous iterable.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Readable } = require('node:stream');
const smtp = require('..');
const { server, stored, storedCount, tmpdir } = require('./helpers');

let sink;

test.before(async () => { sink = await server('sink'); });
test.after(async () => { if (sink) await sink.stop(); });

async function session(options = {}) {
  const s = new smtp.Session({ timeout: 20000, ...options });
  await s.connect(sink.host, sink.port);
  return s;
}

/** A message of about `mb` MB: a header, then 1000-byte lines. */
function bigMessage(mb) {
  const line = Buffer.from(`${'0123456789'.repeat(99)}xx\r\n`);
  return Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), ...Array(mb * 1000).fill(line)]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a file through fs.createReadStream arrives byte-identical; the loop keeps ticking', async (t) => {
  const msg = bigMessage(20);
  const file = path.join(tmpdir('stream'), 'msg.eml');
  fs.writeFileSync(file, msg);
  const s = await session();
  try {
    let ticks = 0;
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => { const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now; ticks++; }, 10);
    let t0 = performance.now();
    const refused = await s.sendmailStream('a@example.com', ['b@example.com'], fs.createReadStream(file), { size: msg.length });
    const streamMs = performance.now() - t0;
    clearInterval(timer);
    assert.deepEqual(refused, {});
    const got = stored(sink, s.lastReply);
    assert.ok(got.bytes.equals(msg), 'byte-identical');
    assert.deepEqual(got.envelope.mail_options, [`SIZE=${msg.length}`], 'the size hint went as SIZE=');
    // The same message from memory, for comparison.
    t0 = performance.now();
    await s.sendmail('a@example.com', ['b@example.com'], msg);
    const bufferMs = performance.now() - t0;
    const mbps = (ms) => (msg.length / 1e6 / (ms / 1000)).toFixed(1);
    t.diagnostic(`20 MB: stream ${Math.round(streamMs)} ms (${mbps(streamMs)} MB/s), Buffer ${Math.round(bufferMs)} ms ` +
      `(${mbps(bufferMs)} MB/s); ${ticks} ticks of a 10 ms timer during the stream, longest gap ${Math.round(maxGap)} ms`);
    assert.ok(maxGap < 100, `the timer stalled for ${maxGap} ms`);
  } finally {
    s.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test('an async generator that takes its time; strings and Buffers; lineEndings', async () => {
  const s = await session();
  try {
    async function* slowly() {
      yield 'Subject: slow source\n\n';
      for (let i = 0; i < 5; i++) {
        await sleep(50);
        yield Buffer.from(`line ${i}\n`);
      }
    }
    assert.deepEqual(await s.sendmailStream('a@example.com', 'b@example.com', slowly(), { lineEndings: 'normalize' }), {});
    assert.equal(stored(sink, s.lastReply).bytes.toString(),
      'Subject: slow source\r\n\r\nline 0\r\nline 1\r\nline 2\r\nline 3\r\nline 4\r\n');
    // A Readable, an array of chunks, a single Buffer, a string.
    await s.sendmailStream('a@example.com', 'b@example.com', Readable.from([Buffer.from('Subject: r\r\n\r\nreadable\r\n')]));
    assert.match(stored(sink, s.lastReply).bytes.toString(), /readable/);
    await s.sendmailStream('a@example.com', 'b@example.com', ['Subject: a\r\n\r\n', 'array\r\n']);
    assert.match(stored(sink, s.lastReply).bytes.toString(), /array/);
    const refused = await s.sendmailStream('a@example.com', ['b@example.com', 'refuse@example.com'], 'Subject: s\n\nstring\n');
    assert.equal(refused['refuse@example.com'].code, 550);
    assert.equal(stored(sink, s.lastReply).bytes.toString(), 'Subject: s\r\n\r\nstring\r\n', 'a string is normalised');
    await assert.rejects(s.sendmailStream('a@example.com', 'b@example.com', 42), TypeError);
  } finally {
    s.close();
  }
});

test('a source that fails mid-message: nothing is delivered, the error is the cause', async () => {
  const s = await session();
  try {
    const before = storedCount(sink);
    const boom = new Error('disk on fire');
    async function* failing() {
      yield 'Subject: never\r\n\r\n';
      yield `${'x'.repeat(998)}\r\n`.repeat(300);
      await sleep(50);
      throw boom;
    }
    await assert.rejects(s.sendmailStream('a@example.com', 'b@example.com', failing()), (e) => {
      assert.ok(e instanceof smtp.SMTPOSError, `${e.name}: ${e.message}`);
      assert.equal(e.code, 'SMTP_ERR_IO');
      assert.equal(e.cause, boom);
      assert.match(e.message, /disk on fire/);
      return true;
    });
    assert.equal(s.isConnected, false, 'the connection was closed mid-message');
    await sleep(100);
    assert.equal(storedCount(sink), before, 'no partial message was delivered');
    await s.connect(sink.host, sink.port);
    await s.ehlo(); // the EHLO state outlives the connection, as smtplib's does
    assert.deepEqual(await s.sendmailStream('a@example.com', 'b@example.com', ['Subject: after\r\n\r\nok\r\n']), {});
  } finally {
    s.close();
  }
});

test('cancel while the source stalls ends the call within 100 ms, and nothing is delivered', async (t) => {
  const s = await session();
  try {
    const before = storedCount(sink);
    async function* stalls() {
      yield 'Subject: stalled\r\n\r\nfirst part\r\n';
      await new Promise(() => {}); // never
    }
    const ac = new AbortController();
    const call = s.sendmailStream('a@example.com', 'b@example.com', stalls(), { signal: ac.signal });
    await sleep(300);
    const t0 = performance.now();
    ac.abort();
    await assert.rejects(call, (e) => e instanceof smtp.SMTPCancelledError);
    const ms = performance.now() - t0;
    t.diagnostic(`abort() to rejection with the source stalled: ${ms.toFixed(1)} ms`);
    assert.ok(ms < 100, `${ms} ms`);
    await sleep(100);
    assert.equal(storedCount(sink), before);
  } finally {
    s.close();
  }
});

test('more stream calls than libuv has threads, each from a file: none waits forever', async () => {
  const dir = tmpdir('streams');
  const n = (Number(process.env.UV_THREADPOOL_SIZE) || 4) + 2;
  const sessions = await Promise.all(Array.from({ length: n }, () => session()));
  try {
    const results = await Promise.all(sessions.map((s, i) => {
      const file = path.join(dir, `${i}.eml`);
      fs.writeFileSync(file, Buffer.concat([Buffer.from(`Subject: parallel ${i}\r\n\r\n`), Buffer.from(`${'y'.repeat(998)}\r\n`.repeat(200))]));
      return s.sendmailStream('a@example.com', 'b@example.com', fs.createReadStream(file, { highWaterMark: 4096 }));
    }));
    assert.deepEqual(results, Array(n).fill({}));
  } finally {
    for (const s of sessions) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sendmailStreamSync from a synchronous iterable', () => {
  const s = new smtp.Session({ timeout: 10000 });
  try {
    s.connectSync(sink.host, sink.port);
    function* gen() { yield 'Subject: sync\r\n\r\n'; for (let i = 0; i < 100; i++) yield Buffer.from(`${'z'.repeat(998)}\r\n`); yield 'end\r\n'; }
    assert.deepEqual(s.sendmailStreamSync('a@example.com', 'b@example.com', gen()), {});
    const got = stored(sink, s.lastReply).bytes.toString();
    assert.ok(got.startsWith('Subject: sync\r\n\r\nzzz') && got.endsWith('\r\nend\r\n'));
    const boom = new Error('sync boom');
    function* bad() { yield 'Subject: x\r\n\r\n'; throw boom; }
    assert.throws(() => s.sendmailStreamSync('a@example.com', 'b@example.com', bad()), (e) => e.code === 'SMTP_ERR_IO' && e.cause === boom);
    assert.throws(() => s.sendmailStreamSync('a@example.com', 'b@example.com', Readable.from(['x'])), TypeError);
  } finally {
    s.close();
  }
});
