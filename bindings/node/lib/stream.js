'use strict';
/*
 * sendmailStream(): smtp_session_sendmail_stream() with the message read
 * from a stream.Readable, an async iterable or an iterable of chunks.
 *
 * The library calls its read function on the thread running the call, a
 * koffi worker. A JS read callback would be queued to the main thread
 * (koffi's rule for callbacks from other threads) and must return at once:
 * when the source has no chunk ready it could only wait by blocking the
 * event loop that produces the chunk (a deadlock), or the whole message
 * would have to be buffered first. So the message is not read by JS:
 * smtp_session_sendmail_fd() reads it from one end of a Unix socket pair
 * (libc.js), blocking the worker thread, never the loop; the event loop
 * writes the source into the other end through a net.Socket (feed()
 * below), whose backpressure is the socket buffer. The end of the source
 * closes our end: the library reads the end of file, the end of the
 * message. A source that fails, and a cancel, must never look like that
 * end (the library would send the final dot and a truncated message would
 * be delivered): a byte is first written towards the library's end, then
 * ours is closed, so that the reader gets ECONNRESET instead of the end of
 * file (the read fails, the library aborts the message and closes the
 * connection: SMTP_ERR_IO, reported as the source's error or as the
 * cancel).
 *
 * Each running stream call holds a thread of libuv's pool while it waits
 * for data; a source that itself needs the pool (fs.createReadStream)
 * would then wait for a thread forever if every thread held such a call.
 * So at most UV_THREADPOOL_SIZE - 1 stream calls run at once (the others
 * wait their turn, in order).
 *
 * The synchronous form takes a synchronous iterable (or a Buffer) and a JS
 * read callback, called on this thread.
 */

const net = require('node:net');
const { load, koffi } = require('./native');
const { makeError, resultCode } = require('./errors');
const { toBytes, lineFlags } = require('./args');
const { libc, socketPair } = require('./libc');
const { cancelledError } = require('./core');
const { finishSend } = require('./transaction');

const POOL_THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;

/** The slots of the running stream calls (see above). */
const gate = {
  free: Math.max(1, POOL_THREADS - 1),
  waiting: [],
  enter(wake) {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    this.waiting.push(wake);
    return false;
  },
  leave() {
    this.free++;
    // Every waiter looks again (a session may have asked more than once);
    // those that find no slot ask again.
    for (const wake of this.waiting.splice(0)) setImmediate(wake);
  },
};

/** A Buffer or string source as one chunk; what the caller gave otherwise. */
function sourceOf(source) {
  if (typeof source === 'string' || source instanceof Uint8Array) return { chunks: [toBytes(source, 'source').bytes], text: typeof source === 'string' };
  if (source === null || typeof source !== 'object' ||
    (typeof source[Symbol.asyncIterator] !== 'function' && typeof source[Symbol.iterator] !== 'function' &&
      typeof source.pipe !== 'function')) {
    throw new TypeError('source must be a stream.Readable, an (async) iterable of Buffers or strings, a Buffer or a string');
  }
  return { chunks: source, text: false };
}

function sizeHint(size, chunks) {
  if (size !== undefined && size !== null) {
    if (!Number.isSafeInteger(size) || size < 0) throw new TypeError('size must be a non-negative integer');
    return size;
  }
  return Array.isArray(chunks) && chunks.length === 1 && chunks[0] instanceof Uint8Array ? chunks[0].length : -1;
}

/**
 * The job for smtp_session_sendmail_stream() (core.js), run with `mode`
 * 'async' or 'sync'. `a`: {from, to, source, size, lineEndings, mo, ro, signal}.
 */
function streamJob(mode, core, a) {
  const L = load();
  const { chunks, text } = sourceOf(a.source);
  const flags = lineFlags(a.lineEndings, text);
  const hint = sizeHint(a.size, chunks);
  const refusedCount = [0];
  const head = (p) => [p, a.from, a.to.length ? a.to : null, a.to.length];
  const tail = [hint, ...a.mo, ...a.ro, flags, null, refusedCount];
  return mode === 'sync' ? syncJob(L, core, chunks, head, tail) : asyncJob(L, core, chunks, head, tail, a.signal);
}

