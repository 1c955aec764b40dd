'use strict';
// Session#cancel() and the timeouts: a call ended from another thread, a
// greeting trickled past `timeout`, every per-wait limit and `all`.
// Servers on 127.0.0.1 only.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { spawn } = require('node:child_process');
const smtp = require('..');
const { server: testServer } = require('./helpers');

let sink;
test.before(async () => { sink = await testServer('sink'); });
test.after(async () => { if (sink) await sink.stop(); });

/** A server on 127.0.0.1 that accepts and never says a word; `accepted()` resolves at the next connection. */
function silentServer() {
  return new Promise((resolve, reject) => {
    const sockets = new Set();
    const waiting = [];
    const srv = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
      sock.on('close', () => sockets.delete(sock));
      const w = waiting.shift();
      if (w) w();
    });
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve({
      port: srv.address().port,
      accepted: () => new Promise((r) => waiting.push(r)),
      /** Resolves once the client side closed every connection. */
      drained: async () => {
        for (let i = 0; i < 100 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
        return sockets.size;
      },
      close: () => new Promise((r) => {
        for (const sock of sockets) sock.destroy();
        srv.close(() => r());
      }),
    }));
  });
}

/**
 * A server in a child process (a synchronous call blocks this event loop)
 * that trickles a never-ending greeting, one byte per 100 ms.
 */
function tricklingServer() {
  const child = spawn(process.execPath, ['-e', `
    const net = require('node:net');
    const srv = net.createServer((sock) => {
      sock.on('error', () => {});
      const greeting = '220 ' + 'x'.repeat(500) + '\\r\\n';
      let i = 0;
      const timer = setInterval(() => {
        if (i >= greeting.length || sock.destroyed) return clearInterval(timer);
        sock.write(greeting[i++]);
      }, 100);
      sock.on('close', () => clearInterval(timer));
    });
    srv.listen(0, '127.0.0.1', () => process.stdout.write(srv.address().port + '\\n'));
    process.stdin.on('end', () => process.exit(0)); // the parent went away
    process.stdin.resume();
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the trickling server exited (${code})`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) {
        resolve({
          port: Number(out.trim()),
          stop: () => new Promise((r) => {
            child.removeAllListeners('exit');
            child.once('exit', () => r());
            child.kill('SIGKILL');
          }),
        });
      }
    });
  });
}

function isCancelled(e) {
  assert.ok(e instanceof smtp.SMTPCancelledError, `${e && e.name}: ${e && e.message}`);
  assert.ok(e instanceof smtp.SMTPOSError);
  assert.ok(e instanceof smtp.SMTPException);
  assert.equal(e.name, 'SMTPCancelledError');
  assert.equal(e.code, 'SMTP_ERR_CANCELLED');
  assert.equal(e.result, 16);
  assert.equal(e.smtpCode, null);
  assert.match(e.message, /cancel/i);
  return true;
}

test('cancel() ends a connect waiting for the greeting on a worker thread; the session connects again', async () => {
  const server = await silentServer();
  const s = new smtp.Session('smtp', { timeout: 20000 });
  try {
    const accepted = server.accepted();
    const started = Date.now();
    const call = s.connect('127.0.0.1', server.port); // koffi: fn.async()
    await accepted; // the library is connected and waits for the greeting
    await new Promise((r) => setTimeout(r, 100));
    // The session is busy meanwhile: synchronous calls and getters are refused.
    assert.throws(() => s.noopSync(), (e) => e instanceof smtp.SMTPStateError && /asynchronous call/.test(e.message));
    assert.throws(() => s.isConnected, smtp.SMTPStateError);
    assert.equal(s.busy, true);
    assert.equal(s.closed, false);

    const t0 = Date.now();
    s.cancel();
    await assert.rejects(call, isCancelled);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 500, `the call ended ${elapsed} ms after cancel()`);
    assert.ok(Date.now() - started < 5000);
    assert.equal(s.isConnected, false);
    assert.equal(await server.drained(), 0, 'the connection was closed');

    // Nothing is left over: the next calls run and are not cancelled.
    const greeting = s.connectSync('127.0.0.1', sink.port);
    assert.equal(greeting.code, 220);
    assert.equal(s.noopSync().code, 250);
    assert.equal(s.quitSync().code, 221);
    // Again, in the background, to completion.
    assert.equal((await s.connect('127.0.0.1', sink.port)).code, 220);
    assert.equal((await s.noop()).code, 250);
    s.quitSync();
  } finally {
    s.close();
    await server.close();
  }
});

