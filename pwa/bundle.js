// The bundle file `onevisit.bundle/1` (docs/bundle.md): this phone's signed events and the media
// they name, as one JSON file. Two uses:
//   - the rescue: exportUnsynced() holds everything the server has not verified yet; an admin
//     runs `onevisit import-bundle FILE`, which applies the checks of a sync;
//   - the hand-over: exportVisit(visit) gives this phone's events of a joint visit to a colleague
//     offline (file share); their phone checks it with readBundle() and keeps it with
//     importToPeer() in the `peer` store, to build the shared record.
// No DOM (STYLE.md habit 9): the caller saves the Blob or picks the File.

import { decode } from './b64url.js';
import { EvidenceError, MAX_ENVELOPE_BYTES, eventHash, parseEvent, sha256Hex, verifyEnvelope }
  from './chain.js';
import { media as mediaRows, outbox, peer } from './db.js';

export const FORMAT = 'onevisit.bundle/1';
export const MEDIA_TYPE = 'application/json';
// As the server reads it (sync/bundle.py): a file is read whole, so its size is bounded.
export const MAX_BUNDLE_BYTES = 512 * 1024 * 1024;
export const MAX_EVENTS = 50_000;
export const MAX_MEDIA = 5_000;
const PURPOSES = ['photo', 'signature', 'video'];
const HEX64 = /^[0-9a-f]{64}$/;
const TOP = ['format', 'made_ms', 'device', 'user', 'events', 'media'];
const MEDIA_KEYS = ['sha256', 'mime', 'size', 'data', 'purpose'];

/** A whole file refused: `code` is bundle.malformed, bundle.format_unknown or bundle.too_large. */
export class BundleError extends Error {
  constructor(code, reason, at) {
    super(`${code}: ${reason}`);
    this.name = 'BundleError';
    this.code = code;
    if (at !== undefined) this.at = at;
  }
}
const malformed = (at, reason) => new BundleError('bundle.malformed', `${at}: ${reason}`, at);

// --- writing ----------------------------------------------------------------------------------
/** The rescue: every outbox row the server has not verified (queued, uploading, rejected) and
 * the media they name that this phone holds, as a Blob. Rejected rows go in too (the server
 * answers them again, with their code); at an equal seq they come before the re-signed event
 * that replaced them, so the chain behind them still goes in. */
export async function exportUnsynced({ madeMs = Date.now() } = {}) {
  const rows = (await Promise.all(['queued', 'uploading', 'rejected'].map((s) => outbox.inState(s))))
    .flat();
  return build(rows, madeMs);
}

/** The hand-over: this phone's events of one visit in any state but 'rejected' (refused for good
 * by the server and replaced by re-signed events: not part of the visit), with their media. */
export async function exportVisit(visit, { madeMs = Date.now() } = {}) {
  const rows = (await outbox.ofVisit(visit)).filter((r) => r.state !== 'rejected');
  return build(rows, madeMs);
}

/** A file name for the Blob: onevisit-<kind>-<device prefix>-<UTC time>.json */
export function fileName(kind, device = '', madeMs = Date.now()) {
  const at = new Date(madeMs).toISOString().replace(/[-:]/g, '').replace(/\..*/, 'Z');
  return `onevisit-${kind}${device ? `-${device.slice(0, 8)}` : ''}-${at}.json`;
}

const rank = (r) => (r.state === 'rejected' ? 0 : 1);

