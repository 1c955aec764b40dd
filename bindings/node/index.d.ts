// Types for the libsmtp Node.js binding (index.js). Network calls return
// Promises (run on libuv's thread pool); each has a synchronous form ending
// in Sync. README.md documents every name.

/// <reference types="node" />

import type { Readable } from 'node:stream';

export type Kind = 'smtp' | 'smtp_ssl' | 'smtps' | 'ssl' | 'lmtp' | 0 | 1 | 2;
export type KindName = 'smtp' | 'smtp_ssl' | 'lmtp';
export type LineEndings = 'normalize' | 'raw' | 'reject';
export type TraceDirection = 'info' | 'send' | 'recv';
export type TraceFn = (direction: TraceDirection, line: string) => void;
/** A message: a string (line endings normalised by default) or bytes (sent as given by default). */
export type Message = string | Uint8Array;

/** A server reply: smtplib's (code, message). */
export interface Reply { code: number; message: string; }
/** smtplib's refused dict: {address: {code, message}}. */
export type Refused = Record<string, Reply>;

/**
 * Timeouts in milliseconds, 0: no limit (smtp_session_set_timeout_ms()).
 * Every wait in a call ends at the earliest of the limits that apply to it.
 */
export interface Timeouts {
  /** The name lookup, and connecting to each address. */
  connect?: number;
  /** Any wait in which nothing is sent or received. */
  io?: number;
  /** One whole reply to a command without a limit of its own below. */
  reply?: number;
  /** The greeting (and a TLS handshake). */
  greeting?: number;
  /** The reply to MAIL. */
  mail?: number;
  /** The reply to each RCPT. */
  rcpt?: number;
  /** The reply to DATA, and to each BDAT chunk but the last. */
  data?: number;
  /** Message data waiting to be sent: the server must take some within this long. */
  dataBlock?: number;
  /** The reply after the final dot, or to the last BDAT chunk. */
  finalDot?: number;
  /** The whole of one call, however many waits it takes (default 0: none). */
  call?: number;
  /**
   * Set: every limit above but `call` at once (applied before the others
   * given with it). Get: the longest single wait they allow (0 when one is
   * unlimited).
   */
  all?: number;
}
export type TimeoutName = keyof Timeouts;

export type TrustStore = 'mozilla' | 'system';
export interface TlsOptions {
  caFile?: string | string[];
  caDir?: string | string[];
  /** Built-in trust stores beside caFile/caDir: 'mozilla' (the default), 'system', both, or 'none'. */
  roots?: TrustStore | TrustStore[] | 'none';
  /** false: not the Mozilla roots. */
  defaultRoots?: boolean;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
  dangerouslyDisableVerification?: boolean;
}

export type DsnNotify = 'SUCCESS' | 'FAILURE' | 'DELAY' | 'NEVER';
/** Structured MAIL and RCPT options (Session#setEnvelope()). */
export interface EnvelopeOptions {
  dsnRet?: 'FULL' | 'HDRS';
  dsnEnvid?: string;
  dsnNotify?: DsnNotify[] | string | number;
  rcptDsn?: Record<string, { notify?: DsnNotify[] | string | number; orcpt?: string | null }>;
  smtputf8?: boolean;
  body?: '7BIT' | '8BITMIME' | 'BINARYMIME' | null;
  requireTls?: boolean;
  mtPriority?: number;
  deliverBy?: { seconds: number; notify?: boolean; trace?: boolean };
}

export type SourceAddress = string | [string, number?] | { host: string; port?: number } | null;

export interface SessionOptions {
  /** With new Session(options): the kind (default 'smtp'). */
  kind?: Kind;
  localHostname?: string;
  /** Milliseconds: bounds every single wait (connect, each reply, ...): `timeouts.all`. */
  timeout?: number | null;
  timeouts?: Timeouts;
  sourceAddress?: SourceAddress;
  tls?: TlsConfig | TlsOptions | null;
  requireTls?: boolean;
  trustLoopback?: boolean;
  authMechanisms?: string | string[] | null;
  /** 'socks5://[user:pass@]host[:port]', 'socks5h://...', 'http://[user:pass@]host[:port]'; null: direct. */
  proxy?: string | null;
  pipelining?: boolean;
  chunking?: boolean;
  envelope?: EnvelopeOptions | null;
  debugSecrets?: boolean;
  debugLevel?: number;
  trace?: TraceFn | null;
}

