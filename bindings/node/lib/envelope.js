'use strict';
// Structured MAIL and RCPT options (smtp_envelope_*): built from a plain
// object, handed to a session, freed (the session keeps its copy).

const { makeError, invalid } = require('./errors');
const { cstr, optCstr, strArray } = require('./args');

const { DSN_RET, DSN_NOTIFY, BODY } = require('./constants');

/** NOTIFY as bits: a number, 'SUCCESS,FAILURE' or ['SUCCESS', 'FAILURE']. */
function notifyBits(v, what) {
  if (typeof v === 'number') return v;
  let bits = 0;
  for (const name of strArray(typeof v === 'string' ? v.split(',') : v, what)) {
    const bit = DSN_NOTIFY[name.trim().toUpperCase()];
    if (bit === undefined) throw invalid(`${what}: unknown DSN NOTIFY value ${name}`);
    bits |= bit;
  }
  return bits;
}

/**
 * A new smtp_envelope from `opts` (see Session#setEnvelope()); the caller
 * frees it with L.envelope_free().
 */
function buildEnvelope(L, opts) {
  if (typeof opts !== 'object') throw new TypeError('envelope options must be an object');
  const e = L.envelope_new();
  try {
    const check = (rc) => {
      if (rc !== 0) throw makeError(rc, `envelope: ${L.envelope_errmsg(e)}`);
    };
    if (opts.dsnRet !== undefined) {
      const ret = DSN_RET[String(opts.dsnRet).toUpperCase()];
      if (ret === undefined) throw invalid("dsnRet must be 'FULL' or 'HDRS'");
      check(L.envelope_set_dsn_ret(e, ret));
    }
    if (opts.dsnEnvid !== undefined) check(L.envelope_set_dsn_envid(e, cstr(opts.dsnEnvid, 'dsnEnvid')));
    if (opts.dsnNotify !== undefined) check(L.envelope_set_dsn_notify(e, notifyBits(opts.dsnNotify, 'dsnNotify')));
    for (const [rcpt, dsn] of Object.entries(opts.rcptDsn || {})) {
      const notify = dsn.notify === undefined ? 0 : notifyBits(dsn.notify, 'rcptDsn.notify');
      check(L.envelope_set_rcpt_dsn(e, cstr(rcpt, 'rcptDsn address'), notify, optCstr(dsn.orcpt, 'orcpt')));
    }
    if (opts.smtputf8 !== undefined) check(L.envelope_set_smtputf8(e, opts.smtputf8 ? 1 : 0));
    if (opts.body !== undefined && opts.body !== null) {
      const body = BODY[String(opts.body).toUpperCase()];
      if (body === undefined) throw invalid("body must be '7BIT', '8BITMIME' or 'BINARYMIME'");
      check(L.envelope_set_body(e, body));
    }
    if (opts.requireTls !== undefined) check(L.envelope_set_requiretls(e, opts.requireTls ? 1 : 0));
    if (opts.mtPriority !== undefined) check(L.envelope_set_mt_priority(e, opts.mtPriority));
    if (opts.deliverBy !== undefined) {
      const d = opts.deliverBy;
      check(L.envelope_set_deliver_by(e, d.seconds, d.notify ? 1 : 0, d.trace ? 1 : 0));
    }
    return e;
  } catch (err) {
    L.envelope_free(e);
    throw err;
  }
}

module.exports = { buildEnvelope };