/** Resolves once `writer` has room again; rejects when it failed or was closed. */
function drained(writer) {
  return new Promise((resolve, reject) => {
    const done = (err) => {
      writer.off('drain', onDrain);
      writer.off('error', done);
      writer.off('close', onClose);
      if (err) reject(err); else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the message socket was closed'));
    writer.on('drain', onDrain);
    writer.on('error', done);
    writer.on('close', onClose);
  });
}

/**
 * Write the source's chunks into `writer`, then end it (the end of the
 * message). Not stream.pipeline(): on a failing source it would destroy
 * the writer itself, which the reader sees as the end of the message.
 * Stops quietly once `stopped()` (the call is over or was aborted; leaving
 * the loop destroys a Readable source).
 */
async function feed(chunks, writer, stopped) {
  for await (const chunk of chunks) {
    if (stopped()) return;
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      throw new TypeError('the message source must give Buffers, Uint8Arrays or strings');
    }
    if (!writer.write(chunk)) await drained(writer);
  }
  if (!stopped()) writer.end();
}

function asyncJob(L, core, chunks, head, tail, signal) {
  const C = libc();
  const [theirs, ours] = socketPair();
  let writer = null;
  let over = false; // the call settled: the feeder's errors no longer matter
  let failure = null; // {source: error} or {cancel: reason}: why the feeder was stopped
  const stop = (why) => {
    if (failure !== null || over) return;
    failure = why;
    // ECONNRESET, not the end of file, for the library's read (see above).
    C.write(theirs, Buffer.from([0]), 1);
    if (writer) writer.destroy(); else C.close(ours);
  };
  return {
    fn: L.sendmail_fd,
    gate,
    signal,
    args: (p) => [...head(p), theirs, ...tail],
    start() {
      writer = new net.Socket({ fd: ours, readable: false, writable: true, writableHighWaterMark: 1 << 20 });
      writer.on('error', () => {}); // seen by feed() as a failed write
      feed(chunks, writer, () => over || failure !== null).catch((err) => stop({ source: err }));
    },
    onCancel() { stop({ cancel: true }); },
    finish(p, rc) {
      if (rc !== 0 && failure !== null && failure.source) {
        throw makeError(resultCode('SMTP_ERR_IO'), `the message source failed: ${failure.source.message}`,
          { cause: failure.source });
      }
      if (rc !== 0 && failure !== null && failure.cancel) throw cancelledError(`cancelled while reading the message: ${L.errmsg(p)}`);
      return finishSend(core, p, rc);
    },
    cleanup() {
      over = true;
      C.close(theirs);
      if (writer) writer.destroy(); else if (failure === null) C.close(ours);
    },
  };
}

function syncJob(L, core, chunks, head, tail) {
  if (typeof chunks[Symbol.iterator] !== 'function') {
    throw new TypeError('sendmailStreamSync() needs a synchronous iterable (or a Buffer or string); use sendmailStream() for streams');
  }
  const it = chunks[Symbol.iterator]();
  let pending = null;
  let error = null;
  const read = koffi.register((userdata, buf, cap) => {
    try {
      while (pending === null || pending.length === 0) {
        const next = it.next();
        if (next.done) return 0;
        pending = toBytes(next.value, 'chunk').bytes;
      }
      const n = Math.min(pending.length, Number(cap));
      new Uint8Array(koffi.view(buf, n)).set(pending.subarray(0, n));
      pending = pending.subarray(n);
      return n;
    } catch (e) {
      error = e;
      return -1; // abort: the library closes the connection mid-message
    }
  }, L.ReadFnPtr);
  return {
    fn: L.sendmail_stream,
    args: (p) => [...head(p), read, 0, ...tail],
    finish(p, rc) {
      if (rc !== 0 && error !== null) {
        throw makeError(resultCode('SMTP_ERR_IO'), `the message source failed: ${error.message}`, { cause: error });
      }
      return finishSend(core, p, rc);
    },
    cleanup() {
      koffi.unregister(read);
      if (typeof it.return === 'function') it.return();
    },
  };
}

module.exports = { streamJob };
