'use strict';
// Sessions against tests/servers/sink.py: what is sent arrives as sent.

const test = require('node:test');
const assert = require('node:assert/strict');
const smtp = require('..');
const { server, stored, storedCount } = require('./helpers');

let sink;
let dsnSink;

test.before(async () => {
  [sink, dsnSink] = await Promise.all([server('sink'), server('dsn')]);
});
test.after(async () => {
  await Promise.all([sink && sink.stop(), dsnSink && dsnSink.stop()]);
});

function session(options = {}) {
  const s = new smtp.Session('smtp', { timeout: 10000, localHostname: 'client.test', ...options });
  s.connectSync('127.0.0.1', sink.port);
  return s;
}

test('a message arrives byte-identical, with its envelope', () => {
  const s = session();
  try {
    const msg = Buffer.concat([
      Buffer.from('From: alice@example.com\r\nTo: bob@example.com\r\nSubject: bytes\r\n\r\n'),
      Buffer.from('.a line starting with a dot\r\n..two dots\r\n.\r\n'),
      Buffer.from('caf\xc3\xa9 in UTF-8, and the end\r\n', 'latin1'),
    ]);
    const refused = s.sendmailSync('alice@example.com', ['bob@example.com', 'carol@example.com'], msg);
    assert.deepEqual(refused, {});
    const { bytes, envelope } = stored(sink, s.lastReply);
    assert.ok(bytes.equals(msg), `stored:\n${bytes.toString('latin1')}`);
    assert.equal(envelope.mail_from, 'alice@example.com');
    assert.deepEqual(envelope.rcpt_tos, ['bob@example.com', 'carol@example.com']);
    assert.deepEqual(envelope.mail_options, ['SIZE=' + msg.length]);
    assert.equal(s.quitSync().code, 221);
  } finally {
    s.close();
  }
});

test('a string message has its line endings normalised (smtplib str), a Buffer is sent raw', () => {
  const s = session();
  try {
    s.sendmailSync('a@example.com', 'b@example.com', 'Subject: lf\n\nline one\nline two\rthree');
    assert.equal(stored(sink, s.lastReply).bytes.toString(), 'Subject: lf\r\n\r\nline one\r\nline two\r\nthree\r\n');
    s.sendmailSync('a@example.com', 'b@example.com', Buffer.from('Subject: raw\n\nbare\nLF\n'));
    assert.equal(stored(sink, s.lastReply).bytes.toString(), 'Subject: raw\n\nbare\nLF\n\r\n', 'smtplib adds the final CRLF');
    assert.throws(() => s.sendmailSync('a@example.com', 'b@example.com', 'bare\nLF\n', { lineEndings: 'reject' }),
      { name: 'SMTPInvalidArgumentError', code: 'SMTP_ERR_INVALID_ARGUMENT', result: 2 });
    assert.equal(s.noopSync().code, 250);
  } finally {
    s.close();
  }
});

test('refused recipients are returned as {addr: {code, message}}', () => {
  const s = session();
  try {
    const refused = s.sendmailSync('alice@example.com',
      ['bob@example.com', 'refuse-me@example.com', 'refused2@example.com'], 'Subject: some\r\n\r\nhi\r\n');
    assert.deepEqual(Object.keys(refused), ['refuse-me@example.com', 'refused2@example.com']);
    assert.equal(refused['refuse-me@example.com'].code, 550);
    assert.match(refused['refuse-me@example.com'].message, /Recipient address rejected/);
    assert.deepEqual(stored(sink, s.lastReply).envelope.rcpt_tos, ['bob@example.com']);
    const results = s.rcptResults();
    assert.equal(results.length, 3);
    assert.deepEqual(results.map((r) => [r.addr, r.code, r.refused, r.status]), [
      ['bob@example.com', 250, false, null],
      ['refuse-me@example.com', 550, true, null],
      ['refused2@example.com', 550, true, null],
    ]);
  } finally {
    s.close();
  }
});