async function build(rows, madeMs) {
  // Each device's events in seq order: the server checks a chain in the order it gets it.
  rows.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0)
    || a.seq - b.seq || rank(a) - rank(b));
  const envs = rows.map((r) => JSON.parse(r.envelope));
  const head = { format: FORMAT, made_ms: madeMs };
  const devices = new Set(rows.map((r) => r.device));
  const actors = new Set(envs.map((e) => e.actor));
  if (devices.size === 1) head.device = [...devices][0];
  if (actors.size === 1) head.user = [...actors][0];
  const events = rows.map((r) => ({ envelope: r.envelope, sig: r.sig }));

  const wanted = [...new Set(envs.flatMap((e) => mediaRefs(e.body).map((m) => m.sha256)))];
  const held = (await Promise.all(wanted.map((sha) => mediaRows.get(sha)))).filter((m) => m?.blob);
  // JSON.stringify of everything but the media data; the data go in as Blob parts, one
  // base64 piece at a time, so no string ever holds a whole bundle of photos.
  const text = JSON.stringify({ ...head, events });
  const parts = [text.slice(0, -1), ',"media":['];
  for (const [i, m] of held.entries()) {
    const meta = { sha256: m.sha256, mime: m.mime, size: m.blob.size, purpose: m.purpose };
    if (!PURPOSES.includes(meta.purpose)) delete meta.purpose; // the server infers it
    const open = JSON.stringify(meta);
    parts.push(i ? ',' : '', open.slice(0, -1), ',"data":"');
    parts.push(...(await base64Parts(m.blob)), '"}');
  }
  parts.push(']}');
  return new Blob(parts, { type: MEDIA_TYPE });
}

/** Every {sha256, bytes, mime} anywhere in a body, as events.media_refs finds them. */
export function mediaRefs(value, out = []) {
  if (Array.isArray(value)) {
    value.forEach((v) => mediaRefs(v, out));
  } else if (value !== null && typeof value === 'object') {
    if (['sha256', 'bytes', 'mime'].every((k) => Object.hasOwn(value, k))) out.push(value);
    Object.values(value).forEach((v) => mediaRefs(v, out));
  }
  return out;
}

const B64_STEP = 3 * 0x4000; // a multiple of 3: the pieces concatenate to one valid base64 text

async function base64Parts(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const parts = [];
  for (let i = 0; i < bytes.length; i += B64_STEP) {
    parts.push(btoa(String.fromCharCode(...bytes.subarray(i, i + B64_STEP))));
  }
  return parts;
}

// --- reading ----------------------------------------------------------------------------------
const utf8 = new TextEncoder();
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v) => Number.isSafeInteger(v) && v >= 0;

/** Check a bundle file against a visit package ({visit: {visit}, devices: [{device_id, actor,
 * spki}]}): the structure (else throws BundleError), then each event — canonical envelope
 * (parseEvent), of this visit, signed by a listed device key of its actor, linked to the
 * bundle's previous event of its device — and each media entry's bytes against its hash.
 * Resolves {events: [{id, device, seq, hash, envelope, sig, visit, type, actor}], media:
 * [{sha256, mime, size, purpose, blob}], problems: [{at, id?, code, reason}]}: only what passed
 * is in events/media; every refusal is a problem. */
export async function readBundle(file, { visitPackage } = {}) {
  const visit = visitPackage?.visit?.visit;
  if (typeof visit !== 'string' || !Array.isArray(visitPackage?.devices)) {
    throw new TypeError('readBundle needs {visitPackage: {visit: {visit}, devices: [...]}}');
  }
  if (file.size > MAX_BUNDLE_BYTES) {
    throw new BundleError('bundle.too_large', `${file.size} bytes, over ${MAX_BUNDLE_BYTES}`);
  }
  const doc = parseFile(await file.text());
  const problems = [];
  const keys = await deviceKeys(visitPackage.devices);
  const events = [];
  const seen = new Set();
  const last = new Map(); // device → {seq, hash} of its previous event in this file
  for (const [i, item] of doc.events.entries()) {
    const at = `events[${i}]`;
    try {
      const ev = await checkEvent(item, { visit, keys, last });
      if (seen.has(ev.id)) continue; // the same event twice: once is enough
      seen.add(ev.id);
      events.push(ev);
    } catch (err) {
      if (!(err instanceof EvidenceError)) throw err;
      problems.push({ at, id: err.id, code: err.code, reason: err.message });
    }
  }
  // As the server: an entry no verified event names is nobody's to hand over.
  const named = new Set(events.flatMap((e) => mediaRefs(JSON.parse(e.envelope).body)
    .map((m) => m.sha256)));
  const media = [];
  for (const [i, m] of doc.media.entries()) {
    const problem = await checkMedia(m, named);
    if (problem) problems.push({ at: `media[${i}]`, sha256: m.sha256, ...problem });
    else media.push({ sha256: m.sha256, mime: m.mime, size: m.size, purpose: m.purpose,
      blob: new Blob([m.bytes], { type: m.mime }) });
  }
  return { events, media, problems };
}

