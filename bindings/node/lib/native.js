'use strict';
/*
 * Finding libsmtp and declaring its functions to koffi (include/smtp.h).
 *
 * The library is looked for, in order: the copy bundled in the npm package
 * (native/ beside lib/, put there by dist.sh), the LIBSMTP_PATH environment
 * variable (a file), `pkg-config --variable=libdir smtp` (so
 * PKG_CONFIG_PATH is honoured) plus the library's file name, then the
 * SONAME through the dynamic loader's search path.
 *
 * Every declaration below names its C function once, in its prototype;
 * boundNames() lists them for the coverage test (test/coverage.test.js),
 * which compares them with the header.
 */

const koffi = require('koffi');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const BUNDLED_DIR = path.join(__dirname, '..', 'native');

function libraryFileNames() {
  if (process.platform === 'darwin') return { dev: 'libsmtp.dylib', soname: 'libsmtp.0.dylib' };
  if (process.platform === 'win32') return { dev: 'smtp.dll', soname: 'smtp.dll' };
  return { dev: 'libsmtp.so', soname: 'libsmtp.so.0' };
}

/** Where the library will be looked for, in order (see the top of this file). */
function libraryCandidates() {
  const names = libraryFileNames();
  const out = [];
  const bundled = path.join(BUNDLED_DIR, names.soname);
  if (fs.existsSync(bundled)) out.push(bundled);
  const env = process.env.LIBSMTP_PATH;
  if (env) out.push(env);
  try {
    const libdir = execFileSync('pkg-config', ['--variable=libdir', 'smtp'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000,
    }).trim();
    const file = libdir && path.join(libdir, names.dev);
    if (file && fs.existsSync(file)) out.push(file);
  } catch (_) {
    // no pkg-config, or no smtp.pc on its path: the dynamic loader's turn
  }
  out.push(names.soname);
  return out;
}

function typeOnce(name, make) {
  try {
    return koffi.type(name);
  } catch (_) {
    return make();
  }
}

let L = null; // the loaded functions, by short name
let libPath = null;
const bound = []; // the C names declared

