'use strict';
// LMTP: one reply per recipient after the data, against the runner's lmtp
// server (tests/servers/servers.json: scripted.py's mini LMTP).

const test = require('node:test');
const assert = require('node:assert/strict');
const smtp = require('..');
const { server: runnerServer } = require('./helpers');

let server;

test.before(async () => { server = await runnerServer('lmtp'); });
test.after(async () => { if (server) await server.stop(); });

test('LMTP: a recipient refused after the data is in the refused object', () => {
  const s = new smtp.Session('lmtp', { timeout: 10000 });
  try {
    s.connectSync('127.0.0.1', server.port);
    assert.equal(s.ehloSync().code, 250, 'LHLO');
    const refused = s.sendmailSync('a@example.com', ['ok@example.com', 'late-fail@example.com', 'refuse@example.com'],
      'Subject: lmtp\r\n\r\nx\r\n');
    assert.deepEqual(refused, {
      'late-fail@example.com': { code: 452, message: '4.2.2 mailbox full' },
      'refuse@example.com': { code: 550, message: '5.1.1 no such user' },
    });
    const results = s.rcptResults();
    assert.deepEqual(results.map((r) => [r.addr, r.code, r.dataCode, r.refused]), [
      ['ok@example.com', 250, 250, false],
      ['late-fail@example.com', 250, 452, true],
      ['refuse@example.com', 550, 0, true],
    ]);
    assert.equal(results[0].dataMessage, '2.0.0 delivered');
    // Every recipient refused after the data: SMTPDataError, session in step.
    assert.throws(() => s.sendmailSync('a@example.com', ['late-fail1@example.com', 'late-fail2@example.com'], 'x\r\n'),
      { name: 'SMTPDataError', code: 'SMTP_ERR_DATA', smtpCode: 452 });
    assert.equal(s.noopSync().code, 250);
  } finally {
    s.close();
  }
});
