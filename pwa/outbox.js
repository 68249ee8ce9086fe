// The outbox: every signed event waits here until the server has acknowledged it and the
// acknowledgement has been checked against the signed log (EVIDENCE.md §3, §4; docs/sync.md).
// No DOM (STYLE.md habit 9): screens read status() and listen to `changes`.
//
// - Events enter only through record() (or appendEvent with keepInOutbox()): the row is written
//   in the same IndexedDB transaction as the chain head, so a signed event is always queued.
// - sync() sends queued rows in device/seq order, ≤ BATCH per request, one request at a time
//   (a Web Lock across tabs). Nothing is deleted: a row becomes 'verified' only after an
//   accepted/duplicate ack whose inclusion proof checks against a signed checkpoint that is
//   consistent with the last one held; it then stays as the phone's receipt.
// - Media first: sync() runs media.js uploadPending() before sending events, so photos and
//   signature images are stored (and held by this user) before the events naming them arrive
//   (docs/sync.md "Media before the events").
// - Retryable rejections (chain.gap, media.not_uploaded) and failed requests leave rows queued;
//   that device waits for the rest of the run. Any other rejection is final: the row keeps its
//   code as 'rejected' (shown, never dropped) and the device's later unacknowledged events are
//   re-signed onto the chain without it (docs/sync.md "Recovering from a rejection").
// - Triggers: start() syncs now, on `online`, and after failures with exponential backoff and
//   jitter (capped). navigator.onLine is never taken as a success: only an answer is.
// - After a run, reportBacklog() tells the server how many of the signed-in user's device's
//   events are still unverified here, per visit (docs/visits.md "Team view"): not awaited by
//   sync(), one request at most, failures ignored — it never delays or breaks a sync.

import { api, ApiError } from './api.js';
import {
  appendEvent, canonicalEvidence, canonicalize, eventHash, parseEvent, signEnvelope,
} from './chain.js';
import { chain as heads, keys, meta, outbox as rows } from './db.js';
import { uploadPending } from './media.js';
import {
  fromBase64, fromHex, leafHash, LogError, parseCheckpoint, verifyConsistency, verifyInclusion,
  verifyNote,
} from './logproof.js';
import { lock } from './locks.js';

export const BATCH = 200; // docs/sync.md allows 500; 200 keeps one answer small on a slow link
export const RETRYABLE = new Set(['chain.gap', 'media.not_uploaded']);
export const BACKOFF = { baseMs: 2_000, capMs: 5 * 60_000 };
const MAX_ROUNDS = 100; // requests per sync() run; each round must make progress anyway
const STATES = ['queued', 'uploading', 'verified', 'rejected'];

/** Fires 'change' after every stored change (a UI re-reads status()). */
export const changes = new EventTarget();
const changed = () => changes.dispatchEvent(new Event('change'));

class OutboxError extends Error {
  constructor(code, reason) { super(`${code}: ${reason}`); this.name = 'OutboxError'; this.code = code; }
}

// --- enqueueing -------------------------------------------------------------------------------
/** The outbox row of a just-signed event (chain.js appendEvent's `signed`). */
export function queuedRow(device, signed) {
  const env = JSON.parse(signed.envelope);
  return {
    id: signed.id, device, seq: signed.seq, hash: signed.hash, envelope: signed.envelope,
    sig: signed.sig, visit: env.visit, type: env.type, state: 'queued', created_at: Date.now(),
  };
}

/** appendEvent's `keep` hook: the row is saved with the chain head, or neither is. */
export const keepInOutbox = (device) => (signed) => [['outbox', queuedRow(device, signed)]];

/** Sign the next event of the key's device and queue it (one transaction). */
export async function record(key, fields) {
  const signed = await appendEvent(key, fields, keepInOutbox(key.device_id));
  changed();
  return signed;
}

// Writes of this page under way, from a check-in's wait for its position to the stored row
// (fieldwork.act): the sync bar counts them and the record screen waits for them. `begun`
// counts every write started, so a screen can tell one began after it read the events.
export let writes = 0, begun = 0;
/** Run `work` counted in `writes`; 'change' fires when it starts and when it ends. */
export async function during(work) {
  writes++; begun++; changed();
  try { return await work(); } finally { writes--; changed(); }
}

// --- status -----------------------------------------------------------------------------------
/** {queued, uploading, verified, rejected, last_sync_ms, last_ok_ms, last_error, failures,
 * next_retry_ms, checkpoint: {size, root, signature} | null} — for the UI. */
