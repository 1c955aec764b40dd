'use strict';
/*
 * The network calls of Session, each described once as a job (core.js)
 * and defined twice: `name(...)` returns a Promise and runs the call on a
 * koffi worker thread (libuv's pool), never blocking the event loop;
 * `nameSync(...)` blocks the calling thread, Node's convention
 * (fs.readFile / fs.readFileSync). The last argument of each takes
 * {signal}: an AbortSignal that cancels the asynchronous call (ignored
 * by the synchronous form).
 */

const { load, koffi } = require('./native');
const {
  cstr, address, optCstr, strArray, cArray, messageArgs, authFlags, port16, opts,
} = require('./args');
const { Session, coreOf } = require('./session');
const { TlsConfig } = require('./tls');
const { registerStep } = require('./sasl');
const { finishSend } = require('./transaction');
const { streamJob } = require('./stream');
const { batchJob } = require('./batch');

/** A call with an `int *code` out parameter, giving {code, message}. */
function reply(core, fn, args, signal) {
  const code = [0];
  return {
    fn,
    signal,
    args: (p) => [p, ...args, code],
    finish(p, rc) {
      core.check(p, rc);
      return { code: code[0], message: load().last_reply_text(p) };
    },
  };
}

/** A call that only succeeds or fails (`ok`), or whose reply is the session's last (`last`). */
function plain(core, fn, args, signal, last = false) {
  return {
    fn,
    signal,
    args: (p) => [p, ...args],
    finish(p, rc) {
      core.check(p, rc);
      return last ? { code: load().last_reply_code(p), message: load().last_reply_text(p) } : undefined;
    },
  };
}

/** sendmail's and sendMessage's shared options: mail and RCPT options, as C arrays. */
function envelopeArrays(o) {
  return { mo: cArray(strArray(o.mailOptions, 'mailOptions')), ro: cArray(strArray(o.rcptOptions, 'rcptOptions')) };
}

/** sendMessage(msg, fromAddr, toAddrs, options) or sendMessage(msg, {fromAddr, toAddrs, ...options}). */
function sendMessageArgs(msg, fromAddr = null, toAddrs = null, options = {}) {
  if (fromAddr !== null && typeof fromAddr === 'object' && !Array.isArray(fromAddr)) {
    options = fromAddr;
    fromAddr = options.fromAddr === undefined ? null : options.fromAddr;
    toAddrs = options.toAddrs === undefined ? null : options.toAddrs;
  }
  const o = opts(options);
  const to = toAddrs === null || toAddrs === undefined ? null : strArray(toAddrs, 'toAddrs');
  const { bytes, flags } = messageArgs(msg, o.lineEndings);
  const { mo, ro } = envelopeArrays(o);
  // An empty `to` array must still be non-NULL (NULL means: from the headers).
  const toArg = to === null ? [null, 0] : [to.length ? to : [null], to.length];
  return { o, args: [bytes, bytes.length, optCstr(fromAddr, 'fromAddr'), ...toArg, ...mo, ...ro, flags] };
}

/** sendmail(from, to, msg, options)'s C arguments after the session, and its options. */
function sendmailArgs(fromAddr, toAddrs, msg, options) {
  const o = opts(options);
  const from = cstr(fromAddr, 'fromAddr');
  const to = strArray(toAddrs, 'toAddrs');
  const { bytes, flags } = messageArgs(msg, o.lineEndings);
  const { mo, ro } = envelopeArrays(o);
  return { o, args: [from, to.length ? to : null, to.length, bytes, bytes.length, ...mo, ...ro, flags, null] };
}

/** A transaction job: the refused dict, or the error with the refused recipients and the sender. */
function sendJob(core, fn, head, args, signal) {
  const refusedCount = [0];
  return {
    fn,
    signal,
    args: (p) => [...head(p), ...args, refusedCount],
    finish: (p, rc) => finishSend(core, p, rc),
  };
}