/** The options every asynchronous call takes last (ignored by the Sync forms). */
export interface CallOptions {
  /** Cancels the call: it rejects with SMTPCancelledError (cause: the signal's reason). */
  signal?: AbortSignal;
}

export interface DataOptions extends CallOptions { lineEndings?: LineEndings; }

export interface MessageOptions extends CallOptions {
  mailOptions?: string | string[];
  rcptOptions?: string | string[];
  lineEndings?: LineEndings;
}

export interface SendMessageOptions extends MessageOptions {
  fromAddr?: string | null;
  toAddrs?: string | string[] | null;
}

export interface StreamOptions extends MessageOptions {
  /** The message's size in bytes when known (announced as SIZE=). */
  size?: number;
}

/** Where sendmailStream() reads the message. */
export type MessageSource =
  | Readable
  | AsyncIterable<string | Uint8Array>
  | Iterable<string | Uint8Array>
  | string
  | Uint8Array;

export interface AuthOptions extends CallOptions { initialResponseOk?: boolean; allowCleartext?: boolean; }

/** smtplib's authobject: called with null for the initial response, then with each challenge; synchronous. */
export type AuthObject = (challenge: Buffer | null) => string | Uint8Array | null | undefined;

/** Each recipient of the last transaction (smtp_rcpt_info). */
export interface RcptResult {
  addr: string;
  refused: boolean;
  /** The RCPT reply and its RFC 3463 status. */
  code: number; message: string; status: string | null;
  /** LMTP: the reply after the data (code 0 when none). */
  dataCode: number; dataMessage: string; dataStatus: string | null;
  /** The reply that decided the recipient's fate. */
  finalCode: number; finalMessage: string; finalStatus: string | null;
}

/** One message of sendmailBatch(). */
export interface BatchMessage {
  from: string;
  to: string | string[];
  msg: Message;
  lineEndings?: LineEndings;
}

/** One message's outcome in sendmailBatch(). */
export interface BatchResult {
  ok: boolean;
  /** Its error (what sendmail would have thrown), or null. */
  error: SMTPException | null;
  refusedCount: number;
  /** Each recipient's reply code, in the order given (0: no reply read). */
  rcptCodes: number[];
  /** The refused recipients; the reply texts only for the last message (else ''). */
  refused: Refused;
}

export class TlsConfig {
  constructor(options?: TlsOptions);
  /** What loading the system trust store said, or null. */
  readonly rootsInfo: string | null;
  free(): void;
}

export type DkimCanonicalization = 'simple' | 'relaxed';
/** A DKIM signer's settings (smtp_dkim_*). */
export interface DkimSignerOptions {
  /**
   * The private key, PEM text: PKCS#1 or PKCS#8 RSA of 2048 bits or more
   * (rsa-sha256), or PKCS#8 Ed25519 (ed25519-sha256). Not kept.
   */
  key: string | Uint8Array;
  /** The signing domain, d= (an IDN becomes its A-label form). */
  domain: string;
  /** The selector, s=: the key is published at <selector>._domainkey.<domain>. */
  selector: string;
  /** The fields to sign (From always); default RFC 6376 5.4.1's list plus Message-ID and the MIME fields. */
  headers?: string[] | null;
  /**
   * Header and body canonicalization, 'relaxed/relaxed' by default; one name
   * alone is the header's, the body's being simple (the c= tag, RFC 6376 3.5).
   */
  canonicalization?: `${DkimCanonicalization}/${DkimCanonicalization}` | DkimCanonicalization
    | [DkimCanonicalization, DkimCanonicalization] | null;
}

/** DKIM signatures for raw messages (RFC 6376 rsa-sha256, RFC 8463 ed25519-sha256). */
export class DkimSigner {
  constructor(options: DkimSignerOptions);
  readonly domain: string;
  readonly selector: string;
  /** Whether free() was called. */
  readonly freed: boolean;
  /** The signed message: the DKIM-Signature field, then the message with CRLF line ends. */
  sign(message: Message): Buffer;
  /** sign() on a worker thread; signs on one signer queue. */
  signAsync(message: Message): Promise<Buffer>;
  /** The DKIM-Signature field alone (folded, ending in CRLF), to put before the message (sent normalized). */
  signatureField(message: Message): string;
  /** The DNS TXT record publishing the key ('v=DKIM1; k=...; p=...'). */
  dnsRecord(): string;
  /** Free it now, or once the queued asynchronous signs are over. Idempotent. */
  free(): void;
  [Symbol.dispose](): void;
}