export async function status() {
  const { counts, meta: held } = await rows.countStates(STATES, ['outbox_status', 'checkpoint']);
  const st = held.outbox_status ?? {};
  const cp = held.checkpoint;
  return {
    ...counts,
    last_sync_ms: st.last_sync_ms ?? null,
    last_ok_ms: st.last_ok_ms ?? null,
    last_error: st.last_error ?? null,
    failures: st.failures ?? 0,
    next_retry_ms: nextRetry,
    checkpoint: cp ? { size: cp.size, root: cp.root, signature: cp.signature } : null,
  };
}

/** Rows rejected for good, with their codes, to show the user. */
export const rejected = () => rows.inState('rejected');

// --- sync -------------------------------------------------------------------------------------
let running = null;

/** Upload pending media, then send what is queued. Resolves {sent, verified, duplicate,
 * rejected, waiting (devices), error: code|null, reached (a request was answered),
 * media: uploadPending()'s answer};
 * network, server and log failures are answered (and remembered for status()), not thrown. */
export function sync() {
  running ??= lock('onevisit-outbox', run).finally(() => { running = null; });
  return running;
}

async function run() {
  const out = { sent: 0, verified: 0, duplicate: 0, rejected: 0, waiting: [], error: null, reached: false };
  // Events go even when some media could not: those not naming them are accepted, the others
  // answer media.not_uploaded and wait for a later run.
  out.media = await uploadPending();
  // A request cut by a crash or a closed tab left rows 'uploading': they go again (a stored
  // one answers `duplicate`, so the resend is safe).
  const stuck = await rows.inState('uploading');
  if (stuck.length) await rows.putAll(stuck.map((r) => ({ ...r, state: 'queued' })));
  const waiting = new Set(); // devices whose chain waits on a retryable rejection
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const batch = (await rows.inState('queued')).filter((r) => !waiting.has(r.device)).slice(0, BATCH);
      if (!batch.length) break;
      await rows.putAll(batch.map((r) => ({ ...r, state: 'uploading' })));
      changed();
      let answer;
      try {
        answer = await post(batch);
        out.reached = true;
      } finally {
        // Whatever happens next, nothing stays 'uploading'; apply() overwrites what it settles.
        await rows.putAll(batch.map((r) => ({ ...r, state: 'queued' })));
      }
      out.sent += batch.length;
      const progress = await apply(batch, answer, waiting, out);
      changed();
      if (!progress) break;
    }
  } catch (err) {
    if (!(err instanceof ApiError || err instanceof LogError || err instanceof OutboxError)) throw err;
    out.error = err.code;
  }
  out.waiting = [...waiting];
  await settle(out);
  lastReport = reportBacklog(out).catch(() => false); // not awaited: never delays the sync
  return out;
}

async function post(batch) {
  const json = { events: batch.map((r) => ({ envelope: r.envelope, sig: r.sig })) };
  try {
    return await api('/api/sync', { method: 'POST', json });
  } catch (err) {
    // After an offline start the page never read its CSRF token: /api/auth/me gives it.
    if (!(err instanceof ApiError) || err.code !== 'auth.csrf') throw err;
    await api('/api/auth/me');
    return api('/api/sync', { method: 'POST', json });
  }
}