/** authobject calls: the callback registered for the call, its exception re-thrown after it. */
function authJob(core, mechanism, authobject, o) {
  const L = load();
  const m = cstr(mechanism, 'mechanism');
  const state = {};
  const step = registerStep(authobject, state);
  const job = plain(core, L.auth_step, [m, step, null, authFlags(o)], o.signal, true);
  const finish = job.finish;
  job.finish = (p, rc) => {
    if (state.error !== undefined) throw state.error;
    return finish(p, rc);
  };
  job.cleanup = () => koffi.unregister(step);
  return job;
}

// name: (core, ...arguments) => job. Defaults as smtplib's.
const CALLS = {
  /** smtplib's connect: the greeting as {code, message}; not 220 is not an error. */
  connect: (core, host = 'localhost', port = 0, o) => reply(core, load().connect, [cstr(host, 'host'), port16(port)], opts(o).signal),
  /** smtplib's SMTP(host, port): as connect(), and a greeting other than 220 throws SMTPConnectError. */
  open: (core, host = 'localhost', port = 0, o) => reply(core, load().open, [cstr(host, 'host'), port16(port)], opts(o).signal),
  /** Run the session over a connected socket descriptor, which the library owns from then on. */
  connectFd: (core, fd, host = null, o) => {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('fd must be a file descriptor (an integer >= 0)');
    return reply(core, load().connect_fd, [fd, optCstr(host, 'host')], opts(o).signal);
  },
  helo: (core, name = '', o) => reply(core, load().helo, [cstr(name, 'name')], opts(o).signal),
  /** smtplib's ehlo (LHLO on LMTP); a refusal is returned, not thrown. */
  ehlo: (core, name = '', o) => reply(core, load().ehlo, [cstr(name, 'name')], opts(o).signal),
  ehloOrHeloIfNeeded: (core, o) => plain(core, load().ehlo_or_helo_if_needed, [], opts(o).signal),
  docmd: (core, cmd, args = '', o) => reply(core, load().docmd, [cstr(cmd, 'cmd'), cstr(args, 'args')], opts(o).signal),
  noop: (core, o) => reply(core, load().noop, [], opts(o).signal),
  rset: (core, o) => reply(core, load().rset, [], opts(o).signal),
  /** smtplib's help: the reply text. */
  help: (core, args = '', o) => {
    const job = reply(core, load().help, [cstr(args, 'args')], opts(o).signal);
    const finish = job.finish;
    job.finish = (p, rc) => finish(p, rc).message;
    return job;
  },
  verify: (core, addr, o) => reply(core, load().verify, [address(addr, 'address')], opts(o).signal),
  expn: (core, addr, o) => reply(core, load().expn, [address(addr, 'address')], opts(o).signal),
  mail: (core, sender, options = [], o) =>
    reply(core, load().mail, [address(sender, 'sender'), ...cArray(strArray(options, 'options'))], opts(o).signal),
  rcpt: (core, recipient, options = [], o) =>
    reply(core, load().rcpt, [address(recipient, 'recipient'), ...cArray(strArray(options, 'options'))], opts(o).signal),
  /** smtplib's data; options {lineEndings, signal}. */
  data: (core, msg, o) => {
    const { bytes, flags } = messageArgs(msg, opts(o).lineEndings);
    return reply(core, load().data, [bytes, bytes.length, flags], opts(o).signal);
  },
  /** smtplib's sendmail: the refused recipients, {addr: {code, message}}. */
  sendmail: (core, fromAddr, toAddrs, msg, options) => {
    const { o, args } = sendmailArgs(fromAddr, toAddrs, msg, options);
    return sendJob(core, load().sendmail, (p) => [p], args, o.signal);
  },
  /** smtplib's send_message on a whole RFC 5322 message (Buffer or string). */
  sendMessage: (core, msg, fromAddr, toAddrs, options) => {
    const { o, args } = sendMessageArgs(msg, fromAddr, toAddrs, options);
    return sendJob(core, load().send_message, (p) => [p], args, o.signal);
  },
  /** smtplib's login: {code, message} of the final reply. */
  login: (core, user, password, o) =>
    plain(core, load().login, [cstr(user, 'user'), cstr(password, 'password'), authFlags(opts(o))], opts(o).signal, true),
  /** One built-in mechanism alone (CRAM-MD5, PLAIN, LOGIN, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER). */
  authBuiltin: (core, mechanism, user, secret, o) => plain(core, load().auth_builtin,
    [cstr(mechanism, 'mechanism'), cstr(user, 'user'), cstr(secret, 'secret'), authFlags(opts(o))], opts(o).signal, true),
  /** smtplib's auth(mechanism, authobject). */
  auth: (core, mechanism, authobject, o) => authJob(core, mechanism, authobject, opts(o)),
  /** smtplib's starttls(context): `tls` a TlsConfig, its options, or null (the session's). */
  starttls: (core, tls = null, o) => {
    const temp = tls === null || tls === undefined || tls instanceof TlsConfig ? null : new TlsConfig(tls);
    const config = temp || tls;
    const job = reply(core, load().starttls, [config ? config._ptr : null], opts(o).signal);
    if (temp) job.cleanup = () => temp.free();
    return job;
  },
  /** smtplib's quit: QUIT and close the connection; the session stays usable until close(). */
  quit: (core, o) => reply(core, load().quit, [], opts(o).signal),
  /** smtplib's send: bytes (a string: UTF-8) written as they are; no reply is read. */
  send: (core, data, o) => {
    const { bytes } = messageArgs(data, 'raw');
    return plain(core, load().send, [bytes.length ? bytes : null, bytes.length], opts(o).signal);
  },
  /** smtplib's getreply: one reply, whatever its code. */
  getreply: (core, o) => reply(core, load().getreply, [], opts(o).signal),
  /** sendmail with the message from a stream (stream.js); options {size, lineEndings, mailOptions, rcptOptions, signal}. */
  sendmailStream: (core, fromAddr, toAddrs, source, options, mode) => {
    const o = opts(options);
    const { mo, ro } = envelopeArrays(o);
    return streamJob(mode, core, {
      from: cstr(fromAddr, 'fromAddr'), to: strArray(toAddrs, 'toAddrs'), source, size: o.size,
      lineEndings: o.lineEndings, mo, ro, signal: o.signal,
    });
  },
  /** Several messages on one connection: [{ok, error, refusedCount, rcptCodes, refused}], one per message. */
  sendmailBatch: (core, messages, o) => batchJob(core, load().sendmail_batch, (p) => [p], messages, opts(o).signal),
};