export class Session {
  constructor(kind?: Kind, options?: SessionOptions);
  constructor(options: SessionOptions);

  readonly kind: KindName;
  readonly closed: boolean;
  /** True while a call runs on the session or waits its turn. */
  readonly busy: boolean;
  readonly lastReply: Reply;
  readonly errmsg: string;
  readonly isConnected: boolean;
  readonly doesEsmtp: boolean;
  readonly utf8Commands: boolean;
  readonly ehloResp: string | null;
  readonly heloResp: string | null;
  readonly isEncrypted: boolean;
  readonly tlsVersion: string | null;
  readonly tlsCipher: string | null;
  /** The reverse-path of the last transaction (also the one sendMessage chose), or null. */
  readonly sender: string | null;
  /** The connection's socket descriptor, -1 when not connected. */
  readonly fileno: number;

  setLocalHostname(name: string): void;
  /** Unknown names throw SMTPInvalidArgumentError; nothing is set then. */
  setTimeouts(timeouts: Timeouts): void;
  getTimeout(name: TimeoutName): number;
  getTimeouts(): Required<Timeouts>;
  setSourceAddress(addr: SourceAddress): void;
  setDebugLevel(level: number): void;
  setTrace(fn: TraceFn | null): void;
  setTlsConfig(tls: TlsConfig | TlsOptions | null): void;
  setRequireTls(on: boolean): void;
  setTrustLoopback(on: boolean): void;
  setAuthMechanisms(mechanisms: string | string[] | null): void;
  setDebugSecrets(on: boolean): void;
  setProxy(url: string | null): void;
  setPipelining(on: boolean): void;
  setChunking(on: boolean): void;
  setEnvelope(options: EnvelopeOptions | null): void;

  hasExtn(name: string): boolean;
  feature(name: string): string | null;
  features(): Record<string, string>;
  rcptResults(): RcptResult[];

  /**
   * End the running call: it rejects (throws) SMTPCancelledError within
   * 100 ms and the connection is closed. Queued calls are not touched;
   * with no call running (or once closed) it does nothing. Never throws.
   */
  cancel(): void;
  /** smtplib's close(): drop the connection without QUIT; the session stays usable. */
  disconnect(): void;
  /** Free the session (cancels a running call, rejects queued ones). Idempotent. */
  close(): void;
  [Symbol.dispose](): void;

