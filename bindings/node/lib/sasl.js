'use strict';
/*
 * smtplib's authobject as a smtp_sasl_step_fn (smtp_session_auth_step(),
 * smtp_pool_set_auth_step()): called with null for the initial response,
 * then with each challenge as a Buffer; its response (a string, UTF-8, or
 * bytes) goes to the library through smtp_sasl_respond(), of any length.
 * It must return synchronously. Called on the main thread: directly in a
 * synchronous call, queued there by koffi from the worker thread in an
 * asynchronous one.
 */

const { load, koffi } = require('./native');

const { DEFINES } = require('./constants');

const SASL_CONTINUE = DEFINES.SMTP_SASL_CONTINUE;
const SASL_NO_INITIAL_RESPONSE = DEFINES.SMTP_SASL_NO_INITIAL_RESPONSE;
const SASL_ABORT = 0; // the library sends "*" (SMTP_ERR_AUTH_ABORTED)

/**
 * Register `authobject` as a step callback. `state.error` receives the
 * first exception it throws (the exchange is then cancelled). The caller
 * unregisters the returned pointer with koffi.unregister().
 */
function registerStep(authobject, state) {
  if (typeof authobject !== 'function') throw new TypeError('authobject must be a function');
  const L = load();
  return koffi.register((userdata, challenge, challengeLen, x) => {
    try {
      const initial = challenge === null;
      const n = Number(challengeLen);
      const arg = initial ? null : Buffer.from(n ? new Uint8Array(koffi.view(challenge, n)) : []);
      const out = authobject(arg);
      if (out === null || out === undefined) {
        if (initial) return SASL_NO_INITIAL_RESPONSE;
        throw new TypeError('the SASL authobject returned no response to a challenge');
      }
      let bytes;
      if (typeof out === 'string') bytes = Buffer.from(out, 'utf8');
      else if (out instanceof Uint8Array) bytes = out;
      else throw new TypeError('the SASL authobject must return a string, a Buffer or null');
      const rc = L.sasl_respond(x, bytes.length ? bytes : null, bytes.length);
      if (typeof out === 'string') bytes.fill(0); // our copy of the secret
      if (rc !== 0) throw new RangeError(`the SASL response was refused: ${L.result_str(rc)}`);
      return SASL_CONTINUE;
    } catch (e) {
      if (state.error === undefined) state.error = e;
      return SASL_ABORT;
    }
  }, L.StepFnPtr);
}

module.exports = { registerStep };
