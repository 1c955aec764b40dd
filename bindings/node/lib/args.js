'use strict';
/*
 * Argument checks and conversions. The library checks CR, LF and UTF-8
 * itself; a NUL must be caught here, since a C string would silently end
 * at it.
 */

const { invalid } = require('./errors');

const { LINE_ENDINGS, DEFINES } = require('./constants');

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

/** A string array as a C array (NULL when empty) and its length. */
function cArray(list) { return [list.length ? list : null, list.length]; }

function toBytes(value, what) {
  if (typeof value === 'string') return { bytes: Buffer.from(value, 'utf8'), text: true };
  if (Buffer.isBuffer(value)) return { bytes: value, text: false };
  if (value instanceof Uint8Array) {
    return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength), text: false };
  }
  throw new TypeError(`${what} must be a string, a Buffer or a Uint8Array`);
}

/** The SMTP_MSG_* flags: smtplib's rule (a str is normalised, bytes go as given) unless chosen. */
function lineFlags(lineEndings, text) {
  if (lineEndings === undefined || lineEndings === null) return text ? LINE_ENDINGS.normalize : LINE_ENDINGS.raw;
  if (Object.prototype.hasOwnProperty.call(LINE_ENDINGS, lineEndings)) return LINE_ENDINGS[lineEndings];
  throw invalid(`lineEndings must be 'normalize', 'raw' or 'reject', not ${String(lineEndings)}`);
}

/** A message's bytes and flags. */
function messageArgs(msg, lineEndings) {
  const { bytes, text } = toBytes(msg, 'msg');
  return { bytes, flags: lineFlags(lineEndings, text) };
}

function authFlags(options = {}) {
  let flags = 0;
  if (options.initialResponseOk === false) flags |= DEFINES.SMTP_AUTH_NO_INITIAL_RESPONSE;
  if (options.allowCleartext) flags |= DEFINES.SMTP_AUTH_ALLOW_CLEARTEXT;
  return flags;
}

function uint32(value, what) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalid(`${what} must be an integer from 0 to 4294967295`);
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

/** The options object at the end of a call's arguments ({} when absent). */
function opts(value) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') throw new TypeError('options must be an object');
  return value;
}

module.exports = {
  cstr, address, optCstr, strArray, cArray, toBytes, lineFlags, messageArgs, authFlags, uint32, port16, setKey, opts,
};