function parseFile(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('file', 'not JSON');
  }
  if (!isObject(doc)) throw malformed('file', 'not a JSON object');
  if (doc.format !== FORMAT) {
    throw new BundleError('bundle.format_unknown', `format ${String(doc.format).slice(0, 64)}`);
  }
  const unknown = Object.keys(doc).filter((k) => !TOP.includes(k));
  if (unknown.length) throw malformed(unknown[0], 'unknown field');
  if (!isCount(doc.made_ms)) throw malformed('made_ms', 'not an integer of ms >= 0');
  for (const k of ['device', 'user']) {
    if (doc[k] != null && typeof doc[k] !== 'string') throw malformed(k, 'not a string');
  }
  doc.media ??= [];
  if (!Array.isArray(doc.events)) throw malformed('events', 'not a list');
  if (!Array.isArray(doc.media)) throw malformed('media', 'not a list');
  if (doc.events.length > MAX_EVENTS || doc.media.length > MAX_MEDIA) {
    throw new BundleError('bundle.too_large', `${doc.events.length} events, ${doc.media.length} media`);
  }
  doc.events.forEach((e, i) => {
    const ok = isObject(e) && Object.keys(e).sort().join() === 'envelope,sig'
      && typeof e.envelope === 'string' && typeof e.sig === 'string';
    if (!ok) throw malformed(`events[${i}]`, 'not exactly {"envelope", "sig"} strings');
  });
  const shas = new Set();
  doc.media = doc.media.map((m, i) => {
    const at = `media[${i}]`;
    if (!isObject(m) || !['sha256', 'mime', 'size', 'data'].every((k) => Object.hasOwn(m, k))) {
      throw malformed(at, 'needs "sha256", "mime", "size", "data"');
    }
    const extra = Object.keys(m).find((k) => !MEDIA_KEYS.includes(k));
    if (extra) throw malformed(`${at}.${extra}`, 'unknown field');
    if (typeof m.sha256 !== 'string' || !HEX64.test(m.sha256)) throw malformed(`${at}.sha256`, 'not 64 lowercase hex');
    if (shas.has(m.sha256)) throw malformed(`${at}.sha256`, 'listed twice');
    shas.add(m.sha256);
    if (typeof m.mime !== 'string' || !m.mime || m.mime.length > 64) throw malformed(`${at}.mime`, 'not a media type');
    const purpose = m.purpose ?? purposeOf(m.mime);
    if (!PURPOSES.includes(purpose)) throw malformed(`${at}.purpose`, `not one of ${PURPOSES}`);
    if (!isCount(m.size)) throw malformed(`${at}.size`, 'not an integer >= 0');
    let bytes;
    try {
      if (typeof m.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(m.data) || m.data.length % 4) throw 0;
      bytes = Uint8Array.from(atob(m.data), (c) => c.charCodeAt(0));
    } catch {
      throw malformed(`${at}.data`, 'not standard base64');
    }
    return { sha256: m.sha256, mime: m.mime, size: m.size, purpose, bytes };
  });
  return doc;
}

const purposeOf = (mime) => (mime.startsWith('video/') ? 'video'
  : mime === 'application/json' ? 'signature' : 'photo');

const P256 = { name: 'ECDSA', namedCurve: 'P-256' };

