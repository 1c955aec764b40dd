'use strict';
/*
 * DkimSigner: DKIM signatures for raw messages (smtp_dkim_*; RFC 6376
 * rsa-sha256, RFC 8463 ed25519-sha256). Node users build messages with
 * their own composer (nodemailer's, or strings), so the library's builder
 * (smtp_message_*) is not bound; its signer is, for what they send.
 *
 * Signing is CPU-only: sign() runs on the calling thread; signAsync() on a
 * koffi worker (libuv's thread pool), for large messages or 4096-bit keys.
 * The C signer is one thread at a time, so while an asynchronous sign runs
 * the others queue behind it and a synchronous call throws SMTPStateError.
 */

const { load } = require('./native');
const { makeError, stateError, invalid } = require('./errors');
const { cstr, strArray, cArray, toBytes } = require('./args');
const { DKIM_CANON } = require('./constants');

const registry = new FinalizationRegistry((box) => {
  if (box.ptr !== null) load().dkim_free(box.ptr);
  box.ptr = null;
});

/**
 * [header, body] as SMTP_DKIM_* from 'relaxed/simple', 'relaxed' or
 * ['relaxed', 'simple']. One name alone is the header's, the body's being
 * simple, as in the c= tag (RFC 6376 3.5).
 */
function canonPair(value) {
  let names;
  if (typeof value === 'string') names = value.split('/');
  else if (Array.isArray(value) && value.length === 2) names = value;
  else throw new TypeError("canonicalization must be 'header/body' (e.g. 'relaxed/relaxed') or [header, body]");
  if (names.length === 1) names.push('simple');
  if (names.length !== 2) throw invalid(`canonicalization: ${value} is not 'header/body'`);
  return names.map((n) => {
    const c = typeof n === 'string' ? DKIM_CANON[n.trim().toLowerCase()] : undefined;
    if (c === undefined) throw invalid(`canonicalization: ${String(n)} is not 'simple' or 'relaxed'`);
    return c;
  });
}

/**
 * The message with every lone CR and lone LF made CRLF, as
 * SMTP_MSG_NORMALIZE sends it and as the signer reads it: the signed
 * message then verifies however it is sent (a Buffer goes raw by default).
 */