test('every recipient refused throws SMTPRecipientsRefused with .recipients; the session goes on', () => {
  const s = session();
  try {
    const before = storedCount(sink);
    let caught;
    assert.throws(() => s.sendmailSync('a@example.com', ['refuse1@example.com', 'refuse2@example.com'], 'x'), (e) => {
      caught = e;
      return true;
    });
    assert.ok(caught instanceof smtp.SMTPRecipientsRefused);
    assert.ok(caught instanceof smtp.SMTPException);
    assert.ok(caught instanceof Error);
    assert.equal(caught.name, 'SMTPRecipientsRefused');
    assert.equal(caught.code, 'SMTP_ERR_RECIPIENTS_REFUSED');
    assert.equal(caught.result, 27);
    assert.equal(caught.smtpCode, 550);
    assert.match(caught.smtpMessage, /refuse2@example\.com/);
    assert.deepEqual(Object.keys(caught.recipients), ['refuse1@example.com', 'refuse2@example.com']);
    assert.equal(caught.recipients['refuse1@example.com'].code, 550);
    assert.equal(storedCount(sink), before);
    // RSET followed: a new transaction works on the same connection.
    assert.deepEqual(s.sendmailSync('a@example.com', 'b@example.com', 'ok\r\n'), {});
  } finally {
    s.close();
  }
});

test('sendMessage: the envelope from the headers, Bcc removed, other bytes as given', () => {
  const s = session();
  try {
    const msg = 'From: Alice <alice@example.com>\r\nTo: bob@example.com, "Carol C" <carol@example.com>\r\n' +
      'Bcc: hidden@example.com, refuse-bcc@example.com\r\nSubject: send_message\r\n\r\nBody.\r\n';
    const refused = s.sendMessageSync(Buffer.from(msg));
    assert.deepEqual(Object.keys(refused), ['refuse-bcc@example.com']);
    const { bytes, envelope } = stored(sink, s.lastReply);
    assert.equal(envelope.mail_from, 'alice@example.com');
    assert.deepEqual(envelope.rcpt_tos, ['bob@example.com', 'carol@example.com', 'hidden@example.com']);
    assert.equal(bytes.toString(), msg.replace('Bcc: hidden@example.com, refuse-bcc@example.com\r\n', ''));

    // Explicit envelope, both call forms.
    s.sendMessageSync('From: a@example.com\r\nTo: b@example.com\r\n\r\nx\r\n', 'other@example.com', ['dest@example.com']);
    assert.deepEqual(stored(sink, s.lastReply).envelope.rcpt_tos, ['dest@example.com']);
    assert.equal(stored(sink, s.lastReply).envelope.mail_from, 'other@example.com');
    s.sendMessageSync('From: a@example.com\r\nTo: b@example.com\r\n\r\nx\r\n', { toAddrs: 'dest2@example.com' });
    assert.deepEqual(stored(sink, s.lastReply).envelope.rcpt_tos, ['dest2@example.com']);

    assert.throws(() => s.sendMessageSync('Subject: nobody\r\n\r\nx\r\n'), { code: 'SMTP_ERR_INVALID_ARGUMENT' });
    assert.throws(() => s.sendMessageSync('From: a@example.com\r\nTo: refuse@example.com\r\n\r\nx\r\n'),
      (e) => e instanceof smtp.SMTPRecipientsRefused && e.recipients['refuse@example.com'].code === 550);
  } finally {
    s.close();
  }
});

