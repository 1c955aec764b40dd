// A typed use of every public name, checked by test.sh with
// `tsc --noEmit --strict` (never run): the types in index.d.ts must cover
// the API, and a wrong use must not compile (the @ts-expect-error lines).

import { Readable } from 'node:stream';
import * as fs from 'node:fs';
import {
  Session, Pool, TlsConfig, DkimSigner, DkimSignerOptions, Reply, Refused, RcptResult, BatchResult, PoolStats, ResultInfo,
  SMTPException, SMTPInvalidArgumentError, SMTPStateError, SMTPOSError, SMTPConnectionError, SMTPTimeoutError,
  SMTPCancelledError, SMTPTLSError, SMTPServerDisconnected, SMTPOutcomeUnknownError, SMTPNotEncryptedError,
  SMTPResponseException, SMTPConnectError, SMTPHeloError, SMTPNotSupportedError, SMTPAuthenticationError,
  SMTPAuthAbortedError, SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError, SMTPMessageTooLargeError,
  RESULT, RESULT_NAMES, resultHasReply, resultString, resultInfo, libraryVersion, libraryVersionNumber,
  libraryPath, libraryCandidates,
} from '../..';

async function session(): Promise<void> {
  const tls = new TlsConfig({ caFile: ['/ca.pem'], roots: ['mozilla', 'system'], serverName: 'mail.example' });
  const info: string | null = tls.rootsInfo;
  const s = new Session('smtp', {
    timeout: 30000, timeouts: { connect: 5000, call: 60000 }, localHostname: 'client.example',
    sourceAddress: ['127.0.0.1', 0], tls, requireTls: false, trustLoopback: true, authMechanisms: ['PLAIN'],
    proxy: 'socks5h://proxy:1080', pipelining: true, chunking: false, debugSecrets: false, debugLevel: 1,
    envelope: { dsnRet: 'HDRS', dsnNotify: ['SUCCESS', 'FAILURE'], rcptDsn: { 'b@example.com': { notify: 'NEVER' } },
      smtputf8: true, body: '8BITMIME', requireTls: false, mtPriority: 3, deliverBy: { seconds: 60 } },
    trace: (direction, line) => { const d: 'info' | 'send' | 'recv' = direction; void d; void line; },
  });
  const ac = new AbortController();
  const greeting: Reply = await s.connect('localhost', 25, { signal: ac.signal });
  const g2: Reply = s.connectSync('localhost');
  await s.open('localhost', 25);
  await s.connectFd(3, 'mail.example');
  const ehlo: Reply = await s.ehlo('me.example');
  await s.helo();
  await s.ehloOrHeloIfNeeded();
  const text: string = await s.help();
  await s.docmd('NOOP', '', { signal: AbortSignal.timeout(1000) });
  await s.noop();
  await s.rset();
  await s.verify('a@example.com');
  await s.expn('list@example.com');
  await s.mail('a@example.com', ['BODY=8BITMIME']);
  await s.rcpt('b@example.com', [], { signal: ac.signal });
  await s.data('Subject: x\r\n\r\nx\r\n', { lineEndings: 'reject' });
  const refused: Refused = await s.sendmail('a@example.com', ['b@example.com'], Buffer.from('x'), {
    mailOptions: ['SMTPUTF8'], rcptOptions: [], lineEndings: 'raw', signal: ac.signal,
  });
  for (const [addr, r] of Object.entries(refused)) console.log(addr, r.code, r.message);
  await s.sendMessage('From: a@example.com\r\n\r\nx\r\n');
  await s.sendMessage('x', { fromAddr: 'a@example.com', toAddrs: ['b@example.com'], signal: ac.signal });
  s.sendMessageSync('x', 'a@example.com', 'b@example.com');
  await s.sendmailStream('a@example.com', 'b@example.com', fs.createReadStream('/msg.eml'), { size: 100 });
  await s.sendmailStream('a@example.com', 'b@example.com', (async function* () { yield 'x'; yield Buffer.from('y'); })());
  await s.sendmailStream('a@example.com', 'b@example.com', Readable.from(['x']));
  s.sendmailStreamSync('a@example.com', 'b@example.com', ['Subject: x\r\n\r\n', Buffer.from('x')]);
  const batch: BatchResult[] = await s.sendmailBatch([{ from: 'a@example.com', to: 'b@example.com', msg: 'x' }]);
  for (const r of batch) if (!r.ok && r.error) console.log(r.error.code, r.refusedCount, r.rcptCodes, r.refused);
  s.sendmailBatchSync([{ from: 'a@example.com', to: ['b@example.com'], msg: new Uint8Array(1), lineEndings: 'normalize' }]);
  await s.login('user', 'password', { initialResponseOk: false, allowCleartext: true });
  await s.auth('X-TOKEN', (challenge: Buffer | null) => (challenge === null ? null : 'token'));
  await s.authBuiltin('XOAUTH2', 'user', 'token');
  await s.starttls(tls);
  await s.starttls({ caFile: '/ca.pem' });
  await s.send('NOOP\r\n');
  const r: Reply = await s.getreply();
  s.setTimeouts({ all: 1000, finalDot: 0 });
  const t: number = s.getTimeout('dataBlock');
  const all: Required<{ connect?: number }> = s.getTimeouts();
  s.setLocalHostname('x.example');
  s.setSourceAddress({ host: '127.0.0.1' });
  s.setDebugLevel(2);
  s.setTrace(null);
  s.setTlsConfig(null);
  s.setRequireTls(true);
  s.setTrustLoopback(false);
  s.setAuthMechanisms('PLAIN LOGIN');
  s.setDebugSecrets(true);
  s.setProxy(null);
  s.setPipelining(false);
  s.setChunking(true);
  s.setEnvelope(null);
  const rcpts: RcptResult[] = s.rcptResults();
  const state = [s.kind, s.closed, s.busy, s.lastReply.code, s.errmsg, s.isConnected, s.doesEsmtp, s.utf8Commands,
    s.ehloResp, s.heloResp, s.isEncrypted, s.tlsVersion, s.tlsCipher, s.sender, s.fileno, s.hasExtn('size'),
    s.feature('size'), s.features()];
  await s.quit();
  s.cancel();
  s.disconnect();
  s.close();
  s[Symbol.dispose]();
  tls.free();
  void [info, greeting, g2, ehlo, text, r, t, all, rcpts, state];

  // @ts-expect-error: a sendmail needs its message
  await s.sendmail('a@example.com', 'b@example.com');
  // @ts-expect-error: connect gives a Promise, not a Reply
  const wrong: Reply = s.connect('localhost');
  // @ts-expect-error: no such timeout
  s.setTimeouts({ forever: 1 });
  void wrong;
}

