/*
 * smtp.h: libsmtp, an SMTP and LMTP client library with Python smtplib's
 * semantics.
 *
 * Threads: different sessions may be used on different threads at once;
 * there is no global state and no global initialisation. One session must
 * not be used from two threads at the same time, with one exception:
 * smtp_session_cancel() may be called from any thread while another is
 * inside a call on the session, and ends that call at once. Network calls
 * wait for at most the session's timeouts (smtp_session_set_timeout_ms()
 * gives the rule), however slowly a server answers or reads.
 *
 * Errors: every fallible function returns int, SMTP_OK (0) or a code of
 * enum smtp_result. The session keeps the details of its last call:
 * smtp_session_errmsg(), smtp_session_last_reply_code(),
 * smtp_session_last_reply_text(). Strings returned by a session are owned by
 * it and valid until the next non-const call on it; nothing the library
 * returns is freed with free().
 *
 * Strings passed in are NUL-terminated UTF-8; CR, LF and NUL in anything bound
 * for a command line are refused with SMTP_ERR_INVALID_ARGUMENT before a byte
 * is sent. Message bodies are (pointer, length) and binary-safe.
 *
 * Functions, by group (man 3 NAME for each, man 3 libsmtp for all):
 *   Results and version: smtp_result_str, smtp_result_name,
 *     smtp_result_exception, smtp_result_has_reply, smtp_result_count,
 *     smtp_result_code_at, smtp_lib_version, smtp_lib_version_number.
 *   Session lifecycle and settings: smtp_session_new, smtp_session_free,
 *     smtp_session_set_local_hostname, smtp_session_set_timeout_ms,
 *     smtp_session_timeout_ms, smtp_session_set_source_address,
 *     smtp_session_set_debuglevel, smtp_session_set_trace,
 *     smtp_session_connect, smtp_session_open, smtp_session_cancel,
 *     smtp_session_close.
 *   Session getters: smtp_session_errmsg, smtp_session_last_reply_code,
 *     smtp_session_last_reply_text, smtp_session_is_connected,
 *     smtp_session_utf8_commands, smtp_session_does_esmtp,
 *     smtp_session_ehlo_resp, smtp_session_helo_resp,
 *     smtp_session_has_extn, smtp_session_feature_count,
 *     smtp_session_feature_name, smtp_session_feature_params,
 *     smtp_session_feature, smtp_session_rcpt_count,
 *     smtp_session_rcpt_addr, smtp_session_rcpt_code,
 *     smtp_session_rcpt_text, smtp_session_rcpt_data_code,
 *     smtp_session_rcpt_data_text, smtp_session_rcpt_refused,
 *     smtp_session_rcpt_status, smtp_session_rcpt_data_status,
 *     smtp_session_rcpt_info, smtp_session_sender.
 *   Commands: smtp_session_helo, smtp_session_ehlo,
 *     smtp_session_ehlo_or_helo_if_needed, smtp_session_docmd,
 *     smtp_session_noop, smtp_session_rset, smtp_session_help,
 *     smtp_session_verify, smtp_session_expn, smtp_session_mail,
 *     smtp_session_rcpt, smtp_session_data, smtp_session_sendmail,
 *     smtp_session_quit, smtp_session_set_pipelining,
 *     smtp_session_set_chunking, smtp_session_sendmail_stream,
 *     smtp_session_sendmail_fd, smtp_session_sendmail_batch.
 *   Messages and envelopes: smtp_envelope_new, smtp_envelope_errmsg,
 *     smtp_envelope_free, smtp_envelope_set_dsn_ret,
 *     smtp_envelope_set_dsn_envid, smtp_envelope_set_dsn_notify,
 *     smtp_envelope_set_rcpt_dsn, smtp_envelope_set_smtputf8,
 *     smtp_envelope_set_body, smtp_envelope_set_requiretls,
 *     smtp_envelope_set_mt_priority, smtp_envelope_set_deliver_by,
 *     smtp_session_set_envelope, smtp_session_send_message.
 *   Authentication: smtp_sasl_respond, smtp_session_login,
 *     smtp_session_set_auth_mechanisms, smtp_session_auth,
 *     smtp_session_auth_step, smtp_session_auth_builtin,
 *     smtp_session_set_debug_secrets, smtp_session_set_trust_loopback.
 *   TLS: smtp_tls_config_builder_new, smtp_tls_config_builder_free,
 *     smtp_tls_config_builder_errmsg, smtp_tls_config_builder_add_ca_file,
 *     smtp_tls_config_builder_add_ca_dir,
 *     smtp_tls_config_builder_set_default_roots,
 *     smtp_tls_config_builder_set_roots,
 *     smtp_tls_config_builder_set_client_cert,
 *     smtp_tls_config_builder_set_server_name,
 *     smtp_tls_config_builder_dangerous_disable_verification,
 *     smtp_tls_config_builder_build, smtp_tls_config_free,
 *     smtp_session_set_tls_config, smtp_session_starttls,
 *     smtp_session_set_require_tls, smtp_session_is_encrypted,
 *     smtp_session_tls_version, smtp_session_tls_cipher.
 *   Proxies: smtp_session_set_proxy, smtp_session_connect_fd.
 *   Raw commands and the socket: smtp_session_send, smtp_session_getreply,
 *     smtp_session_fileno.
 *   Connection pool: smtp_pool_new, smtp_pool_free, smtp_pool_set_option,
 *     smtp_pool_stat, smtp_pool_set_login, smtp_pool_set_auth,
 *     smtp_pool_set_auth_step, smtp_pool_sendmail, smtp_pool_send_message,
 *     smtp_pool_sendmail_batch, smtp_pool_send_composed.
 *   Composing messages: smtp_message_new, smtp_message_free,
 *     smtp_message_errmsg, smtp_message_set_from, smtp_message_set_sender,
 *     smtp_message_add_to, smtp_message_add_cc, smtp_message_add_bcc,
 *     smtp_message_add_reply_to, smtp_message_set_subject,
 *     smtp_message_set_date, smtp_message_set_message_id,
 *     smtp_message_add_header, smtp_message_set_text,
 *     smtp_message_set_html, smtp_message_attach_memory,
 *     smtp_message_attach_file, smtp_message_attach_callback,
 *     smtp_message_add_inline_memory, smtp_message_add_inline_file,
 *     smtp_message_set_dkim, smtp_message_write, smtp_message_bytes,
 *     smtp_session_send_composed.
 *   DKIM signing: smtp_dkim_new, smtp_dkim_free, smtp_dkim_errmsg,
 *     smtp_dkim_set_key_pem, smtp_dkim_set_domain, smtp_dkim_set_selector,
 *     smtp_dkim_set_headers, smtp_dkim_set_canonicalization,
 *     smtp_dkim_sign, smtp_dkim_dns_record.
 */

#ifndef SMTP_H
#define SMTP_H

/* Generated by cbindgen from src/ffi; do not edit. Regenerate with UPDATE_HEADER=1 cargo test --test header. */

#include <stddef.h>
#include <stdint.h>
/**
 * The version this header describes as one number, MAJOR << 16 | MINOR << 8
 * | PATCH, for #if; smtp_lib_version_number() gives the library's at run
 * time.
 */
#define SMTP_VERSION_NUM ((SMTP_VERSION_MAJOR << 16) | (SMTP_VERSION_MINOR << 8) | SMTP_VERSION_PATCH)

/**
 * Non-zero when this header is version major.minor.patch or later (as
 * curl's CURL_AT_LEAST_VERSION): #if SMTP_VERSION_AT_LEAST(0, 2, 0) ...
 */
#define SMTP_VERSION_AT_LEAST(major, minor, patch) (SMTP_VERSION_NUM >= (((major) << 16) | ((minor) << 8) | (patch)))


/**
 * Library version, major part (the SONAME is libsmtp.so.SMTP_VERSION_MAJOR).
 */
#define SMTP_VERSION_MAJOR 0

/**
 * Library version, minor part.
 */
#define SMTP_VERSION_MINOR 1

/**
 * Library version, patch part.
 */
#define SMTP_VERSION_PATCH 0

/**
 * Session kind: SMTP (smtplib's `SMTP`), default port 25.
 */
#define SMTP_KIND_SMTP 0

/**
 * Session kind: SMTP over TLS from the first byte (smtplib's `SMTP_SSL`),
 * default port 465; the certificate is checked against the host given to
 * connect (see `smtp_session_set_tls_config()`).
 */
#define SMTP_KIND_SMTP_SSL 1

/**
 * Session kind: LMTP (smtplib's `LMTP`, RFC 2033), default port 2003. A
 * host starting with `/` is a Unix-domain socket.
 */
#define SMTP_KIND_LMTP 2

/**
 * `smtp_session_set_timeout_ms()`: bound on resolving the host name, and
 * on connecting to each of its addresses (default 30000).
 */
#define SMTP_TIMEOUT_CONNECT 0

/**
 * `smtp_session_set_timeout_ms()`: bound on any wait in which nothing is
 * sent or received, but for message data, which has
 * `SMTP_TIMEOUT_DATA_BLOCK` (default 300000, RFC 5321 4.5.3.2).
 */
#define SMTP_TIMEOUT_IO 1

/**
 * `smtp_session_set_timeout_ms()`: bound on one whole reply to a command
 * without a phase of its own below, however the server trickles it
 * (default 600000).
 */
#define SMTP_TIMEOUT_REPLY 2

/**
 * `smtp_session_set_timeout_ms()`: the greeting (default 300000, RFC 5321
 * 4.5.3.2.1); also bounds a TLS handshake.
 */
#define SMTP_TIMEOUT_GREETING 3

/**
 * `smtp_session_set_timeout_ms()`: the reply to MAIL (default 300000).
 */
#define SMTP_TIMEOUT_MAIL 4

/**
 * `smtp_session_set_timeout_ms()`: the reply to each RCPT (default 300000).
 */
#define SMTP_TIMEOUT_RCPT 5

/**
 * `smtp_session_set_timeout_ms()`: the reply to DATA, and to each BDAT
 * chunk but the last (default 120000).
 */
#define SMTP_TIMEOUT_DATA 6

/**
 * `smtp_session_set_timeout_ms()`: progress while message data waits to
 * be sent: the server must take some within this long (default 180000,
 * RFC 5321 4.5.3.2.5).
 */
#define SMTP_TIMEOUT_DATA_BLOCK 7

/**
 * `smtp_session_set_timeout_ms()`: the reply after the final dot, or to
 * the last BDAT chunk (default 600000).
 */
#define SMTP_TIMEOUT_FINAL_DOT 8

/**
 * `smtp_session_set_timeout_ms()`: the whole of one library call, however
 * many waits it takes, name lookup and connect included (default 0: no
 * limit).
 */
#define SMTP_TIMEOUT_CALL 9

/**
 * `smtp_session_set_timeout_ms()`: every limit above but
 * `SMTP_TIMEOUT_CALL` at once, so that no single wait lasts longer
 * (what smtplib's `timeout` means). `smtp_session_timeout_ms()` gives the
 * longest of them (0 when one is unlimited).
 */
#define SMTP_TIMEOUT_ALL 10

/**
 * Trace line direction: about the connection.
 */
#define SMTP_TRACE_INFO 0

/**
 * Trace line direction: what the client sent.
 */
#define SMTP_TRACE_SEND 1

/**
 * Trace line direction: what the server sent.
 */
#define SMTP_TRACE_RECV 2

/**
 * Message flag: normalise line endings, lone CR and lone LF becoming CRLF
 * (smtplib's handling of a `str` message). The default.
 */
#define SMTP_MSG_NORMALIZE 0

/**
 * Message flag: send the bytes as given (smtplib's handling of `bytes`).
 * In every mode a dot after any line break (CR or LF) is doubled, so no
 * byte sequence can end DATA early (SMTP smuggling), and the message ends
 * in CRLF.
 */
#define SMTP_MSG_RAW 1

/**
 * Message flag: a lone CR or lone LF in the message is
 * `SMTP_ERR_INVALID_ARGUMENT` before anything is sent; otherwise as
 * `SMTP_MSG_RAW`.
 */
#define SMTP_MSG_REJECT_BARE_EOL 2

/**
 * `smtp_envelope_set_dsn_ret()`: return the whole message in a DSN.
 */
#define SMTP_DSN_RET_FULL 1

/**
 * `smtp_envelope_set_dsn_ret()`: return only the headers.
 */
#define SMTP_DSN_RET_HDRS 2

/**
 * DSN NOTIFY bit: on delivery.
 */
#define SMTP_DSN_NOTIFY_SUCCESS 1

/**
 * DSN NOTIFY bit: on failure.
 */
#define SMTP_DSN_NOTIFY_FAILURE 2

/**
 * DSN NOTIFY bit: on delay.
 */
#define SMTP_DSN_NOTIFY_DELAY 4

/**
 * DSN NOTIFY: never (alone).
 */
#define SMTP_DSN_NOTIFY_NEVER 8

/**
 * `smtp_envelope_set_body()`: BODY=7BIT.
 */
#define SMTP_BODY_7BIT 1

/**
 * `smtp_envelope_set_body()`: BODY=8BITMIME (needs the server's 8BITMIME).
 */
#define SMTP_BODY_8BITMIME 2

/**
 * `smtp_envelope_set_body()`: BODY=BINARYMIME (needs BINARYMIME and CHUNKING).
 */
#define SMTP_BODY_BINARYMIME 3

/**
 * Auth flag: do not send an initial response with AUTH (smtplib's
 * `initial_response_ok=False`); the first response answers a challenge.
 */
#define SMTP_AUTH_NO_INITIAL_RESPONSE 1