test('smtplib methods step by step: ehlo, features, mail, rcpt, data, docmd, help, verify, rset, noop', () => {
  const s = new smtp.Session('smtp', { timeouts: { connect: 5000, io: 5000, reply: 5000 } });
  try {
    const t = s.getTimeouts();
    assert.deepEqual({ connect: t.connect, io: t.io, reply: t.reply }, { connect: 5000, io: 5000, reply: 5000 });
    assert.equal(s.isConnected, false);
    const greeting = s.connectSync(`127.0.0.1:${sink.port}`);
    assert.equal(greeting.code, 220);
    assert.match(greeting.message, /sink\.test/);
    assert.equal(s.isConnected, true);
    assert.equal(s.ehloResp, null);
    const ehlo = s.ehloSync('me.example');
    assert.equal(ehlo.code, 250);
    assert.equal(s.doesEsmtp, true);
    assert.equal(s.ehloResp, ehlo.message);
    assert.equal(s.hasExtn('SMTPUTF8'), true);
    assert.equal(s.hasExtn('starttls'), false);
    const features = s.features();
    assert.equal(features.size, '209715200');
    assert.equal(features['8bitmime'], '');
    s.ehloOrHeloIfNeededSync();
    assert.deepEqual(s.mailSync('Alice <alice@example.com>', ['BODY=8BITMIME']), { code: 250, message: 'OK' });
    assert.equal(s.rcptSync('bob@example.com').code, 250);
    assert.equal(s.rcptSync('refuse@example.com').code, 550);
    const reply = s.dataSync('Subject: steps\r\n\r\nstep by step\r\n');
    assert.equal(reply.code, 250);
    assert.equal(stored(sink, reply).bytes.toString(), 'Subject: steps\r\n\r\nstep by step\r\n');
    assert.equal(stored(sink, reply).envelope.mail_from, 'alice@example.com');
    assert.equal(s.docmdSync('NOOP').code, 250);
    assert.equal(s.docmdSync('XYZZY', 'plugh').code, 500);
    assert.match(s.helpSync(), /Supported commands/);
    assert.equal(s.verifySync('bob@example.com').code, 252);
    assert.equal(s.expnSync('list').code, 502);
    assert.deepEqual(s.rsetSync(), { code: 250, message: 'OK' });
    assert.deepEqual(s.noopSync(), { code: 250, message: 'OK' });
    assert.deepEqual(s.lastReply, { code: 250, message: 'OK' });
    assert.equal(s.errmsg, 'no error');
    assert.equal(s.quitSync().code, 221);
    assert.equal(s.isConnected, false);
    // smtplib: after quit() the object connects again.
    assert.equal(s.connectSync('127.0.0.1', sink.port).code, 220);
    assert.equal(s.heloSync().code, 250);
    assert.match(s.heloResp, /sink\.test/);
  } finally {
    s.close();
  }
});

test('CR or LF in an address throws before anything is sent', () => {
  const lines = [];
  const s = session({ debugLevel: 1, trace: (dir, line) => lines.push([dir, line]) });
  try {
    s.ehloSync();
    const before = storedCount(sink);
    lines.length = 0;
    for (const bad of ['bob@example.com\r\nRSET', 'bob@example.com\nDATA', 'bob\r@example.com']) {
      assert.throws(() => s.sendmailSync('alice@example.com', ['ok@example.com', bad], 'x\r\n'),
        { name: 'SMTPInvalidArgumentError', code: 'SMTP_ERR_INVALID_ARGUMENT', result: 2, smtpCode: null });
      assert.throws(() => s.sendmailSync(bad, 'ok@example.com', 'x\r\n'), smtp.SMTPInvalidArgumentError);
      assert.throws(() => s.mailSync(bad), smtp.SMTPInvalidArgumentError);
      assert.throws(() => s.rcptSync(bad), smtp.SMTPInvalidArgumentError);
      assert.throws(() => s.verifySync(bad), smtp.SMTPInvalidArgumentError);
      assert.throws(() => s.docmdSync('NOOP', bad), smtp.SMTPInvalidArgumentError);
      assert.throws(() => s.sendmailSync('alice@example.com', 'ok@example.com', 'x', { mailOptions: [`X=${bad}`] }),
        smtp.SMTPInvalidArgumentError);
    }
    // A NUL would cut a C string short: refused here, before the library.
    assert.throws(() => s.sendmailSync('alice@example.com', 'bob@example.com\0RSET', 'x'),
      { name: 'SMTPInvalidArgumentError', message: /NUL/ });
    assert.throws(() => s.ehloSync('a\0b'), smtp.SMTPInvalidArgumentError);
    assert.deepEqual(lines.filter(([dir]) => dir === 'send'), [], 'nothing was sent');
    assert.equal(storedCount(sink), before);
    // The session is still in step.
    assert.equal(s.noopSync().code, 250);
    assert.ok(lines.some(([dir, line]) => dir === 'send' && /noop/i.test(line)));
  } finally {
    s.close();
  }
});