/** device_id → {actor, key}; an entry whose id is not the hash of its SPKI is left out. */
async function deviceKeys(devices) {
  const out = new Map();
  for (const d of devices) {
    try {
      const spki = decode(d.spki);
      if ((await sha256Hex(spki)) !== d.device_id) continue;
      out.set(d.device_id, { actor: d.actor, key: await crypto.subtle.importKey('spki', spki, P256, false, ['verify']) });
    } catch { /* not a P-256 SPKI: no key, its events answer device.unknown */ }
  }
  return out;
}

const refuse = (code, reason, id) => Object.assign(new EvidenceError(code, reason), { id });

async function checkEvent(item, { visit, keys, last }) {
  const bytes = utf8.encode(item.envelope);
  if (bytes.length > MAX_ENVELOPE_BYTES) throw refuse('event.too_large', `${bytes.length} bytes`);
  const env = parseEvent(bytes); // canonical bytes and a well-formed envelope, or it throws
  if (env.visit !== visit) throw refuse('bundle.other_visit', `of visit ${env.visit}`, env.id);
  const device = keys.get(env.device);
  if (!device) throw refuse('device.unknown', 'not a device of this visit', env.id);
  if (device.actor !== env.actor) throw refuse('device.not_actor', 'the key is another user\'s', env.id);
  try {
    await verifyEnvelope(device.key, bytes, item.sig);
  } catch (err) {
    throw Object.assign(err, { id: env.id });
  }
  const hash = await eventHash(bytes);
  // A device's events of one visit have gaps (its other visits); consecutive ones must link.
  const before = last.get(env.device);
  if (before && env.seq === before.seq && hash !== before.hash) {
    throw refuse('chain.fork', `a second event at seq ${env.seq}`, env.id);
  }
  if (before && env.seq === before.seq + 1 && env.prev !== before.hash) {
    throw refuse('chain.mismatch', `prev does not name seq ${before.seq}`, env.id);
  }
  last.set(env.device, { seq: env.seq, hash });
  return { id: env.id, device: env.device, seq: env.seq, hash, envelope: item.envelope,
    sig: item.sig, visit: env.visit, type: env.type, actor: env.actor };
}

async function checkMedia(m, named) {
  if (!named.has(m.sha256)) return { code: 'bundle.media_unreferenced', reason: 'no verified event names it' };
  if (m.bytes.length !== m.size) return { code: 'bundle.media_size', reason: `${m.bytes.length} bytes` };
  const got = await sha256Hex(m.bytes);
  if (got !== m.sha256) return { code: 'media.hash_mismatch', reason: `the bytes hash to ${got}` };
  return null;
}

// --- keeping ----------------------------------------------------------------------------------
/** Keep what readBundle verified: events in the `peer` store (but never one of this phone's
 * own outbox: ours are kept there), media the phone does not hold yet in `media` with state
 * 'peer' (a colleague's photo is theirs to upload, so the upload queue ignores it).
 * Resolves {events, own, media}: rows stored, own events skipped, media rows stored. */
export async function importToPeer(result, { now = Date.now() } = {}) {
  const rows = [];
  let own = 0;
  for (const e of result.events) {
    if (await outbox.get(e.id)) { own++; continue; }
    rows.push({ id: e.id, device: e.device, seq: e.seq, hash: e.hash, envelope: e.envelope,
      sig: e.sig, visit: e.visit });
  }
  if (rows.length) await peer.putAll(rows);
  const visit = result.events[0]?.visit ?? null;
  let media = 0;
  for (const m of result.media) {
    if (await mediaRows.get(m.sha256)) continue; // ours, or handed over before: keep that row
    await mediaRows.put({ sha256: m.sha256, mime: m.mime, size: m.size, blob: m.blob,
      purpose: m.purpose, visit, state: 'peer', created_at: now });
    media++;
  }
  return { events: rows.length, own, media };
}