/**
 * Auth flag: allow PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER on a connection
 * that is neither TLS, a Unix socket nor loopback. Without it they are
 * refused there with `SMTP_ERR_NOT_ENCRYPTED` and nothing is sent.
 */
#define SMTP_AUTH_ALLOW_CLEARTEXT 2

/**
 * SASL callback verdict: the response is in the buffer, `*response_len` bytes.
 */
#define SMTP_SASL_CONTINUE 100

/**
 * SASL callback verdict, only when asked for the initial response: the
 * mechanism has none (AUTH is sent without one).
 */
#define SMTP_SASL_NO_INITIAL_RESPONSE 101

/**
 * SASL callback verdict: the buffer is too small; `*response_len` says how
 * many bytes are needed and the callback is called again with a buffer that
 * large (at most 16 MiB).
 */
#define SMTP_SASL_NEED_SPACE 102

/**
 * `smtp_tls_config_builder_set_roots()`: the Mozilla roots built into
 * libsmtp (webpki-roots), the same on every platform. The default.
 */
#define SMTP_ROOTS_MOZILLA 1

/**
 * `smtp_tls_config_builder_set_roots()`: the operating system's trust
 * store (on Linux and BSD the CA bundle OpenSSL uses, or the file and
 * directory named by SSL_CERT_FILE and SSL_CERT_DIR; the keychain on
 * macOS; the system store on Windows).
 */
#define SMTP_ROOTS_SYSTEM 2

/**
 * `smtp_pool_set_option()`: 1 to send STARTTLS (and EHLO again) on every
 * new connection, failing when the server does not offer it; default 0.
 */
#define SMTP_POOL_STARTTLS 0

/**
 * `smtp_pool_set_option()`: close a connection (QUIT) after it carried
 * this many messages; 0: never. Default 1000 (Exim's limit per
 * connection; Postfix has none).
 */
#define SMTP_POOL_MAX_MESSAGES 1

/**
 * `smtp_pool_set_option()`: close instead of reusing a connection that
 * sat idle this many milliseconds; 0: never. Default 60000.
 */
#define SMTP_POOL_MAX_IDLE_MS 2

/**
 * `smtp_pool_set_option()`: probe with NOOP, before reuse, a connection
 * that sat idle this many milliseconds (a dead one is replaced); 0: never.
 * Default 5000.
 */
#define SMTP_POOL_PROBE_IDLE_MS 3

/**
 * `smtp_pool_set_option()`: messages per second at most, over the whole
 * pool (a call waits for its turn, within its call deadline); 0: no limit,
 * the default.
 */
#define SMTP_POOL_RATE 4

/**
 * `smtp_pool_set_option()`: connections open at most (at least 1); the
 * value given to `smtp_pool_new()`.
 */
#define SMTP_POOL_MAX_CONNECTIONS 5

/**
 * `smtp_pool_stat()`: connections opened since the pool was made.
 */
#define SMTP_POOL_STAT_OPENED 0

/**
 * `smtp_pool_stat()`: connections open now, lent or idle.
 */
#define SMTP_POOL_STAT_OPEN 1

/**
 * `smtp_pool_stat()`: connections idle now.
 */
#define SMTP_POOL_STAT_IDLE 2

/**
 * `smtp_pool_stat()`: messages reported sent.
 */
#define SMTP_POOL_STAT_SENT 3

/**
 * `smtp_pool_stat()`: messages sent again on a new connection because the
 * one they started on died before their data went out.
 */
#define SMTP_POOL_STAT_RETRIED 4

/**
 * `smtp_pool_stat()`: idle connections probed before reuse.
 */
#define SMTP_POOL_STAT_PROBED 5

/**
 * `smtp_pool_stat()`: probed connections found dead.
 */
#define SMTP_POOL_STAT_PROBE_FAILED 6

/**
 * `smtp_pool_stat()`: connections closed after `SMTP_POOL_MAX_MESSAGES`
 * or `SMTP_POOL_MAX_IDLE_MS`.
 */
#define SMTP_POOL_STAT_RETIRED 7

/**
 * `smtp_pool_stat()`: messages that ended with `SMTP_ERR_OUTCOME_UNKNOWN`.
 */
#define SMTP_POOL_STAT_UNKNOWN 8

/**
 * `smtp_dkim_set_canonicalization()`: simple (RFC 6376 3.4.1, 3.4.3).
 */
#define SMTP_DKIM_SIMPLE 1

/**
 * `smtp_dkim_set_canonicalization()`: relaxed (RFC 6376 3.4.2, 3.4.4), the
 * default for both.
 */
#define SMTP_DKIM_RELAXED 2

/**
 * Result codes. Every fallible function returns `int`: `SMTP_OK` (0) or one
 * of these. Numbers are fixed and only ever added to: 1-9 the caller's
 * errors, 10-19 the connection (17: a pool's message whose outcome is
 * unknown), 20-29 the protocol (one per smtplib exception), then codes
 * added later where they fit no group (30: larger than the server's
 * SIZE). `smtp_result_str()` describes each; the session's
 * `smtp_session_errmsg()` says what happened in detail.
 */
typedef enum smtp_result {
  /**
   * Success.
   */
  SMTP_OK = 0,
  /**
   * A required pointer argument was NULL. Nothing was sent.
   */
  SMTP_ERR_NULL_ARGUMENT = 1,
  /**
   * An argument was refused (invalid UTF-8, CR or LF bound for a command
   * line, an unknown constant, ...) before anything was sent
   * (smtplib: ValueError).
   */
  SMTP_ERR_INVALID_ARGUMENT = 2,
  /**
   * The call does not fit the session's state: a call from inside one of
   * the session's callbacks, or a session poisoned by a caught panic.
   */
  SMTP_ERR_BAD_STATE = 3,
  /**
   * The library panicked; the session is poisoned (only
   * `smtp_session_free()` still works on it).
   */
  SMTP_ERR_PANIC = 4,
  /**
   * The connection could not be made (refused, unreachable, name not
   * resolved) (smtplib: OSError).
   */
  SMTP_ERR_CONNECT = 10,
  /**
   * A connect, I/O or reply timeout fired; the connection is closed.
   */
  SMTP_ERR_TIMEOUT = 11,
  /**
   * Another I/O error; the connection is closed.
   */
  SMTP_ERR_IO = 12,
  /**
   * TLS failed.
   */
  SMTP_ERR_TLS = 13,
  /**
   * Not connected, or the server closed the connection
   * (SMTPServerDisconnected).
   */
  SMTP_ERR_SERVER_DISCONNECTED = 14,
  /**
   * The call would send a password or token in clear: the connection is
   * neither TLS, a Unix socket nor loopback, and cleartext was not
   * allowed (`SMTP_AUTH_ALLOW_CLEARTEXT`). Nothing was sent.
   */
  SMTP_ERR_NOT_ENCRYPTED = 15,
  /**
   * The call was cancelled by `smtp_session_cancel()` from another
   * thread; the connection is closed. A message whose final reply was
   * not read is not reported as sent.
   */
  SMTP_ERR_CANCELLED = 16,
  /**
   * A pool call (`smtp_pool_sendmail()`...): the message's data went out
   * in full, then the connection failed, timed out or was cancelled
   * before the reply that decides it. The server may or may not have
   * taken the message; the pool does not send it again.
   */
  SMTP_ERR_OUTCOME_UNKNOWN = 17,
  /**
   * The server's reply could not be accepted (SMTPResponseException), for
   * example a reply line over 8192 bytes (code 500, "Line too long.").
   */
  SMTP_ERR_RESPONSE = 20,
  /**
   * The greeting was not 220 (SMTPConnectError); only `smtp_session_open()`.
   */
  SMTP_ERR_CONNECT_REPLY = 21,
  /**
   * Both EHLO and HELO were refused (SMTPHeloError).
   */
  SMTP_ERR_HELO = 22,
  /**
   * The server does not offer what the call needs (SMTPNotSupportedError).
   */
  SMTP_ERR_NOT_SUPPORTED = 23,
  /**
   * Authentication was refused (SMTPAuthenticationError).
   */
  SMTP_ERR_AUTH = 24,
  /**
   * The client aborted an authentication exchange.
   */
  SMTP_ERR_AUTH_ABORTED = 25,
  /**
   * MAIL FROM was refused (SMTPSenderRefused).
   */
  SMTP_ERR_SENDER_REFUSED = 26,
  /**
   * Every recipient was refused, or a 421 came during RCPT
   * (SMTPRecipientsRefused).
   */
  SMTP_ERR_RECIPIENTS_REFUSED = 27,
  /**
   * DATA or the message was refused (SMTPDataError).
   */
  SMTP_ERR_DATA = 28,
  /**
   * Another protocol failure (SMTPException).
   */
  SMTP_ERR_SMTP = 29,
  /**
   * The message is larger than the SIZE the server advertised; it was
   * refused before MAIL, nothing was sent.
   */
  SMTP_ERR_TOO_LARGE = 30
} smtp_result;

/**
 * A DKIM signer: a private key (RSA of 2048 to 8192 bits for rsa-sha256,
 * or Ed25519 for ed25519-sha256, the algorithm following the key), the
 * signing domain (d=) and selector (s=), the header fields to sign and the
 * canonicalization. Made by `smtp_dkim_new()`, freed by `smtp_dkim_free()`;
 * not thread-safe (one thread at a time), and messages given it keep their
 * own copy.
 */
typedef struct smtp_dkim smtp_dkim;

/**
 * Structured MAIL and RCPT options (DSN, SMTPUTF8, BODY, REQUIRETLS,
 * MT-PRIORITY, DELIVERBY), handed to a session with
 * `smtp_session_set_envelope()`. Each option the server does not advertise
 * makes sendmail and send_message fail with `SMTP_ERR_NOT_SUPPORTED` before
 * MAIL is sent. Made by `smtp_envelope_new()`, freed by `smtp_envelope_free()`.
 */
typedef struct smtp_envelope smtp_envelope;

/**
 * A message being built: its header fields, its parts, and the DKIM
 * signer it is signed with. Made by `smtp_message_new()`, freed by
 * `smtp_message_free()`. One thread at a time; a session or pool call
 * sending it uses it only during the call.
 *
 * What it writes: CRLF line ends; header fields folded to 78 characters,
 * non-ASCII text in RFC 2047 encoded words (names, Subject, other fields)
 * and RFC 2231 parameters (file names); a text part and an HTML part side
 * by side (multipart/alternative), inline parts with the HTML
 * (multipart/related), attachments after them (multipart/mixed); each
 * text part 7bit, quoted-printable or base64, whichever fits and is
 * shortest, attachments base64 in 76-character lines. No Bcc field is
 * written. Date and Message-ID are made at the first write when not set,
 * and then kept, so every later write gives the same bytes.
 */
typedef struct smtp_message smtp_message;

/**
 * A pool of connections to one server, safe to share between threads.
 * Opaque; made by `smtp_pool_new()`, freed by `smtp_pool_free()`.
 */
typedef struct smtp_pool smtp_pool;

/**
 * The response a `smtp_sasl_step_fn` gives with `smtp_sasl_respond()`.
 * Opaque; lent to the callback for one call.
 */
typedef struct smtp_sasl_exchange smtp_sasl_exchange;

/**
 * An SMTP or LMTP session: one connection at a time, smtplib's state, the
 * settings, and the results of the last call. Opaque; made by
 * `smtp_session_new()`, freed by `smtp_session_free()`.
 */
typedef struct smtp_session smtp_session;

/**
 * A built TLS configuration: immutable and thread-safe. Sessions given it
 * keep their own reference, so it may be freed (`smtp_tls_config_free()`)
 * as soon as it has been handed to them.
 */
typedef struct smtp_tls_config smtp_tls_config;

/**
 * Collects TLS settings; made by `smtp_tls_config_builder_new()`, turned
 * into a config by `smtp_tls_config_builder_build()`, freed by
 * `smtp_tls_config_builder_free()`. Not for use by two threads at once.
 */
typedef struct smtp_tls_config_builder smtp_tls_config_builder;

/**
 * Receives debug trace lines (see `smtp_session_set_trace()`). `line` is
 * NUL-terminated, `len` bytes long without the NUL, and valid only during
 * the call. Called on the thread inside a call on the session; it must
 * return normally, and a call on the same session from inside it returns
 * `SMTP_ERR_BAD_STATE`.
 */
typedef void (*smtp_trace_fn)(void *userdata, int direction, const char *line, size_t len);

/**
 * Everything known about one recipient of the last transaction, filled by
 * `smtp_session_rcpt_info()` in one call (the getters above, one field
 * each). Its strings are the session's: valid until the next call on the
 * session that is not a getter, or its free. The layout is fixed within
 * 0.x (fields are never reordered or removed).
 */
typedef struct smtp_rcpt_info {
  /**
   * The address as the caller gave it.
   */
  const char *addr;
  /**
   * 1 when refused (as `smtp_session_rcpt_refused()`), else 0.
   */
  int refused;
  /**
   * The RCPT reply: code, text, RFC 3463 status (NULL when none).
   */
  int code;
  const char *text;
  const char *status;
  /**
   * LMTP: the reply after the data (code 0 and text "" when none was
   * read; status NULL when none).
   */
  int data_code;
  const char *data_text;
  const char *data_status;
  /**
   * The reply that decided the recipient's fate: the one after the data
   * when there is one for an accepted recipient, else the RCPT reply
   * (what smtplib's `sendmail` reports for a refused recipient).
   */
  int final_code;
  const char *final_text;
  const char *final_status;
} smtp_rcpt_info;

