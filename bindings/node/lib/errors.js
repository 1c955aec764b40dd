'use strict';
/*
 * Errors named after smtplib's exceptions, and the result-code table, read
 * from the library (smtp_result_count(), _code_at(), _name(), _str(),
 * _exception(), _has_reply()) when first needed, so that no copy of it here
 * can drift from include/smtp.h.
 */

const { load } = require('./native');

let table = null;

/** {names: {code: name}, byName: {name: code}, withReply: Set<code>, info: {code: {...}}} */
function results() {
  if (table) return table;
  const L = load();
  const names = {};
  const byName = {};
  const info = {};
  const withReply = new Set();
  for (let i = 0, n = Number(L.result_count()); i < n; i++) {
    const code = L.result_code_at(i);
    const name = L.result_name(code);
    const hasReply = L.result_has_reply(code) === 1;
    names[code] = name;
    byName[name] = code;
    if (hasReply) withReply.add(code);
    info[code] = Object.freeze({
      code, name, description: L.result_str(code), smtplibException: L.result_exception(code), hasReply,
    });
  }
  table = { names: Object.freeze(names), byName: Object.freeze(byName), withReply, info: Object.freeze(info) };
  return table;
}

/** A result code's number by its C name ('SMTP_ERR_BAD_STATE'). */
function resultCode(name) { return results().byName[name]; }

class SMTPException extends Error {
  /**
   * @param {string} message what happened (smtp_session_errmsg())
   * @param {object} [info] {result, smtpCode, smtpMessage, cause}
   */
  constructor(message, info = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    const result = info.result === undefined ? resultCode('SMTP_ERR_SMTP') : info.result;
    /** The libsmtp result code's name, e.g. 'SMTP_ERR_DATA'. */
    this.code = results().names[result] || `SMTP_ERR_UNKNOWN_${result}`;
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
/** The call was ended by cancel() or its AbortSignal; the connection is closed. */
class SMTPCancelledError extends SMTPOSError {}
/** TLS failed (smtplib: ssl.SSLError). */
class SMTPTLSError extends SMTPOSError {}
/** Not connected, or the server closed the connection. */
class SMTPServerDisconnected extends SMTPException {}
/** A pool's message went out in full but no reply decided it: it may or may not have been delivered. */
class SMTPOutcomeUnknownError extends SMTPServerDisconnected {}
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
/** MAIL FROM was refused; `.sender` is the sender the transaction used (smtp_session_sender()). */
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

const CLASSES = {
  SMTPException, SMTPInvalidArgumentError, SMTPStateError, SMTPOSError, SMTPConnectionError,
  SMTPTimeoutError, SMTPCancelledError, SMTPTLSError, SMTPServerDisconnected, SMTPOutcomeUnknownError,
  SMTPNotEncryptedError, SMTPResponseException, SMTPConnectError, SMTPHeloError, SMTPNotSupportedError,
  SMTPAuthenticationError, SMTPAuthAbortedError, SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError,
  SMTPMessageTooLargeError,
};
for (const cls of Object.values(CLASSES)) {
  Object.defineProperty(cls.prototype, 'name', { value: cls.name, writable: true, configurable: true });
}

// The class for each result code, by the code's C name; a code missing
// here (a newer library's) is an SMTPException. test/errors.test.js checks
// that every code of the library has its class.
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
  SMTP_ERR_OUTCOME_UNKNOWN: SMTPOutcomeUnknownError,
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

/** The error for result `result`, with `message` and the extra info (smtpCode, sender, recipients, cause). */
function makeError(result, message, info = {}) {
  const Cls = ERROR_CLASSES[results().names[result]] || SMTPException;
  return new Cls(message, { ...info, result });
}

function invalid(message) {
  return new SMTPInvalidArgumentError(message, { result: resultCode('SMTP_ERR_INVALID_ARGUMENT') });
}

function stateError(message) {
  return new SMTPStateError(message, { result: resultCode('SMTP_ERR_BAD_STATE') });
}

module.exports = { results, resultCode, makeError, invalid, stateError, ERROR_CLASSES, CLASSES, ...CLASSES };
