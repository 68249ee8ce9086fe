// Field work on this phone, without DOM: the visits the user downloaded for offline use, every
// action signed into the device's chain (chain.js through the outbox), and the visit's state and
// inspection record rebuilt locally from the events this phone knows — its own and those handed
// over by colleagues' phones — with the same fold as the server (visit/projection.js).

import { api } from './api.js';
import { keyForUser } from './devicekey.js';
import { meta, outbox as outboxRows, peer, visits } from './db.js';
import * as outbox from './outbox.js';
import { projectVisit } from './visit/projection.js';
import { buildRecord, recordHash, shortCode } from './visit/record.js';

/** Per page load: `mono` and `session` bound each event's time to this session (EVIDENCE.md §3). */
const SESSION_ID = crypto.randomUUID();

/** The user's visits: the server's list (in its order) when online, with what is downloaded
 * on this phone. */
export async function myVisits() {
  const saved = await visits.all();
  const byId = new Map(saved.map((p) => [p.visit, p]));
  let listed = null;
  try {
    listed = (await api('/api/visits')).visits;
  } catch (err) {
    if (err.code !== 'network.unreachable') throw err;
  }
  const rows = (listed ?? saved.map(summaryOf)).map((v) => ({
    ...v, downloaded: byId.has(v.visit), fetched_ms: byId.get(v.visit)?.fetched_ms ?? null,
  }));
  // Online, the server's order stands (the leader's day plan, then the draw's batch order);
  // offline, what this phone holds goes in batch order.
  if (listed === null) {
    rows.sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : a.batch_order - b.batch_order));
  }
  return { visits: rows, offline: listed === null };
}

function summaryOf(pkg) {
  const v = pkg.visit;
  return {
    visit: v.visit, subject_id: v.subject.id, subject_name: v.subject.name, task: v.task,
    task_name: v.task_name, batch_order: pkg.batch_order ?? 0, status: pkg.status ?? '',
  };
}

/** Fetch the offline package (docs/visits.md) and keep it; replaces an older copy whole. */
export async function download(visitId) {
  const pkg = await api(`/api/visits/${encodeURIComponent(visitId)}/package`);
  const row = { ...pkg, visit: visitId, info: pkg.visit };
  await visits.put(row);
  return row;
}

/** The downloaded package of a visit, or null. `info` is its VisitInfo JSON. */
export const packageOf = (visitId) => visits.get(visitId).then((row) => row ?? null);

/** This user's registered device key on this phone (signs every event), or null. Kept in
 * memory once found: a tick should not read every key record again. */
const keyOf = new Map();
export async function deviceKey(me) {
  if (!keyOf.has(me.id)) {
    const key = await keyForUser(me.id);
    if (!key) return null;
    keyOf.set(me.id, key);
  }
  return keyOf.get(me.id);
}

// The anchor: the latest checkpoint this phone saw (the event was made after the log had that
// size). Re-read at most every half minute: an older checkpoint is still a true lower bound.
let anchorAt = 0;
let anchor;
async function currentAnchor() {
  if (Date.now() - anchorAt > 30_000) {
    const held = await meta.get('checkpoint');
    anchor = held ? { size: held.size, root: held.root } : undefined;
    anchorAt = Date.now();
  }
  return anchor;
}

// Ticks come in bursts: one sync a moment after the last of them, not one per tick — and
// none when the user switched automatic sync off (then only the sync button sends).
let syncTimer = null;
function syncSoon() {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(async () => {
    if ((await meta.get('autosync').catch(() => true)) !== false) outbox.sync();
  }, 1_500);
}

/** Sign one event of the visit with the user's device key and queue it for sync. `body` may
 * be a promise (a check-in's position): the write counts from the call (outbox.during). */
export const act = (me, visitId, type, body) => outbox.during(async () => {
  body = await body;
  const key = await deviceKey(me);
  if (!key) throw Object.assign(new Error('no device key on this phone'), { code: 'device.missing' });
  const signed = await outbox.record(key, {
    actor: me.id, visit: visitId, type, body, at: Date.now(),
    mono: Math.floor(performance.now()), session: SESSION_ID, anchor: await currentAnchor(),
  });
  syncSoon(); // when online; the outbox backs off by itself otherwise
  return signed;
});

/** Every event of the visit this phone knows: its own (not rejected) and colleagues'.
 * Each device's events in seq order; devices merged by device time, so the fold sees each
 * chain in its true order (the record does not depend on how devices interleave). */
export async function eventsOf(visitId) {
  const own = (await outboxRows.ofVisit(visitId)).filter((r) => r.state !== 'rejected');
  const seen = new Set(own.map((r) => r.id));
  const rows = [...own, ...(await peer.ofVisit(visitId)).filter((r) => !seen.has(r.id))];
  const chains = new Map();
  for (const r of rows) {
    const env = JSON.parse(r.envelope);
    if (!chains.has(env.device)) chains.set(env.device, []);
    chains.get(env.device).push({ env, row: r });
  }
  for (const list of chains.values()) list.sort((a, b) => a.env.seq - b.env.seq);
  const merged = [];
  const heads = [...chains.values()].map((list) => ({ list, i: 0 }));
  for (;;) {
    let next = null;
    for (const c of heads) {
      if (c.i >= c.list.length) continue;
      const e = c.list[c.i].env;
      if (!next || e.at < next.list[next.i].env.at
        || (e.at === next.list[next.i].env.at && e.device < next.list[next.i].env.device)) next = c;
    }
    if (!next) break;
    merged.push(next.list[next.i]);
    next.i += 1;
  }
  return merged;
}

/** The visit as this phone knows it: {pkg, state, record, hash, short, rows}. */
export async function localVisit(visitId) {
  const pkg = await packageOf(visitId);
  if (!pkg) return null;
  const merged = await eventsOf(visitId);
  const now = Date.now();
  // Events not yet received by the server are folded as received now: only the check-in
  // clock flags depend on it, never the record.
  const events = merged.map(({ env, row }) => ({ event: env, received_ms: row.received_ms ?? now }));
  const state = await projectVisit({ visit: pkg.info, events, nowMs: now });
  const record = buildRecord(state, pkg.info);
  const hash = await recordHash(record);
  return { pkg, state, record, hash, short: shortCode(hash), rows: merged.map((m) => m.row) };
}

/** Members of the visit that this user is (one user may serve one department per visit). */
export function myMembership(pkg, me) {
  return pkg.info.members.filter((m) => m.actor === me.id);
}

/** Matters this user may answer: those of the departments they serve in this visit. */
export function myMatters(pkg, me) {
  const served = new Set(myMembership(pkg, me).map((m) => m.served));
  return pkg.info.matters.filter((m) => served.has(m.department));
}

export const isLeader = (pkg, me) => myMembership(pkg, me).some((m) => m.is_leader);
