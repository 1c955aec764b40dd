'use strict';
/*
 * sendmailBatch(): smtp_session_sendmail_batch() and
 * smtp_pool_sendmail_batch(). The items become smtp_batch_item structs
 * (koffi copies them in and, the parameter being _Inout_, the results
 * back); each item's rcpt_codes is memory of its own (koffi.alloc), read
 * after the call and freed.
 */

const { load, koffi } = require('./native');
const { makeError } = require('./errors');
const { cstr, strArray, messageArgs, setKey } = require('./args');
const { rcptResults } = require('./transaction');

/** The C items for `messages` ([{from, to, msg, lineEndings}]) and the memory to free after. */
function batchItems(messages) {
  if (!Array.isArray(messages)) throw new TypeError('messages must be an array of {from, to, msg}');
  const items = messages.map((m, i) => {
    if (m === null || typeof m !== 'object') throw new TypeError(`messages[${i}] must be an object {from, to, msg}`);
    const to = strArray(m.to, `messages[${i}].to`);
    const { bytes, flags } = messageArgs(m.msg, m.lineEndings);
    return {
      from: cstr(m.from, `messages[${i}].from`), to: to.length ? to : null, to_count: to.length,
      msg: bytes, len: bytes.length, flags, result: 0, refused_count: 0, rcpt_codes: null,
    };
  });
  // Allocated once every item was checked: nothing to free on a TypeError.
  for (const it of items) it.rcpt_codes = it.to_count ? koffi.alloc('int', it.to_count) : null;
  // The fields as given: koffi's copy back after the call replaces the
  // array's objects with new ones, `to` and `rcpt_codes` as pointers.
  return items.map((it) => ({ item: it, to: it.to || [], codes: it.rcpt_codes }));
}

function freeItems(batch) {
  for (const b of batch) {
    if (b.codes !== null) koffi.free(b.codes);
    b.codes = null;
  }
}

/**
 * Each message's outcome: {ok, error, refusedCount, rcptCodes, refused}
 * (refused: {addr: {code, message}} from the codes; the library keeps the
 * reply texts of the last message only, so the others have message '').
 */
function batchResults(p, items, batch) {
  const L = load();
  const lastDetails = batch.length ? rcptResults(p) : [];
  return batch.map(({ to, codes: mem }, idx) => {
    const it = items[idx]; // koffi's copy back puts new objects in the array
    const codes = mem === null ? [] : Array.from(koffi.decode(mem, 'int', to.length));
    const refused = {};
    codes.forEach((code, i) => {
      if (code !== 0 && code !== 250 && code !== 251) setKey(refused, to[i], { code, message: '' });
    });
    if (idx === batch.length - 1) {
      for (const r of lastDetails) if (r.refused) setKey(refused, r.addr, { code: r.finalCode, message: r.finalMessage });
    }
    return {
      ok: it.result === 0,
      error: it.result === 0 ? null : makeError(it.result, L.result_str(it.result), { recipients: refused }),
      refusedCount: Number(it.refused_count),
      rcptCodes: codes,
      refused,
    };
  });
}

/** The job for a batch: `fn` with `head(p)` then the items. Resolves to the per-message results. */
function batchJob(core, fn, head, messages, signal) {
  const batch = batchItems(messages);
  const items = batch.map((b) => b.item);
  return {
    fn,
    signal,
    args: (p) => [...head(p), items.length ? items : null, items.length],
    finish(p, rc) {
      if (rc !== 0 && !items.some((it) => it.result !== 0)) core.check(p, rc); // refused before any message went
      return batchResults(p, items, batch);
    },
    cleanup() { freeItems(batch); },
  };
}

module.exports = { batchJob };