async function pool(): Promise<void> {
  const like = new Session('smtp', { timeout: 10000 });
  const p = new Pool('mail.example.com', 587, {
    like, maxConnections: 8, starttls: true, maxMessages: 100, maxIdleMs: 30000, probeIdleMs: 5000, rate: 10,
    login: { user: 'u', password: 'p', allowCleartext: false }, envelope: { dsnRet: 'FULL' }, pipelining: true,
  });
  const p2 = new Pool('/run/lmtp.sock', 0, { kind: 'lmtp', auth: { mechanism: 'X-TOKEN', authobject: () => null } });
  const refused: Refused = await p.sendmail('a@example.com', ['b@example.com'], 'x', { session: like });
  p.sendmailSync('a@example.com', 'b@example.com', 'x');
  await p.sendMessage('From: a@example.com\r\n\r\nx');
  p.sendMessageSync('x', { fromAddr: 'a@example.com', toAddrs: ['b@example.com'] });
  const results: BatchResult[] = await p.sendmailBatch([{ from: 'a@example.com', to: 'b@example.com', msg: 'x' }]);
  p.sendmailBatchSync([]);
  p.setOption('rate', 5);
  p.setOption('starttls', false);
  p.setLogin(null);
  p.setAuth(null, null);
  p.setEnvelope(null);
  const stats: PoolStats = p.stats();
  const sent: number = p.stat('sent');
  const closed: boolean = p.closed;
  p.close();
  p2[Symbol.dispose]();
  void [refused, results, stats, sent, closed];
  // @ts-expect-error: no such statistic
  p.stat('bounced');
}

async function dkim(): Promise<void> {
  const options: DkimSignerOptions = {
    key: fs.readFileSync('/dkim.pem'), domain: 'example.com', selector: 'sel', headers: ['From', 'Subject'],
    canonicalization: 'relaxed/simple',
  };
  const d = new DkimSigner(options);
  new DkimSigner({ key: '-----BEGIN PRIVATE KEY-----', domain: 'example.com', selector: 's', canonicalization: 'relaxed' });
  new DkimSigner({ key: new Uint8Array(1), domain: 'example.com', selector: 's', canonicalization: ['simple', 'relaxed'] });
  const signed: Buffer = d.sign('From: a@example.com\r\n\r\nx\r\n');
  const later: Buffer = await d.signAsync(Buffer.from('x'));
  const field: string = d.signatureField(new Uint8Array(1));
  const txt: string = d.dnsRecord();
  const names = [d.domain, d.selector, d.freed];
  const s = new Session();
  await s.sendmail('a@example.com', 'b@example.com', signed);
  d.free();
  d[Symbol.dispose]();
  void [later, field, txt, names];
  // @ts-expect-error: no such canonicalization
  new DkimSigner({ key: 'k', domain: 'example.com', selector: 's', canonicalization: 'relaxed/strict' });
  // @ts-expect-error: a selector is needed
  new DkimSigner({ key: 'k', domain: 'example.com' });
  // @ts-expect-error: signAsync gives a Promise
  const wrong: Buffer = d.signAsync('x');
  void wrong;
}

function errors(e: unknown): void {
  const classes = [SMTPException, SMTPInvalidArgumentError, SMTPStateError, SMTPOSError, SMTPConnectionError,
    SMTPTimeoutError, SMTPCancelledError, SMTPTLSError, SMTPServerDisconnected, SMTPOutcomeUnknownError,
    SMTPNotEncryptedError, SMTPResponseException, SMTPConnectError, SMTPHeloError, SMTPNotSupportedError,
    SMTPAuthenticationError, SMTPAuthAbortedError, SMTPDataError, SMTPMessageTooLargeError];
  void classes;
  if (e instanceof SMTPSenderRefused) console.log(e.sender, e.smtpCode, e.smtpMessage);
  if (e instanceof SMTPRecipientsRefused) console.log(Object.keys(e.recipients));
  if (e instanceof SMTPException) console.log(e.code, e.result, e.message);
  const codes: number = RESULT.SMTP_ERR_TIMEOUT;
  const name: string = RESULT_NAMES[11];
  const ri: ResultInfo | null = resultInfo(11);
  console.log(codes, name, ri && ri.smtplibException, resultHasReply(26), resultString(11), libraryVersion(),
    libraryVersionNumber(), libraryPath(), libraryCandidates());
}

void session;
void pool;
void dkim;
void errors;
