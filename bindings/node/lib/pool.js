'use strict';
/*
 * Pool: smtp_pool_*, connections to one server shared by many calls at
 * once. The pool lends a connection to the caller's session for each call
 * (smtp_pool_sendmail() runs on `s`); so each call here runs on a session
 * of its own: options.session when given (its timeouts, envelope, trace
 * and switches apply, and cancel() on it ends the call), else one of the
 * pool's helper sessions, made as needed and reused, with the template's
 * timeouts and the envelope and switches set on the pool.
 */

const { load, koffi } = require('./native');
const { makeError, stateError, invalid } = require('./errors');
const { cstr, authFlags, port16, opts } = require('./args');
const { Core } = require('./core');
const { Session, coreOf, timeoutPairs } = require('./session');
const { buildEnvelope } = require('./envelope');
const { registerStep } = require('./sasl');
const { sendmailArgs, sendMessageArgs, sendJob } = require('./commands');
const { batchJob } = require('./batch');

const { POOL_OPTIONS: OPTIONS, POOL_STATS: STATS, KINDS } = require('./constants');

// The safety net: a pool dropped without close() is freed by the GC. A
// running call keeps its Pool reachable (its Promise's callbacks do).
const registry = new FinalizationRegistry((box) => freeBox(box));

function freeBox(box) {
  if (box.ptr === null) return;
  load().pool_free(box.ptr);
  box.ptr = null;
  for (const core of box.helpers.splice(0)) core.close();
  if (box.auth) koffi.unregister(box.auth);
  box.auth = null;
}

class Pool {
  #ptr = null;
  #kind;
  #helpers = []; // Cores of the pool's own sessions
  #timeouts; // the template's, for the helpers
  #helperSettings = { envelope: null, pipelining: undefined, chunking: undefined };
  #box; // what the finalizer frees: {ptr, auth (the registered authobject), helpers}
  #calls = 0; // calls running or queued
  #closing = false;

