'use strict';
/*
 * libsmtp for Node.js: Python smtplib's SMTP, SMTP_SSL and LMTP on top of
 * libsmtp.so through koffi.
 *
 * Every call is synchronous: it blocks the calling thread until the server
 * answers or a timeout fires (the session's timeouts bound every wait). In a
 * server, run sessions in a worker thread (node:worker_threads), one session
 * per thread at a time. Session#cancel() ends a call running on another
 * thread (a koffi worker thread, see Session#_replyCallAsync) at once.
 *
 * The library is found through, in order: the LIBSMTP_PATH environment
 * variable (a file), `pkg-config --variable=libdir smtp` (so PKG_CONFIG_PATH
 * is honoured) plus the library's file name, then the SONAME through the
 * dynamic loader's search path.
 */

const koffi = require('koffi');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

// ---------------------------------------------------------------------------
// Constants (include/smtp.h)

// The result codes come from the library (smtp_result_count(), _code_at(),
// _name(), _has_reply()), read once when it is loaded, so that no copy of
// the table here can drift from include/smtp.h (RESULT and RESULT_NAMES are
// exported as getters: requiring this module does not load the library).
let results = null;

function resultTable() {
  if (results) return results;
  const lib = load();
  const names = {};
  const byName = {};
  const withReply = new Set();
  for (let i = 0, n = Number(lib.result_count()); i < n; i++) {
    const code = lib.result_code_at(i);
    const name = lib.result_name(code);
    names[code] = name;
    byName[name] = code;
    if (lib.result_has_reply(code)) withReply.add(code);
  }
  results = { names: Object.freeze(names), byName: Object.freeze(byName), withReply };
  return results;
}

/** A result code's number by its C name ('SMTP_ERR_BAD_STATE'). */
function resultCode(name) { return resultTable().byName[name]; }

const KINDS = Object.freeze({ smtp: 0, smtp_ssl: 1, smtps: 1, ssl: 1, lmtp: 2 });
// smtp_session_set_timeout_ms()'s SMTP_TIMEOUT_* (the rule is in its doc
// comment in include/smtp.h): each per-wait limit, `call` on a whole call,
// and `all`, every per-wait limit at once (not `call`).
const TIMEOUTS = Object.freeze({
  connect: 0, io: 1, reply: 2, greeting: 3, mail: 4, rcpt: 5, data: 6, dataBlock: 7, finalDot: 8,
  call: 9, all: 10,
});
const TIMEOUT_NAMES = Object.keys(TIMEOUTS).join(', ');
const AUTH_NO_INITIAL_RESPONSE = 1;
const AUTH_ALLOW_CLEARTEXT = 2;
const SASL_CONTINUE = 100;
const SASL_NO_INITIAL_RESPONSE = 101;
const SASL_NEED_SPACE = 102;
const LINE_ENDINGS = Object.freeze({ normalize: 0, raw: 1, reject: 2 });
const TRACE_DIRECTIONS = ['info', 'send', 'recv'];
const DSN_RET = Object.freeze({ FULL: 1, HDRS: 2 });
const DSN_NOTIFY = Object.freeze({ SUCCESS: 1, FAILURE: 2, DELAY: 4, NEVER: 8 });
const BODY = Object.freeze({ '7BIT': 1, '8BITMIME': 2, BINARYMIME: 3 });

// ---------------------------------------------------------------------------
// Errors, named after smtplib's exceptions

class SMTPException extends Error {
  /**
   * @param {string} message what happened (smtp_session_errmsg())
   * @param {object} [info] {result, smtpCode, smtpMessage}
   */
  constructor(message, info = {}) {
    super(message);
    const result = info.result === undefined ? resultCode('SMTP_ERR_SMTP') : info.result;
    /** The libsmtp result code's name, e.g. 'SMTP_ERR_DATA'. */
    this.code = resultTable().names[result] || `SMTP_ERR_UNKNOWN_${result}`;
    /** The libsmtp result code's number. */
    this.result = result;
    /** The server's reply code behind the error, or null when there is none. */
    this.smtpCode = info.smtpCode === undefined ? null : info.smtpCode;
    /** The server's reply text behind the error, or null when there is none. */
    this.smtpMessage = info.smtpMessage === undefined ? null : info.smtpMessage;
  }
}

/** An argument was refused before anything was sent (smtplib: ValueError). */
class SMTPInvalidArgumentError extends SMTPException {}
/** The call does not fit the session's state: closed, in use, or poisoned. */
class SMTPStateError extends SMTPException {}
/** Another I/O error; the connection is closed (smtplib: OSError). */
class SMTPOSError extends SMTPException {}
/** The connection could not be made (smtplib: ConnectionRefusedError, socket.gaierror...). */
class SMTPConnectionError extends SMTPOSError {}
/** A connect, I/O or reply timeout fired (smtplib: TimeoutError). */
class SMTPTimeoutError extends SMTPOSError {}
/**
 * The call was ended by Session#cancel(); as after a timeout, the
 * connection is closed (connect again) and a message whose final reply was
 * not read is not reported as sent.
 */
class SMTPCancelledError extends SMTPOSError {}
/** TLS failed (smtplib: ssl.SSLError). */
class SMTPTLSError extends SMTPOSError {}
/** Not connected, or the server closed the connection. */
class SMTPServerDisconnected extends SMTPException {}
/** A secret would have gone in clear; nothing was sent. */
class SMTPNotEncryptedError extends SMTPException {}
/** The server's reply could not be accepted. */
class SMTPResponseException extends SMTPException {}
/** The greeting was not 220 (only Session#open()). */
class SMTPConnectError extends SMTPResponseException {}
/** Both EHLO and HELO were refused. */
class SMTPHeloError extends SMTPResponseException {}
/** The server does not offer what the call needs. */
class SMTPNotSupportedError extends SMTPException {}
/** Authentication was refused. */
class SMTPAuthenticationError extends SMTPResponseException {}
/** The client cancelled an authentication exchange (the library sent `*`). */
class SMTPAuthAbortedError extends SMTPException {}
/** MAIL FROM was refused; `.sender` is the sender given (null when taken from the message). */
class SMTPSenderRefused extends SMTPResponseException {
  constructor(message, info = {}) {
    super(message, info);
    this.sender = info.sender === undefined ? null : info.sender;
  }
}
/** Every recipient was refused (or a 421 came during RCPT); `.recipients` is {addr: {code, message}}. */
class SMTPRecipientsRefused extends SMTPException {
  constructor(message, info = {}) {
    super(message, info);
    this.recipients = info.recipients || {};
  }
}
/** DATA or the message was refused. */
class SMTPDataError extends SMTPResponseException {}
/** The message is larger than the server's SIZE; nothing was sent. */
class SMTPMessageTooLargeError extends SMTPException {}

for (const cls of [SMTPException, SMTPInvalidArgumentError, SMTPStateError, SMTPOSError,
  SMTPConnectionError, SMTPTimeoutError, SMTPCancelledError, SMTPTLSError, SMTPServerDisconnected,
  SMTPNotEncryptedError, SMTPResponseException, SMTPConnectError, SMTPHeloError,
  SMTPNotSupportedError, SMTPAuthenticationError, SMTPAuthAbortedError, SMTPSenderRefused,
  SMTPRecipientsRefused, SMTPDataError, SMTPMessageTooLargeError]) {
  Object.defineProperty(cls.prototype, 'name', { value: cls.name, writable: true, configurable: true });
}