  connect(host?: string, port?: number, options?: CallOptions): Promise<Reply>;
  connectSync(host?: string, port?: number): Reply;
  open(host?: string, port?: number, options?: CallOptions): Promise<Reply>;
  openSync(host?: string, port?: number): Reply;
  /** Run over a connected socket descriptor, which the library owns from then on. */
  connectFd(fd: number, host?: string | null, options?: CallOptions): Promise<Reply>;
  connectFdSync(fd: number, host?: string | null): Reply;
  helo(name?: string, options?: CallOptions): Promise<Reply>;
  heloSync(name?: string): Reply;
  ehlo(name?: string, options?: CallOptions): Promise<Reply>;
  ehloSync(name?: string): Reply;
  ehloOrHeloIfNeeded(options?: CallOptions): Promise<void>;
  ehloOrHeloIfNeededSync(): void;
  docmd(cmd: string, args?: string, options?: CallOptions): Promise<Reply>;
  docmdSync(cmd: string, args?: string): Reply;
  noop(options?: CallOptions): Promise<Reply>;
  noopSync(): Reply;
  rset(options?: CallOptions): Promise<Reply>;
  rsetSync(): Reply;
  help(args?: string, options?: CallOptions): Promise<string>;
  helpSync(args?: string): string;
  verify(address: string, options?: CallOptions): Promise<Reply>;
  verifySync(address: string): Reply;
  expn(address: string, options?: CallOptions): Promise<Reply>;
  expnSync(address: string): Reply;
  mail(sender: string, options?: string | string[], callOptions?: CallOptions): Promise<Reply>;
  mailSync(sender: string, options?: string | string[]): Reply;
  rcpt(recipient: string, options?: string | string[], callOptions?: CallOptions): Promise<Reply>;
  rcptSync(recipient: string, options?: string | string[]): Reply;
  data(msg: Message, options?: DataOptions): Promise<Reply>;
  dataSync(msg: Message, options?: DataOptions): Reply;
  sendmail(fromAddr: string, toAddrs: string | string[], msg: Message, options?: MessageOptions): Promise<Refused>;
  sendmailSync(fromAddr: string, toAddrs: string | string[], msg: Message, options?: MessageOptions): Refused;
  sendMessage(msg: Message, options?: SendMessageOptions): Promise<Refused>;
  sendMessage(msg: Message, fromAddr?: string | null, toAddrs?: string | string[] | null,
    options?: MessageOptions): Promise<Refused>;
  sendMessageSync(msg: Message, options?: SendMessageOptions): Refused;
  sendMessageSync(msg: Message, fromAddr?: string | null, toAddrs?: string | string[] | null,
    options?: MessageOptions): Refused;
  sendmailStream(fromAddr: string, toAddrs: string | string[], source: MessageSource,
    options?: StreamOptions): Promise<Refused>;
  sendmailStreamSync(fromAddr: string, toAddrs: string | string[],
    source: Iterable<string | Uint8Array> | string | Uint8Array, options?: StreamOptions): Refused;
  sendmailBatch(messages: BatchMessage[], options?: CallOptions): Promise<BatchResult[]>;
  sendmailBatchSync(messages: BatchMessage[]): BatchResult[];
  login(user: string, password: string, options?: AuthOptions): Promise<Reply>;
  loginSync(user: string, password: string, options?: AuthOptions): Reply;
  auth(mechanism: string, authobject: AuthObject, options?: AuthOptions): Promise<Reply>;
  authSync(mechanism: string, authobject: AuthObject, options?: AuthOptions): Reply;
  authBuiltin(mechanism: string, user: string, secret: string, options?: AuthOptions): Promise<Reply>;
  authBuiltinSync(mechanism: string, user: string, secret: string, options?: AuthOptions): Reply;
  starttls(tls?: TlsConfig | TlsOptions | null, options?: CallOptions): Promise<Reply>;
  starttlsSync(tls?: TlsConfig | TlsOptions | null): Reply;
  quit(options?: CallOptions): Promise<Reply>;
  quitSync(): Reply;
  /** smtplib's send: bytes (a string: UTF-8) written as they are; no reply is read. */
  send(data: Message, options?: CallOptions): Promise<void>;
  sendSync(data: Message): void;
  getreply(options?: CallOptions): Promise<Reply>;
  getreplySync(): Reply;
}

export type PoolOptionName = 'starttls' | 'maxMessages' | 'maxIdleMs' | 'probeIdleMs' | 'rate' | 'maxConnections';
export type PoolStatName =
  'opened' | 'open' | 'idle' | 'sent' | 'retried' | 'probed' | 'probeFailed' | 'retired' | 'unknown';
export type PoolStats = Record<PoolStatName, number>;

export interface PoolOptions extends SessionOptions {
  /** Connections open at most (default 4). */
  maxConnections?: number;
  /** A session whose settings new connections copy (else one is made from these options). */
  like?: Session;
  starttls?: boolean;
  maxMessages?: number;
  maxIdleMs?: number;
  probeIdleMs?: number;
  /** Messages per second at most, over the whole pool. */
  rate?: number;
  login?: { user: string; password: string } & AuthOptions;
  auth?: { mechanism: string; authobject: AuthObject } & AuthOptions;
}

/** The options of a pool call: the session to run it on, if not one of the pool's. */
export interface PoolCallOptions { session?: Session; }

