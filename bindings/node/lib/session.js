'use strict';
/*
 * Session: smtplib's SMTP, SMTP_SSL and LMTP object. This file has its
 * construction, settings and getters (local, synchronous); commands.js
 * adds the network calls, each as a Promise-returning method and its
 * synchronous form (connect / connectSync, ...).
 */

const { load, koffi } = require('./native');
const { invalid } = require('./errors');
const { cstr, optCstr, strArray, uint32, port16, setKey } = require('./args');
const { Core } = require('./core');
const { withTls } = require('./tls');
const { buildEnvelope } = require('./envelope');
const { rcptResults } = require('./transaction');

const CORE = Symbol('libsmtp.core');

// TIMEOUTS: smtp_session_set_timeout_ms()'s SMTP_TIMEOUT_* (the rule is
// in its doc comment in include/smtp.h): each per-wait limit, `call` on a
// whole call, and `all`, every per-wait limit at once (not `call`).
const { KINDS, KIND_NAMES, TIMEOUTS, TRACE_DIRECTIONS } = require('./constants');

const TIMEOUT_NAMES = Object.keys(TIMEOUTS).join(', ');

// The safety net: a session dropped without close() is freed by the GC
// (once the calls still running on it are over). The held Core never
// references the Session.
const registry = new FinalizationRegistry((core) => core.release());

/** The Core of a Session (commands.js, pool.js). */
function coreOf(session) {
  const core = session instanceof Session ? session[CORE] : undefined;
  if (!core) throw new TypeError('not a libsmtp Session');
  return core;
}

/**
 * The trace bridge, made outside any method: a closure there would keep the
 * session alive through its context while koffi holds the callback.
 */
function registerTrace(fn) {
  return koffi.register((userdata, direction, line) => {
    try {
      fn(TRACE_DIRECTIONS[direction] || String(direction), line === null ? '' : line);
    } catch (e) {
      process.emitWarning(`libsmtp trace callback threw: ${e && e.stack ? e.stack : e}`);
    }
  }, load().TraceFnPtr);
}

/** The timeouts as [which, ms] pairs to set, `all` first; checks every name and value first. */
function timeoutPairs(timeouts) {
  if (timeouts === null || typeof timeouts !== 'object' || Array.isArray(timeouts)) {
    throw new TypeError(`timeouts must be an object {${TIMEOUT_NAMES}}`);
  }
  const todo = [];
  for (const [name, ms] of Object.entries(timeouts)) {
    if (!Object.prototype.hasOwnProperty.call(TIMEOUTS, name)) throw invalid(`unknown timeout ${name} (${TIMEOUT_NAMES})`);
    if (ms === undefined || ms === null) continue;
    const entry = [TIMEOUTS[name], uint32(ms, `timeouts.${name}`)];
    if (name === 'all') todo.unshift(entry); else todo.push(entry);
  }
  return todo;
}