// The class for each result code, by the code's C name.
const ERROR_CLASSES = {
  SMTP_ERR_NULL_ARGUMENT: SMTPInvalidArgumentError,
  SMTP_ERR_INVALID_ARGUMENT: SMTPInvalidArgumentError,
  SMTP_ERR_BAD_STATE: SMTPStateError,
  SMTP_ERR_PANIC: SMTPStateError,
  SMTP_ERR_CONNECT: SMTPConnectionError,
  SMTP_ERR_TIMEOUT: SMTPTimeoutError,
  SMTP_ERR_IO: SMTPOSError,
  SMTP_ERR_TLS: SMTPTLSError,
  SMTP_ERR_SERVER_DISCONNECTED: SMTPServerDisconnected,
  SMTP_ERR_NOT_ENCRYPTED: SMTPNotEncryptedError,
  SMTP_ERR_CANCELLED: SMTPCancelledError,
  SMTP_ERR_OUTCOME_UNKNOWN: SMTPServerDisconnected,
  SMTP_ERR_RESPONSE: SMTPResponseException,
  SMTP_ERR_CONNECT_REPLY: SMTPConnectError,
  SMTP_ERR_HELO: SMTPHeloError,
  SMTP_ERR_NOT_SUPPORTED: SMTPNotSupportedError,
  SMTP_ERR_AUTH: SMTPAuthenticationError,
  SMTP_ERR_AUTH_ABORTED: SMTPAuthAbortedError,
  SMTP_ERR_SENDER_REFUSED: SMTPSenderRefused,
  SMTP_ERR_RECIPIENTS_REFUSED: SMTPRecipientsRefused,
  SMTP_ERR_DATA: SMTPDataError,
  SMTP_ERR_SMTP: SMTPException,
  SMTP_ERR_TOO_LARGE: SMTPMessageTooLargeError,
};

function makeError(result, message, info = {}) {
  const Cls = ERROR_CLASSES[resultTable().names[result]] || SMTPException;
  return new Cls(message, { ...info, result });
}

function invalid(message) {
  return new SMTPInvalidArgumentError(message, { result: resultCode('SMTP_ERR_INVALID_ARGUMENT') });
}

// ---------------------------------------------------------------------------
// Loading the library

function libraryFileNames() {
  if (process.platform === 'darwin') return { dev: 'libsmtp.dylib', soname: 'libsmtp.0.dylib' };
  if (process.platform === 'win32') return { dev: 'smtp.dll', soname: 'smtp.dll' };
  return { dev: 'libsmtp.so', soname: 'libsmtp.so.0' };
}

/** Where the library will be looked for, in order (see the top of this file). */
function libraryCandidates() {
  const env = process.env.LIBSMTP_PATH;
  if (env) return [env];
  const names = libraryFileNames();
  const out = [];
  try {
    const libdir = execFileSync('pkg-config', ['--variable=libdir', 'smtp'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000,
    }).trim();
    if (libdir) {
      const file = path.join(libdir, names.dev);
      if (fs.existsSync(file)) out.push(file);
    }
  } catch (_) {
    // no pkg-config, or no smtp.pc on its path: the dynamic loader's turn
  }
  out.push(names.soname);
  return out;
}

let L = null; // the loaded functions
let libPath = null;

function typeOnce(name, make) {
  try {
    return koffi.type(name);
  } catch (_) {
    return make();
  }
}