/**
 * Supplies a message in pieces for `smtp_session_sendmail_stream()`: write
 * up to `cap` bytes into `buf` and return how many, 0 at the end of the
 * message, or a negative number to abort (the call then fails with
 * `SMTP_ERR_IO` and the connection is closed mid-message, so that no
 * partial message is delivered). Called on the calling thread during the
 * call only; it must return normally, and a call on the same session from
 * inside it returns `SMTP_ERR_BAD_STATE`.
 */
typedef ptrdiff_t (*smtp_read_fn)(void *userdata, uint8_t *buf, size_t cap);

/**
 * One message of `smtp_session_sendmail_batch()`: the caller fills the
 * inputs and may point `rcpt_codes` at `to_count` ints; the library fills
 * `result`, `refused_count` and `rcpt_codes`.
 */
typedef struct smtp_batch_item {
  /**
   * The sender (as for `smtp_session_sendmail()`).
   */
  const char *from;
  /**
   * `to_count` recipients.
   */
  const char *const *to;
  size_t to_count;
  /**
   * The message, `len` bytes.
   */
  const uint8_t *msg;
  size_t len;
  /**
   * `SMTP_MSG_*` line-ending flags.
   */
  unsigned int flags;
  /**
   * Out: this message's result code.
   */
  int result;
  /**
   * Out: how many of its recipients were refused.
   */
  size_t refused_count;
  /**
   * Out (NULL allowed): each recipient's code, as `smtp_session_sendmail()`.
   */
  int *rcpt_codes;
} smtp_batch_item;

/**
 * The client side of a SASL mechanism (smtplib's authobject), for
 * `smtp_session_auth()`.
 *
 * Called with `challenge == NULL` to ask for the initial response (only when
 * initial responses are allowed), then once per server challenge with the
 * challenge base64-decoded (`challenge_len` bytes, maybe 0; `challenge` is
 * not NULL then). The callback writes its raw response (the library does
 * the base64) into `response`, which holds `response_cap` bytes, stores its
 * length in `*response_len` and returns `SMTP_SASL_CONTINUE`; or returns
 * `SMTP_SASL_NO_INITIAL_RESPONSE` or `SMTP_SASL_NEED_SPACE`. Any other value,
 * 0 included, aborts: the library sends `*` and the call returns
 * `SMTP_ERR_AUTH_ABORTED`. Called only during `smtp_session_auth()`, on its
 * thread; it must return normally (no exception, longjmp or unwinding), and
 * a call on the same session from inside it returns `SMTP_ERR_BAD_STATE`.
 */
typedef int (*smtp_sasl_fn)(void *userdata,
                            const uint8_t *challenge,
                            size_t challenge_len,
                            uint8_t *response,
                            size_t response_cap,
                            size_t *response_len);

/**
 * The client side of a SASL mechanism (smtplib's authobject) for
 * `smtp_session_auth_step()` and `smtp_pool_set_auth_step()`: the form
 * for bindings, whose callbacks compute a response of any length.
 *
 * Called with `challenge == NULL` to ask for the initial response (only
 * when initial responses are allowed), then once per server challenge with
 * the challenge base64-decoded (`challenge_len` bytes, maybe 0; not NULL
 * then). The callback gives its raw response with `smtp_sasl_respond(x,
 * ...)` (the library does the base64; no call means an empty response) and
 * returns `SMTP_SASL_CONTINUE`, or returns `SMTP_SASL_NO_INITIAL_RESPONSE`
 * when asked for the initial response. Any other value, 0 included,
 * aborts: the library sends `*` and the call returns
 * `SMTP_ERR_AUTH_ABORTED`. `x` is valid only during the call. The rules of
 * `smtp_sasl_fn` on threads and reentrancy apply.
 */
typedef int (*smtp_sasl_step_fn)(void *userdata,
                                 const uint8_t *challenge,
                                 size_t challenge_len,
                                 struct smtp_sasl_exchange *x);

/**
 * Starts a read callback attachment again from its first byte, for a
 * second write (`smtp_message_set_dkim()` reads every part twice; a pool
 * sending again on a new connection, a second send or write): return 0
 * when done, anything else to fail the call (`SMTP_ERR_IO`). Called on the
 * calling thread during a write or send call only, and must return
 * normally.
 */
typedef int (*smtp_rewind_fn)(void *userdata);

/**
 * Receives the written message in pieces (`smtp_message_write()`): return
 * 0 to go on, anything else to stop (the call returns `SMTP_ERR_IO`).
 * Called on the calling thread during the call only, and must return
 * normally.
 */
typedef int (*smtp_write_fn)(void *userdata, const uint8_t *buf, size_t len);