function crlf(bytes) {
  const s = bytes.toString('latin1'); // one char per byte: binary-safe
  if (!/\r(?!\n)|(?<!\r)\n/.test(s)) return bytes;
  return Buffer.from(s.replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}

/** The signed message: the field (koffi's decoding of the C string), then the message. */
function withField(field, bytes) {
  return Buffer.concat([Buffer.from(field, 'utf8'), bytes]);
}

class DkimSigner {
  #box; // {ptr}: what the FinalizationRegistry frees
  #running = 0; // asynchronous signs started or queued
  #tail = Promise.resolve(); // the last queued asynchronous sign
  #closing = false; // free() came while asynchronous signs ran

  /**
   * @param {object} options key (PEM text: PKCS#1 or PKCS#8 RSA of 2048
   *   bits or more, or PKCS#8 Ed25519; a string or bytes), domain (d=),
   *   selector (s=), headers (the fields to sign, From always; default
   *   RFC 6376 5.4.1's list plus Message-ID and the MIME fields),
   *   canonicalization ('relaxed/relaxed' by default).
   */
  constructor(options) {
    if (options === null || typeof options !== 'object') throw new TypeError('DkimSigner options must be an object');
    const L = load();
    const { key, domain, selector, headers, canonicalization } = options;
    if (key === undefined || key === null) throw invalid('DkimSigner: no key (PEM text)');
    const { bytes: pem, text } = toBytes(key, 'key');
    const d = L.dkim_new();
    this.#box = { ptr: d };
    registry.register(this, this.#box, this);
    try {
      const check = (rc) => {
        if (rc !== 0) throw makeError(rc, `DKIM: ${L.dkim_errmsg(d)}`);
      };
      check(L.dkim_set_key_pem(d, pem, pem.length));
      check(L.dkim_set_domain(d, cstr(domain, 'domain')));
      check(L.dkim_set_selector(d, cstr(selector, 'selector')));
      if (headers !== undefined && headers !== null) check(L.dkim_set_headers(d, ...cArray(strArray(headers, 'headers'))));
      if (canonicalization !== undefined && canonicalization !== null) {
        check(L.dkim_set_canonicalization(d, ...canonPair(canonicalization)));
      }
    } catch (e) {
      this.free();
      throw e;
    } finally {
      if (text) pem.fill(0); // our copy of the key's text; the caller's bytes are theirs
    }
    /** The signing domain (d=). */
    this.domain = domain;
    /** The selector (s=): the key is published at <selector>._domainkey.<domain>. */
    this.selector = selector;
  }

  /** The signer's pointer for a call now; throws once freed or while an asynchronous sign runs. */
  #enter() {
    if (this.#box.ptr === null || this.#closing) throw stateError('the DKIM signer was freed');
    if (this.#running) throw stateError('the DKIM signer is in use: an asynchronous sign runs on it (await it first)');
    return this.#box.ptr;
  }

  #fail(rc) {
    return makeError(rc, `DKIM: ${load().dkim_errmsg(this.#box.ptr)}`);
  }

  /**
   * The DKIM-Signature field (folded, ending in CRLF) for `message` (a
   * string or bytes), to put before its first line. Lone CRs and LFs are
   * read as line ends: send the message with lineEndings 'normalize', or
   * use sign(), which gives the message with CRLFs.
   */
  signatureField(message) {
    const p = this.#enter();
    const { bytes } = toBytes(message, 'message');
    const field = [null];
    const rc = load().dkim_sign(p, bytes, bytes.length, field);
    if (rc !== 0) throw this.#fail(rc);
    return field[0];
  }

  /**
   * The signed message: its DKIM-Signature field, then `message` (a string
   * or bytes) with CRLF line ends (lone CRs and LFs made CRLF, as they are
   * read when signing), as a Buffer to send as it is.
   */
  sign(message) {
    const bytes = crlf(toBytes(message, 'message').bytes);
    return withField(this.signatureField(bytes), bytes);
  }

  /** sign() on a worker thread: a Promise of the signed message. Signs queue, one at a time. */
  signAsync(message) {
    let bytes;
    try {
      if (this.#box.ptr === null || this.#closing) throw stateError('the DKIM signer was freed');
      bytes = crlf(toBytes(message, 'message').bytes);
    } catch (e) {
      return Promise.reject(e);
    }
    this.#running++;
    const run = () => new Promise((resolve, reject) => {
      const p = this.#box.ptr;
      const field = [null];
      // The callback holds `this` (and `bytes`): neither is collected while
      // the worker uses them.
      load().dkim_sign.async(p, bytes, bytes.length, field, (err, rc) => {
        if (err) reject(err);
        else if (rc !== 0) reject(this.#fail(rc));
        else resolve(withField(field[0], bytes));
      });
    });
    const result = this.#tail.then(run);
    this.#tail = result.then(() => this.#settled(), () => this.#settled());
    return result;
  }

  #settled() {
    this.#running--;
    if (this.#running === 0 && this.#closing) {
      this.#closing = false;
      this.free();
    }
  }

  /**
   * The DNS TXT record publishing the key ('v=DKIM1; k=rsa; p=...'), to
   * put at <selector>._domainkey.<domain>.
   */
  dnsRecord() {
    const p = this.#enter();
    const record = [null];
    const rc = load().dkim_dns_record(p, record);
    if (rc !== 0) throw this.#fail(rc);
    return record[0];
  }

  /** Whether free() was called. */
  get freed() { return this.#box.ptr === null || this.#closing; }

  /** Free the signer (its key wiped), at once, or once the asynchronous signs queued are over. Idempotent. */
  free() {
    if (this.#box.ptr === null) return;
    if (this.#running) {
      this.#closing = true;
      return;
    }
    load().dkim_free(this.#box.ptr);
    this.#box.ptr = null;
    registry.unregister(this);
  }
}

// `using signer = new DkimSigner(...)` where the runtime has Symbol.dispose (Node 20+).
if (typeof Symbol.dispose === 'symbol') {
  DkimSigner.prototype[Symbol.dispose] = function dispose() { this.free(); };
}

module.exports = { DkimSigner };