function load() {
  if (L) return L;
  const tried = [];
  let lib = null;
  for (const candidate of libraryCandidates()) {
    try {
      lib = koffi.load(candidate);
      libPath = candidate;
      break;
    } catch (e) {
      tried.push(`${candidate}: ${e.message}`);
    }
  }
  if (!lib) {
    throw new Error('libsmtp: cannot load the library (set LIBSMTP_PATH, or PKG_CONFIG_PATH to ' +
      'the directory of smtp.pc); tried:\n  ' + tried.join('\n  '));
  }
  typeOnce('smtp_session', () => koffi.opaque('smtp_session'));
  typeOnce('smtp_tls_config', () => koffi.opaque('smtp_tls_config'));
  typeOnce('smtp_tls_config_builder', () => koffi.opaque('smtp_tls_config_builder'));
  typeOnce('smtp_envelope', () => koffi.opaque('smtp_envelope'));
  const SaslFn = typeOnce('smtp_sasl_fn', () => koffi.proto(
    'int smtp_sasl_fn(void *userdata, const uint8_t *challenge, size_t challenge_len, ' +
    'uint8_t *response, size_t response_cap, size_t *response_len)'));
  const TraceFn = typeOnce('smtp_trace_fn', () => koffi.proto(
    'void smtp_trace_fn(void *userdata, int direction, const char *line, size_t len)'));

  const f = (proto) => lib.func(proto);
  const S = 'smtp_session *s';
  const CS = 'const smtp_session *s';
  const CODE = '_Out_ int *code';
  L = {
    SaslFnPtr: koffi.pointer(SaslFn),
    TraceFnPtr: koffi.pointer(TraceFn),
    result_str: f('const char *smtp_result_str(int code)'),
    result_name: f('const char *smtp_result_name(int code)'),
    result_has_reply: f('int smtp_result_has_reply(int code)'),
    result_count: f('size_t smtp_result_count(void)'),
    result_code_at: f('int smtp_result_code_at(size_t i)'),
    lib_version: f('const char *smtp_lib_version(void)'),
    new: f('smtp_session *smtp_session_new(int kind)'),
    free: f('void smtp_session_free(smtp_session *s)'),
    set_local_hostname: f(`int smtp_session_set_local_hostname(${S}, const char *name)`),
    set_timeout_ms: f(`int smtp_session_set_timeout_ms(${S}, int which, uint32_t ms)`),
    timeout_ms: f(`int64_t smtp_session_timeout_ms(${CS}, int which)`),
    set_source_address: f(`int smtp_session_set_source_address(${S}, const char *host, uint16_t port)`),
    set_debuglevel: f(`int smtp_session_set_debuglevel(${S}, int level)`),
    set_trace: f(`int smtp_session_set_trace(${S}, smtp_trace_fn *callback, void *userdata)`),
    set_require_tls: f(`int smtp_session_set_require_tls(${S}, int on)`),
    set_trust_loopback: f(`int smtp_session_set_trust_loopback(${S}, int trust)`),
    set_auth_mechanisms: f(`int smtp_session_set_auth_mechanisms(${S}, const char *mechanisms)`),
    set_debug_secrets: f(`int smtp_session_set_debug_secrets(${S}, int show)`),
    set_tls_config: f(`int smtp_session_set_tls_config(${S}, const smtp_tls_config *config)`),
    set_envelope: f(`int smtp_session_set_envelope(${S}, const smtp_envelope *envelope)`),
    cancel: f(`int smtp_session_cancel(${CS})`),
    connect: f(`int smtp_session_connect(${S}, const char *host, uint16_t port, ${CODE})`),
    open: f(`int smtp_session_open(${S}, const char *host, uint16_t port, ${CODE})`),
    close: f(`int smtp_session_close(${S})`),
    errmsg: f(`const char *smtp_session_errmsg(${CS})`),
    last_reply_code: f(`int smtp_session_last_reply_code(${CS})`),
    last_reply_text: f(`const char *smtp_session_last_reply_text(${CS})`),
    is_connected: f(`int smtp_session_is_connected(${CS})`),
    does_esmtp: f(`int smtp_session_does_esmtp(${CS})`),
    ehlo_resp: f(`const char *smtp_session_ehlo_resp(${CS})`),
    helo_resp: f(`const char *smtp_session_helo_resp(${CS})`),
    has_extn: f(`int smtp_session_has_extn(${CS}, const char *name)`),
    feature_count: f(`size_t smtp_session_feature_count(${CS})`),
    feature_name: f(`const char *smtp_session_feature_name(${CS}, size_t index)`),
    feature_params: f(`const char *smtp_session_feature_params(${CS}, size_t index)`),
    helo: f(`int smtp_session_helo(${S}, const char *name, ${CODE})`),
    ehlo: f(`int smtp_session_ehlo(${S}, const char *name, ${CODE})`),
    ehlo_or_helo_if_needed: f(`int smtp_session_ehlo_or_helo_if_needed(${S})`),
    docmd: f(`int smtp_session_docmd(${S}, const char *cmd, const char *args, ${CODE})`),
    noop: f(`int smtp_session_noop(${S}, ${CODE})`),
    rset: f(`int smtp_session_rset(${S}, ${CODE})`),
    help: f(`int smtp_session_help(${S}, const char *args, ${CODE})`),
    verify: f(`int smtp_session_verify(${S}, const char *address, ${CODE})`),
    expn: f(`int smtp_session_expn(${S}, const char *address, ${CODE})`),
    mail: f(`int smtp_session_mail(${S}, const char *sender, const char **options, size_t n_options, ${CODE})`),
    rcpt: f(`int smtp_session_rcpt(${S}, const char *recipient, const char **options, size_t n_options, ${CODE})`),
    data: f(`int smtp_session_data(${S}, const uint8_t *msg, size_t len, unsigned int flags, ${CODE})`),
    sendmail: f(`int smtp_session_sendmail(${S}, const char *from, const char **to, size_t to_count, ` +
      'const uint8_t *msg, size_t len, const char **mail_options, size_t n_mail_options, ' +
      'const char **rcpt_options, size_t n_rcpt_options, unsigned int flags, int *rcpt_codes, ' +
      'size_t *refused_count)'),
    send_message: f(`int smtp_session_send_message(${S}, const uint8_t *msg, size_t len, const char *from, ` +
      'const char **to, size_t n_to, const char **mail_options, size_t n_mail_options, ' +
      'const char **rcpt_options, size_t n_rcpt_options, unsigned int flags, size_t *refused_count)'),
    quit: f(`int smtp_session_quit(${S}, ${CODE})`),
    rcpt_count: f(`size_t smtp_session_rcpt_count(${CS})`),
    rcpt_addr: f(`const char *smtp_session_rcpt_addr(${CS}, size_t index)`),
    rcpt_code: f(`int smtp_session_rcpt_code(${CS}, size_t index)`),
    rcpt_text: f(`const char *smtp_session_rcpt_text(${CS}, size_t index)`),
    rcpt_data_code: f(`int smtp_session_rcpt_data_code(${CS}, size_t index)`),
    rcpt_data_text: f(`const char *smtp_session_rcpt_data_text(${CS}, size_t index)`),
    rcpt_refused: f(`int smtp_session_rcpt_refused(${CS}, size_t index)`),
    rcpt_status: f(`const char *smtp_session_rcpt_status(${CS}, size_t index)`),
    rcpt_data_status: f(`const char *smtp_session_rcpt_data_status(${CS}, size_t index)`),
    login: f(`int smtp_session_login(${S}, const char *user, const char *password, unsigned int flags)`),
    auth: f(`int smtp_session_auth(${S}, const char *mechanism, smtp_sasl_fn *callback, void *userdata, ` +
      'unsigned int flags)'),
    auth_builtin: f(`int smtp_session_auth_builtin(${S}, const char *mechanism, const char *user, ` +
      'const char *secret, unsigned int flags)'),
    starttls: f(`int smtp_session_starttls(${S}, const smtp_tls_config *config, ${CODE})`),
    is_encrypted: f(`int smtp_session_is_encrypted(${CS})`),
    tls_version: f(`const char *smtp_session_tls_version(${CS})`),
    tls_cipher: f(`const char *smtp_session_tls_cipher(${CS})`),
    tls_builder_new: f('smtp_tls_config_builder *smtp_tls_config_builder_new(void)'),
    tls_builder_free: f('void smtp_tls_config_builder_free(smtp_tls_config_builder *b)'),
    tls_builder_errmsg: f('const char *smtp_tls_config_builder_errmsg(const smtp_tls_config_builder *b)'),
    tls_builder_add_ca_file: f('int smtp_tls_config_builder_add_ca_file(smtp_tls_config_builder *b, const char *path)'),
    tls_builder_add_ca_dir: f('int smtp_tls_config_builder_add_ca_dir(smtp_tls_config_builder *b, const char *path)'),
    tls_builder_set_default_roots: f('int smtp_tls_config_builder_set_default_roots(smtp_tls_config_builder *b, int use)'),
    tls_builder_set_client_cert: f('int smtp_tls_config_builder_set_client_cert(smtp_tls_config_builder *b, ' +
      'const char *chain_path, const char *key_path)'),
    tls_builder_set_server_name: f('int smtp_tls_config_builder_set_server_name(smtp_tls_config_builder *b, const char *name)'),
    tls_builder_disable_verification: f('int smtp_tls_config_builder_dangerous_disable_verification(smtp_tls_config_builder *b)'),
    tls_builder_build: f('int smtp_tls_config_builder_build(smtp_tls_config_builder *b, _Out_ smtp_tls_config **out)'),
    tls_config_free: f('void smtp_tls_config_free(smtp_tls_config *c)'),
    envelope_new: f('smtp_envelope *smtp_envelope_new(void)'),
    envelope_free: f('void smtp_envelope_free(smtp_envelope *e)'),
    envelope_set_dsn_ret: f('int smtp_envelope_set_dsn_ret(smtp_envelope *e, int ret)'),
    envelope_set_dsn_envid: f('int smtp_envelope_set_dsn_envid(smtp_envelope *e, const char *envid)'),
    envelope_set_dsn_notify: f('int smtp_envelope_set_dsn_notify(smtp_envelope *e, unsigned int notify)'),
    envelope_set_rcpt_dsn: f('int smtp_envelope_set_rcpt_dsn(smtp_envelope *e, const char *rcpt, ' +
      'unsigned int notify, const char *orcpt)'),
    envelope_set_smtputf8: f('int smtp_envelope_set_smtputf8(smtp_envelope *e, int on)'),
    envelope_set_body: f('int smtp_envelope_set_body(smtp_envelope *e, int body)'),
    envelope_set_requiretls: f('int smtp_envelope_set_requiretls(smtp_envelope *e, int on)'),
    envelope_set_mt_priority: f('int smtp_envelope_set_mt_priority(smtp_envelope *e, int priority)'),
    envelope_set_deliver_by: f('int smtp_envelope_set_deliver_by(smtp_envelope *e, int64_t seconds, ' +
      'int notify, int trace)'),
  };
  return L;
}

// ---------------------------------------------------------------------------
// Argument checks (the library checks CR, LF and UTF-8; a NUL must be caught
// here, since a C string would silently end at it)

function cstr(value, what) {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  if (value.includes('\0')) throw invalid(`${what} contains a NUL character`);
  return value;
}

/**
 * An address for MAIL, RCPT, VRFY or EXPN. The library extracts the address
 * part first and drops CR and LF as white space while doing so (sending
 * another address than the one given), so they are refused here, as
 * sendmail() and CPython 3.13's smtplib refuse them.
 */