// How many arguments come before each call's options: build() gets them
// (undefined where not given, so that its defaults apply), the options and
// the mode ('async' or 'sync').
const ARITY = {
  connect: 2, open: 2, connectFd: 2, helo: 1, ehlo: 1, ehloOrHeloIfNeeded: 0, docmd: 2, noop: 0,
  rset: 0, help: 1, verify: 1, expn: 1, mail: 2, rcpt: 2, data: 1, sendmail: 3, sendMessage: 3,
  login: 2, authBuiltin: 3, auth: 2, starttls: 1, quit: 0, send: 1, getreply: 0, sendmailStream: 3,
  sendmailBatch: 1,
};

for (const [name, build] of Object.entries(CALLS)) {
  const arity = ARITY[name] + 1; // with the options
  Object.defineProperty(Session.prototype, name, {
    async value(...a) {
      const core = coreOf(this);
      a.length = Math.max(a.length, arity);
      return core.async(build(core, ...a.slice(0, arity), 'async'));
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(Session.prototype, `${name}Sync`, {
    value(...a) {
      const core = coreOf(this);
      a.length = Math.max(a.length, arity);
      return core.sync(build(core, ...a.slice(0, arity), 'sync'));
    },
    writable: true,
    configurable: true,
  });
}

module.exports = { sendmailArgs, sendMessageArgs, sendJob };