test('cancel() right after a background call starts still ends it', async () => {
  const server = await silentServer();
  const s = new smtp.Session('smtp', { timeout: 20000 });
  try {
    for (let i = 0; i < 5; i++) {
      // The worker thread may not have entered the library yet.
      const call = s.connect('127.0.0.1', server.port);
      const t0 = Date.now();
      s.cancel();
      s.cancel(); // twice is the same
      await assert.rejects(call, isCancelled);
      const elapsed = Date.now() - t0;
      assert.ok(elapsed < 500, `the call ended ${elapsed} ms after cancel()`);
    }
    assert.equal(s.connectSync('127.0.0.1', sink.port).code, 220);
    assert.equal(s.noopSync().code, 250);
    s.quitSync();
  } finally {
    s.close();
    await server.close();
  }
});

test('cancel() from a trace callback ends the running (synchronous) call', async () => {
  // The server never speaks (the kernel accepts for it while this thread is
  // blocked), so the call must wait for the greeting after the callback.
  const server = await silentServer();
  let armed = true;
  const lines = [];
  const s = new smtp.Session('smtp', {
    timeout: 10000,
    debugLevel: 1,
    trace: (dir, line) => {
      lines.push(line);
      if (armed && dir === 'info' && /connected/.test(line)) s.cancel();
    },
  });
  try {
    const t0 = Date.now();
    assert.throws(() => s.connectSync('127.0.0.1', server.port), isCancelled);
    assert.ok(Date.now() - t0 < 500, `${Date.now() - t0} ms`);
    assert.equal(s.isConnected, false);
    assert.ok(lines.some((l) => /closed/.test(l)), lines.join('\n'));
    armed = false;
    assert.equal(s.connectSync('127.0.0.1', sink.port).code, 220);
    assert.equal(s.ehloSync().code, 250);
    s.quitSync();
  } finally {
    s.close();
    await server.close();
  }
});

test('a greeting trickled one byte per 100 ms ends with SMTPTimeoutError at `timeout`', async () => {
  const server = await tricklingServer();
  const s = new smtp.Session('smtp', { timeout: 1000 });
  try {
    assert.equal(s.getTimeout('greeting'), 1000);
    const t0 = Date.now();
    assert.throws(() => s.connectSync('127.0.0.1', server.port), (e) => {
      assert.ok(e instanceof smtp.SMTPTimeoutError, `${e.name}: ${e.message}`);
      assert.ok(e instanceof smtp.SMTPOSError);
      assert.ok(!(e instanceof smtp.SMTPCancelledError));
      assert.equal(e.code, 'SMTP_ERR_TIMEOUT');
      assert.equal(e.result, 11);
      assert.match(e.message, /greeting/i);
      return true;
    });
    const elapsed = Date.now() - t0;
    // Bytes came every 100 ms, so no I/O limit fired: the greeting's did.
    assert.ok(elapsed >= 900, `the call ended after ${elapsed} ms`);
    assert.ok(elapsed < 1500, `the call ended after ${elapsed} ms`);
    assert.equal(s.isConnected, false);
  } finally {
    s.close();
    await server.stop();
  }
});

test('cancel() with no call running does nothing; on a closed session neither', () => {
  const s = new smtp.Session('smtp', { timeout: 10000 });
  try {
    s.cancel(); // never connected
    assert.equal(s.connectSync('127.0.0.1', sink.port).code, 220);
    s.cancel(); // connected, idle: neither the connection nor the next call is touched
    s.cancel();
    assert.equal(s.isConnected, true);
    assert.equal(s.noopSync().code, 250);
    assert.equal(s.ehloSync().code, 250);
    const refused = s.sendmailSync('a@example.com', ['b@example.com'], 'Subject: after cancel\r\n\r\nhi\r\n');
    assert.deepEqual(refused, {});
    assert.equal(s.quitSync().code, 221);
    s.cancel(); // after quit
  } finally {
    s.close();
  }
  s.cancel(); // closed: a no-op, no throw
  s.cancel();
  assert.equal(s.closed, true);
});

