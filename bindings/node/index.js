'use strict';
/*
 * libsmtp for Node.js: Python smtplib's SMTP, SMTP_SSL and LMTP, and a
 * connection pool, on top of libsmtp.so through koffi. Session methods that
 * talk to the server return Promises and run on libuv's thread pool;
 * their synchronous forms end in Sync. README.md documents every name.
 *
 *   lib/native.js       finding the library, the koffi declarations
 *   lib/errors.js       the result table from the library, the error classes
 *   lib/core.js         one session's calls: sync, async (queued), cancel
 *   lib/session.js      Session: settings and getters
 *   lib/commands.js     Session's network calls, each in both forms
 *   lib/stream.js       sendmailStream: a stream into the library's read function
 *   lib/batch.js        sendmailBatch
 *   lib/pool.js         Pool
 *   lib/dkim.js         DkimSigner: DKIM signatures for raw messages
 *   lib/tls.js, envelope.js, sasl.js, transaction.js, args.js, libc.js
 */

const native = require('./lib/native');
const errors = require('./lib/errors');
const { Session } = require('./lib/session');
require('./lib/commands'); // Session's network calls
const { Pool } = require('./lib/pool');
const { TlsConfig } = require('./lib/tls');
const { DkimSigner } = require('./lib/dkim');

/** The loaded library's version ("0.1.0"). */
function libraryVersion() { return native.load().lib_version(); }

/** The loaded library's version as MAJOR << 16 | MINOR << 8 | PATCH. */
function libraryVersionNumber() { return native.load().lib_version_number(); }

/** The path the library was loaded from. */
function libraryPath() { return native.loadedPath(); }

/** smtp_result_str(): the library's description of a result code. */
function resultString(result) { return native.load().result_str(result); }

/** smtp_result_has_reply(): whether an error with this result code carries the server's reply. */
function resultHasReply(result) { return errors.results().withReply.has(result); }

/** Everything the library says about a result code: {code, name, description, smtplibException, hasReply}, or null. */
function resultInfo(result) { return errors.results().info[result] || null; }

module.exports = {
  Session,
  Pool,
  TlsConfig,
  DkimSigner,
  libraryVersion,
  libraryVersionNumber,
  libraryPath,
  libraryCandidates: native.libraryCandidates,
  resultString,
  resultHasReply,
  resultInfo,
  ...errors.CLASSES,
};

// The result codes from the library, read when first asked for (requiring
// this module does not load the library).
Object.defineProperty(module.exports, 'RESULT', { enumerable: true, get: () => errors.results().byName });
Object.defineProperty(module.exports, 'RESULT_NAMES', { enumerable: true, get: () => errors.results().names });