/** Apply one answer. Returns how many rows were settled (verified, rejected or re-signed). */
async function apply(batch, answer, waiting, out) {
  const acks = answer?.acks;
  if (!Array.isArray(acks) || acks.length !== batch.length) {
    throw new OutboxError('sync.bad_answer', 'one acknowledgement per event expected');
  }
  // A checkpoint that fails its signature or consistency check makes no receipt valid:
  // throwing here leaves every row queued, and the resend will be answered `duplicate`.
  const cp = answer.checkpoint ? await acceptCheckpoint(answer.checkpoint) : null;
  const updates = [];
  const finals = new Map(); // device → its lowest newly rejected row
  const gaps = new Map(); // device → lowest expected_seq of its chain.gap acks
  const dead = new Map(); // device → its rows rejected for good in this answer
  const now = Date.now();
  let settled = 0;
  let proofCp = cp; // duplicates may need a newer checkpoint than the batch's (or none came)
  for (const [i, row] of batch.entries()) {
    const ack = acks[i];
    if (ack.status === 'accepted' || ack.status === 'duplicate') {
      if (ack.id !== row.id || (ack.hash !== undefined && ack.hash !== row.hash)) {
        throw new OutboxError('sync.bad_answer', `ack ${i} names another event`);
      }
      let receipt;
      if (ack.status === 'accepted') {
        receipt = await acceptedReceipt(row, ack, cp);
      } else {
        if (!Number.isSafeInteger(ack.log_index)) throw new OutboxError('sync.bad_answer', 'no log_index');
        if (!(proofCp?.size > ack.log_index)) proofCp = await latestCheckpoint();
        receipt = await storedReceipt(row, ack.log_index, proofCp);
        out.duplicate += 1;
      }
      updates.push({ ...row, ...receipt, state: 'verified', code: undefined, synced_at: now });
      out.verified += 1;
      settled += 1;
    } else if (RETRYABLE.has(ack.code)) {
      updates.push({ ...row, state: 'queued', code: ack.code, details: ack.details ?? {} });
      if (ack.code === 'chain.gap') {
        const exp = ack.details?.expected_seq;
        if (Number.isSafeInteger(exp)) gaps.set(row.device, Math.min(gaps.get(row.device) ?? exp, exp));
      } else {
        waiting.add(row.device);
      }
    } else {
      const bad = { ...row, state: 'rejected', code: ack.code ?? 'sync.rejected', reason: ack.reason ?? '',
        details: ack.details ?? {}, rejected_at: now };
      updates.push(bad);
      out.rejected += 1;
      settled += 1;
      dead.set(row.device, [...(dead.get(row.device) ?? []), bad]);
      if (!finals.has(row.device) || finals.get(row.device).seq > row.seq) finals.set(row.device, bad);
    }
  }
  await rows.putAll(updates);
  const resigned = new Set();
  for (const [device, bad] of finals) {
    if (await resign(device, bad, dead.get(device))) resigned.add(device);
  }
  // chain.gap naming a seq we no longer queue: the event there was rejected for good in an
  // earlier run (and the re-signing did not happen, e.g. the tab closed) — repair now.
  for (const [device, expected] of gaps) {
    if (resigned.has(device) || waiting.has(device)) continue;
    const live = await rows.inState('queued');
    if (live.some((r) => r.device === device && r.seq === expected)) {
      waiting.add(device); // the event at `expected` itself waits (or went in another request)
      continue;
    }
    const gone = (await rows.inState('rejected')).find((r) => r.device === device && r.seq === expected);
    if (gone && (await resign(device, gone, [gone]))) settled += 1;
    else waiting.add(device);
  }
  return settled;
}

// --- receipts ---------------------------------------------------------------------------------
/** An accepted ack: our leaf is {h, r, s} (EVIDENCE.md §4), proven against the batch checkpoint. */
async function acceptedReceipt(row, ack, cp) {
  const inc = ack.inclusion;
  if (!cp || !inc || inc.size !== cp.size || inc.index !== ack.log_index) {
    throw new OutboxError('proof.missing', `no inclusion proof against the checkpoint for ${row.id}`);
  }
  const input = canonicalize({ h: row.hash, r: ack.received_ms, s: row.sig });
  await checkInclusion(await leafHash(input), inc, cp);
  return { log_index: ack.log_index, received_ms: ack.received_ms, inclusion: inc };
}

/** A duplicate ack (or a lost answer): read our leaf from the log, check it is ours, prove it. */
async function storedReceipt(row, index, checkpoint) {
  const { entries } = await api(`/log/entries?start=${index}&end=${index + 1}`);
  const input = fromBase64(entries?.[0] ?? '');
  const leaf = input && JSON.parse(new TextDecoder().decode(input));
  if (!leaf || leaf.h !== row.hash || leaf.s !== row.sig) {
    throw new LogError('proof.inclusion_invalid', `log entry ${index} is not event ${row.id}`);
  }
  const proof = await api(`/log/proof/inclusion?index=${index}&size=${checkpoint.size}`);
  const inc = { index, size: checkpoint.size, path: proof.path };
  await checkInclusion(await leafHash(input), inc, checkpoint);
  return { log_index: index, received_ms: leaf.r, inclusion: inc };
}