export class Pool {
  constructor(host: string, port?: number, options?: PoolOptions);
  readonly closed: boolean;
  setOption(name: PoolOptionName, value: number | boolean): void;
  stat(name: PoolStatName): number;
  stats(): PoolStats;
  setLogin(user: string | null, password?: string | null, options?: AuthOptions): void;
  setAuth(mechanism: string | null, authobject: AuthObject | null, options?: AuthOptions): void;
  setEnvelope(options: EnvelopeOptions | null): void;
  sendmail(fromAddr: string, toAddrs: string | string[], msg: Message,
    options?: MessageOptions & PoolCallOptions): Promise<Refused>;
  sendmailSync(fromAddr: string, toAddrs: string | string[], msg: Message,
    options?: MessageOptions & PoolCallOptions): Refused;
  sendMessage(msg: Message, options?: SendMessageOptions & PoolCallOptions): Promise<Refused>;
  sendMessage(msg: Message, fromAddr?: string | null, toAddrs?: string | string[] | null,
    options?: MessageOptions & PoolCallOptions): Promise<Refused>;
  sendMessageSync(msg: Message, options?: SendMessageOptions & PoolCallOptions): Refused;
  sendMessageSync(msg: Message, fromAddr?: string | null, toAddrs?: string | string[] | null,
    options?: MessageOptions & PoolCallOptions): Refused;
  sendmailBatch(messages: BatchMessage[], options?: CallOptions & PoolCallOptions): Promise<BatchResult[]>;
  sendmailBatchSync(messages: BatchMessage[], options?: PoolCallOptions): BatchResult[];
  /** Free the pool (once its running calls are over). Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
}

export interface ErrorInfo {
  result?: number;
  smtpCode?: number | null;
  smtpMessage?: string | null;
  cause?: unknown;
}

export class SMTPException extends Error {
  constructor(message: string, info?: ErrorInfo);
  /** The libsmtp result code's name, e.g. 'SMTP_ERR_DATA'. */
  code: string;
  /** The libsmtp result code's number. */
  result: number;
  /** The server's reply code behind the error, or null. */
  smtpCode: number | null;
  /** The server's reply text behind the error, or null. */
  smtpMessage: string | null;
}
export class SMTPInvalidArgumentError extends SMTPException {}
export class SMTPStateError extends SMTPException {}
export class SMTPOSError extends SMTPException {}
export class SMTPConnectionError extends SMTPOSError {}
export class SMTPTimeoutError extends SMTPOSError {}
/** The call was ended by cancel() or its signal; the connection is closed. */
export class SMTPCancelledError extends SMTPOSError {}
export class SMTPTLSError extends SMTPOSError {}
export class SMTPServerDisconnected extends SMTPException {}
/** A pool's message went out in full but no reply decided it. */
export class SMTPOutcomeUnknownError extends SMTPServerDisconnected {}
export class SMTPNotEncryptedError extends SMTPException {}
export class SMTPResponseException extends SMTPException {}
export class SMTPConnectError extends SMTPResponseException {}
export class SMTPHeloError extends SMTPResponseException {}
export class SMTPNotSupportedError extends SMTPException {}
export class SMTPAuthenticationError extends SMTPResponseException {}
export class SMTPAuthAbortedError extends SMTPException {}
export class SMTPSenderRefused extends SMTPResponseException {
  constructor(message: string, info?: ErrorInfo & { sender?: string | null });
  sender: string | null;
}
export class SMTPRecipientsRefused extends SMTPException {
  constructor(message: string, info?: ErrorInfo & { recipients?: Refused });
  recipients: Refused;
}
export class SMTPDataError extends SMTPResponseException {}
export class SMTPMessageTooLargeError extends SMTPException {}

export interface ResultInfo {
  code: number;
  name: string;
  description: string;
  /** The exception Python's smtplib raises for it (a name), or null for SMTP_OK. */
  smtplibException: string | null;
  hasReply: boolean;
}

/** Result codes by C name ('SMTP_ERR_TIMEOUT'), read from the library on first use. */
export const RESULT: Readonly<Record<string, number>>;
export const RESULT_NAMES: Readonly<Record<number, string>>;
/** smtp_result_has_reply(): whether an error with this result code carries the server's reply. */
export function resultHasReply(result: number): boolean;
export function resultString(result: number): string;
export function resultInfo(result: number): ResultInfo | null;
export function libraryVersion(): string;
export function libraryVersionNumber(): number;
export function libraryPath(): string;
export function libraryCandidates(): string[];
