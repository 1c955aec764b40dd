'use strict';
// The results of a mail transaction, read from the session after the call
// (smtp_session_rcpt_info(), smtp_session_sender()).

const { load } = require('./native');
const { setKey } = require('./args');

/** Recipient `i` of the last transaction as smtp_rcpt_info gives it (C names). */
function info(p, i) {
  const out = {};
  load().rcpt_info(p, i, out);
  return out;
}

/** Every recipient of the last transaction: [{addr, refused, code, message, status, data*, final*}]. */
function rcptResults(p) {
  const L = load();
  const out = [];
  for (let i = 0, n = Number(L.rcpt_count(p)); i < n; i++) {
    const r = info(p, i);
    out.push({
      addr: r.addr,
      refused: r.refused === 1,
      code: r.code,
      message: r.text,
      status: r.status,
      dataCode: r.data_code,
      dataMessage: r.data_text,
      dataStatus: r.data_status,
      finalCode: r.final_code,
      finalMessage: r.final_text,
      finalStatus: r.final_status,
    });
  }
  return out;
}

/**
 * smtplib's refused dict, {addr: {code, message}}: for each refused
 * recipient, the reply that decided its fate (its RCPT reply, or on LMTP
 * its reply after the data).
 */
function refused(p) {
  const L = load();
  const out = {};
  for (let i = 0, n = Number(L.rcpt_count(p)); i < n; i++) {
    const r = info(p, i);
    if (r.refused === 1) setKey(out, r.addr, { code: r.final_code, message: r.final_text });
  }
  return out;
}

/**
 * The end of sendmail, sendMessage, sendmailStream and their pool forms:
 * the refused dict, or the error with the refused recipients and the
 * sender the transaction used.
 */
function finishSend(core, p, rc, extra = {}) {
  const r = refused(p);
  core.check(p, rc, { recipients: r, sender: load().sender(p), ...extra });
  return r;
}

module.exports = { rcptResults, refused, finishSend };