  /**
   * @param {string} host the server ("host", "host:port", or an LMTP Unix socket path)
   * @param {number} [port] 0: the kind's default
   * @param {object} [options] {maxConnections (default 4), like (a Session
   *   whose settings new connections copy), or the SessionOptions (kind,
   *   tls, proxy, ...) of a template made for the purpose; starttls,
   *   maxMessages, maxIdleMs, probeIdleMs, rate; login: {user, password,
   *   ...}; auth: {mechanism, authobject, ...}; envelope, pipelining, chunking}
   */
  constructor(host, port = 0, options = {}) {
    const L = load();
    const o = opts(options);
    const h = cstr(host, 'host');
    const max = o.maxConnections === undefined ? 4 : o.maxConnections;
    if (!Number.isInteger(max) || max < 1 || max > 0xffffffff) throw invalid('maxConnections must be an integer >= 1');
    const like = o.like instanceof Session ? o.like : new Session(o);
    try {
      this.#kind = like.kind;
      this.#timeouts = like.getTimeouts();
      delete this.#timeouts.all; // derived from the others
      const out = [null];
      coreOf(like).run((p) => coreOf(like).check(p, L.pool_new(p, h, port16(port), max, out)));
      this.#ptr = out[0];
    } finally {
      if (like !== o.like) like.close();
    }
    this.#box = { ptr: this.#ptr, auth: null, helpers: this.#helpers };
    registry.register(this, this.#box, this);
    for (const name of Object.keys(OPTIONS)) {
      if (name !== 'maxConnections' && o[name] !== undefined) this.setOption(name, o[name]);
    }
    if (o.login) this.setLogin(o.login.user, o.login.password, o.login);
    if (o.auth) this.setAuth(o.auth.mechanism, o.auth.authobject, o.auth);
    if (o.envelope !== undefined) this.setEnvelope(o.envelope);
    if (o.pipelining !== undefined) this.#helperSettings.pipelining = !!o.pipelining;
    if (o.chunking !== undefined) this.#helperSettings.chunking = !!o.chunking;
  }

  #live() {
    if (this.#ptr === null || this.#closing) throw stateError('the pool is closed');
    return this.#ptr;
  }

  /** Set an option: starttls (boolean), maxMessages, maxIdleMs, probeIdleMs, rate (per second), maxConnections. */
  setOption(name, value) {
    if (!Object.prototype.hasOwnProperty.call(OPTIONS, name)) throw invalid(`unknown pool option ${name}`);
    const v = typeof value === 'boolean' ? Number(value) : value;
    if (!Number.isSafeInteger(v) || v < 0) throw invalid(`pool option ${name} must be an integer >= 0`);
    const rc = load().pool_set_option(this.#live(), OPTIONS[name], v);
    if (rc !== 0) throw makeError(rc, `pool option ${name}: ${load().result_str(rc)}`);
  }

  /** One counter: opened, open, idle, sent, retried, probed, probeFailed, retired, unknown. */
  stat(name) {
    if (!Object.prototype.hasOwnProperty.call(STATS, name)) throw invalid(`unknown pool statistic ${name}`);
    return Number(load().pool_stat(this.#live(), STATS[name]));
  }

  /** Every counter, by the names of stat(). */
  stats() {
    const out = {};
    for (const name of Object.keys(STATS)) out[name] = this.stat(name);
    return out;
  }

  /** Log every new connection in with login()'s rules; null removes it. Options: initialResponseOk, allowCleartext. */
  setLogin(user, password, options = {}) {
    const u = user === null ? null : cstr(user, 'user');
    const pw = user === null ? null : cstr(password, 'password');
    const rc = load().pool_set_login(this.#live(), u, pw, authFlags(options));
    if (rc !== 0) throw makeError(rc, `pool login: ${load().result_str(rc)}`);
  }

  /**
   * Authenticate every new connection with `authobject` (as Session#auth();
   * called on the main thread, for each connection opened); null removes it.
   */
  setAuth(mechanism, authobject, options = {}) {
    const L = load();
    const step = authobject === null ? null : registerStep(authobject, {});
    const m = mechanism === null ? null : cstr(mechanism, 'mechanism');
    const rc = L.pool_set_auth_step(this.#live(), m, step, null, authFlags(options));
    if (rc !== 0) {
      if (step) koffi.unregister(step);
      throw makeError(rc, `pool auth: ${L.result_str(rc)}`);
    }
    if (this.#box.auth) koffi.unregister(this.#box.auth);
    this.#box.auth = step;
  }

  /** The envelope options (Session#setEnvelope()) of the calls made on the pool's own sessions; null: none. */
  setEnvelope(options) {
    if (options !== null && options !== undefined) load().envelope_free(buildEnvelope(load(), options)); // checked now
    this.#helperSettings.envelope = options === undefined ? null : options;
    for (const core of this.#helpers) core.configured = false;
  }

  /** A helper session not in use, configured. */
  #helper() {
    let core = this.#helpers.find((c) => !c.busy);
    if (!core) {
      const L = load();
      core = new Core(L.new(KINDS[this.#kind]));
      core.run((p) => { for (const [which, ms] of timeoutPairs(this.#timeouts)) core.check(p, L.set_timeout_ms(p, which, ms)); });
      this.#helpers.push(core);
    }
    if (!core.configured) {
      const L = load();
      const s = this.#helperSettings;
      core.run((p) => {
        const e = s.envelope ? buildEnvelope(L, s.envelope) : null;
        try {
          core.check(p, L.set_envelope(p, e));
        } finally {
          if (e) L.envelope_free(e);
        }
        if (s.pipelining !== undefined) core.check(p, L.set_pipelining(p, s.pipelining ? 1 : 0));
        if (s.chunking !== undefined) core.check(p, L.set_chunking(p, s.chunking ? 1 : 0));
      });
      core.configured = true;
    }
    return core;
  }

  /** Run `make(core, poolPtr)`'s job on options.session or a helper, as `mode`. */
  #call(mode, o, make) {
    const pool = this.#live();
    const core = o.session === undefined || o.session === null ? this.#helper() : coreOf(o.session);
    const job = make(core, pool);
    if (mode === 'sync') {
      this.#calls++;
      try {
        return core.sync(job);
      } finally {
        this.#calls--;
      }
    }
    this.#calls++;
    const done = () => {
      this.#calls--;
      if (this.#closing && this.#calls === 0) this.#free();
    };
    return core.async(job).finally(done);
  }

  #sendmail(mode, fromAddr, toAddrs, msg, options) {
    const { o, args } = sendmailArgs(fromAddr, toAddrs, msg, options);
    return this.#call(mode, o, (core, pool) => sendJob(core, load().pool_sendmail, (p) => [pool, p], args, o.signal));
  }

  #sendMessage(mode, msg, fromAddr, toAddrs, options) {
    const { o, args } = sendMessageArgs(msg, fromAddr, toAddrs, options);
    return this.#call(mode, o, (core, pool) => sendJob(core, load().pool_send_message, (p) => [pool, p], args, o.signal));
  }

  #batch(mode, messages, options) {
    const o = opts(options);
    return this.#call(mode, o, (core, pool) => batchJob(core, load().pool_sendmail_batch, (p) => [pool, p], messages, o.signal));
  }

  /** Session#sendmail() through the pool; options also {session}. */
  async sendmail(fromAddr, toAddrs, msg, options) { return this.#sendmail('async', fromAddr, toAddrs, msg, options); }

  sendmailSync(fromAddr, toAddrs, msg, options) { return this.#sendmail('sync', fromAddr, toAddrs, msg, options); }

  /** Session#sendMessage() through the pool; options also {session}. */
  async sendMessage(msg, fromAddr, toAddrs, options) { return this.#sendMessage('async', msg, fromAddr, toAddrs, options); }

  sendMessageSync(msg, fromAddr, toAddrs, options) { return this.#sendMessage('sync', msg, fromAddr, toAddrs, options); }

  /** Session#sendmailBatch() through the pool; options also {session}. */
  async sendmailBatch(messages, options) { return this.#batch('async', messages, options); }

  sendmailBatchSync(messages, options) { return this.#batch('sync', messages, options); }

  /** True once close() was called. */
  get closed() { return this.#ptr === null || this.#closing; }

  /**
   * Free the pool and close its idle connections (without QUIT); once the
   * calls still running are over when there are some. Idempotent.
   */
  close() {
    if (this.#ptr === null || this.#closing) return;
    this.#closing = true;
    if (this.#calls === 0) this.#free();
  }

  #free() {
    registry.unregister(this);
    freeBox(this.#box);
    this.#ptr = null;
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Pool.prototype[Symbol.dispose] = function dispose() { this.close(); };
}

module.exports = { Pool };