class Session {
  /**
   * @param {'smtp'|'smtp_ssl'|'lmtp'} [kind='smtp']
   * @param {object} [options] see SessionOptions in index.d.ts
   */
  constructor(kind = 'smtp', options = {}) {
    const L = load();
    if (kind !== null && typeof kind === 'object') {
      options = kind; // new Session({...})
      kind = options.kind === undefined ? 'smtp' : options.kind;
    }
    const k = typeof kind === 'number' ? kind : KINDS[String(kind).toLowerCase()];
    if (k === undefined || KIND_NAMES[k] === undefined) throw invalid(`unknown session kind ${String(kind)}`);
    const ptr = L.new(k);
    if (ptr === null) throw invalid(`unknown session kind ${String(kind)}`);
    Object.defineProperty(this, CORE, { value: new Core(ptr) });
    this[CORE].kind = KIND_NAMES[k];
    registry.register(this, this[CORE], this);
    try {
      this.#configure(options || {});
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #configure(o) {
    if (o.localHostname !== undefined) this.setLocalHostname(o.localHostname);
    if (o.timeout !== undefined && o.timeout !== null) this.setTimeouts({ all: o.timeout });
    if (o.timeouts) this.setTimeouts(o.timeouts);
    if (o.sourceAddress !== undefined && o.sourceAddress !== null) this.setSourceAddress(o.sourceAddress);
    if (o.tls !== undefined && o.tls !== null) this.setTlsConfig(o.tls);
    if (o.requireTls !== undefined) this.setRequireTls(o.requireTls);
    if (o.trustLoopback !== undefined) this.setTrustLoopback(o.trustLoopback);
    if (o.authMechanisms !== undefined) this.setAuthMechanisms(o.authMechanisms);
    if (o.proxy !== undefined) this.setProxy(o.proxy);
    if (o.pipelining !== undefined) this.setPipelining(o.pipelining);
    if (o.chunking !== undefined) this.setChunking(o.chunking);
    if (o.envelope !== undefined) this.setEnvelope(o.envelope);
    if (o.debugSecrets !== undefined) this.setDebugSecrets(o.debugSecrets);
    if (o.trace) this.setTrace(o.trace);
    if (o.debugLevel !== undefined) this.setDebugLevel(o.debugLevel);
  }

  /** Run `f(p)` now, with the session idle. */
  #run(f) { return this[CORE].run(f); }

  /** A setter: `f(p)` gives a result code. */
  #set(f) { this.#run((p) => this[CORE].check(p, f(p))); }

  // -- settings ------------------------------------------------------------

  /** The session kind: 'smtp', 'smtp_ssl' or 'lmtp'. */
  get kind() { return this[CORE].kind; }

  /** True once close() freed the session (or is freeing it). */
  get closed() { return this[CORE].ptr === null || this[CORE].closing; }

  /** True while a call runs on the session or waits its turn. */
  get busy() { return this[CORE].busy; }

  /** smtplib's local_hostname: the name sent with EHLO, HELO and LHLO. */
  setLocalHostname(name) {
    const n = cstr(name, 'localHostname');
    this.#set((p) => load().set_local_hostname(p, n));
  }

  /**
   * Set timeouts in milliseconds (0: no limit), from the next call on:
   * {connect, io, reply, greeting, mail, rcpt, data, dataBlock, finalDot,
   * call, all} (the rule: smtp_session_set_timeout_ms() in include/smtp.h).
   * `all` sets every limit but `call` and is applied first. An unknown name
   * or a value outside 0..2**32-1 throws SMTPInvalidArgumentError and sets
   * nothing.
   */
  setTimeouts(timeouts) {
    const todo = timeoutPairs(timeouts);
    this.#run((p) => { for (const [which, ms] of todo) this[CORE].check(p, load().set_timeout_ms(p, which, ms)); });
  }

  /** One timeout in milliseconds (0: no limit); for 'all' the longest single wait the limits allow. */
  getTimeout(name) {
    if (typeof name !== 'string') throw new TypeError('the timeout name must be a string');
    if (!Object.prototype.hasOwnProperty.call(TIMEOUTS, name)) throw invalid(`unknown timeout ${name} (${TIMEOUT_NAMES})`);
    return this.#run((p) => Number(load().timeout_ms(p, TIMEOUTS[name])));
  }

  /** Every timeout in milliseconds, as getTimeout() gives them. */
  getTimeouts() {
    return this.#run((p) => {
      const out = {};
      for (const [name, which] of Object.entries(TIMEOUTS)) out[name] = Number(load().timeout_ms(p, which));
      return out;
    });
  }

  /** smtplib's source_address: "host", [host, port] or {host, port}; null removes it. */
  setSourceAddress(addr) {
    let host = null;
    let port = 0;
    if (typeof addr === 'string') host = addr;
    else if (Array.isArray(addr)) [host, port = 0] = addr;
    else if (addr !== null && typeof addr === 'object') ({ host, port = 0 } = addr);
    else if (addr !== null) throw new TypeError('sourceAddress must be a string, [host, port] or {host, port}');
    const h = optCstr(host, 'sourceAddress host');
    const pt = port16(port);
    this.#set((p) => load().set_source_address(p, h, pt));
  }

  /** smtplib's set_debuglevel: 0 quiet, 1 every command and reply, 2 with timestamps. */
  setDebugLevel(level) {
    if (!Number.isInteger(level)) throw new TypeError('debug level must be an integer');
    this.#set((p) => load().set_debuglevel(p, level));
  }

  /**
   * Send the debug trace to `fn(direction, line)` ('info', 'send' or
   * 'recv') instead of stderr; null restores stderr. Lines come only while
   * the debug level is above 0. An exception thrown by `fn` is reported as
   * a process warning. koffi holds `fn` until close() or setTrace(null).
   */
  setTrace(fn) {
    if (fn !== null && typeof fn !== 'function') throw new TypeError('the trace callback must be a function or null');
    const core = this[CORE];
    this.#run((p) => {
      const ptr = fn ? registerTrace(fn) : null;
      const rc = load().set_trace(p, ptr, null);
      if (rc !== 0) {
        if (ptr !== null) koffi.unregister(ptr);
        core.check(p, rc);
      }
      if (core.trace) {
        koffi.unregister(core.trace);
        core.callbacks.delete(core.trace);
      }
      core.trace = ptr;
      if (ptr) core.callbacks.add(ptr);
    });
  }

  /** The TLS configuration for SMTP_SSL and starttls(): a TlsConfig, its options, or null (the default). */
  setTlsConfig(tls) {
    withTls(tls, (config) => this.#set((p) => load().set_tls_config(p, config)));
  }

  /** With true, sendmail, login and auth refuse to run unless the connection is TLS. */
  setRequireTls(on) { this.#set((p) => load().set_require_tls(p, on ? 1 : 0)); }

  /** Whether a loopback peer counts as protecting secrets (default true). */
  setTrustLoopback(on) { this.#set((p) => load().set_trust_loopback(p, on ? 1 : 0)); }

  /** The mechanisms login() tries, in order ("CRAM-MD5 PLAIN LOGIN" or an array); null: smtplib's. */
  setAuthMechanisms(mechanisms) {
    const m = Array.isArray(mechanisms) ? strArray(mechanisms, 'mechanisms').join(' ') : optCstr(mechanisms, 'mechanisms');
    this.#set((p) => load().set_auth_mechanisms(p, m));
  }

  /** Show AUTH payloads in the debug trace (test servers only). */
  setDebugSecrets(on) { this.#set((p) => load().set_debug_secrets(p, on ? 1 : 0)); }

  /**
   * Connect through a proxy from the next connect on: 'socks5://[user:pass@]host[:port]',
   * 'socks5h://...' or 'http://[user:pass@]host[:port]'; null or '' connects directly.
   */
  setProxy(url) {
    const u = optCstr(url, 'proxy');
    this.#set((p) => load().set_proxy(p, u));
  }

  /** false: wait for each reply even when the server offers PIPELINING (default true). */
  setPipelining(on) { this.#set((p) => load().set_pipelining(p, on ? 1 : 0)); }

  /** false: send by DATA even when the server offers CHUNKING (default true: BDAT). */
  setChunking(on) { this.#set((p) => load().set_chunking(p, on ? 1 : 0)); }

  /**
   * Structured MAIL/RCPT options for every following sendmail, sendMessage
   * and their stream and batch forms; null removes them (see Envelope in
   * index.d.ts: dsnRet, dsnEnvid, dsnNotify, rcptDsn, smtputf8, body,
   * requireTls, mtPriority, deliverBy).
   */
  setEnvelope(options) {
    const L = load();
    if (options === null || options === undefined) {
      this.#set((p) => L.set_envelope(p, null));
      return;
    }
    const e = buildEnvelope(L, options);
    try {
      this.#set((p) => L.set_envelope(p, e));
    } finally {
      L.envelope_free(e);
    }
  }

  // -- state ---------------------------------------------------------------

  /** The last reply: {code, message} (smtplib's code and message). */
  get lastReply() {
    return this.#run((p) => ({ code: load().last_reply_code(p), message: load().last_reply_text(p) }));
  }

  /** What the last call did ("no error" after success). */
  get errmsg() { return this.#run((p) => load().errmsg(p)); }

  get isConnected() { return this.#run((p) => load().is_connected(p) === 1); }

  /** smtplib's does_esmtp. */
  get doesEsmtp() { return this.#run((p) => load().does_esmtp(p) === 1); }

  /** smtplib's command_encoding == 'utf-8': true from a MAIL with SMTPUTF8 until RSET. */
  get utf8Commands() { return this.#run((p) => load().utf8_commands(p) === 1); }

  /** smtplib's ehlo_resp (null when no EHLO was answered). */
  get ehloResp() { return this.#run((p) => load().ehlo_resp(p)); }

  /** smtplib's helo_resp. */
  get heloResp() { return this.#run((p) => load().helo_resp(p)); }

  get isEncrypted() { return this.#run((p) => load().is_encrypted(p) === 1); }

  /** The TLS version ("TLSv1.3") or null. */
  get tlsVersion() { return this.#run((p) => load().tls_version(p)); }

  /** The TLS cipher suite or null. */
  get tlsCipher() { return this.#run((p) => load().tls_cipher(p)); }

  /** The reverse-path of the last transaction (also the one sendMessage chose); null before any. */
  get sender() { return this.#run((p) => load().sender(p)); }

  /** The connection's socket descriptor (-1 when not connected): poll it or read its address, never read or write it. */
  get fileno() { return this.#run((p) => load().fileno(p)); }

  /** smtplib's has_extn (case-insensitive). */
  hasExtn(name) {
    const n = cstr(name, 'name');
    return this.#run((p) => load().has_extn(p, n) === 1);
  }

  /** The parameters of extension `name` (case-insensitive; "" when it has none), or null when not advertised. */
  feature(name) {
    const n = cstr(name, 'name');
    return this.#run((p) => load().feature(p, n));
  }

  /** smtplib's esmtp_features: {name: params}, names lower-case, in the server's order. */
  features() {
    return this.#run((p) => {
      const L = load();
      const out = {};
      for (let i = 0, n = Number(L.feature_count(p)); i < n; i++) setKey(out, L.feature_name(p, i), L.feature_params(p, i));
      return out;
    });
  }

  /**
   * Per-recipient results of the last transaction: [{addr, refused, code,
   * message, status, dataCode, dataMessage, dataStatus, finalCode,
   * finalMessage, finalStatus}] (data*: LMTP's reply after the data;
   * final*: the reply that decided the recipient's fate).
   */
  rcptResults() { return this.#run((p) => rcptResults(p)); }

  // -- cancel and the end ---------------------------------------------------

  /**
   * End the call running on this session (an asynchronous one, or the one
   * whose callback is running): it rejects (throws) SMTPCancelledError
   * within 100 ms, and the connection is closed (connect again). Calls
   * waiting their turn are not affected. With no call running it does
   * nothing; on a closed session too. Never throws.
   */
  cancel() { this[CORE].cancel(); }

  /**
   * Free the session, closing the connection without QUIT. Idempotent;
   * every later call throws SMTPStateError. While an asynchronous call
   * runs it is cancelled and the queued ones are rejected; the session is
   * freed once it has settled.
   */
  close() {
    this[CORE].close();
    registry.unregister(this);
  }

  /** smtplib's close(): drop the connection without QUIT; the session stays usable (connect again). */
  disconnect() { this.#set((p) => load().close(p)); }
}

if (typeof Symbol.dispose === 'symbol') {
  Session.prototype[Symbol.dispose] = function dispose() { this.close(); };
}

module.exports = { Session, coreOf, timeoutPairs };