async function checkInclusion(leaf, inc, cp) {
  const path = (inc.path ?? []).map(fromHex);
  if (path.some((p) => !p)) throw new LogError('proof.inclusion_invalid', 'path is not hex');
  await verifyInclusion({ leafHash: leaf, index: inc.index, size: inc.size, path, root: fromBase64(cp.root) });
}

// --- checkpoints ------------------------------------------------------------------------------
async function text(path) {
  let res;
  try {
    res = await fetch(path, { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, { code: 'network.unreachable' });
  }
  if (!res.ok) throw new ApiError(res.status, { code: `http.${res.status}` });
  return res.text();
}

/** The log's verifier key, pinned on first use: a server that later shows another key cannot
 * make the phone accept its checkpoints (docs/sync.md asks outside verifiers to pin it too). */
async function logKey() {
  const pinned = await meta.get('log_key');
  if (pinned) return pinned;
  const vkey = await text('/log/key');
  await meta.set('log_key', vkey);
  return vkey;
}

const latestCheckpoint = async () => acceptCheckpoint({ note: await text('/log/checkpoint') });

/** Verify a checkpoint ({note, size?, root?}) and that the log only grew since the one held
 * (RFC 9162 §2.1.4.2 via /log/proof/consistency); keep it if it is newer. Returns
 * {origin, size, root (base64), signature}. */
export async function acceptCheckpoint({ note, size, root }) {
  const { text: body, signature } = await verifyNote(note, await logKey());
  const cp = parseCheckpoint(body);
  if ((size !== undefined && size !== cp.size) || (root !== undefined && root !== cp.rootB64)) {
    throw new LogError('checkpoint.invalid', 'size or root differ from the signed note');
  }
  const held = await meta.get('checkpoint');
  if (held) {
    const bad = (reason) => { throw new LogError('log.inconsistent', reason); };
    if (held.origin !== cp.origin) bad(`origin ${cp.origin} is not ${held.origin}`);
    if (cp.size < held.size) bad(`size ${cp.size} is below the held ${held.size}`);
    const heldRoot = fromBase64(held.root);
    if (held.size > 0 && cp.size > held.size) {
      const proof = await api(`/log/proof/consistency?from=${held.size}&to=${cp.size}`);
      const path = (proof.path ?? []).map(fromHex);
      if (path.some((p) => !p)) bad('consistency path is not hex');
      try {
        await verifyConsistency({ size1: held.size, size2: cp.size, root1: heldRoot, root2: cp.root, path });
      } catch (err) {
        bad(err.message);
      }
    } else if (cp.size === held.size && held.root !== cp.rootB64) {
      bad('same size, another root');
    }
  }
  const kept = { origin: cp.origin, size: cp.size, root: cp.rootB64, note, signature,
    checked_from: held?.size ?? null, seen_at: Date.now() };
  if (!held || cp.size > held.size) await meta.set('checkpoint', kept);
  return kept;
}

// --- re-signing after a final rejection (docs/sync.md "Recovering from a rejection") -----------
/** Take `bad` out of its device's chain: its queued successors are re-signed with the same ids
 * from bad.seq on, linked to the event before it (bad's prev), and the head moves with them in
 * one transaction. Safe because none of them was stored (each got chain.gap or was never sent).
 * `deadRows`: the device's rows rejected in the same answer (the head may be one of them).
 * Returns false (nothing written) if the head is not where the rows say: a tab is writing. */
async function resign(device, bad, deadRows) {
  return lock(`onevisit-chain:${device}`, async () => {
    const key = await keys.get(device);
    const after = (await rows.inState('queued')).filter((r) => r.device === device && r.seq > bad.seq);
    const head = await heads.head(device);
    // The head is the device's newest event: a queued one, or one just rejected.
    const last = [...after, ...deadRows].reduce((a, b) => (b.seq > a.seq ? b : a), bad);
    if (!key || !head || head.seq !== last.seq || head.hash !== last.hash) return false;
    let prev = { seq: bad.seq - 1, hash: JSON.parse(bad.envelope).prev };
    const rewritten = [];
    for (const row of after) {
      const env = { ...JSON.parse(row.envelope), seq: prev.seq + 1, prev: prev.hash };
      const bytes = canonicalEvidence(env);
      parseEvent(bytes);
      const hash = await eventHash(bytes);
      const sig = await signEnvelope(key.privateKey, bytes);
      rewritten.push(['outbox', { ...row, seq: env.seq, hash, sig, envelope: new TextDecoder().decode(bytes),
        state: 'queued', code: undefined, details: undefined, resigned_from: row.resigned_from ?? row.seq }]);
      prev = { seq: env.seq, hash };
    }
    // Back to seq 0 (all zeros) when the very first event was rejected: the next is seq 1 again.
    return heads.advance(head, { device, seq: prev.seq, hash: prev.hash }, rewritten);
  });
}

// --- backlog report (docs/visits.md "Team view") ----------------------------------------------
// Operational state for the group's leader, not evidence: the latest report replaces the last.
let lastReport = Promise.resolve(false);
/** The last run's report: resolves true if one was delivered, false if none was (tests). */
export const reported = () => lastReport;

/** After a run, POST /api/devices/{device}/status {pending, visits, rejected, last_ok_ms} for
 * the signed-in user's device key on this phone (only its owner may). Sent when the run reached
 * the server, or when the last report was not delivered or no longer holds — so a report lost
 * to a dead zone is made good by the next run even if that run had nothing to send. */
async function reportBacklog(out) {
  if (!out.reached && out.error === 'network.unreachable') return false;
  const me = await meta.get('last_user');
  const key = me?.id ? (await keys.all()).find((k) => k.registered && k.user_id === me.id) : null;
  if (!key) return false;
  const device = key.device_id;
  const mine = (state) => rows.inState(state).then((list) => list.filter((r) => r.device === device));
  const pending = [...(await mine('queued')), ...(await mine('uploading'))];
  const visits = {};
  for (const r of pending) if (r.visit) visits[r.visit] = (visits[r.visit] ?? 0) + 1;
  const st = (await meta.get('outbox_status')) ?? {};
  const body = { pending: pending.length, visits, rejected: (await mine('rejected')).length,
    last_ok_ms: st.last_ok_ms ?? null };
  const last = await meta.get('backlog_report');
  // last_ok_ms moves with every clean run, even one that sent nothing: compare the counts only
  const counts = (b) => JSON.stringify([b.pending, b.visits, b.rejected]);
  const same = last?.device === device && counts(last.body) === counts(body);
  if (!out.reached && same && last.delivered) return false;
  let delivered = false;
  try {
    await api(`/api/devices/${device}/status`, { method: 'POST', json: body });
    delivered = true;
  } catch {
    // ignored: the next run reports again
  }
  await meta.set('backlog_report', { device, body, delivered, at: Date.now() });
  return delivered;
}

// --- triggers and backoff ---------------------------------------------------------------------
let started = false;
let timer = null;
let nextRetry = null;

async function settle(out) {
  const st = (await meta.get('outbox_status')) ?? {};
  // Media left pending by a failure need a retry too, even if no queued event names them yet.
  const mediaError = out.media?.error ?? null;
  const failed = Boolean(out.error) || out.waiting.length > 0 || Boolean(mediaError);
  const now = Date.now();
  const next = {
    last_sync_ms: now,
    last_ok_ms: out.error ? st.last_ok_ms ?? null : now,
    last_error: out.error ?? mediaError ?? (out.waiting.length ? 'sync.waiting' : null),
    failures: failed ? (st.failures ?? 0) + 1 : 0,
  };
  await meta.set('outbox_status', next);
  if (started) schedule(failed ? backoff(next.failures) : null);
  changed();
}

/** Exponential backoff with "equal jitter": half fixed, half random, so phones that lost the
 * network together do not all come back in the same second. */
export function backoff(failures, { baseMs, capMs } = BACKOFF) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function schedule(delay) {
  clearTimeout(timer);
  timer = null;
  nextRetry = delay === null ? null : Date.now() + delay;
  if (delay !== null) timer = setTimeout(kick, delay);
}

function kick() {
  // navigator.onLine false is certain (no network at all): an automatic run would only mark
  // rows and fail, competing with the inspector's taps; the `online` event kicks again. True
  // proves nothing, so then we try. A tap on the sync button still tries at once.
  if (globalThis.navigator?.onLine === false) {
    schedule(null);
    return;
  }
  sync().catch((err) => console.error('outbox sync failed', err));
}

/** Sync now, whenever the browser says it is back online, and after failures with backoff.
 * Returns stop(). */
export function start() {
  if (started) return stop;
  started = true;
  globalThis.addEventListener?.('online', kick);
  kick();
  return stop;
}

export function stop() {
  started = false;
  globalThis.removeEventListener?.('online', kick);
  schedule(null);
}
