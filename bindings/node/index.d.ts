// Types for the libsmtp Node.js binding (index.js). Every call is synchronous;
// Session#cancel() ends one running on another thread.

/// <reference types="node" />

export type Kind = 'smtp' | 'smtp_ssl' | 'smtps' | 'lmtp' | 0 | 1 | 2;
export type LineEndings = 'normalize' | 'raw' | 'reject';
export type TraceDirection = 'info' | 'send' | 'recv';

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

export interface TlsOptions {
  caFile?: string | string[];
  caDir?: string | string[];
  defaultRoots?: boolean;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
  dangerouslyDisableVerification?: boolean;
}

export interface SessionOptions {
  localHostname?: string;
  /** Milliseconds: bounds every single wait (connect, each reply, ...): `timeouts.all`. */
  timeout?: number;
  timeouts?: Timeouts;
  sourceAddress?: string | [string, number?] | { host: string; port?: number } | null;
  tls?: TlsConfig | TlsOptions | null;
  requireTls?: boolean;
  trustLoopback?: boolean;
  authMechanisms?: string | string[] | null;
  debugLevel?: number;
  trace?: ((direction: TraceDirection, line: string) => void) | null;
}

export interface MessageOptions {
  mailOptions?: string | string[];
  rcptOptions?: string | string[];
  lineEndings?: LineEndings;
}

export interface SendMessageOptions extends MessageOptions {
  fromAddr?: string | null;
  toAddrs?: string | string[] | null;
}

export interface AuthOptions { initialResponseOk?: boolean; allowCleartext?: boolean; }

/** Called with null for the initial response, then with each challenge. */
export type AuthObject = (challenge: Buffer | null) => string | Uint8Array | null | undefined;

export type DsnNotify = 'SUCCESS' | 'FAILURE' | 'DELAY' | 'NEVER';
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

export interface RcptResult {
  addr: string; code: number; message: string; status: string | null; refused: boolean;
  dataCode: number; dataMessage: string; dataStatus: string | null;
}

export class TlsConfig {
  constructor(options?: TlsOptions);
  free(): void;
}

export class Session {
  constructor(kind?: Kind, options?: SessionOptions);
  constructor(options: SessionOptions);
  readonly kind: 'smtp' | 'smtp_ssl' | 'lmtp';
  readonly closed: boolean;
  readonly lastReply: Reply;
  readonly errmsg: string;
  readonly isConnected: boolean;
  readonly doesEsmtp: boolean;
  readonly ehloResp: string | null;
  readonly heloResp: string | null;
  readonly isEncrypted: boolean;
  readonly tlsVersion: string | null;
  readonly tlsCipher: string | null;

  setLocalHostname(name: string): void;
  /** Unknown names throw SMTPInvalidArgumentError; nothing is set then. */
  setTimeouts(timeouts: Timeouts): void;
  getTimeout(name: TimeoutName): number;
  getTimeouts(): Required<Timeouts>;
  /**
   * End the call running on this session in another thread (or whose
   * callback is running): it throws SMTPCancelledError within 100 ms and the
   * connection is closed. With no call running (or once closed) it does
   * nothing. Never throws.
   */
  cancel(): void;
  setSourceAddress(addr: SessionOptions['sourceAddress']): void;
  setDebugLevel(level: number): void;
  setTrace(fn: ((direction: TraceDirection, line: string) => void) | null): void;
  setTlsConfig(tls: TlsConfig | TlsOptions | null): void;
  setRequireTls(on: boolean): void;
  setTrustLoopback(on: boolean): void;
  setAuthMechanisms(mechanisms: string | string[] | null): void;
  setDebugSecrets(on: boolean): void;
  setEnvelope(options: EnvelopeOptions | null): void;

  connect(host?: string, port?: number): Reply;
  open(host?: string, port?: number): Reply;
  helo(name?: string): Reply;
  ehlo(name?: string): Reply;
  ehloOrHeloIfNeeded(): void;
  hasExtn(name: string): boolean;
  features(): Record<string, string>;
  docmd(cmd: string, args?: string): Reply;
  noop(): Reply;
  rset(): Reply;
  help(args?: string): string;
  verify(address: string): Reply;
  expn(address: string): Reply;
  mail(sender: string, options?: string[]): Reply;
  rcpt(recipient: string, options?: string[]): Reply;
  data(msg: string | Uint8Array, options?: { lineEndings?: LineEndings }): Reply;
  sendmail(fromAddr: string, toAddrs: string | string[], msg: string | Uint8Array, options?: MessageOptions): Refused;
  sendMessage(msg: string | Uint8Array, options?: SendMessageOptions): Refused;
  sendMessage(msg: string | Uint8Array, fromAddr?: string | null, toAddrs?: string | string[] | null,
    options?: MessageOptions): Refused;
  rcptResults(): RcptResult[];
  login(user: string, password: string, options?: AuthOptions): Reply;
  auth(mechanism: string, authobject: AuthObject, options?: AuthOptions): Reply;
  authBuiltin(mechanism: string, user: string, secret: string, options?: AuthOptions): Reply;
  starttls(tls?: TlsConfig | TlsOptions | null): Reply;
  quit(): Reply;
  close(): void;
}

export class SMTPException extends Error {
  constructor(message: string, info?: { result?: number; smtpCode?: number | null; smtpMessage?: string | null });
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
/** The call was ended by Session#cancel(); the connection is closed. */
export class SMTPCancelledError extends SMTPOSError {}
export class SMTPTLSError extends SMTPOSError {}
export class SMTPServerDisconnected extends SMTPException {}
export class SMTPNotEncryptedError extends SMTPException {}
export class SMTPResponseException extends SMTPException {}
export class SMTPConnectError extends SMTPResponseException {}
export class SMTPHeloError extends SMTPResponseException {}
export class SMTPNotSupportedError extends SMTPException {}
export class SMTPAuthenticationError extends SMTPResponseException {}
export class SMTPAuthAbortedError extends SMTPException {}
export class SMTPSenderRefused extends SMTPResponseException { sender: string | null; }
export class SMTPRecipientsRefused extends SMTPException { recipients: Refused; }
export class SMTPDataError extends SMTPResponseException {}
export class SMTPMessageTooLargeError extends SMTPException {}

/** Result codes by C name ('SMTP_ERR_TIMEOUT'), read from the library (smtp_result_name()) on first use. */
export const RESULT: Readonly<Record<string, number>>;
export const RESULT_NAMES: Readonly<Record<number, string>>;
/** smtp_result_has_reply(): whether an error with this result code carries the server's reply. */
export function resultHasReply(result: number): boolean;
export function libraryVersion(): string;
export function libraryPath(): string;
export function libraryCandidates(): string[];
export function resultString(result: number): string;