function address(value, what) {
  cstr(value, what);
  if (/[\r\n]/.test(value)) throw invalid(`${what} contains CR or LF, which cannot go on a command line`);
  return value;
}

function optCstr(value, what) {
  return value === undefined || value === null ? null : cstr(value, what);
}

function strArray(value, what) {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [cstr(value, what)];
  if (!Array.isArray(value)) throw new TypeError(`${what} must be a string or an array of strings`);
  return value.map((v, i) => cstr(v, `${what}[${i}]`));
}

function toBytes(value, what) {
  if (typeof value === 'string') return { bytes: Buffer.from(value, 'utf8'), text: true };
  if (Buffer.isBuffer(value)) return { bytes: value, text: false };
  if (value instanceof Uint8Array) {
    return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength), text: false };
  }
  throw new TypeError(`${what} must be a string, a Buffer or a Uint8Array`);
}

/** smtplib: a str message has its line endings fixed, bytes go as given. */
function messageArgs(msg, lineEndings) {
  const { bytes, text } = toBytes(msg, 'msg');
  let flags;
  if (lineEndings === undefined || lineEndings === null) {
    flags = text ? LINE_ENDINGS.normalize : LINE_ENDINGS.raw;
  } else if (Object.prototype.hasOwnProperty.call(LINE_ENDINGS, lineEndings)) {
    flags = LINE_ENDINGS[lineEndings];
  } else {
    throw invalid(`lineEndings must be 'normalize', 'raw' or 'reject', not ${String(lineEndings)}`);
  }
  return { bytes, flags };
}

function authFlags(options = {}) {
  let flags = 0;
  if (options.initialResponseOk === false) flags |= AUTH_NO_INITIAL_RESPONSE;
  if (options.allowCleartext) flags |= AUTH_ALLOW_CLEARTEXT;
  return flags;
}

function uint32(value, what) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalid(`${what} must be an integer from 0 to 4294967295 (milliseconds)`);
  }
  return value;
}

function port16(value) {
  if (value === undefined || value === null) return 0;
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw invalid('port must be an integer from 0 to 65535');
  return value;
}