/** The declarations, by the short name used in this binding. */
function declare(lib) {
  for (const name of ['smtp_session', 'smtp_tls_config', 'smtp_tls_config_builder', 'smtp_envelope',
    'smtp_pool', 'smtp_sasl_exchange', 'smtp_dkim']) {
    typeOnce(name, () => koffi.opaque(name));
  }
  typeOnce('smtp_rcpt_info', () => koffi.struct('smtp_rcpt_info', {
    addr: 'const char *', refused: 'int', code: 'int', text: 'const char *', status: 'const char *',
    data_code: 'int', data_text: 'const char *', data_status: 'const char *',
    final_code: 'int', final_text: 'const char *', final_status: 'const char *',
  }));
  typeOnce('smtp_batch_item', () => koffi.struct('smtp_batch_item', {
    from: 'const char *', to: 'const char **', to_count: 'size_t', msg: 'const uint8_t *', len: 'size_t',
    flags: 'unsigned int', result: 'int', refused_count: 'size_t', rcpt_codes: 'int *',
  }));
  const StepFn = typeOnce('smtp_sasl_step_fn', () => koffi.proto(
    'int smtp_sasl_step_fn(void *userdata, const uint8_t *challenge, size_t challenge_len, smtp_sasl_exchange *x)'));
  const TraceFn = typeOnce('smtp_trace_fn', () => koffi.proto(
    'void smtp_trace_fn(void *userdata, int direction, const char *line, size_t len)'));
  const ReadFn = typeOnce('smtp_read_fn', () => koffi.proto(
    'intptr_t smtp_read_fn(void *userdata, uint8_t *buf, size_t cap)'));

  const out = { StepFnPtr: koffi.pointer(StepFn), TraceFnPtr: koffi.pointer(TraceFn), ReadFnPtr: koffi.pointer(ReadFn) };
  const S = 'smtp_session *s';
  const CS = 'const smtp_session *s';
  const CODE = '_Out_ int *code';
  const STRS = (n) => `const char **${n}, size_t n_${n}`;
  const B = 'smtp_tls_config_builder *b';
  const E = 'smtp_envelope *e';
  const SENDMAIL_TAIL = `${STRS('mail_options')}, ${STRS('rcpt_options')}, unsigned int flags, ` +
    'int *rcpt_codes, _Out_ size_t *refused_count';
  const SEND_MESSAGE = 'const uint8_t *msg, size_t len, const char *from, const char **to, size_t n_to, ' +
    `${STRS('mail_options')}, ${STRS('rcpt_options')}, unsigned int flags, _Out_ size_t *refused_count`;
  const protos = {
    // results and version
    result_str: 'const char *smtp_result_str(int code)',
    result_name: 'const char *smtp_result_name(int code)',
    result_exception: 'const char *smtp_result_exception(int code)',
    result_has_reply: 'int smtp_result_has_reply(int code)',
    result_count: 'size_t smtp_result_count(void)',
    result_code_at: 'int smtp_result_code_at(size_t i)',
    lib_version: 'const char *smtp_lib_version(void)',
    lib_version_number: 'uint32_t smtp_lib_version_number(void)',
    // the session's lifecycle and settings
    new: 'smtp_session *smtp_session_new(int kind)',
    free: 'void smtp_session_free(smtp_session *s)',
    set_local_hostname: `int smtp_session_set_local_hostname(${S}, const char *name)`,
    set_timeout_ms: `int smtp_session_set_timeout_ms(${S}, int which, uint32_t ms)`,
    timeout_ms: `int64_t smtp_session_timeout_ms(${CS}, int which)`,
    set_source_address: `int smtp_session_set_source_address(${S}, const char *host, uint16_t port)`,
    set_debuglevel: `int smtp_session_set_debuglevel(${S}, int level)`,
    set_trace: `int smtp_session_set_trace(${S}, smtp_trace_fn *callback, void *userdata)`,
    connect: `int smtp_session_connect(${S}, const char *host, uint16_t port, ${CODE})`,
    open: `int smtp_session_open(${S}, const char *host, uint16_t port, ${CODE})`,
    cancel: `int smtp_session_cancel(${CS})`,
    close: `int smtp_session_close(${S})`,
    // getters
    errmsg: `const char *smtp_session_errmsg(${CS})`,
    last_reply_code: `int smtp_session_last_reply_code(${CS})`,
    last_reply_text: `const char *smtp_session_last_reply_text(${CS})`,
    is_connected: `int smtp_session_is_connected(${CS})`,
    utf8_commands: `int smtp_session_utf8_commands(${CS})`,
    does_esmtp: `int smtp_session_does_esmtp(${CS})`,
    ehlo_resp: `const char *smtp_session_ehlo_resp(${CS})`,
    helo_resp: `const char *smtp_session_helo_resp(${CS})`,
    has_extn: `int smtp_session_has_extn(${CS}, const char *name)`,
    feature_count: `size_t smtp_session_feature_count(${CS})`,
    feature_name: `const char *smtp_session_feature_name(${CS}, size_t index)`,
    feature_params: `const char *smtp_session_feature_params(${CS}, size_t index)`,
    feature: `const char *smtp_session_feature(${CS}, const char *name)`,
    rcpt_count: `size_t smtp_session_rcpt_count(${CS})`,
    rcpt_info: `int smtp_session_rcpt_info(${CS}, size_t index, _Out_ smtp_rcpt_info *out)`,
    sender: `const char *smtp_session_sender(${CS})`,
    // commands
    helo: `int smtp_session_helo(${S}, const char *name, ${CODE})`,
    ehlo: `int smtp_session_ehlo(${S}, const char *name, ${CODE})`,
    ehlo_or_helo_if_needed: `int smtp_session_ehlo_or_helo_if_needed(${S})`,
    docmd: `int smtp_session_docmd(${S}, const char *cmd, const char *args, ${CODE})`,
    noop: `int smtp_session_noop(${S}, ${CODE})`,
    rset: `int smtp_session_rset(${S}, ${CODE})`,
    help: `int smtp_session_help(${S}, const char *args, ${CODE})`,
    verify: `int smtp_session_verify(${S}, const char *address, ${CODE})`,
    expn: `int smtp_session_expn(${S}, const char *address, ${CODE})`,
    mail: `int smtp_session_mail(${S}, const char *sender, ${STRS('options')}, ${CODE})`,
    rcpt: `int smtp_session_rcpt(${S}, const char *recipient, ${STRS('options')}, ${CODE})`,
    data: `int smtp_session_data(${S}, const uint8_t *msg, size_t len, unsigned int flags, ${CODE})`,
    sendmail: `int smtp_session_sendmail(${S}, const char *from, const char **to, size_t to_count, ` +
      `const uint8_t *msg, size_t len, ${SENDMAIL_TAIL})`,
    quit: `int smtp_session_quit(${S}, ${CODE})`,
    set_pipelining: `int smtp_session_set_pipelining(${S}, int on)`,
    set_chunking: `int smtp_session_set_chunking(${S}, int on)`,
    // The read function goes as void *: sendmailStreamSync passes a
    // registered JS callback; userdata is unused (0).
    sendmail_stream: `int smtp_session_sendmail_stream(${S}, const char *from, const char **to, size_t to_count, ` +
      `void *read, intptr_t userdata, int64_t size_hint, ${SENDMAIL_TAIL})`,
    // sendmailStream: the message from the read end of a socket pair that
    // the event loop writes (stream.js).
    sendmail_fd: `int smtp_session_sendmail_fd(${S}, const char *from, const char **to, size_t to_count, ` +
      `int fd, int64_t size_hint, ${SENDMAIL_TAIL})`,
    sendmail_batch: `int smtp_session_sendmail_batch(${S}, _Inout_ smtp_batch_item *items, size_t n)`,
    // messages and envelopes
    envelope_new: 'smtp_envelope *smtp_envelope_new(void)',
    envelope_errmsg: 'const char *smtp_envelope_errmsg(const smtp_envelope *e)',
    envelope_free: `void smtp_envelope_free(${E})`,
    envelope_set_dsn_ret: `int smtp_envelope_set_dsn_ret(${E}, int ret)`,
    envelope_set_dsn_envid: `int smtp_envelope_set_dsn_envid(${E}, const char *envid)`,
    envelope_set_dsn_notify: `int smtp_envelope_set_dsn_notify(${E}, unsigned int notify)`,
    envelope_set_rcpt_dsn: `int smtp_envelope_set_rcpt_dsn(${E}, const char *rcpt, unsigned int notify, const char *orcpt)`,
    envelope_set_smtputf8: `int smtp_envelope_set_smtputf8(${E}, int on)`,
    envelope_set_body: `int smtp_envelope_set_body(${E}, int body)`,
    envelope_set_requiretls: `int smtp_envelope_set_requiretls(${E}, int on)`,
    envelope_set_mt_priority: `int smtp_envelope_set_mt_priority(${E}, int priority)`,
    envelope_set_deliver_by: `int smtp_envelope_set_deliver_by(${E}, int64_t seconds, int notify, int trace)`,
    set_envelope: `int smtp_session_set_envelope(${S}, const smtp_envelope *envelope)`,
    send_message: `int smtp_session_send_message(${S}, ${SEND_MESSAGE})`,
    // authentication
    sasl_respond: 'int smtp_sasl_respond(smtp_sasl_exchange *x, const uint8_t *response, size_t len)',
    login: `int smtp_session_login(${S}, const char *user, const char *password, unsigned int flags)`,
    set_auth_mechanisms: `int smtp_session_set_auth_mechanisms(${S}, const char *mechanisms)`,
    auth_step: `int smtp_session_auth_step(${S}, const char *mechanism, smtp_sasl_step_fn *step, void *userdata, ` +
      'unsigned int flags)',
    auth_builtin: `int smtp_session_auth_builtin(${S}, const char *mechanism, const char *user, const char *secret, ` +
      'unsigned int flags)',
    set_debug_secrets: `int smtp_session_set_debug_secrets(${S}, int show)`,
    set_trust_loopback: `int smtp_session_set_trust_loopback(${S}, int trust)`,
    // TLS
    tls_builder_new: 'smtp_tls_config_builder *smtp_tls_config_builder_new(void)',
    tls_builder_free: `void smtp_tls_config_builder_free(${B})`,
    tls_builder_errmsg: 'const char *smtp_tls_config_builder_errmsg(const smtp_tls_config_builder *b)',
    tls_builder_add_ca_file: `int smtp_tls_config_builder_add_ca_file(${B}, const char *path)`,
    tls_builder_add_ca_dir: `int smtp_tls_config_builder_add_ca_dir(${B}, const char *path)`,
    tls_builder_set_default_roots: `int smtp_tls_config_builder_set_default_roots(${B}, int use)`,
    tls_builder_set_roots: `int smtp_tls_config_builder_set_roots(${B}, unsigned int roots)`,
    tls_builder_set_client_cert: `int smtp_tls_config_builder_set_client_cert(${B}, const char *chain_path, ` +
      'const char *key_path)',
    tls_builder_set_server_name: `int smtp_tls_config_builder_set_server_name(${B}, const char *name)`,
    tls_builder_disable_verification: `int smtp_tls_config_builder_dangerous_disable_verification(${B})`,
    tls_builder_build: `int smtp_tls_config_builder_build(${B}, _Out_ smtp_tls_config **out)`,
    tls_config_free: 'void smtp_tls_config_free(smtp_tls_config *c)',
    set_tls_config: `int smtp_session_set_tls_config(${S}, const smtp_tls_config *config)`,
    starttls: `int smtp_session_starttls(${S}, const smtp_tls_config *config, ${CODE})`,
    set_require_tls: `int smtp_session_set_require_tls(${S}, int on)`,
    is_encrypted: `int smtp_session_is_encrypted(${CS})`,
    tls_version: `const char *smtp_session_tls_version(${CS})`,
    tls_cipher: `const char *smtp_session_tls_cipher(${CS})`,
    // proxies, raw commands and the socket
    set_proxy: `int smtp_session_set_proxy(${S}, const char *url)`,
    connect_fd: `int smtp_session_connect_fd(${S}, int fd, const char *host, ${CODE})`,
    send: `int smtp_session_send(${S}, const uint8_t *data, size_t len)`,
    getreply: `int smtp_session_getreply(${S}, ${CODE})`,
    fileno: `int smtp_session_fileno(${CS})`,
    // the pool
    pool_new: `int smtp_pool_new(${S}, const char *host, uint16_t port, unsigned int max_connections, ` +
      '_Out_ smtp_pool **pool)',
    pool_free: 'void smtp_pool_free(smtp_pool *pool)',
    pool_set_option: 'int smtp_pool_set_option(smtp_pool *pool, int option, uint64_t value)',
    pool_stat: 'uint64_t smtp_pool_stat(const smtp_pool *pool, int which)',
    pool_set_login: 'int smtp_pool_set_login(smtp_pool *pool, const char *user, const char *password, unsigned int flags)',
    pool_set_auth_step: 'int smtp_pool_set_auth_step(smtp_pool *pool, const char *mechanism, smtp_sasl_step_fn *step, ' +
      'void *userdata, unsigned int flags)',
    pool_sendmail: `int smtp_pool_sendmail(smtp_pool *pool, ${S}, const char *from, const char **to, size_t to_count, ` +
      `const uint8_t *msg, size_t len, ${SENDMAIL_TAIL})`,
    pool_send_message: `int smtp_pool_send_message(smtp_pool *pool, ${S}, ${SEND_MESSAGE})`,
    pool_sendmail_batch: `int smtp_pool_sendmail_batch(smtp_pool *pool, ${S}, _Inout_ smtp_batch_item *items, size_t n)`,
    // DKIM signing of raw messages (dkim.js); the field and the record come
    // back as strings, copied before the signer's next call.
    dkim_new: 'smtp_dkim *smtp_dkim_new(void)',
    dkim_free: 'void smtp_dkim_free(smtp_dkim *d)',
    dkim_errmsg: 'const char *smtp_dkim_errmsg(const smtp_dkim *d)',
    dkim_set_key_pem: 'int smtp_dkim_set_key_pem(smtp_dkim *d, const uint8_t *pem, size_t len)',
    dkim_set_domain: 'int smtp_dkim_set_domain(smtp_dkim *d, const char *domain)',
    dkim_set_selector: 'int smtp_dkim_set_selector(smtp_dkim *d, const char *selector)',
    dkim_set_headers: 'int smtp_dkim_set_headers(smtp_dkim *d, const char **names, size_t n)',
    dkim_set_canonicalization: 'int smtp_dkim_set_canonicalization(smtp_dkim *d, int header, int body)',
    dkim_sign: 'int smtp_dkim_sign(smtp_dkim *d, const uint8_t *msg, size_t len, _Out_ const char **field)',
    dkim_dns_record: 'int smtp_dkim_dns_record(smtp_dkim *d, _Out_ const char **record)',
  };
  bound.length = 0;
  for (const [short, proto] of Object.entries(protos)) {
    out[short] = lib.func(proto);
    bound.push(/\b(smtp_[a-z0-9_]+)\(/.exec(proto)[1]);
  }
  return out;
}

/** The loaded library's functions (loads it on first use). */
function load() {
  if (L) return L;
  const tried = [];
  let lib = null;
  for (const candidate of libraryCandidates()) {
    try {
      lib = koffi.load(candidate);
      libPath = candidate;
      break;
    } catch (e) {
      tried.push(`${candidate}: ${e.message}`);
    }
  }
  if (!lib) {
    throw new Error('libsmtp: cannot load the library (set LIBSMTP_PATH, or PKG_CONFIG_PATH to ' +
      'the directory of smtp.pc); tried:\n  ' + tried.join('\n  '));
  }
  L = declare(lib);
  return L;
}

/** The path the library was loaded from. */
function loadedPath() { load(); return libPath; }

/** The C functions this binding declares (for the coverage test). */
function boundNames() { load(); return [...bound]; }

module.exports = { koffi, load, loadedPath, boundNames, libraryCandidates, BUNDLED_DIR };
