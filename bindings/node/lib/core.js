'use strict';
/*
 * One smtp_session and the calls made on it: synchronously on the calling
 * thread, or asynchronously on a koffi worker (libuv's thread pool), one
 * at a time.
 *
 * A call is described once, as a job, and run either way:
 *   { fn,               the koffi function
 *     args(p),          its C arguments, given the session pointer
 *     finish(p, rc),    the result (or throws the error), on the main thread
 *     signal,           an AbortSignal (asynchronous calls)
 *     start(p),         after the asynchronous call was issued (the stream feeder)
 *     onCancel(),       when it is cancelled (the stream feeder stops)
 *     cleanup() }       always, once it is over
 *
 * Asynchronous calls on one session queue: each starts when the one
 * before it has settled (SMTP is one conversation; Promise.all over calls
 * on one session runs them in order). A synchronous call, a setter or a
 * getter while an asynchronous call runs or waits throws SMTPStateError:
 * the library forbids two threads on one session, and a synchronous call
 * cannot wait for the event loop.
 *
 * Cancel (cancel() or the call's AbortSignal) calls smtp_session_cancel()
 * at once and again every 10 ms until the call settles: koffi queues an
 * asynchronous call for a worker thread, and a cancel that comes before
 * the call entered the library does nothing there. A queued call whose
 * signal fires is removed from the queue and rejected.
 */

const { load, koffi } = require('./native');
const { makeError, stateError, resultCode, results } = require('./errors');

const RECANCEL_MS = 10;

function cancelledError(message, reason) {
  return makeError(resultCode('SMTP_ERR_CANCELLED'), message, { cause: reason });
}

class Core {
  constructor(ptr) {
    this.ptr = ptr;
    this.syncBusy = false;
    this.running = null; // the asynchronous job on a worker thread
    this.queue = []; // asynchronous jobs waiting their turn
    this.closing = false; // free once the running job settles
    this.orphaned = false; // the Session was collected: free once idle
    this.callbacks = new Set(); // koffi registered callbacks to unregister at free
    this.onFree = null;
  }

  get busy() { return this.syncBusy || this.running !== null || this.queue.length > 0; }

  /** The pointer for a call made now; throws when closed or in use. */
  enter() {
    if (this.ptr === null || this.closing) throw stateError('the session is closed');
    if (this.syncBusy) throw stateError('the session is in use (a call from inside one of its callbacks)');
    if (this.running !== null || this.queue.length) {
      throw stateError('the session is in use: an asynchronous call runs on it (await it first)');
    }
    return this.ptr;
  }

  /** Run `f(p)` now on this thread; refuses a closed or busy session. */
  run(f) {
    const p = this.enter();
    this.syncBusy = true;
    try {
      return f(p);
    } finally {
      this.syncBusy = false;
    }
  }

  /** The error for result `rc` of the call just made on `p` (the server's reply with it when the code has one). */
  error(p, rc, extra = {}) {
    const L = load();
    const info = { ...extra };
    if (results().withReply.has(rc)) {
      info.smtpCode = L.last_reply_code(p);
      info.smtpMessage = L.last_reply_text(p);
    }
    return makeError(rc, L.errmsg(p), info);
  }

  check(p, rc, extra) {
    if (rc !== 0) throw this.error(p, rc, extra);
  }

  /** A job, synchronously. */
  sync(job) {
    try {
      return this.run((p) => job.finish(p, job.fn(...job.args(p))));
    } finally {
      if (job.cleanup) job.cleanup();
    }
  }

  /** A job, asynchronously: a Promise of its result. */
  async(job) {
    return new Promise((resolve, reject) => {
      job.resolve = resolve;
      job.reject = reject;
      if (this.ptr === null || this.closing) return this.#drop(job, stateError('the session is closed'));
      if (this.syncBusy) {
        return this.#drop(job, stateError('the session is in use (a call from inside one of its callbacks)'));
      }
      const signal = job.signal;
      if (signal) {
        if (signal.aborted) return this.#drop(job, cancelledError('the call was aborted before it started', signal.reason));
        job.abort = () => this.#abort(job, signal.reason);
        signal.addEventListener('abort', job.abort, { once: true });
      }
      this.queue.push(job);
      this.#pump();
      return undefined;
    });
  }