function setKey(obj, key, value) {
  // defineProperty: a key such as "__proto__" from a server stays a plain key
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function copyFrom(ptr, len) {
  if (ptr === null || len === 0) return Buffer.alloc(0);
  return Buffer.from(new Uint8Array(koffi.view(ptr, len)));
}

// ---------------------------------------------------------------------------
// TLS configuration

const tlsRegistry = new FinalizationRegistry((box) => {
  if (box.ptr !== null && L) L.tls_config_free(box.ptr);
  box.ptr = null;
});

/**
 * A built TLS configuration (smtplib's SSLContext), immutable and shareable
 * between sessions. Options: caFile and caDir (a path or an array of paths),
 * defaultRoots (default true: the Mozilla roots; false: only the CAs added),
 * certFile and keyFile (a client certificate chain and its key, PEM),
 * serverName (checked instead of the host given to connect), and
 * dangerouslyDisableVerification (test setups only).
 */
class TlsConfig {
  #box;

  constructor(options = {}) {
    const lib = load();
    if (options === null || typeof options !== 'object') throw new TypeError('TLS options must be an object');
    const b = lib.tls_builder_new();
    try {
      const check = (rc) => {
        if (rc !== 0) throw makeError(rc, `TLS configuration: ${lib.tls_builder_errmsg(b)}`);
      };
      for (const file of strArray(options.caFile, 'caFile')) check(lib.tls_builder_add_ca_file(b, file));
      for (const dir of strArray(options.caDir, 'caDir')) check(lib.tls_builder_add_ca_dir(b, dir));
      if (options.defaultRoots !== undefined) check(lib.tls_builder_set_default_roots(b, options.defaultRoots ? 1 : 0));
      if (options.certFile !== undefined || options.keyFile !== undefined) {
        const cert = cstr(options.certFile, 'certFile');
        const key = options.keyFile === undefined ? cert : cstr(options.keyFile, 'keyFile');
        check(lib.tls_builder_set_client_cert(b, cert, key));
      }
      if (options.serverName !== undefined) check(lib.tls_builder_set_server_name(b, cstr(options.serverName, 'serverName')));
      if (options.dangerouslyDisableVerification) check(lib.tls_builder_disable_verification(b));
      const out = [null];
      check(lib.tls_builder_build(b, out));
      this.#box = { ptr: out[0] };
    } finally {
      lib.tls_builder_free(b);
    }
    tlsRegistry.register(this, this.#box, this);
  }

  /** @internal the config's pointer; throws once freed. */
  get _ptr() {
    if (this.#box.ptr === null) throw new SMTPStateError('the TLS configuration was freed', { result: resultCode('SMTP_ERR_BAD_STATE') });
    return this.#box.ptr;
  }

  /** Free it now (sessions given it keep their own reference). Idempotent. */
  free() {
    if (this.#box.ptr !== null) {
      L.tls_config_free(this.#box.ptr);
      this.#box.ptr = null;
      tlsRegistry.unregister(this);
    }
  }
}

/** A TlsConfig, a temporary one built from options (then `temp` is true), or null. */
function tlsArg(tls) {
  if (tls === undefined || tls === null) return { config: null, temp: false };
  if (tls instanceof TlsConfig) return { config: tls, temp: false };
  return { config: new TlsConfig(tls), temp: true };
}

// ---------------------------------------------------------------------------
// Envelope options

function buildEnvelope(lib, opts) {
  const e = lib.envelope_new();
  try {
    const check = (rc, what) => {
      if (rc !== 0) throw makeError(rc, `envelope ${what}: ${lib.result_str(rc)}`);
    };
    const notifyBits = (v, what) => {
      if (typeof v === 'number') return v;
      let bits = 0;
      for (const name of strArray(typeof v === 'string' ? v.split(',') : v, what)) {
        const bit = DSN_NOTIFY[name.trim().toUpperCase()];
        if (bit === undefined) throw invalid(`${what}: unknown DSN NOTIFY value ${name}`);
        bits |= bit;
      }
      return bits;
    };
    if (opts.dsnRet !== undefined) {
      const ret = DSN_RET[String(opts.dsnRet).toUpperCase()];
      if (ret === undefined) throw invalid("dsnRet must be 'FULL' or 'HDRS'");
      check(lib.envelope_set_dsn_ret(e, ret), 'dsnRet');
    }
    if (opts.dsnEnvid !== undefined) check(lib.envelope_set_dsn_envid(e, cstr(opts.dsnEnvid, 'dsnEnvid')), 'dsnEnvid');
    if (opts.dsnNotify !== undefined) check(lib.envelope_set_dsn_notify(e, notifyBits(opts.dsnNotify, 'dsnNotify')), 'dsnNotify');
    for (const [rcpt, dsn] of Object.entries(opts.rcptDsn || {})) {
      const notify = dsn.notify === undefined ? 0 : notifyBits(dsn.notify, 'rcptDsn.notify');
      check(lib.envelope_set_rcpt_dsn(e, cstr(rcpt, 'rcptDsn address'), notify, optCstr(dsn.orcpt, 'orcpt')), 'rcptDsn');
    }
    if (opts.smtputf8 !== undefined) check(lib.envelope_set_smtputf8(e, opts.smtputf8 ? 1 : 0), 'smtputf8');
    if (opts.body !== undefined && opts.body !== null) {
      const body = BODY[String(opts.body).toUpperCase()];
      if (body === undefined) throw invalid("body must be '7BIT', '8BITMIME' or 'BINARYMIME'");
      check(lib.envelope_set_body(e, body), 'body');
    }
    if (opts.requireTls !== undefined) check(lib.envelope_set_requiretls(e, opts.requireTls ? 1 : 0), 'requireTls');
    if (opts.mtPriority !== undefined) check(lib.envelope_set_mt_priority(e, opts.mtPriority), 'mtPriority');
    if (opts.deliverBy !== undefined) {
      const d = opts.deliverBy;
      check(lib.envelope_set_deliver_by(e, d.seconds, d.notify ? 1 : 0, d.trace ? 1 : 0), 'deliverBy');
    }
    return e;
  } catch (err) {
    lib.envelope_free(e);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Sessions

// The safety net: a session dropped without close() is freed by the GC.
// The held box never references the Session itself.
const sessionRegistry = new FinalizationRegistry((box) => freeBox(box));

function freeBox(box) {
  if (box.ptr !== null) {
    L.free(box.ptr);
    box.ptr = null;
  }
  if (box.trace !== null) {
    koffi.unregister(box.trace);
    box.trace = null;
  }
}

/**
 * The trace bridge, made outside any method: a closure there would keep the
 * session alive through its context while koffi holds the callback.
 */
function registerTrace(fn) {
  return koffi.register((userdata, direction, line, len) => {
    try {
      fn(TRACE_DIRECTIONS[direction] || String(direction), line === null ? '' : line);
    } catch (e) {
      process.emitWarning(`libsmtp trace callback threw: ${e && e.stack ? e.stack : e}`);
    }
  }, L.TraceFnPtr);
}

/** _replyCallAsync()'s calls: their arguments, checked as the methods check them. */
const ASYNC_REPLY_CALLS = Object.freeze({
  connect: (host = 'localhost', port = 0) => [cstr(host, 'host'), port16(port)],
  open: (host = 'localhost', port = 0) => [cstr(host, 'host'), port16(port)],
  helo: (name = '') => [cstr(name, 'name')],
  ehlo: (name = '') => [cstr(name, 'name')],
  noop: () => [],
  rset: () => [],
  quit: () => [],
});

class Session {
  #box; // { ptr, trace }: what the finalizer frees
  #busy = false;
  #background = null; // { timer }: a call running on a koffi worker thread
  #kind;

  /**
   * @param {'smtp'|'smtp_ssl'|'lmtp'} [kind='smtp']
   * @param {object} [options] localHostname, timeout (ms: bounds every
   *   single wait, i.e. timeouts.all), timeouts {connect, io, reply,
   *   greeting, mail, rcpt, data, dataBlock, finalDot, call, all} (ms, 0: no
   *   limit; see setTimeouts()), sourceAddress
   *   ("host", [host, port] or {host, port}), tls (a TlsConfig or its
   *   options), requireTls, trustLoopback, authMechanisms, debugLevel, trace.
   */
  constructor(kind = 'smtp', options = {}) {
    const lib = load();
    if (kind !== null && typeof kind === 'object' && options && Object.keys(options).length === 0) {
      options = kind; // new Session({...})
      kind = 'smtp';
    }
    const k = typeof kind === 'number' ? kind : KINDS[String(kind).toLowerCase()];
    if (k === undefined || ![0, 1, 2].includes(k)) throw invalid(`unknown session kind ${String(kind)}`);
    const ptr = lib.new(k);
    if (ptr === null) throw invalid(`unknown session kind ${String(kind)}`);
    this.#kind = ['smtp', 'smtp_ssl', 'lmtp'][k];
    this.#box = { ptr, trace: null };
    sessionRegistry.register(this, this.#box, this);
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
    if (o.trace) this.setTrace(o.trace);
    if (o.debugLevel !== undefined) this.setDebugLevel(o.debugLevel);
  }

  // -- plumbing ------------------------------------------------------------

  /** Mark the session busy and give its pointer; refuses a closed or busy session. */
  #enter() {
    if (this.#box.ptr === null) {
      throw new SMTPStateError('the session is closed', { result: resultCode('SMTP_ERR_BAD_STATE') });
    }
    if (this.#busy) {
      throw new SMTPStateError(this.#background !== null
        ? 'the session is in use (a background call runs on it)'
        : 'the session is in use (a call from inside one of its callbacks)',
      { result: resultCode('SMTP_ERR_BAD_STATE') });
    }
    this.#busy = true;
    return this.#box.ptr;
  }

  /** Run `f(ptr)` with the session marked busy; refuses a closed or busy session. */
  #run(f) {
    const p = this.#enter();
    try {
      return f(p);
    } finally {
      this.#busy = false;
    }
  }

  /** The error for result `rc` of the call just made on `p`. */
  #error(p, rc, extra = {}) {
    const info = { ...extra };
    if (resultTable().withReply.has(rc)) {
      info.smtpCode = L.last_reply_code(p);
      info.smtpMessage = L.last_reply_text(p);
    }
    return makeError(rc, L.errmsg(p), info);
  }

  #check(p, rc, extra) {
    if (rc !== 0) throw this.#error(p, rc, extra);
  }

  /** A call with an `int *code` out parameter, giving {code, message}. */
  #replyCall(fn, ...args) {
    return this.#run((p) => {
      const code = [0];
      this.#check(p, fn(p, ...args, code));
      return { code: code[0], message: L.last_reply_text(p) };
    });
  }

  /** smtplib's refused dict from the per-recipient results: {addr: {code, message}}. */
  #refused(p) {
    const refused = {};
    const n = Number(L.rcpt_count(p));
    for (let i = 0; i < n; i++) {
      if (!L.rcpt_refused(p, i)) continue;
      let code = L.rcpt_code(p, i);
      let message = L.rcpt_text(p, i);
      if ((code === 250 || code === 251) && L.rcpt_data_code(p, i) !== 0) {
        code = L.rcpt_data_code(p, i); // LMTP: refused after the data
        message = L.rcpt_data_text(p, i);
      }
      setKey(refused, L.rcpt_addr(p, i), { code, message });
    }
    return refused;
  }

  // -- settings ------------------------------------------------------------

  /** The session kind: 'smtp', 'smtp_ssl' or 'lmtp'. */
  get kind() { return this.#kind; }

  /** True once close() freed the session. */
  get closed() { return this.#box.ptr === null; }

  /** smtplib's local_hostname: the name sent with EHLO, HELO and LHLO. */
  setLocalHostname(name) {
    const n = cstr(name, 'localHostname');
    this.#run((p) => this.#check(p, L.set_local_hostname(p, n)));
  }

  /**
   * Set timeouts in milliseconds (0: no limit), from the next call on:
   * {connect, io, reply, greeting, mail, rcpt, data, dataBlock, finalDot,
   * call, all}. Every wait inside a call ends at the earliest of its limits
   * (the rule: smtp_session_set_timeout_ms() in include/smtp.h): `io` after
   * the last byte moved; the reply being awaited (`greeting`, `mail`,
   * `rcpt`, `data`, `finalDot`, else `reply`) however slowly it trickles;
   * `dataBlock` while message data waits to be taken; `connect` for the
   * name lookup and each address; `call` for the whole call. `all` sets
   * every limit but `call` at once and is applied first, so that
   * {all: 30000, connect: 5000} keeps its connect. An unknown name or a
   * value outside 0..2**32-1 throws SMTPInvalidArgumentError and sets nothing.
   */
  setTimeouts(timeouts) {
    if (timeouts === null || typeof timeouts !== 'object' || Array.isArray(timeouts)) {
      throw new TypeError(`timeouts must be an object {${TIMEOUT_NAMES}}`);
    }
    const todo = [];
    for (const [name, ms] of Object.entries(timeouts)) {
      if (!Object.prototype.hasOwnProperty.call(TIMEOUTS, name)) {
        throw invalid(`unknown timeout ${name} (${TIMEOUT_NAMES})`);
      }
      if (ms === undefined || ms === null) continue;
      const entry = [TIMEOUTS[name], uint32(ms, `timeouts.${name}`)];
      if (name === 'all') todo.unshift(entry); else todo.push(entry);
    }
    this.#run((p) => { for (const [which, ms] of todo) this.#check(p, L.set_timeout_ms(p, which, ms)); });
  }

  /**
   * One timeout in milliseconds (0: no limit), by the names of
   * setTimeouts(). For 'all': the longest single wait the limits allow (0
   * when one of them is unlimited).
   */
  getTimeout(name) {
    if (typeof name !== 'string') throw new TypeError('the timeout name must be a string');
    if (!Object.prototype.hasOwnProperty.call(TIMEOUTS, name)) {
      throw invalid(`unknown timeout ${name} (${TIMEOUT_NAMES})`);
    }
    return this.#run((p) => Number(L.timeout_ms(p, TIMEOUTS[name])));
  }

  /** Every timeout in milliseconds, {connect, io, ..., call, all}, as getTimeout() gives them. */
  getTimeouts() {
    return this.#run((p) => {
      const out = {};
      for (const [name, which] of Object.entries(TIMEOUTS)) out[name] = Number(L.timeout_ms(p, which));
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
    this.#run((p) => this.#check(p, L.set_source_address(p, h, pt)));
  }

  /** smtplib's set_debuglevel: 0 quiet, 1 every command and reply, 2 with timestamps. */
  setDebugLevel(level) {
    if (!Number.isInteger(level)) throw new TypeError('debug level must be an integer');
    this.#run((p) => this.#check(p, L.set_debuglevel(p, level)));
  }

  /**
   * Send the debug trace to `fn(direction, line)` ('info', 'send' or 'recv')
   * instead of stderr; null restores stderr. Lines come only while the
   * debug level is above 0. An exception thrown by `fn` is reported as a
   * process warning; it cannot stop the call. koffi holds `fn` until
   * close() or setTrace(null): a `fn` that refers to its session keeps it
   * from the garbage collector until then.
   */
  setTrace(fn) {
    if (fn !== null && typeof fn !== 'function') throw new TypeError('the trace callback must be a function or null');
    this.#run((p) => {
      const ptr = fn ? registerTrace(fn) : null;
      const rc = L.set_trace(p, ptr, null);
      if (rc !== 0) {
        if (ptr !== null) koffi.unregister(ptr);
        this.#check(p, rc);
      }
      if (this.#box.trace !== null) koffi.unregister(this.#box.trace);
      this.#box.trace = ptr;
    });
  }

  /** The TLS configuration for SMTP_SSL and starttls(): a TlsConfig, its options, or null (the default). */
  setTlsConfig(tls) {
    const { config, temp } = tlsArg(tls);
    try {
      this.#run((p) => this.#check(p, L.set_tls_config(p, config ? config._ptr : null)));
    } finally {
      if (temp) config.free();
    }
  }

  /** With true, sendmail, login and auth refuse to run unless the connection is TLS. */
  setRequireTls(on) {
    this.#run((p) => this.#check(p, L.set_require_tls(p, on ? 1 : 0)));
  }

  /** Whether a loopback peer counts as protecting secrets (default true). */
  setTrustLoopback(on) {
    this.#run((p) => this.#check(p, L.set_trust_loopback(p, on ? 1 : 0)));
  }

  /** The mechanisms login() tries, in order ("CRAM-MD5 PLAIN LOGIN" or an array); null: smtplib's. */
  setAuthMechanisms(mechanisms) {
    const m = Array.isArray(mechanisms) ? strArray(mechanisms, 'mechanisms').join(' ') : optCstr(mechanisms, 'mechanisms');
    this.#run((p) => this.#check(p, L.set_auth_mechanisms(p, m)));
  }

  /** Show AUTH payloads in the debug trace (test servers only). */
  setDebugSecrets(on) {
    this.#run((p) => this.#check(p, L.set_debug_secrets(p, on ? 1 : 0)));
  }

  /**
   * Structured MAIL/RCPT options for every following sendmail and
   * sendMessage; null removes them. Options: dsnRet ('FULL'|'HDRS'),
   * dsnEnvid, dsnNotify (['SUCCESS', 'FAILURE', 'DELAY'] or ['NEVER']),
   * rcptDsn ({addr: {notify, orcpt}}), smtputf8, body ('7BIT'|'8BITMIME'|
   * 'BINARYMIME'), requireTls, mtPriority (-9..9), deliverBy ({seconds,
   * notify, trace}).
   */
  setEnvelope(options) {
    if (options === null || options === undefined) {
      this.#run((p) => this.#check(p, L.set_envelope(p, null)));
      return;
    }
    const e = buildEnvelope(L, options);
    try {
      this.#run((p) => this.#check(p, L.set_envelope(p, e)));
    } finally {
      L.envelope_free(e);
    }
  }

  // -- state ---------------------------------------------------------------

  /** The last reply: {code, message} (smtplib's code and message). */
  get lastReply() {
    return this.#run((p) => ({ code: L.last_reply_code(p), message: L.last_reply_text(p) }));
  }

  /** What the last call did ("no error" after success). */
  get errmsg() { return this.#run((p) => L.errmsg(p)); }

  get isConnected() { return this.#run((p) => L.is_connected(p) === 1); }

  /** smtplib's does_esmtp. */
  get doesEsmtp() { return this.#run((p) => L.does_esmtp(p) === 1); }

  /** smtplib's ehlo_resp (null when no EHLO was answered). */
  get ehloResp() { return this.#run((p) => L.ehlo_resp(p)); }

  /** smtplib's helo_resp. */
  get heloResp() { return this.#run((p) => L.helo_resp(p)); }

  get isEncrypted() { return this.#run((p) => L.is_encrypted(p) === 1); }

  /** The TLS version ("TLSv1.3") or null. */
  get tlsVersion() { return this.#run((p) => L.tls_version(p)); }

  /** The TLS cipher suite or null. */
  get tlsCipher() { return this.#run((p) => L.tls_cipher(p)); }

  /** smtplib's has_extn (case-insensitive). */
  hasExtn(name) {
    const n = cstr(name, 'name');
    return this.#run((p) => L.has_extn(p, n) === 1);
  }

  /** smtplib's esmtp_features: {name: params}, names lower-case, in the server's order. */
  features() {
    return this.#run((p) => {
      const out = {};
      const n = Number(L.feature_count(p));
      for (let i = 0; i < n; i++) setKey(out, L.feature_name(p, i), L.feature_params(p, i));
      return out;
    });
  }

  /**
   * Per-recipient results of the last transaction: [{addr, code, message,
   * status, refused, dataCode, dataMessage, dataStatus}] (data*: LMTP).
   */
  rcptResults() {
    return this.#run((p) => {
      const out = [];
      const n = Number(L.rcpt_count(p));
      for (let i = 0; i < n; i++) {
        out.push({
          addr: L.rcpt_addr(p, i),
          code: L.rcpt_code(p, i),
          message: L.rcpt_text(p, i),
          status: L.rcpt_status(p, i),
          refused: L.rcpt_refused(p, i) === 1,
          dataCode: L.rcpt_data_code(p, i),
          dataMessage: L.rcpt_data_text(p, i),
          dataStatus: L.rcpt_data_status(p, i),
        });
      }
      return out;
    });
  }

  // -- cancel --------------------------------------------------------------

  /**
   * End the call running on this session in another thread (today: a koffi
   * worker thread, see _replyCallAsync()) or the one whose callback (trace,
   * SASL authobject) is running: it throws SMTPCancelledError within 100 ms,
   * and the connection is closed (connect again). With no call running it
   * does nothing (it does not cancel the next call); on a closed session
   * too. Never throws.
   */
  cancel() {
    const p = this.#box.ptr;
    if (p === null) return;
    L.cancel(p);
    const bg = this.#background;
    if (bg !== null && bg.timer === null) {
      // koffi queues a background call for a worker thread: it may not have
      // entered the library yet, and a cancel before that does nothing. So
      // cancel again until it ends. Only that call can be running meanwhile
      // (the session is busy), and the pointer stays valid (close() is
      // refused, and the pending callback keeps the session reachable).
      bg.timer = setInterval(() => L.cancel(p), 10);
    }
  }

  /**
   * @internal Not part of the API (an asynchronous binding is a later
   * step): run one reply call (connect, open, helo, ehlo, noop, rset,
   * quit; the same arguments as the method) on a koffi worker thread.
   * Resolves to {code, message}, or rejects with the call's error. The
   * session is busy until it settles: other calls and close() throw
   * SMTPStateError meanwhile; cancel() works.
   */
  _replyCallAsync(name, ...args) {
    return new Promise((resolve, reject) => {
      if (!Object.prototype.hasOwnProperty.call(ASYNC_REPLY_CALLS, name)) {
        throw new TypeError(`no background call ${String(name)}`);
      }
      const a = ASYNC_REPLY_CALLS[name](...args);
      const fn = L[name];
      const p = this.#enter();
      const bg = { timer: null };
      this.#background = bg;
      const code = [0];
      try {
        fn.async(p, ...a, code, (err, rc) => {
          if (bg.timer !== null) clearInterval(bg.timer);
          this.#background = null;
          try {
            if (err) throw err;
            this.#check(p, rc);
            resolve({ code: code[0], message: L.last_reply_text(p) });
          } catch (e) {
            reject(e);
          } finally {
            this.#busy = false;
          }
        });
      } catch (e) {
        this.#background = null;
        this.#busy = false;
        throw e;
      }
    });
  }

  // -- connection ----------------------------------------------------------

  /**
   * smtplib's connect: connect and read the greeting ({code, message}; a
   * greeting other than 220 is not an error). Port 0: a "host:port" suffix,
   * else the kind's default. A host starting with "/" is a Unix socket.
   */
  connect(host = 'localhost', port = 0) {
    const h = cstr(host, 'host');
    return this.#replyCall(L.connect, h, port16(port));
  }

  /** smtplib's SMTP(host, port): as connect(), and a greeting other than 220 throws SMTPConnectError. */
  open(host = 'localhost', port = 0) {
    const h = cstr(host, 'host');
    return this.#replyCall(L.open, h, port16(port));
  }

  /** smtplib's helo. */
  helo(name = '') {
    return this.#replyCall(L.helo, cstr(name, 'name'));
  }

  /** smtplib's ehlo (LHLO on LMTP); a refusal is returned, not thrown. */
  ehlo(name = '') {
    return this.#replyCall(L.ehlo, cstr(name, 'name'));
  }

  /** smtplib's ehlo_or_helo_if_needed. */
  ehloOrHeloIfNeeded() {
    this.#run((p) => this.#check(p, L.ehlo_or_helo_if_needed(p)));
  }

  /** smtplib's docmd: `cmd args`, the reply as {code, message}. */
  docmd(cmd, args = '') {
    return this.#replyCall(L.docmd, cstr(cmd, 'cmd'), cstr(args, 'args'));
  }

  noop() { return this.#replyCall(L.noop); }

  rset() { return this.#replyCall(L.rset); }

  /** smtplib's help: the reply text. */
  help(args = '') {
    return this.#replyCall(L.help, cstr(args, 'args')).message;
  }

  verify(addr) { return this.#replyCall(L.verify, address(addr, 'address')); }

  expn(addr) { return this.#replyCall(L.expn, address(addr, 'address')); }

  /** smtplib's mail: MAIL FROM with options (once EHLO succeeded). */
  mail(sender, options = []) {
    const s = address(sender, 'sender');
    const o = strArray(options, 'options');
    return this.#replyCall(L.mail, s, o.length ? o : null, o.length);
  }

  /** smtplib's rcpt. */
  rcpt(recipient, options = []) {
    const r = address(recipient, 'recipient');
    const o = strArray(options, 'options');
    return this.#replyCall(L.rcpt, r, o.length ? o : null, o.length);
  }

  /**
   * smtplib's data: a string has its line endings normalised, a Buffer goes
   * as given (options.lineEndings: 'normalize', 'raw' or 'reject'). A reply
   * to DATA other than 354 throws SMTPDataError; the final reply is returned.
   */
  data(msg, options = {}) {
    const { bytes, flags } = messageArgs(msg, options.lineEndings);
    return this.#replyCall(L.data, bytes, bytes.length, flags);
  }

  /**
   * smtplib's sendmail. Returns the refused recipients, {addr: {code,
   * message}} (empty when all were accepted). Throws SMTPRecipientsRefused
   * (with .recipients) when all are refused, SMTPSenderRefused,
   * SMTPDataError, SMTPHeloError, ... Options: mailOptions, rcptOptions,
   * lineEndings (a string is normalised by default, a Buffer sent as given).
   */
  sendmail(fromAddr, toAddrs, msg, options = {}) {
    const from = cstr(fromAddr, 'fromAddr');
    const to = strArray(toAddrs, 'toAddrs');
    const { bytes, flags } = messageArgs(msg, options.lineEndings);
    const mo = strArray(options.mailOptions, 'mailOptions');
    const ro = strArray(options.rcptOptions, 'rcptOptions');
    return this.#run((p) => {
      const rc = L.sendmail(p, from, to.length ? to : null, to.length, bytes, bytes.length,
        mo.length ? mo : null, mo.length, ro.length ? ro : null, ro.length, flags, null, null);
      const refused = this.#refused(p);
      this.#check(p, rc, { recipients: refused, sender: from });
      return refused;
    });
  }

  /**
   * smtplib's send_message on a whole RFC 5322 message (Buffer or string):
   * the envelope from its headers unless fromAddr / toAddrs are given; Bcc
   * removed. Returns the refused recipients as sendmail() does. Either
   * sendMessage(msg, fromAddr, toAddrs, options) or sendMessage(msg,
   * {fromAddr, toAddrs, mailOptions, rcptOptions, lineEndings}).
   */
  sendMessage(msg, fromAddr = null, toAddrs = null, options = {}) {
    if (fromAddr !== null && typeof fromAddr === 'object' && !Array.isArray(fromAddr)) {
      options = fromAddr;
      fromAddr = options.fromAddr === undefined ? null : options.fromAddr;
      toAddrs = options.toAddrs === undefined ? null : options.toAddrs;
    }
    const from = optCstr(fromAddr, 'fromAddr');
    const to = toAddrs === null || toAddrs === undefined ? null : strArray(toAddrs, 'toAddrs');
    const { bytes, flags } = messageArgs(msg, options.lineEndings);
    const mo = strArray(options.mailOptions, 'mailOptions');
    const ro = strArray(options.rcptOptions, 'rcptOptions');
    return this.#run((p) => {
      // An empty `to` array must still be non-NULL (NULL means: from the headers).
      const toArg = to === null ? null : (to.length ? to : [null]);
      const rc = L.send_message(p, bytes, bytes.length, from, toArg, to === null ? 0 : to.length,
        mo.length ? mo : null, mo.length, ro.length ? ro : null, ro.length, flags, null);
      const refused = this.#refused(p);
      this.#check(p, rc, { recipients: refused, sender: from });
      return refused;
    });
  }

  // -- authentication ------------------------------------------------------

  /**
   * smtplib's login: EHLO if needed, then CRAM-MD5, PLAIN, LOGIN (see
   * setAuthMechanisms()) as advertised. Options: initialResponseOk (default
   * true), allowCleartext. Returns the final reply {code, message}.
   */
  login(user, password, options = {}) {
    const u = cstr(user, 'user');
    const pw = cstr(password, 'password');
    return this.#run((p) => {
      this.#check(p, L.login(p, u, pw, authFlags(options)));
      return { code: L.last_reply_code(p), message: L.last_reply_text(p) };
    });
  }

  /**
   * One built-in mechanism alone (CRAM-MD5, PLAIN, LOGIN, SCRAM-SHA-256,
   * XOAUTH2, OAUTHBEARER); the secret is the password or the access token.
   */
  authBuiltin(mechanism, user, secret, options = {}) {
    const m = cstr(mechanism, 'mechanism');
    const u = cstr(user, 'user');
    const sec = cstr(secret, 'secret');
    return this.#run((p) => {
      this.#check(p, L.auth_builtin(p, m, u, sec, authFlags(options)));
      return { code: L.last_reply_code(p), message: L.last_reply_text(p) };
    });
  }

  /**
   * smtplib's auth(mechanism, authobject): `authobject(challenge)` is called
   * with null for the initial response (return null for none), then with
   * each server challenge as a Buffer (base64-decoded); it returns the raw
   * response as a string (UTF-8) or a Buffer. Anything it throws cancels
   * the exchange (the library sends `*`) and is re-thrown here once the
   * session is back in step. Does not send EHLO first. Options:
   * initialResponseOk (default true), allowCleartext.
   */
  auth(mechanism, authobject, options = {}) {
    const m = cstr(mechanism, 'mechanism');
    if (typeof authobject !== 'function') throw new TypeError('authobject must be a function');
    const flags = authFlags(options);
    return this.#run((p) => {
      const state = { failed: false, error: undefined, pending: null, owned: false };
      const wipe = () => {
        if (state.pending !== null && state.owned) state.pending.fill(0);
        state.pending = null;
      };
      const bridge = (userdata, challenge, challengeLen, response, cap, responseLen) => {
        try {
          if (state.pending === null) {
            const initial = challenge === null;
            const out = authobject(initial ? null : copyFrom(challenge, Number(challengeLen)));
            if (out === null || out === undefined) {
              if (initial) return SASL_NO_INITIAL_RESPONSE;
              throw new TypeError('the SASL authobject returned no response to a challenge');
            }
            if (typeof out === 'string') {
              state.pending = Buffer.from(out, 'utf8');
              state.owned = true;
            } else if (out instanceof Uint8Array) {
              state.pending = out;
              state.owned = false;
            } else {
              throw new TypeError('the SASL authobject must return a string, a Buffer or null');
            }
          }
          const n = state.pending.length;
          koffi.encode(responseLen, 'size_t', n);
          if (n > Number(cap)) return SASL_NEED_SPACE; // called again with n bytes
          if (n > 0) new Uint8Array(koffi.view(response, n)).set(state.pending);
          wipe();
          return SASL_CONTINUE;
        } catch (e) {
          wipe();
          if (!state.failed) {
            state.failed = true;
            state.error = e;
          }
          return 0; // abort: the library sends "*"
        }
      };
      const cb = koffi.register(bridge, L.SaslFnPtr);
      let rc;
      try {
        rc = L.auth(p, m, cb, null, flags);
      } finally {
        koffi.unregister(cb);
        wipe();
      }
      if (state.failed) throw state.error;
      this.#check(p, rc);
      return { code: L.last_reply_code(p), message: L.last_reply_text(p) };
    });
  }

  // -- TLS -----------------------------------------------------------------

  /**
   * smtplib's starttls(context): EHLO if needed, STARTTLS, the handshake
   * (with `tls`: a TlsConfig or its options; default the session's). The
   * session forgets what EHLO said: call ehlo() again. Returns {code, message}.
   */
  starttls(tls = null) {
    const { config, temp } = tlsArg(tls);
    try {
      return this.#replyCall(L.starttls, config ? config._ptr : null);
    } finally {
      if (temp) config.free();
    }
  }

  // -- the end -------------------------------------------------------------

  /** smtplib's quit: QUIT and close the connection ({code, message}); the session stays usable (connect again) until close(). */
  quit() { return this.#replyCall(L.quit); }

  /**
   * Close the connection without QUIT and free the session. Idempotent;
   * every later call throws SMTPStateError.
   */
  close() {
    if (this.#box.ptr === null) return;
    if (this.#busy) {
      throw new SMTPStateError(this.#background !== null
        ? 'close() while a background call runs on the session (cancel() it first)'
        : 'close() from inside one of the session\'s callbacks',
      { result: resultCode('SMTP_ERR_BAD_STATE') });
    }
    sessionRegistry.unregister(this);
    freeBox(this.#box);
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Session.prototype[Symbol.dispose] = function dispose() { this.close(); };
}

/** The loaded library's version ("0.1.0"). */
function libraryVersion() { return load().lib_version(); }

/** The path the library was loaded from (after the first Session or libraryVersion()). */
function libraryPath() { load(); return libPath; }

/** smtp_result_str(): the library's description of a result code. */
function resultString(result) { return load().result_str(result); }

/** smtp_result_has_reply(): whether an error with this result code carries the server's reply (smtpCode, smtpMessage). */
function resultHasReply(result) { return resultTable().withReply.has(result); }

module.exports = {
  Session,
  TlsConfig,
  libraryVersion,
  libraryPath,
  libraryCandidates,
  resultString,
  resultHasReply,
  SMTPException,
  SMTPInvalidArgumentError,
  SMTPStateError,
  SMTPOSError,
  SMTPConnectionError,
  SMTPTimeoutError,
  SMTPCancelledError,
  SMTPTLSError,
  SMTPServerDisconnected,
  SMTPNotEncryptedError,
  SMTPResponseException,
  SMTPConnectError,
  SMTPHeloError,
  SMTPNotSupportedError,
  SMTPAuthenticationError,
  SMTPAuthAbortedError,
  SMTPSenderRefused,
  SMTPRecipientsRefused,
  SMTPDataError,
  SMTPMessageTooLargeError,
};

// The result codes from the library, read when first asked for.
Object.defineProperty(module.exports, 'RESULT', { enumerable: true, get: () => resultTable().byName });
Object.defineProperty(module.exports, 'RESULT_NAMES', { enumerable: true, get: () => resultTable().names });