test('timeouts: every per-phase limit, call, and all (set and get)', () => {
  const names = ['connect', 'io', 'reply', 'greeting', 'mail', 'rcpt', 'data', 'dataBlock', 'finalDot'];
  const s = new smtp.Session('smtp', { timeout: 7000 });
  try {
    // `timeout` is `all`: every single wait, not the whole call.
    const t = s.getTimeouts();
    assert.deepEqual(Object.keys(t), [...names, 'call', 'all']);
    for (const n of names) assert.equal(t[n], 7000, n);
    assert.equal(t.call, 0);
    assert.equal(t.all, 7000);
    assert.equal(s.getTimeout('all'), 7000);

    // Each one alone, by its camelCase name.
    names.forEach((n, i) => s.setTimeouts({ [n]: 1000 + i }));
    s.setTimeouts({ call: 60000 });
    const each = s.getTimeouts();
    names.forEach((n, i) => assert.equal(each[n], 1000 + i, n));
    assert.equal(each.call, 60000);
    assert.equal(each.all, 1000 + names.length - 1); // the longest single wait
    for (const n of [...names, 'call']) assert.equal(s.getTimeout(n), each[n], n);

    // all: every per-wait limit, not call; one unlimited makes all 0.
    s.setTimeouts({ all: 2500 });
    for (const n of names) assert.equal(s.getTimeout(n), 2500, n);
    assert.equal(s.getTimeout('call'), 60000);
    assert.equal(s.getTimeout('all'), 2500);
    s.setTimeouts({ finalDot: 0 });
    assert.equal(s.getTimeout('all'), 0);
    s.setTimeouts({ all: 0 });
    for (const n of names) assert.equal(s.getTimeout(n), 0, n);

    // all goes first, whatever the key order, so the others refine it.
    s.setTimeouts({ connect: 5000, greeting: 9000, all: 30000 });
    assert.equal(s.getTimeout('connect'), 5000);
    assert.equal(s.getTimeout('greeting'), 9000);
    assert.equal(s.getTimeout('mail'), 30000);
    assert.equal(s.getTimeout('all'), 30000);

    // The option, with `timeout` applied before `timeouts`.
    const o = new smtp.Session('lmtp', { timeout: 4000, timeouts: { dataBlock: 8000, call: 20000, finalDot: 0 } });
    assert.deepEqual(o.getTimeouts(), {
      connect: 4000, io: 4000, reply: 4000, greeting: 4000, mail: 4000, rcpt: 4000, data: 4000,
      dataBlock: 8000, finalDot: 0, call: 20000, all: 0,
    });
    o.close();

    // Unknown names and bad values throw and set nothing.
    const before = s.getTimeouts();
    for (const bad of [{ forever: 1 }, { io: 1, final_dot: 1 }, { toString: 1 }, { __proto__: null, constructor: 1 },
      { io: 1, all: -1 }, { call: 1.5 }, { all: 2 ** 32 }]) {
      assert.throws(() => s.setTimeouts(bad), smtp.SMTPInvalidArgumentError, JSON.stringify(bad));
    }
    assert.deepEqual(s.getTimeouts(), before);
    assert.throws(() => s.setTimeouts(1000), TypeError);
    assert.throws(() => s.setTimeouts(null), TypeError);
    assert.throws(() => s.getTimeout('forever'), smtp.SMTPInvalidArgumentError);
    assert.throws(() => s.getTimeout('hasOwnProperty'), smtp.SMTPInvalidArgumentError);
    assert.throws(() => s.getTimeout(10), TypeError);
    assert.throws(() => new smtp.Session('smtp', { timeouts: { nope: 1 } }), /unknown timeout nope/);
  } finally {
    s.close();
  }
  assert.throws(() => s.getTimeout('all'), smtp.SMTPStateError);
});

test('asynchronous calls reject bad arguments and a closed session', async () => {
  const s = new smtp.Session();
  await assert.rejects(s.sendmail(), TypeError);
  await assert.rejects(s.connect(42), TypeError);
  s.close();
  await assert.rejects(s.noop(), smtp.SMTPStateError);
});