#ifdef __cplusplus
extern "C" {
#endif /* __cplusplus */

/**
 * A static English description of a result code. Never NULL; an unknown
 * code gives "unknown result code". The string must not be freed.
 */
const char *smtp_result_str(int code);

/**
 * The C name of a result code, e.g. "SMTP_ERR_TIMEOUT" for
 * `SMTP_ERR_TIMEOUT` (static; must not be freed), for bindings that name
 * codes as the header does. NULL for a code this library does not know.
 */
const char *smtp_result_name(int code);

/**
 * The name of the exception Python's smtplib raises for the failure a
 * code reports, e.g. "SMTPSenderRefused", "OSError" for `SMTP_ERR_CONNECT`,
 * "ValueError" for `SMTP_ERR_INVALID_ARGUMENT`: a class of smtplib, of
 * Python's builtins or "SSLError" of its ssl module (static; must not be
 * freed). NULL for `SMTP_OK` and for an unknown code.
 */
const char *smtp_result_exception(int code);

/**
 * 1 when an error with this code can carry the server reply behind it
 * (smtplib's `smtp_code`/`smtp_error`); after a call that failed with it,
 * smtp_session_last_reply_code() and smtp_session_last_reply_text() give
 * that reply. 0 for the other codes, `SMTP_OK` and unknown codes.
 */
int smtp_result_has_reply(int code);

/**
 * How many result codes this library has (`SMTP_OK` included); with
 * smtp_result_code_at() a binding lists them at run time.
 */
size_t smtp_result_count(void);

/**
 * The `i`th result code in increasing order, `SMTP_OK` (0) first; -1 when
 * `i >= smtp_result_count()`.
 */
int smtp_result_code_at(size_t i);

/**
 * The library's version as "MAJOR.MINOR.PATCH" (static; never NULL; must
 * not be freed). Compare with the SMTP_VERSION_* macros the program was
 * built with.
 */
const char *smtp_lib_version(void);

/**
 * The library's version at run time as one number, MAJOR << 16 | MINOR << 8
 * | PATCH: compare with `SMTP_VERSION_NUM`, the header's
 * (`smtp_lib_version_number() >= SMTP_VERSION_NUM` when the program runs
 * on the library it was built with or a later one).
 */
uint32_t smtp_lib_version_number(void);

/**
 * Make a session of `kind` (`SMTP_KIND_SMTP`, `SMTP_KIND_SMTP_SSL` or
 * `SMTP_KIND_LMTP`), not yet
 * connected. Returns NULL only for an unknown kind. The caller owns the
 * session and frees it with `smtp_session_free()`.
 *
 * Different sessions may be used on different threads at once; one session
 * must not be used by two threads at the same time.
 */
struct smtp_session *smtp_session_new(int kind);

/**
 * Free a session: closes its connection without QUIT (use
 * `smtp_session_quit()` first for a polite close) and releases everything
 * it owns; every pointer its getters lent becomes invalid. NULL is a no-op.
 * Calling it from inside one of the session's callbacks does nothing.
 *
 * # Safety
 * `s` is NULL or a session from `smtp_session_new()` not yet freed; it must
 * not be used afterwards.
 */
void smtp_session_free(struct smtp_session *s);

/**
 * Set the name sent with EHLO, HELO and LHLO when none is given (smtplib's
 * `local_hostname`). Default: the host's fully qualified name when it has a
 * dot, else its address as a literal such as `[192.0.2.1]`.
 *
 * Returns `SMTP_ERR_NULL_ARGUMENT` for NULL `name`, `SMTP_ERR_INVALID_ARGUMENT`
 * for an empty name, white space, CR, LF or invalid UTF-8.
 *
 * # Safety
 * `s` is NULL or a live session; `name` is NULL or a NUL-terminated string.
 */
int smtp_session_set_local_hostname(struct smtp_session *s, const char *name);

/**
 * Set one timeout, in milliseconds; 0 means no limit. `which` is one of
 * the `SMTP_TIMEOUT_*` constants (anything else:
 * `SMTP_ERR_INVALID_ARGUMENT`); `SMTP_TIMEOUT_ALL` sets every limit on a
 * single wait at once. Applies from the next call, on the current
 * connection too.
 *
 * The rule: every wait inside a call ends at the earliest of
 * - `SMTP_TIMEOUT_CALL` after the call began (name lookup and connect
 *   included);
 * - while message data waits to be written, `SMTP_TIMEOUT_DATA_BLOCK`
 *   after the server last took some; otherwise `SMTP_TIMEOUT_IO` after
 *   the last byte sent or received;
 * - while a reply is awaited and nothing is left to send, the limit of
 *   that reply (`SMTP_TIMEOUT_GREETING`, `_MAIL`, `_RCPT`, `_DATA`,
 *   `_FINAL_DOT`, else `_REPLY`), counted from the previous reply or the
 *   last byte sent, however slowly the server trickles;
 * - while connecting, `SMTP_TIMEOUT_CONNECT` for the name lookup and for
 *   each address.
 *
 * The first to run out ends the call with `SMTP_ERR_TIMEOUT` (the errmsg
 * names the limit) and closes the connection; no call outlives its
 * deadline by more than a few milliseconds. `smtp_session_cancel()` ends a
 * wait at once.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_set_timeout_ms(struct smtp_session *s, int which, uint32_t ms);

/**
 * One timeout in milliseconds (0: no limit), or -1 for a NULL session or
 * an unknown `which`. For `SMTP_TIMEOUT_ALL`: the longest single wait the
 * limits allow (0 when one of them is unlimited).
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int64_t smtp_session_timeout_ms(const struct smtp_session *s, int which);

/**
 * Bind the connections this session makes to a local address and port
 * (smtplib's `source_address`); port 0 lets the system choose. NULL `host`
 * removes the setting. Takes effect at the next connect.
 *
 * # Safety
 * `s` is NULL or a live session; `host` is NULL or a NUL-terminated string.
 */
int smtp_session_set_source_address(struct smtp_session *s, const char *host, uint16_t port);

/**
 * smtplib's `set_debuglevel`: 0 is quiet, 1 traces the connection, every
 * command and every reply, 2 adds a timestamp to each line. Lines go to
 * stderr unless a trace callback is set. AUTH payloads are never shown.
 * A negative level is `SMTP_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_set_debuglevel(struct smtp_session *s, int level);

/**
 * Send the debug trace to `callback` instead of stderr; NULL restores
 * stderr. The callback gets `userdata`, the line's direction
 * (`SMTP_TRACE_INFO`, `SMTP_TRACE_SEND`, `SMTP_TRACE_RECV`) and the line as
 * stderr would show it; it is called only while the debug level is above 0.
 *
 * # Safety
 * `s` is NULL or a live session; `callback` and `userdata` must stay valid
 * while the session may call them (until it is freed or the callback replaced).
 */
int smtp_session_set_trace(struct smtp_session *s, smtp_trace_fn callback, void *userdata);

/**
 * smtplib's `connect`: connect to `host` and read the greeting, whose code
 * goes to `*code` (NULL allowed) and text to `smtp_session_last_reply_text()`.
 * Like smtplib, a greeting other than 220 is not an error here (see
 * `smtp_session_open()`). Port 0 means: a `host:port` suffix when the host
 * has one colon (a suffix that is not a port number is `SMTP_ERR_CONNECT`,
 * "nonnumeric port", as smtplib's `OSError`), else the kind's default
 * port. A host starting with `/` is a Unix-domain socket path. An open
 * connection is closed first. A host name with non-ASCII labels (UTF-8) is
 * looked up, sent as SNI and checked against the certificate as its
 * A-labels ("b\xc3\xbccher.example" is "xn--bcher-kva.example", UTS #46);
 * one UTS #46 refuses is `SMTP_ERR_INVALID_ARGUMENT`.
 *
 * Errors: `SMTP_ERR_CONNECT`, `SMTP_ERR_TIMEOUT`,
 * `SMTP_ERR_SERVER_DISCONNECTED` (closed before a greeting),
 * `SMTP_ERR_RESPONSE` (a greeting line over 8192 bytes), and the argument errors.
 *
 * # Safety
 * `s` is NULL or a live session; `host` is NULL or a NUL-terminated string;
 * `code` is NULL or writable.
 */
int smtp_session_connect(struct smtp_session *s, const char *host, uint16_t port, int *code);

/**
 * smtplib's `SMTP(host, port)`: as `smtp_session_connect()`, and a greeting
 * other than 220 is `SMTP_ERR_CONNECT_REPLY` with the connection closed.
 *
 * # Safety
 * As `smtp_session_connect()`.
 */
int smtp_session_open(struct smtp_session *s, const char *host, uint16_t port, int *code);

/**
 * Cancel the call running on `s` in another thread. That call returns
 * `SMTP_ERR_CANCELLED` within 100 ms (at once when it waits on the network
 * or for a name lookup; a callback of the caller's runs to its end first)
 * and the connection is closed: connect again before the next command. A
 * message whose final reply was not read is reported as not sent. A call
 * that has nothing left to send or read when the cancel comes ends with
 * its own result (a message the server accepted is reported sent).
 *
 * The one function that may run while another thread is inside a call on
 * the same session. When no call runs it does nothing (it does not cancel
 * the next call). Returns `SMTP_OK`, or `SMTP_ERR_NULL_ARGUMENT` for NULL.
 *
 * # Safety
 * `s` is NULL or a live session, not freed by any thread while this runs.
 */
int smtp_session_cancel(const struct smtp_session *s);

/**
 * smtplib's `close`: drop the connection without QUIT. The EHLO state is
 * kept (as smtplib keeps it); a new `smtp_session_connect()` may follow.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_close(struct smtp_session *s);

/**
 * What the last non-const call did: "no error" after success, else a
 * message naming the failure. Never NULL: a static message for a NULL
 * session, and another from inside one of the session's own callbacks
 * (where getters cannot read the session while its call runs).
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_errmsg(const struct smtp_session *s);

/**
 * The code of the reply behind the last result: after an error that
 * carries a server reply (a refused sender, say, even though RSET
 * followed), that reply; otherwise the last reply read on this session.
 * -1 when the server sent no number where the code belongs; 0 before any
 * reply (and for NULL).
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_last_reply_code(const struct smtp_session *s);

/**
 * The text of the reply `smtp_session_last_reply_code()` reports: each
 * line without its code, stripped,
 * lines joined with "\n" (smtplib's message). Bytes as the server sent
 * them, not necessarily UTF-8, a NUL shown as '?'. "" before any reply
 * and from inside one of the session's own callbacks; NULL only for a
 * NULL session.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_last_reply_text(const struct smtp_session *s);

/**
 * 1 while connected, else 0.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_is_connected(const struct smtp_session *s);

/**
 * smtplib's `command_encoding`: 1 while commands may be UTF-8 ("utf-8":
 * from a MAIL with the SMTPUTF8 option until RSET), else 0 ("ascii": a
 * command that is not ASCII is `SMTP_ERR_INVALID_ARGUMENT`, nothing sent).
 * 0 for NULL.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_utf8_commands(const struct smtp_session *s);

/**
 * smtplib's `does_esmtp`: 1 once an EHLO got 250 (until QUIT), else 0.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_does_esmtp(const struct smtp_session *s);

/**
 * smtplib's `ehlo_resp`: the text of the last EHLO reply, or NULL when no
 * EHLO has been answered since connect or QUIT.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_ehlo_resp(const struct smtp_session *s);

/**
 * smtplib's `helo_resp`: the text of the last HELO reply, or NULL.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_helo_resp(const struct smtp_session *s);

/**
 * smtplib's `has_extn`: 1 when the last EHLO advertised `name`
 * (case-insensitive), else 0 (also for NULL arguments).
 *
 * # Safety
 * `s` is NULL or a live session; `name` is NULL or a NUL-terminated string.
 */
int smtp_session_has_extn(const struct smtp_session *s, const char *name);

/**
 * How many extensions the last EHLO advertised (smtplib's
 * `esmtp_features`, in the server's order, AUTH lines merged into one).
 *
 * # Safety
 * `s` is NULL or a live session.
 */
size_t smtp_session_feature_count(const struct smtp_session *s);

/**
 * Extension `index`'s keyword, lower-case; NULL when out of range.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_feature_name(const struct smtp_session *s, size_t index);

/**
 * Extension `index`'s parameters as smtplib keeps them ("" when none;
 * for `auth`, each line's mechanisms after a space); NULL when out of range.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_feature_params(const struct smtp_session *s, size_t index);

/**
 * The parameters of extension `name` (case-insensitive), or NULL when it
 * was not advertised.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session; `name` is NULL or a NUL-terminated string.
 */
const char *smtp_session_feature(const struct smtp_session *s, const char *name);

/**
 * How many recipients the last transaction has results for: those sent
 * RCPT since the last MAIL (by `smtp_session_rcpt()` or
 * `smtp_session_sendmail()`, in order).
 *
 * # Safety
 * `s` is NULL or a live session.
 */
size_t smtp_session_rcpt_count(const struct smtp_session *s);

/**
 * Recipient `index`'s address as the caller gave it; NULL when out of range.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_rcpt_addr(const struct smtp_session *s, size_t index);

/**
 * Recipient `index`'s RCPT reply code; 0 when out of range.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_rcpt_code(const struct smtp_session *s, size_t index);

/**
 * Recipient `index`'s RCPT reply text; NULL when out of range.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_rcpt_text(const struct smtp_session *s, size_t index);

/**
 * LMTP: recipient `index`'s reply after the data; 0 when none was read
 * (SMTP sessions, refused recipients, out of range, and an accepted
 * recipient whose reply never came, which counts as refused).
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_rcpt_data_code(const struct smtp_session *s, size_t index);

/**
 * LMTP: recipient `index`'s reply text after the data ("" when none was
 * read, "no reply after the data ..." for an accepted recipient whose
 * reply never came); NULL when out of range.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_rcpt_data_text(const struct smtp_session *s, size_t index);

/**
 * 1 when recipient `index` was refused (RCPT not 250 or 251, or on LMTP
 * its reply after the data not 250 or never read), 0 when accepted or out
 * of range.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_rcpt_refused(const struct smtp_session *s, size_t index);

/**
 * Recipient `index`'s RFC 3463 status code from its RCPT reply ("2.1.5",
 * "5.1.1"), read when the server advertises ENHANCEDSTATUSCODES; NULL when
 * there is none or `index` is out of range.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_rcpt_status(const struct smtp_session *s, size_t index);

/**
 * LMTP: the RFC 3463 status code of recipient `index`'s reply after the
 * data; NULL when there is none.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_rcpt_data_status(const struct smtp_session *s, size_t index);

/**
 * Fill `*out` with recipient `index`'s results (see `smtp_rcpt_info`).
 * `SMTP_ERR_NULL_ARGUMENT` for a NULL session or `out`,
 * `SMTP_ERR_INVALID_ARGUMENT` when `index` is not below
 * `smtp_session_rcpt_count()`, `SMTP_ERR_BAD_STATE` from inside one of the
 * session's own callbacks; `*out` is left alone then. A getter: it does not
 * change `smtp_session_errmsg()`.
 *
 * # Safety
 * `s` is NULL or a live session; `out` is NULL or writable.
 */
int smtp_session_rcpt_info(const struct smtp_session *s, size_t index, struct smtp_rcpt_info *out);

/**
 * The reverse-path of the last transaction begun on the session: the
 * sender given to `smtp_session_mail()`, `smtp_session_sendmail()` (and
 * its stream and batch forms: the last message's), or the one
 * `smtp_session_send_message()` chose from the headers, kept even when the
 * call failed after choosing it (smtplib's `SMTPSenderRefused.sender`).
 * "" is the null reverse-path; NULL before any, after a call that failed
 * before choosing one, and for NULL.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_sender(const struct smtp_session *s);

/**
 * smtplib's `helo`: send HELO with `name`, or the local hostname when
 * `name` is NULL or empty. The reply text becomes `smtp_session_helo_resp()`.
 *
 * # Safety
 * `s` is NULL or a live session; `name` is NULL or a NUL-terminated string;
 * `code` is NULL or writable.
 */
int smtp_session_helo(struct smtp_session *s, const char *name, int *code);

/**
 * smtplib's `ehlo` (LHLO on an LMTP session): with `name`, or the local
 * hostname when NULL or empty. On 250 the session is ESMTP and the features
 * are parsed (see `smtp_session_feature_count()`); another code is returned
 * in `*code`, not as an error. A server that drops the connection instead
 * of answering is `SMTP_ERR_SERVER_DISCONNECTED`.
 *
 * # Safety
 * As `smtp_session_helo()`.
 */
int smtp_session_ehlo(struct smtp_session *s, const char *name, int *code);

/**
 * smtplib's `ehlo_or_helo_if_needed`: when neither has been done, EHLO,
 * and if it is refused, HELO; both refused is `SMTP_ERR_HELO`.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_ehlo_or_helo_if_needed(struct smtp_session *s);

/**
 * smtplib's `docmd`: send `cmd`, or `cmd args` joined by one space when
 * `args` is neither NULL nor empty, and read the reply. CR, LF or NUL in
 * either is `SMTP_ERR_INVALID_ARGUMENT` and nothing is sent.
 *
 * # Safety
 * `s` is NULL or a live session; `cmd` and `args` are NULL or NUL-terminated
 * strings; `code` is NULL or writable.
 */
int smtp_session_docmd(struct smtp_session *s, const char *cmd, const char *args, int *code);

/**
 * smtplib's `noop`: NOOP.
 *
 * # Safety
 * `s` is NULL or a live session; `code` is NULL or writable.
 */
int smtp_session_noop(struct smtp_session *s, int *code);

/**
 * smtplib's `rset`: RSET, ending the mail transaction.
 *
 * # Safety
 * `s` is NULL or a live session; `code` is NULL or writable.
 */
int smtp_session_rset(struct smtp_session *s, int *code);

/**
 * smtplib's `help`: HELP, with `args` when neither NULL nor empty. The text
 * is in `smtp_session_last_reply_text()`.
 *
 * # Safety
 * As `smtp_session_docmd()`.
 */
int smtp_session_help(struct smtp_session *s, const char *args, int *code);

/**
 * smtplib's `verify`: VRFY with the address part of `address`
 * (`"Jane <jane@example.com>"` sends `jane@example.com`).
 *
 * # Safety
 * `s` is NULL or a live session; `address` is NULL or a NUL-terminated
 * string; `code` is NULL or writable.
 */
int smtp_session_verify(struct smtp_session *s, const char *address, int *code);

/**
 * smtplib's `expn`: EXPN with the address part of `address`.
 *
 * # Safety
 * As `smtp_session_verify()`.
 */
int smtp_session_expn(struct smtp_session *s, const char *address, int *code);

/**
 * smtplib's `mail`: `MAIL FROM:<sender>`, followed by the `n_options`
 * options only once EHLO has succeeded. SMTPUTF8 among them needs the
 * server's SMTPUTF8 (`SMTP_ERR_NOT_SUPPORTED` otherwise, nothing sent) and
 * allows UTF-8 addresses until RSET; without it addresses must be ASCII.
 * `"Name <addr>"` sends `<addr>`; `""` and `"<>"` send the null path `<>`.
 * Starts a new transaction: the per-recipient results are cleared.
 *
 * # Safety
 * `s` is NULL or a live session; `sender` is NULL or a NUL-terminated
 * string; `options` is NULL (only with `n_options` 0) or holds `n_options`
 * strings; `code` is NULL or writable.
 */
int smtp_session_mail(struct smtp_session *s,
                      const char *sender,
                      const char *const *options,
                      size_t n_options,
                      int *code);

/**
 * smtplib's `rcpt`: `RCPT TO:<recipient>` with the options once EHLO has
 * succeeded. The reply is also kept as this recipient's result
 * (`smtp_session_rcpt_count()` and the accessors after it).
 *
 * # Safety
 * As `smtp_session_mail()`.
 */
int smtp_session_rcpt(struct smtp_session *s,
                      const char *recipient,
                      const char *const *options,
                      size_t n_options,
                      int *code);

/**
 * smtplib's `data`: DATA, then on 354 the `len` bytes of `msg` (line
 * endings per `flags`: `SMTP_MSG_NORMALIZE` or `SMTP_MSG_RAW`; a dot
 * starting a line doubled; CRLF added when missing; the final `.`), then
 * the reply. A reply to DATA other than 354 is `SMTP_ERR_DATA`. The
 * message is streamed from the caller's buffer, never copied whole.
 *
 * On an LMTP session one reply is read per recipient accepted since MAIL
 * (RFC 2033 4.2), each kept on its recipient's result
 * (`smtp_session_rcpt_data_code()`); `*code` is the first failure, or the
 * last reply when all succeeded.
 *
 * # Safety
 * `s` is NULL or a live session; `msg` is NULL (only with `len` 0) or
 * readable for `len` bytes; `code` is NULL or writable.
 */
int smtp_session_data(struct smtp_session *s,
                      const uint8_t *msg,
                      size_t len,
                      unsigned int flags,
                      int *code);

/**
 * smtplib's `sendmail`: EHLO or HELO if not done yet, `MAIL FROM` (with
 * `SIZE=` when the server advertises SIZE, and `mail_options` once EHLO
 * succeeded), `RCPT TO` for each of the `to_count` recipients (with
 * `rcpt_options`), DATA and the message (`flags` as for
 * `smtp_session_data()`).
 *
 * Returns `SMTP_OK` when at least one recipient was accepted and the
 * message was accepted; the others were refused. Errors, as smtplib's
 * exceptions: `SMTP_ERR_HELO`, `SMTP_ERR_SENDER_REFUSED` (then RSET, or the
 * connection closed on 421), `SMTP_ERR_RECIPIENTS_REFUSED` (every recipient
 * refused, then RSET; or a 421 during RCPT, connection closed),
 * `SMTP_ERR_DATA`, `SMTP_ERR_NOT_SUPPORTED` (SMTPUTF8 or a structured
 * option of `smtp_session_set_envelope()` not offered),
 * `SMTP_ERR_TOO_LARGE` (over the server's SIZE, refused before MAIL).
 * Every address and option is checked before anything is sent; an empty
 * recipient list is `SMTP_ERR_INVALID_ARGUMENT`.
 *
 * `rcpt_codes` (NULL allowed) receives `to_count` codes in the caller's
 * order: each recipient's RCPT reply code (on LMTP, for a recipient
 * accepted at RCPT, its reply after the data, 0 when none came), 0 where
 * no RCPT reply was read. It
 * and `refused_count` (NULL allowed) are filled on every return, so also
 * when every recipient was refused. The details stay on the session:
 * `smtp_session_rcpt_count()` and the accessors after it.
 *
 * On LMTP a recipient refused after the data counts as refused; only when
 * all of them are is it `SMTP_ERR_DATA`. A recipient accepted at RCPT
 * whose reply after the data never came (the connection ended, or the
 * data was refused) is refused too, with code 0: no reply said it was
 * delivered.
 *
 * A message counts as sent only once its reply after the data said so: a
 * timeout, a cancel or a lost connection before that is an error, never
 * `SMTP_OK`.
 *
 * # Safety
 * `s` is NULL or a live session; `from` is NULL or a NUL-terminated
 * string; `to` holds `to_count` strings; `msg` is NULL (only with `len` 0)
 * or readable for `len` bytes; each options array is NULL (only with a
 * count of 0) or holds that many strings; `rcpt_codes` is NULL or writable
 * for `to_count` ints; `refused_count` is NULL or writable.
 */
int smtp_session_sendmail(struct smtp_session *s,
                          const char *from,
                          const char *const *to,
                          size_t to_count,
                          const uint8_t *msg,
                          size_t len,
                          const char *const *mail_options,
                          size_t n_mail_options,
                          const char *const *rcpt_options,
                          size_t n_rcpt_options,
                          unsigned int flags,
                          int *rcpt_codes,
                          size_t *refused_count);

/**
 * smtplib's `quit`: QUIT, then forget the EHLO state and close. The reply
 * code goes to `*code`.
 *
 * # Safety
 * `s` is NULL or a live session; `code` is NULL or writable.
 */
int smtp_session_quit(struct smtp_session *s, int *code);

/**
 * With `on` 0, `smtp_session_sendmail()` and `smtp_session_send_message()`
 * wait for each reply even when the server offers PIPELINING (RFC 2920);
 * non-zero (the default) sends MAIL, every RCPT and DATA in one write.
 * The results are the same either way.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_set_pipelining(struct smtp_session *s, int on);

/**
 * With `on` 0, messages go by DATA even when the server offers CHUNKING
 * (RFC 3030); non-zero (the default) sends them as BDAT chunks then, with
 * no dot-stuffing, and as BODY=BINARYMIME when the body is not text and the
 * server offers BINARYMIME. The bytes delivered are the same either way.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_set_chunking(struct smtp_session *s, int on);

/**
 * `smtp_session_sendmail()` with the message read from `read` in pieces,
 * so that a message larger than memory can be sent: line endings per
 * `flags`, dot-stuffing (or BDAT chunks) on the fly, no copy of the whole
 * message. `size_hint` (the message size, or -1 when unknown) is announced
 * as SIZE= and checked against the server's limit. Under
 * `SMTP_MSG_REJECT_BARE_EOL` a lone CR or LF is found only when read: the
 * call then returns `SMTP_ERR_INVALID_ARGUMENT` and closes the connection
 * mid-message. Outputs and results as `smtp_session_sendmail()`.
 *
 * # Safety
 * As `smtp_session_sendmail()`; `read` is a valid function and `userdata`
 * whatever it expects.
 */
int smtp_session_sendmail_stream(struct smtp_session *s,
                                 const char *from,
                                 const char *const *to,
                                 size_t to_count,
                                 smtp_read_fn read,
                                 void *userdata,
                                 int64_t size_hint,
                                 const char *const *mail_options,
                                 size_t n_mail_options,
                                 const char *const *rcpt_options,
                                 size_t n_rcpt_options,
                                 unsigned int flags,
                                 int *rcpt_codes,
                                 size_t *refused_count);

/**
 * `smtp_session_sendmail_stream()` with the message read from the file
 * descriptor `fd` to its end of file (one read(2) after another; the
 * descriptor stays the caller's, open). A read that fails aborts the
 * message: `SMTP_ERR_IO`, the connection closed mid-message, nothing
 * delivered. For a file, and for bindings whose code cannot run on the
 * thread of the call (Node's event loop, say): they pass the read end of a
 * pipe or socket pair and write the message into the other end from their
 * own thread, closing it at the end; to abort instead, they write a byte
 * towards the reading socket and close theirs, which makes the read fail
 * with a reset. While a read blocks, the call's deadlines and a cancel wait
 * for it to return, as with any read callback. A negative `fd` is
 * `SMTP_ERR_INVALID_ARGUMENT`. Outputs and results as
 * `smtp_session_sendmail()`.
 *
 * # Safety
 * As `smtp_session_sendmail()`; `fd` is the caller's, open for the call.
 */
int smtp_session_sendmail_fd(struct smtp_session *s,
                             const char *from,
                             const char *const *to,
                             size_t to_count,
                             int fd,
                             int64_t size_hint,
                             const char *const *mail_options,
                             size_t n_mail_options,
                             const char *const *rcpt_options,
                             size_t n_rcpt_options,
                             unsigned int flags,
                             int *rcpt_codes,
                             size_t *refused_count);

/**
 * Send `n` messages on one session, each with its own envelope and result
 * (`items[i].result`, as `smtp_session_sendmail()` would return it). When
 * the server offers PIPELINING, the end of one message's data and the next
 * message's MAIL, RCPTs and DATA go out together: one round trip per
 * message in steady state. When it offers CHUNKING too, messages go by
 * BDAT without waiting for any reply, up to 32 in flight (each after the
 * first begins with RSET while the previous outcome is unknown), and
 * replies are matched to messages as they come. Returns `SMTP_OK` when
 * every message was sent,
 * else the result of the first that was not (its details in
 * `smtp_session_errmsg()`); once the connection is lost the remaining
 * messages get `SMTP_ERR_SERVER_DISCONNECTED`. The per-recipient accessors
 * then describe the last message. When an item's arguments cannot be
 * read (NULL, invalid UTF-8, unknown flags) nothing is sent and no item's
 * outputs are changed; an argument that is readable but not valid (a line
 * break in an address, an empty recipient list) fails only its own
 * message (`SMTP_ERR_INVALID_ARGUMENT` in its `result`), the others are
 * sent.
 *
 * # Safety
 * `s` is NULL or a live session; `items` is NULL (only with `n` 0) or holds
 * `n` items whose pointers are valid as documented on `smtp_batch_item`.
 */
int smtp_session_sendmail_batch(struct smtp_session *s, struct smtp_batch_item *items, size_t n);

/**
 * An envelope with no option set. Never NULL.
 */
struct smtp_envelope *smtp_envelope_new(void);

/**
 * What the envelope's last call did: "no error", or why it was refused
 * (which option, which value, what is allowed). Owned by the envelope and
 * valid until its next call or its free; a static message for NULL.
 *
 * # Safety
 * `e` is NULL or a live envelope.
 */
const char *smtp_envelope_errmsg(const struct smtp_envelope *e);

/**
 * Free an envelope (NULL is a no-op); sessions given it keep their copy.
 *
 * # Safety
 * `e` is NULL or an envelope not yet freed; it is not used afterwards.
 */
void smtp_envelope_free(struct smtp_envelope *e);

/**
 * DSN RET (RFC 3461 4.3): `SMTP_DSN_RET_FULL` or `SMTP_DSN_RET_HDRS`.
 *
 * # Safety
 * `e` is NULL or a live envelope.
 */
int smtp_envelope_set_dsn_ret(struct smtp_envelope *e, int ret);

/**
 * DSN ENVID (RFC 3461 4.4): 1 to 100 characters, sent xtext-encoded.
 *
 * # Safety
 * `e` is NULL or a live envelope; `envid` is NULL or NUL-terminated.
 */
int smtp_envelope_set_dsn_envid(struct smtp_envelope *e, const char *envid);

/**
 * DSN NOTIFY (RFC 3461 4.1) for every recipient without its own: a set of
 * `SMTP_DSN_NOTIFY_*` bits (NEVER alone).
 *
 * # Safety
 * `e` is NULL or a live envelope.
 */
int smtp_envelope_set_dsn_notify(struct smtp_envelope *e, unsigned int notify);

/**
 * DSN settings of one recipient (matched against the address given to
 * sendmail or found by send_message): NOTIFY bits (0: the envelope's), and
 * ORCPT, the original recipient (NULL: none), sent as `rfc822;` xtext.
 *
 * # Safety
 * `e` is NULL or a live envelope; `rcpt` and `orcpt` are NULL or
 * NUL-terminated.
 */
int smtp_envelope_set_rcpt_dsn(struct smtp_envelope *e,
                               const char *rcpt,
                               unsigned int notify,
                               const char *orcpt);

/**
 * SMTPUTF8 (RFC 6531) on MAIL when `on` is non-zero.
 *
 * # Safety
 * `e` is NULL or a live envelope.
 */
int smtp_envelope_set_smtputf8(struct smtp_envelope *e, int on);

/**
 * BODY= on MAIL: `SMTP_BODY_7BIT`, `SMTP_BODY_8BITMIME` or
 * `SMTP_BODY_BINARYMIME`; 0 removes it.
 *
 * # Safety
 * `e` is NULL or a live envelope.
 */
int smtp_envelope_set_body(struct smtp_envelope *e, int body);

/**
 * REQUIRETLS (RFC 8689) on MAIL when `on` is non-zero; only over TLS
 * (`SMTP_ERR_NOT_ENCRYPTED` otherwise).
 *
 * # Safety
 * `e` is NULL or a live envelope.
 */
int smtp_envelope_set_requiretls(struct smtp_envelope *e, int on);

/**
 * MT-PRIORITY (RFC 6710), -9 to 9.
 *
 * # Safety
 * `e` is NULL or a live envelope.
 */
int smtp_envelope_set_mt_priority(struct smtp_envelope *e, int priority);

/**
 * DELIVERBY (RFC 2852): deliver within `seconds`, else return the message
 * (`notify` 0; `seconds` must be above 0) or send a delay notice (`notify`
 * non-zero); `trace` non-zero asks for the trace (T).
 *
 * # Safety
 * `e` is NULL or a live envelope.
 */
int smtp_envelope_set_deliver_by(struct smtp_envelope *e, int64_t seconds, int notify, int trace);

/**
 * Use `envelope`'s options (copied) for every following sendmail and
 * send_message on this session; NULL removes them.
 *
 * # Safety
 * `s` is NULL or a live session; `envelope` is NULL or a live envelope.
 */
int smtp_session_set_envelope(struct smtp_session *s, const struct smtp_envelope *envelope);

/**
 * smtplib's `send_message` on a raw RFC 5322 message of `len` bytes.
 *
 * The envelope comes from the headers unless given: exactly one
 * Resent-Date switches to the Resent- fields (more than one is
 * `SMTP_ERR_INVALID_ARGUMENT`, nothing sent); the sender is the first
 * address of Sender, else From (`from` non-NULL replaces it); the
 * recipients are every address of every To, Bcc and Cc field, in that order
 * (`to` non-NULL, `n_to` addresses, replaces them). A field that cannot be
 * parsed is `SMTP_ERR_INVALID_ARGUMENT` naming it. Bcc and Resent-Bcc fields
 * are not sent; every other byte is, per `flags` (`SMTP_MSG_NORMALIZE`,
 * `SMTP_MSG_RAW`, `SMTP_MSG_REJECT_BARE_EOL`). A non-ASCII envelope address
 * adds SMTPUTF8 and BODY=8BITMIME when the server offers SMTPUTF8, else it
 * is `SMTP_ERR_NOT_SUPPORTED` and nothing is sent. Then as
 * `smtp_session_sendmail()`: results, per-recipient accessors
 * (`smtp_session_rcpt_count()`...), and `*refused_count` (NULL allowed).
 *
 * # Safety
 * `s` is NULL or a live session; `msg` is readable for `len` bytes (NULL
 * only with 0); `from` is NULL or NUL-terminated; `to` is NULL or holds
 * `n_to` strings; each options array is NULL (only with a count of 0) or
 * holds that many strings; `refused_count` is NULL or writable.
 */
int smtp_session_send_message(struct smtp_session *s,
                              const uint8_t *msg,
                              size_t len,
                              const char *from,
                              const char *const *to,
                              size_t n_to,
                              const char *const *mail_options,
                              size_t n_mail_options,
                              const char *const *rcpt_options,
                              size_t n_rcpt_options,
                              unsigned int flags,
                              size_t *refused_count);

/**
 * Give the response to the challenge a `smtp_sasl_step_fn` is answering:
 * `len` raw bytes (at most 16 MiB), copied (and wiped when sent); a second
 * call replaces the first. `SMTP_ERR_NULL_ARGUMENT` for a NULL `x` or a
 * NULL `response` with a non-zero `len`, `SMTP_ERR_INVALID_ARGUMENT` when
 * too long.
 *
 * # Safety
 * `x` is NULL or the exchange lent to the running callback; `response` is
 * NULL or readable for `len` bytes.
 */
int smtp_sasl_respond(struct smtp_sasl_exchange *x, const uint8_t *response, size_t len);

/**
 * smtplib's `login`: EHLO or HELO if needed; no AUTH advertised is
 * `SMTP_ERR_NOT_SUPPORTED`; then each mechanism of the session's list
 * (default CRAM-MD5, PLAIN, LOGIN; see `smtp_session_set_auth_mechanisms()`)
 * that the server advertises is tried in turn until one succeeds (235, or
 * 503 "already authenticated"). Every one refused is `SMTP_ERR_AUTH` with
 * the last refusal as the last reply; none usable is `SMTP_ERR_SMTP` ("No
 * suitable authentication method found."), or `SMTP_ERR_NOT_ENCRYPTED`
 * when the only usable ones would send the password in clear on an
 * unprotected connection. `flags`: `SMTP_AUTH_NO_INITIAL_RESPONSE`,
 * `SMTP_AUTH_ALLOW_CLEARTEXT`. UTF-8 credentials are sent as given. The
 * session keeps no copy of them after the call. The reply is in
 * `smtp_session_last_reply_code()` / `_text()`.
 *
 * # Safety
 * `s` is NULL or a live session; `user` and `password` are NULL or
 * NUL-terminated strings.
 */
int smtp_session_login(struct smtp_session *s,
                       const char *user,
                       const char *password,
                       unsigned int flags);

/**
 * Choose the mechanisms `smtp_session_login()` tries, in order: a
 * space-separated list of built-in names (CRAM-MD5, PLAIN, LOGIN,
 * SCRAM-SHA-256, XOAUTH2, OAUTHBEARER; for the last two the password is the
 * access token). NULL restores smtplib's "CRAM-MD5 PLAIN LOGIN". An unknown
 * name or an empty list is `SMTP_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * `s` is NULL or a live session; `mechanisms` is NULL or a NUL-terminated string.
 */
int smtp_session_set_auth_mechanisms(struct smtp_session *s, const char *mechanisms);

/**
 * smtplib's `auth` with the authobject as `callback` (see `smtp_sasl_fn`):
 * `AUTH mechanism` with the callback's initial response unless
 * `SMTP_AUTH_NO_INITIAL_RESPONSE` is set or it has none, then each 334
 * challenge answered by the callback. 235 or 503 is `SMTP_OK`; another
 * reply is `SMTP_ERR_AUTH`; a callback abort or a challenge that is not
 * valid base64 is `SMTP_ERR_AUTH_ABORTED` after cancelling with `*`; more
 * than 5 challenges is `SMTP_ERR_SMTP` after cancelling. A mechanism named
 * PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER follows the cleartext rule of
 * `smtp_session_login()`. Unlike `smtp_session_login()`, this does not
 * send EHLO first.
 *
 * # Safety
 * `s` is NULL or a live session; `mechanism` is NULL or a NUL-terminated
 * string; `callback` is a valid function and `userdata` whatever it expects.
 */
int smtp_session_auth(struct smtp_session *s,
                      const char *mechanism,
                      smtp_sasl_fn callback,
                      void *userdata,
                      unsigned int flags);

/**
 * `smtp_session_auth()` with the authobject as a `smtp_sasl_step_fn`,
 * which gives each response with `smtp_sasl_respond()` (of any length, no
 * buffer to size): the form for language bindings. Results as
 * `smtp_session_auth()`.
 *
 * # Safety
 * As `smtp_session_auth()`, with `step` in place of `callback`.
 */
int smtp_session_auth_step(struct smtp_session *s,
                           const char *mechanism,
                           smtp_sasl_step_fn step,
                           void *userdata,
                           unsigned int flags);

/**
 * One built-in mechanism alone (no fallback): `mechanism` is CRAM-MD5,
 * PLAIN, LOGIN, SCRAM-SHA-256, XOAUTH2 or OAUTHBEARER; `secret` is the
 * password, or the access token for XOAUTH2 and OAUTHBEARER. Results as
 * `smtp_session_auth()`. A refused OAuth token gives `SMTP_ERR_AUTH` with
 * the provider's JSON error in `smtp_session_errmsg()`; a SCRAM server that
 * cannot prove it knows the password gives `SMTP_ERR_AUTH`.
 *
 * # Safety
 * `s` is NULL or a live session; the strings are NULL or NUL-terminated.
 */
int smtp_session_auth_builtin(struct smtp_session *s,
                              const char *mechanism,
                              const char *user,
                              const char *secret,
                              unsigned int flags);

/**
 * Show AUTH payloads in the debug trace instead of `<redacted>` when `show`
 * is non-zero. For debugging against test servers only: the trace then
 * holds passwords and tokens.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_set_debug_secrets(struct smtp_session *s, int show);

/**
 * Whether a loopback peer (127.0.0.0/8, ::1) counts as protecting secrets
 * for the cleartext rule; default 1, as the bytes never leave the machine.
 * Set 0 when a loopback port may forward elsewhere (an SSH tunnel, a
 * proxy): then only TLS and Unix sockets count.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_set_trust_loopback(struct smtp_session *s, int trust);

/**
 * A builder with the defaults: trust the Mozilla roots (webpki-roots),
 * verify certificates and host names, TLS 1.2 minimum, no client
 * certificate. Never NULL; free with `smtp_tls_config_builder_free()`.
 */
struct smtp_tls_config_builder *smtp_tls_config_builder_new(void);

/**
 * Free a builder (NULL is a no-op). Configs built from it stay valid.
 *
 * # Safety
 * `b` is NULL or a builder not yet freed; it is not used afterwards.
 */
void smtp_tls_config_builder_free(struct smtp_tls_config_builder *b);

/**
 * What the builder's last call did ("no error" after success); owned by
 * the builder, valid until its next call. A static message for NULL.
 *
 * # Safety
 * `b` is NULL or a live builder.
 */
const char *smtp_tls_config_builder_errmsg(const struct smtp_tls_config_builder *b);

/**
 * Trust the CA certificates in the PEM file `path` as well (smtplib's
 * `cafile`). `SMTP_ERR_TLS` when it cannot be read or holds no certificate.
 *
 * # Safety
 * `b` is NULL or a live builder; `path` is NULL or a NUL-terminated string.
 */
int smtp_tls_config_builder_add_ca_file(struct smtp_tls_config_builder *b, const char *path);

/**
 * Trust every PEM certificate in the files of directory `path` as well
 * (smtplib's `capath`). `SMTP_ERR_TLS` when none is found.
 *
 * # Safety
 * As `smtp_tls_config_builder_add_ca_file()`.
 */
int smtp_tls_config_builder_add_ca_dir(struct smtp_tls_config_builder *b, const char *path);

/**
 * Trust the built-in Mozilla roots (1, the default) or not (0: with no
 * system store either, the added CAs replace them). Leaves the system
 * store as `smtp_tls_config_builder_set_roots()` set it.
 *
 * # Safety
 * `b` is NULL or a live builder.
 */
int smtp_tls_config_builder_set_default_roots(struct smtp_tls_config_builder *b, int use_defaults);

/**
 * Which built-in trust stores to trust beside the CAs added from files:
 * `SMTP_ROOTS_MOZILLA`, `SMTP_ROOTS_SYSTEM`, both (or'ed), or 0 (only the
 * added CAs). The default is `SMTP_ROOTS_MOZILLA`: the same roots on
 * every platform and in containers without a CA bundle.
 *
 * With `SMTP_ROOTS_SYSTEM` the system store is loaded by this call (not
 * again at build): after `SMTP_OK`, `smtp_tls_config_builder_errmsg()`
 * says how many certificates were loaded and from where, and names files
 * or certificates that failed (they are skipped). `SMTP_ERR_TLS` when not
 * one certificate could be loaded, with the reason; the builder is then
 * unchanged. Other bits are `SMTP_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * `b` is NULL or a live builder.
 */
int smtp_tls_config_builder_set_roots(struct smtp_tls_config_builder *b, unsigned int roots);

/**
 * Present a client certificate (smtplib's `certfile` and `keyfile`): the
 * PEM chain, leaf first, and its PEM private key (PKCS#8, PKCS#1 or SEC1).
 *
 * # Safety
 * `b` is NULL or a live builder; the paths are NULL or NUL-terminated.
 */
int smtp_tls_config_builder_set_client_cert(struct smtp_tls_config_builder *b,
                                            const char *chain_path,
                                            const char *key_path);

/**
 * Check the server's certificate against (and send as SNI) `name` instead
 * of the host given to connect. A name with non-ASCII labels (UTF-8) is
 * used as its A-labels ("b\xc3\xbccher.example" is
 * "xn--bcher-kva.example", UTS #46). `SMTP_ERR_INVALID_ARGUMENT` for
 * something that is neither a DNS name nor an IP address, or an
 * internationalized name UTS #46 refuses.
 *
 * # Safety
 * `b` is NULL or a live builder; `name` is NULL or NUL-terminated.
 */
int smtp_tls_config_builder_set_server_name(struct smtp_tls_config_builder *b, const char *name);

/**
 * DANGER: accept any server certificate, for any name. Anyone on the path
 * can then read and change the connection, passwords included. For test
 * setups only; every handshake with such a config says so in the trace.
 *
 * # Safety
 * `b` is NULL or a live builder.
 */
int smtp_tls_config_builder_dangerous_disable_verification(struct smtp_tls_config_builder *b);

/**
 * Build a config from the builder's settings into `*out` (the caller owns
 * it: `smtp_tls_config_free()`). The builder stays usable. `SMTP_ERR_TLS`
 * when the settings do not make a config (no trust anchor at all, a key
 * that does not fit the certificate); `*out` is then NULL.
 *
 * # Safety
 * `b` is NULL or a live builder; `out` is NULL or writable.
 */
int smtp_tls_config_builder_build(struct smtp_tls_config_builder *b, struct smtp_tls_config **out);

/**
 * Free a config (NULL is a no-op). Sessions that were given it keep
 * working: they hold their own reference.
 *
 * # Safety
 * `c` is NULL or a config not yet freed; it is not used afterwards.
 */
void smtp_tls_config_free(struct smtp_tls_config *c);

/**
 * The TLS configuration this session uses for SMTP_SSL connections and
 * for `smtp_session_starttls()` without one; NULL restores the default
 * (Mozilla roots, verification on). The session keeps its own reference.
 *
 * # Safety
 * `s` is NULL or a live session; `config` is NULL or a live config.
 */
int smtp_session_set_tls_config(struct smtp_session *s, const struct smtp_tls_config *config);

/**
 * smtplib's `starttls`: on a connection already encrypted,
 * `SMTP_ERR_BAD_STATE`; EHLO or HELO if needed; STARTTLS not advertised is
 * `SMTP_ERR_NOT_SUPPORTED`; a reply other than 220 is `SMTP_ERR_RESPONSE`
 * with its code in `*code`. Then the TLS handshake with `config` (NULL:
 * the session's, see `smtp_session_set_tls_config()`), checking the
 * certificate against the host given to connect. A server that sends
 * anything after its 220 and before the handshake is `SMTP_ERR_TLS` with
 * the connection closed (response injection); a failed handshake is
 * `SMTP_ERR_TLS` naming the check that failed, connection closed. After it
 * the session forgets helo_resp, ehlo_resp, the features and does_esmtp
 * (RFC 3207 4.2): EHLO again.
 *
 * # Safety
 * `s` is NULL or a live session; `config` is NULL or a live config; `code`
 * is NULL or writable.
 */
int smtp_session_starttls(struct smtp_session *s, const struct smtp_tls_config *config, int *code);

/**
 * With `on` non-zero, `smtp_session_sendmail()`, `smtp_session_login()` and
 * the auth calls refuse (`SMTP_ERR_NOT_ENCRYPTED`, nothing sent) unless the
 * connection is TLS: a server that does not offer STARTTLS cannot silently
 * downgrade the session (CVE-2016-0772).
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_set_require_tls(struct smtp_session *s, int on);

/**
 * 1 when the current connection is TLS, else 0.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_is_encrypted(const struct smtp_session *s);

/**
 * The TLS version of the current connection ("TLSv1.3", "TLSv1.2"), or
 * NULL when it is not TLS.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_tls_version(const struct smtp_session *s);

/**
 * The cipher suite of the current TLS connection (IANA name, such as
 * "TLS13_AES_256_GCM_SHA384"), or NULL when it is not TLS.
 *
 * The string is the session's: valid until the next call on the session
 * that is not a getter, or its free; never free() it.
 *
 * # Safety
 * `s` is NULL or a live session.
 */
const char *smtp_session_tls_cipher(const struct smtp_session *s);

/**
 * Connect through a proxy from the next `smtp_session_connect()` or
 * `smtp_session_open()` on; NULL or "" connects directly again. `url` is
 * one of
 * - `socks5://[user:password@]host[:port]`: SOCKS5 (RFC 1928), the mail
 *   host's name resolved here; user and password (RFC 1929) when given;
 * - `socks5h://...`: the same, the name resolved by the proxy;
 * - `http://[user:password@]host[:port]`: HTTP CONNECT, with Basic proxy
 *   credentials when given.
 *
 * The port defaults to 1080 for SOCKS5 and 8080 for HTTP; user and
 * password are percent-decoded (`%40` for `@`); an IPv6 address is written
 * in brackets. TLS (`SMTP_KIND_SMTP_SSL`, `smtp_session_starttls()`) runs
 * end to end through the proxy, checked against the mail host's name: the
 * proxy sees only ciphertext. The credentials never appear in the trace
 * or in an error message; HTTP's Basic scheme sends them to the proxy in
 * clear.
 *
 * The proxy handshake is part of connecting: reaching the proxy is bounded
 * by `SMTP_TIMEOUT_CONNECT` (per address), the handshake by
 * `SMTP_TIMEOUT_CONNECT` again, all of it by `SMTP_TIMEOUT_CALL`, and
 * `smtp_session_cancel()` ends it. `smtp_session_set_source_address()`
 * binds the connection to the proxy. A proxy that refuses (a SOCKS reply
 * code, an HTTP status) or answers in another protocol makes the connect
 * fail with `SMTP_ERR_CONNECT` and the reason in the errmsg; one that does
 * not answer, with `SMTP_ERR_TIMEOUT`. A Unix-domain socket path (a host
 * starting with `/`) cannot go through a proxy: `SMTP_ERR_INVALID_ARGUMENT`.
 *
 * Returns `SMTP_ERR_INVALID_ARGUMENT` for a URL with another scheme, no
 * host, a bad port, a bad %-escape, a path, spaces or control characters
 * (CR, LF); the setting is then unchanged.
 *
 * # Safety
 * `s` is NULL or a live session; `url` is NULL or a NUL-terminated string.
 */
int smtp_session_set_proxy(struct smtp_session *s, const char *url);

/**
 * Run the session over `fd`, a stream socket (TCP or Unix-domain) the
 * caller has connected, and read the greeting as `smtp_session_connect()`
 * does (its code to `*code`, NULL allowed); for `SMTP_KIND_SMTP_SSL` the
 * TLS handshake comes first. An open connection is closed first. The
 * session's proxy, if any, is not used.
 *
 * `host` is the server's name, which TLS checks the certificate against
 * (SMTP_SSL's handshake and a later `smtp_session_starttls()`); NULL is
 * allowed when there will be no TLS or the TLS configuration has a server
 * name (`smtp_tls_config_builder_set_server_name()`).
 *
 * Ownership: `fd` belongs to the library from the call on, whatever the
 * result. On any failure (NULL session included) it has been closed when
 * the function returns; on success it is closed by `smtp_session_close()`,
 * `smtp_session_free()`, the next connect, or an error that ends the
 * connection. The caller must not use or close it after the call. (An
 * `fd` that is not open at all is only refused.) The library makes it
 * non-blocking (and sets TCP_NODELAY on TCP).
 *
 * Errors: `SMTP_ERR_INVALID_ARGUMENT` when `fd` is not open, not a socket,
 * not a stream socket, not connected, or neither TCP nor Unix-domain; then
 * those of `smtp_session_connect()` and `SMTP_ERR_TLS`.
 *
 * # Safety
 * `s` is NULL or a live session; `fd` is a descriptor the caller owns and
 * gives up; `host` is NULL or a NUL-terminated string; `code` is NULL or
 * writable.
 */
int smtp_session_connect_fd(struct smtp_session *s, int fd, const char *host, int *code);

/**
 * smtplib's `send`: write `len` bytes from `data` to the server exactly as
 * they are (no CRLF is added and nothing is checked: the caller builds the
 * whole line, CRLF included) and read no reply. Anything the session had
 * queued goes first. The write is bounded by the I/O limit and the call
 * limit and ends at `smtp_session_cancel()`, as every call is; a reply that
 * arrives meanwhile is kept for `smtp_session_getreply()`. `len` 0 sends
 * nothing. The session's state is not changed: a command sent this way is
 * the caller's to follow up (read its reply with `smtp_session_getreply()`).
 * A line starting with "AUTH " is traced with its payload redacted; other
 * bytes are traced as sent (do not send secrets this way with tracing on).
 *
 * Errors: `SMTP_ERR_SERVER_DISCONNECTED` when not connected ("please run
 * connect() first") or when the server closed the connection,
 * `SMTP_ERR_TIMEOUT`, `SMTP_ERR_IO`, `SMTP_ERR_CANCELLED`; after any of
 * them the connection is closed (how much was written is unknown).
 *
 * # Safety
 * `s` is NULL or a live session; `data` is NULL (only when `len` is 0) or
 * valid for reading `len` bytes.
 */
int smtp_session_send(struct smtp_session *s, const void *data, size_t len);

/**
 * smtplib's `getreply`: read one reply from the server (after
 * `smtp_session_send()`, say), whatever its code: the code goes to `*code`
 * (NULL allowed; -1 when the server sent no number where the code belongs)
 * and the text to `smtp_session_last_reply_text()`. A reply already read
 * ahead is returned at once; otherwise the wait is bounded by the reply
 * limit (`SMTP_TIMEOUT_REPLY`), the I/O limit and the call limit, and ends
 * at `smtp_session_cancel()`. The session's state is not changed.
 *
 * Errors: `SMTP_ERR_SERVER_DISCONNECTED` when not connected or when the
 * server closed the connection ("Connection unexpectedly closed"),
 * `SMTP_ERR_RESPONSE` (500, a reply line over 8192 bytes), `SMTP_ERR_TIMEOUT`,
 * `SMTP_ERR_IO`, `SMTP_ERR_CANCELLED`; after any of them the connection is
 * closed.
 *
 * # Safety
 * `s` is NULL or a live session; `code` is NULL or writable.
 */
int smtp_session_getreply(struct smtp_session *s, int *code);

/**
 * The descriptor of the connection's socket, -1 when not connected (and
 * for NULL, and from inside one of the session's own callbacks). It stays
 * the session's: valid until the connection is closed (`smtp_session_close()`,
 * `smtp_session_quit()`, a failure, a new connect, the free); poll it,
 * read its address or set socket options, but do not read, write, close
 * or change its blocking mode (the session's driver owns the stream, and
 * on TLS the bytes on it are encrypted).
 *
 * # Safety
 * `s` is NULL or a live session.
 */
int smtp_session_fileno(const struct smtp_session *s);

/**
 * Make a pool of at most `max_connections` connections to `host` and
 * `port` (0: the kind's default; as `smtp_session_connect()`, `host` may
 * carry `:port`, and for LMTP be a Unix socket path), each opened like
 * `like` would open it: its kind, local hostname, source address, proxy,
 * TLS configuration, TLS requirement, auth mechanisms and loopback trust are
 * copied now; later changes to `like` do not reach the pool. Connections
 * open on demand. On success `*pool` owns the new pool (free it with
 * `smtp_pool_free()`); on failure `*pool` is NULL and the error is in
 * `like`'s `smtp_session_errmsg()`.
 *
 * A pool is safe to use from many threads at once. Each call on it runs
 * on the caller's own session (one per thread), which the pool lends a
 * connection for the call: see `smtp_pool_sendmail()`.
 *
 * # Safety
 * `like` is NULL or a live session; `host` is NULL or NUL-terminated;
 * `pool` is NULL or writable.
 */
int smtp_pool_new(struct smtp_session *like,
                  const char *host,
                  uint16_t port,
                  unsigned int max_connections,
                  struct smtp_pool **pool);

/**
 * Free a pool and close its idle connections (without QUIT: freeing never
 * waits on a server). No call may be running on it. NULL is ignored.
 *
 * # Safety
 * `pool` is NULL or came from `smtp_pool_new()` and is not used again.
 */
void smtp_pool_free(struct smtp_pool *pool);

/**
 * Set one of the pool's `SMTP_POOL_*` options (see each); allowed at any
 * time, from any thread, and applies to the calls that start after it.
 * An unknown option is `SMTP_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * `pool` is NULL or a live pool.
 */
int smtp_pool_set_option(struct smtp_pool *pool, int option, uint64_t value);

/**
 * A counter of the pool (`SMTP_POOL_STAT_*`); 0 for NULL or an unknown one.
 *
 * # Safety
 * `pool` is NULL or a live pool.
 */
uint64_t smtp_pool_stat(const struct smtp_pool *pool, int which);

/**
 * Authenticate every new connection with `smtp_session_login()`'s rules
 * (`flags` as there). The pool keeps a copy of the credentials, wiped
 * when replaced or when the pool is freed. NULL `user` removes them.
 *
 * # Safety
 * `pool` is NULL or a live pool; `user` and `password` are NULL or
 * NUL-terminated strings.
 */
int smtp_pool_set_login(struct smtp_pool *pool,
                        const char *user,
                        const char *password,
                        unsigned int flags);

/**
 * Authenticate every new connection with `smtp_session_auth()`'s rules:
 * `mechanism` with `callback` and `userdata`, `flags` as there. The
 * callback runs on the thread of the pool call that opens the connection,
 * on several threads at once when several open: it and `userdata` must be
 * thread-safe, and live until the pool is freed or the auth replaced. NULL
 * `callback` removes it.
 *
 * # Safety
 * `pool` is NULL or a live pool; `mechanism` is NULL or NUL-terminated;
 * `callback` is NULL or valid for the pool's lifetime with `userdata`.
 */
int smtp_pool_set_auth(struct smtp_pool *pool,
                       const char *mechanism,
                       smtp_sasl_fn callback,
                       void *userdata,
                       unsigned int flags);

/**
 * `smtp_pool_set_auth()` with a `smtp_sasl_step_fn` (see
 * `smtp_session_auth_step()`); the same rules.
 *
 * # Safety
 * As `smtp_pool_set_auth()`, with `step` in place of `callback`.
 */
int smtp_pool_set_auth_step(struct smtp_pool *pool,
                            const char *mechanism,
                            smtp_sasl_step_fn step,
                            void *userdata,
                            unsigned int flags);

/**
 * `smtp_session_sendmail()` through the pool: the pool lends `s` a
 * connection (an idle one, probed if it sat long; else a new one, opened
 * and authenticated; else it waits for one), runs the call on `s`, and
 * takes the connection back. `s` must be an unconnected session of the
 * pool's kind (LMTP or not), used by one thread at a time; a thread keeps
 * one for its pool calls. The call takes `s`'s timeouts (`SMTP_TIMEOUT_CALL`
 * bounds all of it, the wait for a connection included), its trace,
 * envelope (`smtp_session_set_envelope()`), pipelining and chunking
 * switches, and `smtp_session_cancel(s)` ends it; the results are read
 * from `s` exactly as after `smtp_session_sendmail()`.
 *
 * A connection that died before the message's data went out in full
 * (dropped, or closed after a 421) is replaced and the message sent again
 * on the new one, at most twice. Once the data went out in full it is
 * never sent again: if no reply decided it the result is
 * `SMTP_ERR_OUTCOME_UNKNOWN` (the cause in `smtp_session_errmsg(s)`). So
 * a message is delivered at most once by the pool, and reported sent only
 * when the server said so.
 *
 * # Safety
 * `pool` is NULL or a live pool; the rest as `smtp_session_sendmail()`.
 */
int smtp_pool_sendmail(struct smtp_pool *pool,
                       struct smtp_session *s,
                       const char *from,
                       const char *const *to,
                       size_t to_count,
                       const uint8_t *msg,
                       size_t len,
                       const char *const *mail_options,
                       size_t n_mail_options,
                       const char *const *rcpt_options,
                       size_t n_rcpt_options,
                       unsigned int flags,
                       int *rcpt_codes,
                       size_t *refused_count);

/**
 * `smtp_session_send_message()` through the pool, with the rules of
 * `smtp_pool_sendmail()`.
 *
 * # Safety
 * `pool` is NULL or a live pool; the rest as `smtp_session_send_message()`.
 */
int smtp_pool_send_message(struct smtp_pool *pool,
                           struct smtp_session *s,
                           const uint8_t *msg,
                           size_t len,
                           const char *from,
                           const char *const *to,
                           size_t n_to,
                           const char *const *mail_options,
                           size_t n_mail_options,
                           const char *const *rcpt_options,
                           size_t n_rcpt_options,
                           unsigned int flags,
                           size_t *refused_count);

/**
 * `smtp_session_sendmail_batch()` through the pool, with the rules of
 * `smtp_pool_sendmail()`: the messages go on one lent connection; those a
 * dying connection left unsent go again on a new one, and an item whose
 * data went out without a deciding reply gets `SMTP_ERR_OUTCOME_UNKNOWN`.
 *
 * # Safety
 * `pool` is NULL or a live pool; the rest as `smtp_session_sendmail_batch()`.
 */
int smtp_pool_sendmail_batch(struct smtp_pool *pool,
                             struct smtp_session *s,
                             struct smtp_batch_item *items,
                             size_t n);

/**
 * `smtp_session_send_composed()` through the pool, with the rules of
 * `smtp_pool_sendmail()`. Sent again on a new connection, the message is
 * written again: files are re-read, and a callback attachment without a
 * rewind callback makes that second attempt fail with
 * `SMTP_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * `pool` is NULL or a live pool; the rest as `smtp_session_send_composed()`.
 */
int smtp_pool_send_composed(struct smtp_pool *pool,
                            struct smtp_session *s,
                            struct smtp_message *m,
                            const char *const *mail_options,
                            size_t n_mail_options,
                            const char *const *rcpt_options,
                            size_t n_rcpt_options,
                            size_t *refused_count);

/**
 * A message with nothing set. Never NULL.
 */
struct smtp_message *smtp_message_new(void);

/**
 * Free a message (NULL is a no-op), with its copies of attachments in
 * memory. Callback attachments are not called.
 *
 * # Safety
 * `m` is NULL or a message not yet freed; it is not used afterwards.
 */
void smtp_message_free(struct smtp_message *m);

/**
 * What the message's last call did: "no error", or why it failed (which
 * field, which address, which file). Owned by the message, valid until
 * its next call or its free; a static message for NULL. Sending calls
 * report on the session instead (`smtp_session_errmsg()`).
 *
 * # Safety
 * `m` is NULL or a live message.
 */
const char *smtp_message_errmsg(const struct smtp_message *m);

/**
 * From (RFC 5322 3.6.2), replacing any before: a mailbox such as
 * `Zoë <zoe@example.com>` or `zoe@example.com`, or several separated by
 * commas. The display name may be any UTF-8 (written as encoded words
 * when not ASCII); a domain beyond ASCII is written as A-labels; a local
 * part beyond ASCII needs the server's SMTPUTF8 when sent (RFC 6531). The
 * first From is the envelope sender unless a Sender is set. Required.
 *
 * # Safety
 * `m` is NULL or a live message; `addr` is NULL or NUL-terminated.
 */
int smtp_message_set_from(struct smtp_message *m, const char *addr);

/**
 * Sender (one mailbox), the envelope sender when set; NULL removes it.
 *
 * # Safety
 * `m` is NULL or a live message; `addr` is NULL or NUL-terminated.
 */
int smtp_message_set_sender(struct smtp_message *m, const char *addr);

/**
 * Add To recipients: one mailbox or several separated by commas, as for
 * `smtp_message_set_from()`. To, Cc and Bcc together are the envelope's
 * recipients.
 *
 * # Safety
 * `m` is NULL or a live message; `addr` is NULL or NUL-terminated.
 */
int smtp_message_add_to(struct smtp_message *m, const char *addr);

/**
 * Add Cc recipients, as `smtp_message_add_to()`.
 *
 * # Safety
 * As `smtp_message_add_to()`.
 */
int smtp_message_add_cc(struct smtp_message *m, const char *addr);

/**
 * Add Bcc recipients: in the envelope only; no Bcc field is ever written.
 *
 * # Safety
 * As `smtp_message_add_to()`.
 */
int smtp_message_add_bcc(struct smtp_message *m, const char *addr);

/**
 * Add Reply-To mailboxes.
 *
 * # Safety
 * As `smtp_message_add_to()`.
 */
int smtp_message_add_reply_to(struct smtp_message *m, const char *addr);

/**
 * Subject: any UTF-8 text without CR, LF or NUL, folded and encoded as
 * needed.
 *
 * # Safety
 * `m` is NULL or a live message; `subject` is NULL or NUL-terminated.
 */
int smtp_message_set_subject(struct smtp_message *m, const char *subject);

/**
 * Date: `unix_time` seconds at `utc_offset_min` minutes east of UTC
 * (-1439 to 1439). When never set, the time of the first write in UTC.
 *
 * # Safety
 * `m` is NULL or a live message.
 */
int smtp_message_set_date(struct smtp_message *m, int64_t unix_time, int utc_offset_min);

/**
 * Message-ID: `id@domain`, with or without angle brackets. When never
 * set, 128 random bits at the From domain, made at the first write.
 *
 * # Safety
 * `m` is NULL or a live message; `id` is NULL or NUL-terminated.
 */
int smtp_message_set_message_id(struct smtp_message *m, const char *id);

/**
 * Add any other header field (In-Reply-To, References, List-Unsubscribe,
 * X-...), written after the builder's own fields in the order added; the
 * value is unstructured text, encoded when not ASCII and folded. The
 * fields the builder writes itself (From, To, Subject, Date, Message-ID,
 * MIME-Version, Content-*, DKIM-Signature...) are
 * `SMTP_ERR_INVALID_ARGUMENT`, as is a name outside printable ASCII or
 * with a colon, and CR, LF or NUL in the value.
 *
 * # Safety
 * `m` is NULL or a live message; `name` and `value` are NULL or
 * NUL-terminated.
 */
int smtp_message_add_header(struct smtp_message *m, const char *name, const char *value);

/**
 * The plain text part: `len` bytes of UTF-8 (a NUL-terminated string need
 * not be); NULL with 0 removes it. Line ends (LF, CR or CRLF) are written
 * as CRLF.
 *
 * # Safety
 * `m` is NULL or a live message; `text` is NULL or readable for `len` bytes.
 */
int smtp_message_set_text(struct smtp_message *m, const char *text, size_t len);

/**
 * The HTML part, as `smtp_message_set_text()`. With a text part too, the
 * two are alternatives (the reader shows one); inline parts
 * (`smtp_message_add_inline_memory()`) go with it.
 *
 * # Safety
 * `m` is NULL or a live message; `html` is NULL or readable for `len` bytes.
 */
int smtp_message_set_html(struct smtp_message *m, const char *html, size_t len);

/**
 * Attach `len` bytes from memory (copied now) as `filename` (NULL: none;
 * any UTF-8, written per RFC 2231 when not ASCII) of `content_type`
 * (`type/subtype`; NULL: guessed from the file name's extension, else
 * application/octet-stream). Written base64.
 *
 * # Safety
 * `m` is NULL or a live message; `data` is readable for `len` bytes
 * (NULL only with 0); `filename` and `content_type` are NULL or
 * NUL-terminated.
 */
int smtp_message_attach_memory(struct smtp_message *m,
                               const uint8_t *data,
                               size_t len,
                               const char *filename,
                               const char *content_type);

/**
 * Attach the file at `path`, opened and read a chunk at a time each time
 * the message is written or sent (never held whole in memory; a missing
 * file is reported then, before anything is sent). `filename` NULL: the
 * path's last component. `content_type` as `smtp_message_attach_memory()`.
 *
 * # Safety
 * `m` is NULL or a live message; `path` is NULL or NUL-terminated;
 * `filename` and `content_type` are NULL or NUL-terminated.
 */
int smtp_message_attach_file(struct smtp_message *m,
                             const char *path,
                             const char *filename,
                             const char *content_type);

/**
 * Attach what `read` supplies (`smtp_read_fn`: bytes into the buffer, 0 at
 * the end, negative to fail the write or send with `SMTP_ERR_IO`, which
 * closes a connection mid-message so that nothing partial is delivered),
 * read a chunk at a time while the message is written or sent. `rewind`
 * (NULL allowed) starts it again for a second write; without it, the part
 * can be written once (a second write or send is `SMTP_ERR_INVALID_ARGUMENT`,
 * before anything is written), and `smtp_message_set_dkim()` (two passes) is
 * refused at the write with `SMTP_ERR_INVALID_ARGUMENT`. Its size being
 * unknown, no SIZE= is announced for the message. `filename` and
 * `content_type` as `smtp_message_attach_memory()`.
 *
 * # Safety
 * `m` is NULL or a live message; `read` (and `rewind` when not NULL) stay
 * callable with `userdata` until the message is freed, on the thread
 * using the message; `filename` and `content_type` are NULL or
 * NUL-terminated.
 */
int smtp_message_attach_callback(struct smtp_message *m,
                                 smtp_read_fn read,
                                 smtp_rewind_fn rewind,
                                 void *userdata,
                                 const char *filename,
                                 const char *content_type);

/**
 * Add an inline part from memory (copied now), for the HTML part to show
 * as `cid:<content_id>` (RFC 2392): `content_id` printable ASCII, angle
 * brackets optional, unique in the message. Written with the HTML in
 * multipart/related (RFC 2387); without an HTML part, beside the
 * attachments. `content_type` NULL: application/octet-stream.
 *
 * # Safety
 * `m` is NULL or a live message; `data` is readable for `len` bytes (NULL
 * only with 0); `content_id` and `content_type` are NULL or NUL-terminated.
 */
int smtp_message_add_inline_memory(struct smtp_message *m,
                                   const uint8_t *data,
                                   size_t len,
                                   const char *content_id,
                                   const char *content_type);

/**
 * Add an inline part read from the file at `path` when written, as
 * `smtp_message_add_inline_memory()` and `smtp_message_attach_file()`
 * (`content_type` NULL: guessed from the path's extension).
 *
 * # Safety
 * `m` is NULL or a live message; `path`, `content_id` and `content_type`
 * are NULL or NUL-terminated.
 */
int smtp_message_add_inline_file(struct smtp_message *m,
                                 const char *path,
                                 const char *content_id,
                                 const char *content_type);

/**
 * Sign every write and send of the message with DKIM, with a copy of
 * `signer`'s settings as they are now; NULL stops signing. A signer with
 * no key, domain or selector is `SMTP_ERR_INVALID_ARGUMENT`. Signing reads
 * the parts twice (the body hash, then the bytes): files are opened
 * again, callback parts need a rewind callback.
 *
 * # Safety
 * `m` is NULL or a live message; `signer` is NULL or a live signer.
 */
int smtp_message_set_dkim(struct smtp_message *m, const struct smtp_dkim *signer);

/**
 * Write the whole message to `write` in pieces (at most 64 KiB each),
 * attachments read as it goes: what a send would send, DKIM signature
 * included. Makes Date and Message-ID when not set. Fails with
 * `SMTP_ERR_INVALID_ARGUMENT` with no From, `SMTP_ERR_IO` when a part
 * cannot be read or `write` returns non-zero.
 *
 * # Safety
 * `m` is NULL or a live message; `write` is NULL or a valid function and
 * `userdata` whatever it expects.
 */
int smtp_message_write(struct smtp_message *m, smtp_write_fn write, void *userdata);

/**
 * Write the whole message into memory the message owns: `*data` and
 * `*len` are set to it, valid until the message's next call or its free
 * (NULL and 0 on failure). For small messages and for bindings; large
 * ones stream better through `smtp_message_write()` or the send calls.
 *
 * # Safety
 * `m` is NULL or a live message; `data` and `len` are writable.
 */
int smtp_message_bytes(struct smtp_message *m, const uint8_t **data, size_t *len);

/**
 * Send the message as `smtp_session_send_message()` sends a raw one:
 * EHLO or HELO if needed; the envelope sender is the Sender, else the
 * first From; the recipients every To, Cc and Bcc; SMTPUTF8 and
 * BODY=8BITMIME when an address needs them (the server's SMTPUTF8
 * missing is `SMTP_ERR_NOT_SUPPORTED`, nothing sent); SIZE= the exact size
 * when every part's is known. The message streams as the connection takes
 * it: an attachment is read a chunk at a time, never held whole. A part
 * that fails mid-message (unreadable file, failing callback) is
 * `SMTP_ERR_IO` and closes the connection, so that nothing partial is
 * delivered. Results, per-recipient accessors and `*refused_count` (NULL
 * allowed) as `smtp_session_sendmail()`; message errors are on the session
 * (`smtp_session_errmsg()`).
 *
 * # Safety
 * `s` is NULL or a live session; `m` is NULL or a live message; each
 * options array is NULL (only with a count of 0) or holds that many
 * strings; `refused_count` is NULL or writable.
 */
int smtp_session_send_composed(struct smtp_session *s,
                               struct smtp_message *m,
                               const char *const *mail_options,
                               size_t n_mail_options,
                               const char *const *rcpt_options,
                               size_t n_rcpt_options,
                               size_t *refused_count);

/**
 * A signer with nothing set: relaxed/relaxed, the default header list.
 * Never NULL.
 */
struct smtp_dkim *smtp_dkim_new(void);

/**
 * Free a signer (NULL is a no-op); its key is wiped by ring as it goes.
 *
 * # Safety
 * `d` is NULL or a signer not yet freed; it is not used afterwards.
 */
void smtp_dkim_free(struct smtp_dkim *d);

/**
 * What the signer's last call did: "no error", or why it failed. Owned by
 * the signer, valid until its next call or its free; a static message for
 * NULL. Never contains the key.
 *
 * # Safety
 * `d` is NULL or a live signer.
 */
const char *smtp_dkim_errmsg(const struct smtp_dkim *d);

/**
 * The private key, PEM text of `len` bytes: `BEGIN RSA PRIVATE KEY`
 * (PKCS#1) or `BEGIN PRIVATE KEY` (PKCS#8, RSA or Ed25519), unencrypted.
 * The algorithm follows the key. Anything else is
 * `SMTP_ERR_INVALID_ARGUMENT` (an RSA key under 2048 bits too). The text is
 * not kept.
 *
 * # Safety
 * `d` is NULL or a live signer; `pem` is readable for `len` bytes.
 */
int smtp_dkim_set_key_pem(struct smtp_dkim *d, const uint8_t *pem, size_t len);

/**
 * The signing domain, d= (an A-label form is made of an IDN).
 *
 * # Safety
 * `d` is NULL or a live signer; `domain` is NULL or NUL-terminated.
 */
int smtp_dkim_set_domain(struct smtp_dkim *d, const char *domain);

/**
 * The selector, s=: the key is published at `<selector>._domainkey.<domain>`.
 *
 * # Safety
 * `d` is NULL or a live signer; `selector` is NULL or NUL-terminated.
 */
int smtp_dkim_set_selector(struct smtp_dkim *d, const char *selector);

/**
 * The header fields to sign (h=), `n` names, case ignored; From is always
 * signed. Every instance present is signed, from the bottom up. `n` 0
 * restores the default: RFC 6376 5.4.1's list (From, Sender, Reply-To,
 * Subject, Date, To, Cc, the Resent-, List- and threading fields) plus
 * Message-ID and the MIME fields.
 *
 * # Safety
 * `d` is NULL or a live signer; `names` is NULL (only with `n` 0) or holds
 * `n` strings.
 */
int smtp_dkim_set_headers(struct smtp_dkim *d, const char *const *names, size_t n);

/**
 * Header and body canonicalization: `SMTP_DKIM_SIMPLE` or
 * `SMTP_DKIM_RELAXED` each.
 *
 * # Safety
 * `d` is NULL or a live signer.
 */
int smtp_dkim_set_canonicalization(struct smtp_dkim *d, int header, int body);

/**
 * Sign a raw message of `len` bytes: `*field` is set to the
 * `DKIM-Signature:` field, folded and ending in CRLF, to put before the
 * message's first line. Line ends are taken as `SMTP_MSG_NORMALIZE` sends
 * them (a lone LF or CR is a line end); send the signed message so, and
 * unchanged, or it no longer verifies (Bcc is not signed by default, so
 * `smtp_session_send_message()` may drop it). `*field` is owned by the
 * signer, valid until its next call or its free; NULL on failure.
 *
 * # Safety
 * `d` is NULL or a live signer; `msg` is readable for `len` bytes; `field`
 * is writable.
 */
int smtp_dkim_sign(struct smtp_dkim *d, const uint8_t *msg, size_t len, const char **field);

/**
 * The DNS TXT record that publishes the key (`v=DKIM1; k=rsa; p=...`), to
 * put at `<selector>._domainkey.<domain>`. `*record` is owned by the signer,
 * valid until its next call or its free; NULL on failure (no key yet).
 *
 * # Safety
 * `d` is NULL or a live signer; `record` is writable.
 */
int smtp_dkim_dns_record(struct smtp_dkim *d, const char **record);

#ifdef __cplusplus
}  /* extern "C" */
#endif  /* __cplusplus */

#endif  /* SMTP_H */