  /** Settle a job that never ran. */
  #drop(job, err) {
    if (job.abort) job.signal.removeEventListener('abort', job.abort);
    if (job.cleanup) job.cleanup();
    job.reject(err);
  }

  #pump() {
    if (this.running !== null || this.queue.length === 0 || this.ptr === null) return;
    // A job with a gate (a stream: stream.js) waits for a slot first.
    if (this.queue[0].gate && !this.queue[0].gate.enter(() => this.#pump())) return;
    const job = this.queue.shift();
    const p = this.ptr;
    this.running = job;
    try {
      job.fn.async(...job.args(p), (err, rc) => this.#settle(job, p, err, rc));
    } catch (e) {
      // koffi refused the call (too many queued): it never started
      this.running = null;
      if (job.gate) job.gate.leave();
      this.#drop(job, e);
      this.#pump();
      return;
    }
    if (job.start) {
      try {
        job.start(p);
      } catch (e) {
        this.#cancelRunning(e);
      }
    }
  }

  #settle(job, p, err, rc) {
    if (job.timer) clearInterval(job.timer);
    this.running = null;
    if (job.abort) job.signal.removeEventListener('abort', job.abort);
    let value;
    let error = null;
    try {
      if (err) throw err;
      value = job.finish(p, rc);
    } catch (e) {
      error = e;
      if (job.cancelReason !== undefined && error.code === 'SMTP_ERR_CANCELLED' && error.cause === undefined) {
        error.cause = job.cancelReason;
      }
    }
    try {
      if (job.cleanup) job.cleanup();
    } catch (e) {
      error = error || e;
    }
    if (job.gate) job.gate.leave();
    if (error) job.reject(error); else job.resolve(value);
    if (this.closing || (this.orphaned && this.queue.length === 0)) this.free(); else this.#pump();
  }

  /** A job's AbortSignal fired. */
  #abort(job, reason) {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.#drop(job, cancelledError('the call was aborted before it started', reason));
    } else if (this.running === job) {
      this.#cancelRunning(reason);
    }
  }

  #cancelRunning(reason) {
    const job = this.running;
    if (job.cancelReason === undefined) job.cancelReason = reason;
    const L = load();
    const p = this.ptr;
    L.cancel(p);
    if (job.onCancel) job.onCancel();
    if (!job.timer) job.timer = setInterval(() => L.cancel(p), RECANCEL_MS);
  }

  /**
   * End the running call (asynchronous, or the synchronous one whose
   * callback is running); queued calls stay queued. Never throws.
   */
  cancel() {
    if (this.ptr === null) return;
    if (this.running !== null) this.#cancelRunning(undefined);
    else if (this.syncBusy) load().cancel(this.ptr);
  }

  /**
   * Free the session: at once when idle; while an asynchronous call runs,
   * cancel it, reject the queued ones and free once it settles. From
   * inside one of its callbacks during a synchronous call: SMTPStateError.
   */
  close() {
    if (this.ptr === null) return;
    if (this.syncBusy) throw stateError('close() from inside one of the session\'s callbacks');
    const queued = this.queue.splice(0);
    for (const job of queued) this.#drop(job, stateError('the session was closed'));
    if (this.running !== null) {
      this.closing = true;
      this.#cancelRunning(undefined);
      return;
    }
    this.free();
  }

  /**
   * The Session object was garbage-collected: free now, or once the calls
   * still running or queued (their Promises may still be awaited) are over.
   */
  release() {
    if (this.running !== null || this.queue.length) this.orphaned = true;
    else this.free();
  }

  free() {
    if (this.ptr === null) return;
    const L = load();
    L.free(this.ptr);
    this.ptr = null;
    this.closing = false;
    for (const cb of this.callbacks) koffi.unregister(cb);
    this.callbacks.clear();
    if (this.onFree) this.onFree();
  }
}

module.exports = { Core, cancelledError };