test('wrong JS types are TypeErrors', () => {
  const s = new smtp.Session();
  try {
    assert.throws(() => s.sendmailSync(42, 'b@example.com', 'x'), TypeError);
    assert.throws(() => s.sendmailSync('a@example.com', [{}], 'x'), TypeError);
    assert.throws(() => s.sendmailSync('a@example.com', 'b@example.com', 42), TypeError);
    assert.throws(() => s.authSync('X', 'not a function'), TypeError);
    assert.throws(() => s.connectSync('127.0.0.1', 70000), smtp.SMTPInvalidArgumentError);
    assert.throws(() => s.dataSync('x', { lineEndings: 'crlf' }), smtp.SMTPInvalidArgumentError);
    assert.throws(() => s.setTimeouts({ connect: -1 }), smtp.SMTPInvalidArgumentError);
    assert.throws(() => s.setTimeouts({ forever: 1 }), smtp.SMTPInvalidArgumentError);
    assert.throws(() => s.setDebugLevel(-1), { code: 'SMTP_ERR_INVALID_ARGUMENT' });
    assert.throws(() => s.setLocalHostname('two words'), { code: 'SMTP_ERR_INVALID_ARGUMENT' });
    assert.throws(() => new smtp.Session('pop3'), smtp.SMTPInvalidArgumentError);
  } finally {
    s.close();
  }
});

test('envelope options (DSN) go out on MAIL and RCPT', () => {
  const s = new smtp.Session('smtp', { timeout: 10000 });
  try {
    s.connectSync('127.0.0.1', dsnSink.port);
    s.setEnvelope({
      dsnRet: 'HDRS', dsnEnvid: 'id 42', dsnNotify: ['SUCCESS', 'FAILURE'],
      rcptDsn: { 'carol@example.com': { notify: 'NEVER', orcpt: 'carol+orig@example.com' } },
    });
    s.sendmailSync('alice@example.com', ['bob@example.com', 'carol@example.com'], 'Subject: dsn\r\n\r\nx\r\n');
    const { raw } = stored(dsnSink, s.lastReply).envelope;
    assert.match(raw[0], /^from:<alice@example\.com> .*RET=HDRS/i);
    assert.match(raw[0], /ENVID=id\+2042/);
    assert.match(raw[1], /^to:<bob@example\.com> NOTIFY=SUCCESS,FAILURE/i);
    assert.match(raw[2], /^to:<carol@example\.com> NOTIFY=NEVER ORCPT=rfc822;carol\+2Borig@example\.com/i);
    s.setEnvelope(null);
    s.sendmailSync('alice@example.com', 'bob@example.com', 'x\r\n');
    assert.doesNotMatch(stored(dsnSink, s.lastReply).envelope.raw[0], /RET=/);
    // An option the server does not offer is refused before MAIL.
    s.setEnvelope({ mtPriority: 3 });
    assert.throws(() => s.sendmailSync('alice@example.com', 'bob@example.com', 'x\r\n'),
      { name: 'SMTPNotSupportedError', code: 'SMTP_ERR_NOT_SUPPORTED', smtpCode: null });
    assert.throws(() => s.setEnvelope({ dsnRet: 'ALL' }), smtp.SMTPInvalidArgumentError);
  } finally {
    s.close();
  }
});

test('the README example runs as written', () => {
  const { execFileSync } = require('node:child_process');
  const fs = require('node:fs');
  const path = require('node:path');
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const code = /```js\n([^]*?)```/.exec(readme)[1]
    .replace("require('libsmtp')", `require(${JSON.stringify(path.join(__dirname, '..'))})`)
    .replace("s.connect('localhost', 8025)", `s.connect('127.0.0.1', ${sink.port})`);
  assert.match(code, new RegExp(`connect\\('127.0.0.1', ${sink.port}\\)`));
  const before = storedCount(sink);
  const out = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(out, '');
  assert.equal(storedCount(sink), before + 1);
});
