'use strict';
// The whole C API is bound: every function include/smtp.h declares is
// declared to koffi in lib/native.js, or excluded below with the reason.
// A new C function fails this test until it is one or the other. And every
// result code the library lists has its error class.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const native = require('../lib/native');
const errors = require('../lib/errors');

const COMPOSER = 'Node keeps its own composer (issue 16); raw messages are signed by DkimSigner';

// Functions the binding does not call, and why.
const EXCLUDED = {
  // The buffer form of the SASL callback (SMTP_SASL_NEED_SPACE retries):
  // the authobject goes through smtp_session_auth_step and
  // smtp_pool_set_auth_step, whose responses have any length.
  smtp_session_auth: 'auth_step form used',
  smtp_pool_set_auth: 'auth_step form used',
  // One field of a recipient each: smtp_session_rcpt_info gives them all
  // in one call (Session#rcptResults(), the refused dict).
  smtp_session_rcpt_addr: 'rcpt_info used',
  smtp_session_rcpt_code: 'rcpt_info used',
  smtp_session_rcpt_text: 'rcpt_info used',
  smtp_session_rcpt_data_code: 'rcpt_info used',
  smtp_session_rcpt_data_text: 'rcpt_info used',
  smtp_session_rcpt_refused: 'rcpt_info used',
  smtp_session_rcpt_status: 'rcpt_info used',
  smtp_session_rcpt_data_status: 'rcpt_info used',
  // The message builder and its sends (issue 16): Node users compose with
  // their own composer (nodemailer's, or strings) and send raw messages,
  // which DkimSigner signs (lib/dkim.js).
  smtp_message_new: COMPOSER, smtp_message_free: COMPOSER, smtp_message_errmsg: COMPOSER,
  smtp_message_set_from: COMPOSER, smtp_message_set_sender: COMPOSER, smtp_message_add_to: COMPOSER,
  smtp_message_add_cc: COMPOSER, smtp_message_add_bcc: COMPOSER, smtp_message_add_reply_to: COMPOSER,
  smtp_message_set_subject: COMPOSER, smtp_message_set_date: COMPOSER, smtp_message_set_message_id: COMPOSER,
  smtp_message_add_header: COMPOSER, smtp_message_set_text: COMPOSER, smtp_message_set_html: COMPOSER,
  smtp_message_attach_memory: COMPOSER, smtp_message_attach_file: COMPOSER, smtp_message_attach_callback: COMPOSER,
  smtp_message_add_inline_memory: COMPOSER, smtp_message_add_inline_file: COMPOSER, smtp_message_set_dkim: COMPOSER,
  smtp_message_write: COMPOSER, smtp_message_bytes: COMPOSER, smtp_session_send_composed: COMPOSER,
  smtp_pool_send_composed: COMPOSER,
};

/** The functions the header declares (STAGE's when set, else the repository's). */
function headerFunctions() {
  const stage = process.env.STAGE;
  const file = stage && fs.existsSync(path.join(stage, 'include', 'smtp.h'))
    ? path.join(stage, 'include', 'smtp.h')
    : path.join(__dirname, '..', '..', '..', 'include', 'smtp.h');
  const text = fs.readFileSync(file, 'utf8');
  const names = new Set();
  // Declarations start a line with their return type; comment lines start
  // with " *" and function-pointer typedefs have "(*" before the name.
  for (const m of text.matchAll(/^[A-Za-z][^(;*]*?\**\b(smtp_[a-z0-9_]+)\(/gm)) names.add(m[1]);
  return { file, names };
}

test('every function of the header is bound or excluded with a reason', (t) => {
  const { file, names } = headerFunctions();
  const bound = new Set(native.boundNames());
  const missing = [...names].filter((n) => !bound.has(n) && !(n in EXCLUDED));
  assert.deepEqual(missing, [], `neither bound nor excluded (${file})`);
  const unknown = [...bound, ...Object.keys(EXCLUDED)].filter((n) => !names.has(n));
  assert.deepEqual(unknown, [], 'bound or excluded but not in the header');
  const both = [...bound].filter((n) => n in EXCLUDED);
  assert.deepEqual(both, [], 'both bound and excluded');
  t.diagnostic(`C API coverage: ${bound.size} bound, ${Object.keys(EXCLUDED).length} excluded, ${names.size} in the header`);
  assert.ok(names.size >= 100, `only ${names.size} functions found: is the header parsed right?`);
});

test('every result code of the library has its error class', () => {
  const { names } = errors.results();
  for (const [code, name] of Object.entries(names)) {
    if (Number(code) === 0) continue;
    assert.ok(name in errors.ERROR_CLASSES, `${name} (${code}) has no class`);
    const e = errors.makeError(Number(code), 'x');
    assert.equal(e.code, name);
    assert.equal(e.result, Number(code));
  }
});

test('every constant the binding passes has the header\'s value', () => {
  const { file } = headerFunctions();
  const text = fs.readFileSync(file, 'utf8');
  const { DEFINES } = require('../lib/constants');
  for (const [name, value] of Object.entries(DEFINES)) {
    const m = new RegExp(`^#define ${name} (-?\\d+)\\s*$`, 'm').exec(text);
    assert.ok(m, `${name} is not defined in ${file}`);
    assert.equal(Number(m[1]), value, name);
  }
});
