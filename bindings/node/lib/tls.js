'use strict';
// TLS configurations (smtp_tls_config_builder_*, smtp_tls_config_free).

const { load } = require('./native');
const { makeError, stateError, invalid } = require('./errors');
const { cstr, strArray } = require('./args');

const { ROOTS } = require('./constants');

const registry = new FinalizationRegistry((box) => {
  if (box.ptr !== null) load().tls_config_free(box.ptr);
  box.ptr = null;
});

/** 'mozilla', 'system', 'none' or an array of the first two, as SMTP_ROOTS_* bits. */
function rootBits(roots) {
  if (roots === 'none') return 0;
  let bits = 0;
  for (const name of strArray(roots, 'roots')) {
    if (!Object.prototype.hasOwnProperty.call(ROOTS, name)) {
      throw invalid(`roots: unknown trust store ${name} ('mozilla', 'system' or 'none')`);
    }
    bits |= ROOTS[name];
  }
  return bits;
}

/**
 * A built TLS configuration (smtplib's SSLContext), immutable and shareable
 * between sessions and pools. Options: caFile and caDir (a path or an array
 * of paths), roots ('mozilla' (the default), 'system', both as an array, or
 * 'none': which built-in trust stores to trust beside caFile/caDir),
 * defaultRoots (false: not the Mozilla roots), certFile and keyFile (a
 * client certificate chain and its key, PEM), serverName (checked instead
 * of the host given to connect), and dangerouslyDisableVerification (test
 * setups only).
 */
class TlsConfig {
  #box;

  constructor(options = {}) {
    const L = load();
    if (options === null || typeof options !== 'object') throw new TypeError('TLS options must be an object');
    const b = L.tls_builder_new();
    try {
      const check = (rc) => {
        if (rc !== 0) throw makeError(rc, `TLS configuration: ${L.tls_builder_errmsg(b)}`);
      };
      /** What loading the system store said (how many certificates, from where), or null. */
      this.rootsInfo = null;
      for (const file of strArray(options.caFile, 'caFile')) check(L.tls_builder_add_ca_file(b, file));
      for (const dir of strArray(options.caDir, 'caDir')) check(L.tls_builder_add_ca_dir(b, dir));
      if (options.roots !== undefined && options.roots !== null) {
        const bits = rootBits(options.roots);
        check(L.tls_builder_set_roots(b, bits));
        if (bits & ROOTS.system) this.rootsInfo = L.tls_builder_errmsg(b);
      }
      if (options.defaultRoots !== undefined) check(L.tls_builder_set_default_roots(b, options.defaultRoots ? 1 : 0));
      if (options.certFile !== undefined || options.keyFile !== undefined) {
        const cert = cstr(options.certFile, 'certFile');
        const key = options.keyFile === undefined ? cert : cstr(options.keyFile, 'keyFile');
        check(L.tls_builder_set_client_cert(b, cert, key));
      }
      if (options.serverName !== undefined) check(L.tls_builder_set_server_name(b, cstr(options.serverName, 'serverName')));
      if (options.dangerouslyDisableVerification) check(L.tls_builder_disable_verification(b));
      const out = [null];
      check(L.tls_builder_build(b, out));
      this.#box = { ptr: out[0] };
    } finally {
      L.tls_builder_free(b);
    }
    registry.register(this, this.#box, this);
  }

  /** @internal the config's pointer; throws once freed. */
  get _ptr() {
    if (this.#box.ptr === null) throw stateError('the TLS configuration was freed');
    return this.#box.ptr;
  }

  /** Free it now (sessions and pools given it keep their own reference). Idempotent. */
  free() {
    if (this.#box.ptr !== null) {
      load().tls_config_free(this.#box.ptr);
      this.#box.ptr = null;
      registry.unregister(this);
    }
  }
}

/** Run `f(config pointer or null)` with a TlsConfig, one built from options for the call, or null. */
function withTls(tls, f) {
  if (tls === undefined || tls === null) return f(null);
  if (tls instanceof TlsConfig) return f(tls._ptr);
  const temp = new TlsConfig(tls);
  try {
    return f(temp._ptr);
  } finally {
    temp.free();
  }
}

module.exports = { TlsConfig, withTls };
