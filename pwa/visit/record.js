// The inspection record (检查记录, EVIDENCE.md §5) on the phone: a port of
// backend/onevisit/field/record.py, so a phone with no signal shows the subject the same
// record and short code the server will compute (docs/events.md "The record").
// tests/browser/test_record_port.py runs both on the same visits and compares them.
//
// Input: `state` as projection.js's projectVisit gives it (the JSON of VisitState.to_json())
// and `visit`, the JSON of VisitInfo.to_json() (GET /api/visits/{id} → "visit").
// The record is a function of the set of events: every list is sorted by the entries' own
// keys, never by the order the events arrived in. No DOM; ES module.

import { canonicalEvidence, sha256Hex } from '../chain.js';

export const RECORD_KIND = 'onevisit.inspection_record/2'; // record.py RECORD_KIND

/** Python's string order: by code point. JS's `<` compares UTF-16 units, which differs for
 * characters beyond U+FFFF against U+E000–U+FFFF (a surrogate sorts after them in Python). */
export function compareText(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const sx = x >= 0xd800 && x <= 0xdfff;
      const sy = y >= 0xd800 && y <= 0xdfff;
      if (sx !== sy) return sx ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length;
}

/** Python's comparison of tuples of integers and strings. */
export function compareKeys(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    const c = typeof x === 'string' ? compareText(x, y) : (x < y ? -1 : x > y ? 1 : 0);
    if (c) return c;
  }
  return a.length - b.length;
}

/** sorted(values) / sorted(values, key=key), as Python sorts (stable, code point order). */
export const sortedBy = (values, key) => [...values].sort((a, b) => compareKeys(key(a), key(b)));
export const sortedText = (values) => [...values].sort(compareText);

/** The record document of a projected visit (its signature, refusal, confirmations aside). */
export function buildRecord(state, visit) {
  const members = new Map(visit.members.map((m) => [m.actor, m])); // the last wins, as a dict
  // Inspector codes are public; user ids are internal.
  const who = (actor) => (members.has(actor) ? members.get(actor).inspector : actor);
  // Device time, inspector, event id: a key of the event itself, never of its sync.
  const order = (x) => [x.at, who(x.actor), x.event];
  const later = (a, b) => (compareKeys(order(b), order(a)) > 0 ? b : a);
  const latest = (answers) => answers.reduce(later);
  const media = new Set();
  const refs = (list) => {
    for (const r of list) media.add(r.sha256);
    return sortedText(new Set(list.map((r) => r.sha256)));
  };

  const matters = state.matters.map((m) => {
    const items = m.items.map((i) => {
      let item = { position: i.position, text: i.text };
      if (i.result !== null) { // agreeing answers: the note of the latest by device time
        item = { ...item, result: i.result, by: sortedText(i.by.map(who)),
          ...opt({ note: latest(i.answers).note }), media: refs(i.media) };
      } else if (i.conflict.length) { // a disputed item is shown as disputed, never as one side
        item.conflict = sortedText(new Set(i.conflict.map((a) => a.result)));
      }
      return item;
    });
    let matter = { code: m.code, name: m.name, department: m.department, items };
    if (m.result_code !== null) {
      matter = { ...matter, result_code: m.result_code,
        ...opt({ disposition: m.disposition, note: latest(m.result_answers).note }) };
    } else if (m.result_conflict.length) {
      matter.result_conflict = sortedText(new Set(m.result_conflict.map((a) => a.result)));
    }
    return matter;
  });

  const arrivals = new Map(); // the arrival: each member's earliest check-in by device time
  for (const c of sortedBy(state.checkins, (c) => [c.at, c.event])) {
    if (!arrivals.has(c.actor)) arrivals.set(c.actor, c);
  }
  const checkins = [...arrivals.values()].map((c) => ({ inspector: who(c.actor), at: c.at,
    ...opt({ distance_m: c.distance_m, accuracy_m: c.accuracy_m, reason: c.reason }) }));

  const record = {
    kind: RECORD_KIND,
    visit: visit.visit,
    task: { code: visit.task, ...opt({ name: visit.task_name }) },
    subject: { id: visit.subject.id, name: visit.subject.name,
      ...opt({ address: visit.subject.address }) },
    members: visit.members.map(member),
    checkins: sortedBy(checkins, (a) => [a.inspector, a.at]),
    matters,
    notes: sortedBy(state.notes, order).map((n) => ({ by: who(n.actor), at: n.at, text: n.text,
      ...opt({ matter: n.matter }) })),
    transcripts: sortedBy(state.transcripts, order).map((t) => ({ by: who(t.actor), at: t.at,
      text: t.text, media: refs(t.media) })),
    photos: sortedBy(state.photos, order).map((p) => ({ by: who(p.actor), at: p.at,
      sha256: refs([p.media])[0],
      ...opt({ caption: p.caption, matter: p.matter, item: p.item }) })),
    special_outcomes: sortedBy(state.special_outcomes, order).map((s) => ({ by: who(s.actor),
      at: s.at, code: s.code, text: s.text, media: refs(s.media) })),
    witnesses: sortedText(state.witnesses.map((w) => w.hash)),
    corrections: sortedBy(state.corrections, order).filter((c) => c.applied)
      .map((c) => ({ event: c.event, supersedes: c.supersedes, reason: c.reason })),
  };
  record.media = sortedText(media);
  return nfc(record);
}

/** SHA-256 of the record's canonical bytes (JCS, EVIDENCE.md §1), lowercase hex. */
export const recordHash = async (record) => sha256Hex(canonicalEvidence(record));

/** What the subject compares on screen and on paper before signing (§5). */
export const shortCode = (hash) => hash.slice(0, 8);

function member(m) {
  return { inspector: m.inspector, name: m.name, department: m.department, served: m.served,
    role: m.is_leader ? 'leader' : 'member', ...opt({ certificate: m.certificate }) };
}

/** Only the values that are there: null and "" become absent keys. */
function opt(values) {
  return Object.fromEntries(Object.entries(values)
    .filter(([, v]) => v !== null && v !== undefined && v !== ''));
}

function nfc(value) {
  if (typeof value === 'string') return value.normalize('NFC');
  if (Array.isArray(value)) return value.map(nfc);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nfc(v)]));
  }
  return value;
}
