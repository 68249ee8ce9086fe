// A visit's state on the phone: a port of backend/onevisit/field/projection.py (the fold),
// views.py (its read side, check-in flags) and bodies.py/shapes.py (check_body), so a
// phone with no signal shows the same progress, conflicts, check-ins, acts and record hash
// as the server (docs/events.md "The projection", "The record").
// tests/browser/test_record_port.py runs both on the same random visits and compares the
// state JSON, the record and its hash.
//
// `await projectVisit({visit, events, nowMs})` → the JSON of VisitState.to_json(): same keys,
// same values, problems with the same codes and messages. `visit` is the JSON of
// VisitInfo.to_json() (GET /api/visits/{id} → "visit"). `events` are the visit's events in
// log order, each one of
//   {event, received_ms, made_after_ms?}   (as projection.Received; `event` an envelope)
//   [event, received_ms, made_after_ms?]
//   {...envelope, received_ms, made_after_ms?}
// where an envelope is what chain.js parseEvent returns or the plain envelope JSON.
// `received_ms` is the server's receipt time (the log leaf's "r"). A phone folding its own
// unsynced events has none and passes its own clock: that affects the check-in clock flags
// only (`clock_offset_ms`, `clock_suspect` and the checkin.clock_suspect problem), never the
// record or its hash. `made_after_ms`, when known, is the server's lower bound of the
// event's making time (views.clock_suspect). No DOM; ES module; no dependencies.

import { canonicalEvidence, sha256Hex } from '../chain.js';
import { buildRecord, recordHash, sortedBy, sortedText } from './record.js';

// --- code lists (codes.py; the browser test compares them) ---------------------------------
export const CODES = {
  item_results: ['compliant', 'non_compliant', 'not_applicable'],
  result_codes: [
    'no_problem', 'corrected', 'pending_follow_up', 'not_publicised', 'false_publicity',
    'no_activity', 'unreachable', 'closed', 'refused_severe', 'deregistered', 'licence_revoked',
    'cancelled', 'moved_out', 'other_violation',
  ],
  dispositions: ['none', 'stop_inspection', 'order_correction', 'case_lead', 'notify_department',
    'other'],
  special_outcomes: ['unreachable', 'deregistered', 'liquidation', 'cancelled', 'licence_revoked',
    'refused_entry', 'refused_materials', 'false_materials', 'obstruction'],
  refusal_reasons: ['absent', 'refused', 'unable', 'other'],
  confirmation_methods: ['webauthn', 'device_pin'],
  checkin_sources: ['gps', 'network', 'manual'],
};

export const FAR_M = 500; // views.FAR_M
export const INACCURATE_M = 100; // views.INACCURATE_M
const CLOCK_TOLERANCE_MS = 5 * 60_000;
const PROMPT_MS = 10 * 60_000;
const EARTH_RADIUS_M = 6_371_009;

// --- check_body (bodies.py, shapes.py): same rules, same first culprit, same message ------
const SHORT = 128;
const MEDIUM = 2_000;
const LONG = 20_000;
const MAX_MEDIA = 50;
const MAX_BYTES = 2 ** 53 - 1;
const HEX64 = /^[0-9a-f]{64}$/;
const MATTER = /^[A-Za-z0-9_.-]{1,32}$/;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
// Python's str.strip() whitespace: not JS's trim() (U+FEFF is none, U+001C–U+001F and U+0085 are).
const BLANK =
  /^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;
const POSITION = ['lat_e6', 'lon_e6', 'accuracy_m'];

/** A body breaking its type's rules; `reason` is what the server's problem message says. */
export class BodyInvalid extends Error {
  constructor(field, reason) {
    super(`${field}: ${reason}`);
    this.name = 'BodyInvalid';
    this.code = 'event.body_invalid';
    this.field = field;
    this.reason = `${field}: ${reason}`;
  }
}
const bad = (field, reason) => { throw new BodyInvalid(field, reason); };
const has = (obj, key) => Object.hasOwn(obj, key);
const get = (obj, key) => (has(obj, key) ? obj[key] : null); // dict.get: missing → None
const isDict = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const keysOf = (obj) => Object.keys(obj).sort(); // canonical (JCS) order = Python's parsed order
const codePoints = (s) => { let n = 0; for (const _ of s) n++; return n; }; // Python's len()
const at = (path, key) => {
  if (typeof key === 'number') return `${path}[${key}]`; // a list index
  return path ? `${path}.${key}` : key;
};

function fields(obj, path, required, optional = []) {
  if (!isDict(obj)) bad(path || 'body', 'not an object');
  for (const key of keysOf(obj)) {
    if (!required.includes(key) && !optional.includes(key)) bad(at(path, key), 'unknown field');
  }
  for (const key of required) if (!has(obj, key)) bad(at(path, key), 'missing');
}

function text(obj, key, path, maxLen, emptyOk = false) {
  const value = obj[key];
  if (typeof value !== 'string') bad(at(path, key), 'not a string');
  if (!emptyOk && BLANK.test(value)) bad(at(path, key), 'empty');
  if (codePoints(value) > maxLen) bad(at(path, key), `longer than ${maxLen} characters`);
}

const optText = (obj, key, path, maxLen) => {
  if (has(obj, key)) text(obj, key, path, maxLen, true);
};

function integer(obj, key, path, lo, hi) {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isInteger(value)) bad(at(path, key), 'not an integer');
  if (value < lo || value > hi) bad(at(path, key), `not within ${lo}..${hi}`);
}

function choice(obj, key, path, allowed) {
  const value = obj[key];
  if (typeof value !== 'string' || !allowed.includes(value)) {
    bad(at(path, key), `not one of ${[...allowed].sort().join(', ')}`);
  }
}

function pattern(obj, key, path, regex, what) {
  const value = obj[key];
  if (typeof value !== 'string' || !regex.test(value)) bad(at(path, key), `not ${what}`);
}

const matterCode = (obj, key, path) => pattern(obj, key, path, MATTER, 'a matter code');

function mediaRef(obj, key, path, mime = null) {
  const here = at(path, key);
  const ref = obj[key];
  fields(ref, here, ['sha256', 'bytes', 'mime']);
  pattern(ref, 'sha256', here, HEX64, '64 lowercase hex');
  integer(ref, 'bytes', here, 1, MAX_BYTES);
  pattern(ref, 'mime', here, MIME, 'a lowercase media type');
  if (mime !== null) {
    const ok = mime.endsWith('/*') ? ref.mime.startsWith(mime.slice(0, -1)) : ref.mime === mime;
    if (!ok) bad(at(here, 'mime'), `not ${mime}`);
  }
}

function mediaList(obj, key, path) {
  const refs = obj[key];
  if (!Array.isArray(refs)) bad(at(path, key), 'not a list');
  if (refs.length > MAX_MEDIA) bad(at(path, key), `more than ${MAX_MEDIA} references`);
  refs.forEach((_, i) => mediaRef(refs, i, at(path, key)));
}

function noFloats(value, path) {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    bad(path || 'body', 'floating-point number: use integers (EVIDENCE.md §1)');
  }
  if (Array.isArray(value)) value.forEach((v, i) => noFloats(v, at(path, i)));
  else if (isDict(value)) for (const k of keysOf(value)) noFloats(value[k], at(path, k));
}

function position(obj, path) {
  integer(obj, 'lat_e6', path, -90_000_000, 90_000_000);
  integer(obj, 'lon_e6', path, -180_000_000, 180_000_000);
  integer(obj, 'accuracy_m', path, 0, 20_000_000);
}

function b64urlBytes(obj, key, path) {
  const value = obj[key];
  if (typeof value !== 'string' || !B64URL.test(value) || value.length % 4 === 1) {
    bad(at(path, key), 'not unpadded base64url');
  }
  const pad = '='.repeat((4 - (value.length % 4)) % 4);
  const raw = atob(value.replace(/-/g, '+').replace(/_/g, '/') + pad);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function person(obj, path) {
  fields(obj, path, ['name'], ['id_number', 'phone', 'role']);
  text(obj, 'name', path, SHORT);
  for (const key of ['id_number', 'phone', 'role']) optText(obj, key, path, SHORT);
}

const CHECKERS = {
  checkin(b) {
    if (has(b, 'position')) { // location unavailable: say why instead of inventing coordinates
      fields(b, '', ['position', 'reason'], ['source']);
      if (b.position !== null) bad('position', 'only null is allowed (give lat_e6/lon_e6 instead)');
      text(b, 'reason', '', MEDIUM);
    } else {
      fields(b, '', POSITION, ['source']);
      position(b, '');
    }
    if (has(b, 'source')) choice(b, 'source', '', CODES.checkin_sources);
  },
  item_result(b) {
    fields(b, '', ['matter', 'item', 'result'], ['note', 'media']);
    matterCode(b, 'matter', '');
    integer(b, 'item', '', 0, 1_000_000);
    choice(b, 'result', '', CODES.item_results);
    if (b.result === 'non_compliant' && !has(b, 'note')) {
      bad('note', 'required when the result is non_compliant');
    }
    if (has(b, 'note')) text(b, 'note', '', LONG, b.result !== 'non_compliant');
    if (has(b, 'media')) mediaList(b, 'media', '');
  },
  matter_result(b) {
    fields(b, '', ['matter', 'result_code'], ['disposition', 'note']);
    matterCode(b, 'matter', '');
    choice(b, 'result_code', '', CODES.result_codes);
    if (has(b, 'disposition')) choice(b, 'disposition', '', CODES.dispositions);
    optText(b, 'note', '', LONG);
  },
  photo(b) {
    fields(b, '', ['media'], ['caption', 'matter', 'item', ...POSITION]);
    mediaRef(b, 'media', '', 'image/*');
    optText(b, 'caption', '', MEDIUM);
    if (has(b, 'matter')) matterCode(b, 'matter', '');
    if (has(b, 'item')) {
      if (!has(b, 'matter')) bad('matter', 'required when item is given');
      integer(b, 'item', '', 0, 1_000_000);
    }
    const given = POSITION.filter((k) => has(b, k));
    if (given.length) {
      if (given.length !== POSITION.length) {
        bad(POSITION.find((k) => !has(b, k)), 'lat_e6, lon_e6 and accuracy_m go together');
      }
      position(b, '');
    }
  },
  note(b) {
    fields(b, '', ['text'], ['matter']);
    text(b, 'text', '', LONG);
    if (has(b, 'matter')) matterCode(b, 'matter', '');
  },
  transcript(b) {
    fields(b, '', ['text'], ['media']);
    text(b, 'text', '', LONG);
    if (has(b, 'media')) mediaList(b, 'media', '');
  },
  witness: (b) => person(b, ''),
  signature(b) {
    fields(b, '', ['record_hash', 'signer_name', 'signer_role', 'image', 'strokes']);
    pattern(b, 'record_hash', '', HEX64, '64 lowercase hex');
    text(b, 'signer_name', '', SHORT);
    text(b, 'signer_role', '', SHORT);
    mediaRef(b, 'image', '', 'image/png');
    mediaRef(b, 'strokes', '', 'application/json');
  },
  signature_refused(b) {
    fields(b, '', ['record_hash', 'reason_code', 'reason', 'witness'],
      ['witness_signature', 'photo']);
    pattern(b, 'record_hash', '', HEX64, '64 lowercase hex');
    choice(b, 'reason_code', '', CODES.refusal_reasons);
    text(b, 'reason', '', MEDIUM);
    person(b.witness, 'witness');
    if (has(b, 'witness_signature')) mediaRef(b, 'witness_signature', '', 'image/*');
    if (has(b, 'photo')) mediaRef(b, 'photo', '', 'image/*');
  },
  special_outcome(b) {
    fields(b, '', ['code', 'text'], ['media']);
    choice(b, 'code', '', CODES.special_outcomes);
    text(b, 'text', '', LONG);
    if (has(b, 'media')) mediaList(b, 'media', '');
  },
  record_confirmed(b) {
    if (!has(b, 'method')) bad('method', 'missing');
    choice(b, 'method', '', CODES.confirmation_methods);
    const webauthn = b.method === 'webauthn';
    fields(b, '', webauthn ? ['record_hash', 'method', 'assertion'] : ['record_hash', 'method']);
    pattern(b, 'record_hash', '', HEX64, '64 lowercase hex');
    if (webauthn) assertion(b.assertion, b.record_hash);
  },
  correction(b) {
    fields(b, '', ['supersedes', 'reason', 'body']);
    pattern(b, 'supersedes', '', UUID, 'an event id (lowercase v.UUID)'); // sic, as bodies.py
    text(b, 'reason', '', MEDIUM);
    if (!isDict(b.body)) bad('body', 'not an object');
  },
};

// Only the shape and the challenge (the 32 raw bytes of record_hash); the signature is the
// server's to verify. clientDataJSON is read as UTF-8 JSON; Python's json.loads also takes
// NaN/Infinity and UTF-16/32, which no browser writes there.
function assertion(a, hash) {
  if (!isDict(a)) bad('assertion', 'not an object');
  for (const key of ['id', 'rawId', 'type', 'response']) {
    if (!has(a, key)) bad(at('assertion', key), 'missing');
  }
  if (a.type !== 'public-key') bad('assertion.type', 'not public-key');
  const id = b64urlBytes(a, 'id', 'assertion');
  const rawId = b64urlBytes(a, 'rawId', 'assertion');
  if (id.length !== rawId.length || id.some((x, i) => x !== rawId[i])) {
    bad('assertion.rawId', 'differs from id');
  }
  const resp = a.response;
  const path = 'assertion.response';
  if (!isDict(resp)) bad(path, 'not an object');
  for (const key of ['clientDataJSON', 'authenticatorData', 'signature']) {
    if (!has(resp, key)) bad(at(path, key), 'missing');
    b64urlBytes(resp, key, path);
  }
  if (get(resp, 'userHandle') !== null) b64urlBytes(resp, 'userHandle', path);
  let client = null;
  try {
    let raw = b64urlBytes(resp, 'clientDataJSON', path);
    if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) raw = raw.subarray(3);
    // one BOM is skipped (json.loads of bytes decodes utf-8-sig); a second one is not JSON
    client = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw));
  } catch (err) {
    if (err instanceof BodyInvalid) throw err;
  }
  if (!isDict(client) || get(client, 'type') !== 'webauthn.get') {
    bad(at(path, 'clientDataJSON'), 'not the client data of an assertion');
  }
  const bytes = Uint8Array.from(hash.match(/../g), (h) => parseInt(h, 16));
  const want = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_')
    .replace(/=+$/, '');
  if (get(client, 'challenge') !== want) {
    bad(at(path, 'clientDataJSON'), 'challenge is not record_hash');
  }
}

export const CORRECTABLE_TYPES = Object.keys(CHECKERS).filter(
  (t) => !['signature', 'signature_refused', 'record_confirmed', 'correction'].includes(t),
);

/** bodies.check_body: throws BodyInvalid naming the first bad field as a dotted path. */
export function checkBody(type, body) {
  const checker = Object.hasOwn(CHECKERS, type) ? CHECKERS[type] : null;
  if (checker === null) bad('type', `no body rules for event type ${pyRepr(type)}`);
  if (!isDict(body)) bad('body', 'not an object');
  noFloats(body, '');
  checker(body);
}

const pyRepr = (s) => (typeof s === 'string' && !s.includes("'") ? `'${s}'` : JSON.stringify(s));
const pyStr = (v) => (v === null || v === undefined ? 'None' : String(v)); // f"{x}" of None

// --- views.py: distance and clock ----------------------------------------------------------
/** Python's round() of a float: half to even (Math.round rounds half up). x − floor(x) is
 * exact for doubles of this size. */
export function pyRound(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** views.distance_m: haversine in whole metres, the same double operations in the same
 * order (math.radians is x·(π/180); `s ** 2` is s·s, exact either way). sin, cos and asin
 * may differ from glibc's by an ulp, which moves the result only within ~1e-9 m of a
 * half metre. */
export function distanceM(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const p1 = (lat1 / 1e6) * rad;
  const p2 = (lat2 / 1e6) * rad;
  const dp = p2 - p1;
  const dl = ((lon2 - lon1) / 1e6) * rad;
  const s1 = Math.sin(dp / 2);
  const s2 = Math.sin(dl / 2);
  const a = s1 * s1 + Math.cos(p1) * Math.cos(p2) * (s2 * s2);
  return pyRound(2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1.0, a))));
}

/** views.clock_suspect: ahead of receipt by > 5 min, or behind by > 5 min when the event is
 * known to have arrived within 10 min of being made. */
export function clockSuspect(offsetMs, receivedMs, madeAfterMs) {
  if (Math.abs(offsetMs) <= CLOCK_TOLERANCE_MS) return false;
  if (offsetMs > 0) return true;
  return madeAfterMs !== null && receivedMs - madeAfterMs <= PROMPT_MS;
}

// --- the fold (projection.Projector) --------------------------------------------------------
const ANSWERS = ['item_result', 'matter_result'];
const ACTS = ['signature', 'signature_refused', 'record_confirmed'];
const ENVELOPE_KEYS = ['v', 'id', 'device', 'seq', 'prev', 'actor', 'visit', 'type', 'at', 'body',
  'mono', 'session', 'anchor'];

class Fold {
  constructor(visit) {
    this.visit = visit;
    this.served = new Map(); // actor → departments served
    for (const m of visit.members) {
      if (!this.served.has(m.actor)) this.served.set(m.actor, new Set());
      this.served.get(m.actor).add(m.served);
    }
    this.matters = new Map(visit.matters.map((m) => [m.code, m]));
    this.seen = new Map(); // event id → type, every event applied
    this.live = new Map(); // root → entry, in log order of the roots
    this.current = new Map(); // event id now carrying an entry → root
    this.retired = new Set(); // ids replaced or corrected
    this.acts = [];
    this.corrections = [];
    this.problems = [];
  }

  apply(ev, hash, receivedMs, madeAfterMs) {
    if (this.seen.has(ev.id)) return this.problem('event.duplicate', 'event applied twice', ev);
    this.seen.set(ev.id, ev.type);
    if (ev.type.startsWith('server.')) return undefined; // the server's workflow entries
    if (ev.visit !== this.visit.visit) {
      return this.problem('event.wrong_visit', `event of visit ${pyStr(ev.visit)}`, ev);
    }
    if (!this.served.has(ev.actor)) {
      return this.problem('member.unknown', `${ev.actor} is not a member`, ev);
    }
    try {
      checkBody(ev.type, ev.body);
    } catch (err) {
      if (!(err instanceof BodyInvalid)) throw err;
      return this.problem('event.body_invalid', err.reason, ev);
    }
    if (ev.type === 'correction') return this.correct(ev, hash);
    if (ACTS.includes(ev.type)) { this.acts.push(ev); return undefined; }
    if (!this.placed(ev, ev.body, ev.type)) return undefined;
    if (ANSWERS.includes(ev.type)) { // the same author on the same device replaces their own
      for (const [root, old] of [...this.live]) {
        const same = old.actor === ev.actor && old.device === ev.device && old.type === ev.type;
        if (same && sameSlot(old.body, ev.body)) {
          this.live.delete(root);
          this.current.delete(old.event);
          this.retired.add(old.event);
        }
      }
    }
    this.live.set(ev.id, {
      type: ev.type, root: ev.id, actor: ev.actor, device: ev.device, first_at: ev.at,
      received_ms: receivedMs, made_after_ms: madeAfterMs, event: ev.id, hash, at: ev.at,
      body: ev.body, corrected_by: null,
    });
    this.current.set(ev.id, ev.id);
    return undefined;
  }

  correct(ev, hash) {
    const target = ev.body.supersedes;
    const body = ev.body.body;
    const root = this.current.has(target) ? this.current.get(target) : null;
    const record = { event: ev.id, actor: ev.actor, at: ev.at, supersedes: target, root,
      reason: ev.body.reason, applied: false };
    this.corrections.push(record);
    if (root === null) {
      let why;
      if (this.retired.has(target)) {
        why = ['correction.target_superseded', 'the target was replaced since'];
      } else if (this.seen.has(target) && !CORRECTABLE_TYPES.includes(this.seen.get(target))) {
        why = ['correction.not_correctable', `a ${this.seen.get(target)} is not corrected`];
      } else {
        why = ['correction.target_unknown', `no applied event ${target} before it`];
      }
      return this.problem(...why, ev);
    }
    const entry = this.live.get(root);
    try {
      checkBody(entry.type, body);
    } catch (err) {
      if (!(err instanceof BodyInvalid)) throw err;
      const msg = `not a ${entry.type} body: ${err.reason}`;
      return this.problem('correction.type_mismatch', msg, ev);
    }
    // The corrector must serve the matter before and after (one problem per correction).
    if (!(this.placed(ev, entry.body, entry.type) && this.placed(ev, body, entry.type))) {
      return undefined;
    }
    this.current.delete(entry.event);
    this.retired.add(entry.event);
    Object.assign(entry, { event: ev.id, hash, at: ev.at, body, corrected_by: ev.actor });
    this.current.set(ev.id, root);
    this.corrections[this.corrections.length - 1] = { ...record, applied: true };
    return undefined;
  }

  /** May the event's actor write to the matter/item the body names? false: ignore it. */
  placed(ev, body, type) {
    const code = get(body, 'matter');
    if (code === null) return true;
    const matter = this.matters.get(code);
    const answer = ANSWERS.includes(type);
    if (matter === undefined) {
      this.problem('matter.unknown', `matter ${code} is not in the task`, ev);
      return !answer; // a photo or note stays evidence; an answer has nowhere to go
    }
    if (!this.served.get(ev.actor).has(matter.department)) {
      const msg = `${ev.actor} does not serve ${matter.department}, owner of ${code}`;
      this.problem('member.writes_foreign_matter', msg, ev);
      return false;
    }
    if (has(body, 'item') && !matter.items.some((i) => i.position === body.item)) {
      this.problem('item.unknown', `matter ${code} has no item ${body.item}`, ev);
      return !answer;
    }
    return true;
  }

  problem(code, message, ev = null) {
    this.problems.push({ code, message, event: ev ? ev.id : null });
  }
}

const sameSlot = (a, b) => a.matter === b.matter && get(a, 'item') === get(b, 'item');
const slotKey = (matter, item) => JSON.stringify([matter, item]);

// --- the read side (views.freeze) ------------------------------------------------------------
const ref = (raw) => (raw === null ? null
  : { sha256: raw.sha256, bytes: raw.bytes, mime: raw.mime });
const refs = (raws) => raws.map(ref);
const personOf = (b) => ({ name: b.name, id_number: get(b, 'id_number'), phone: get(b, 'phone'),
  role: get(b, 'role') });

function checkinOf(visit, e) {
  const b = e.body;
  const s = visit.subject;
  const [lat, lon, acc] = [get(b, 'lat_e6'), get(b, 'lon_e6'), get(b, 'accuracy_m')];
  const located = [lat, lon, s.lat_e6, s.lon_e6].every((v) => v !== null && v !== undefined);
  const dist = located ? distanceM(lat, lon, s.lat_e6, s.lon_e6) : null;
  const offset = e.first_at - e.received_ms; // the original event's clock, even when corrected
  return {
    event: e.event, actor: e.actor, device: e.device, at: e.first_at, received_ms: e.received_ms,
    lat_e6: lat, lon_e6: lon, accuracy_m: acc, source: get(b, 'source'), reason: get(b, 'reason'),
    distance_m: dist, far: dist !== null && dist > FAR_M,
    inaccurate: acc !== null && acc > INACCURATE_M, clock_offset_ms: offset,
    clock_suspect: clockSuspect(offset, e.received_ms, e.made_after_ms),
    corrected_by: e.corrected_by,
  };
}

function answerOf(e) {
  const b = e.body;
  return {
    event: e.event, root: e.root, actor: e.actor, device: e.device, at: e.at,
    result: e.type === 'item_result' ? b.result : b.result_code,
    note: has(b, 'note') ? b.note : '', media: refs(has(b, 'media') ? b.media : []),
    disposition: get(b, 'disposition'), corrected_by: e.corrected_by,
  };
}

/** [latest agreeing answer, agreeing actors, conflict] (views._settle). */
function settle(answers) {
  if (!answers.length) return [null, [], []];
  if (new Set(answers.map((a) => JSON.stringify([a.result, a.disposition]))).size > 1) {
    return [null, [], answers];
  }
  return [answers[answers.length - 1], sortedText(new Set(answers.map((a) => a.actor))), []];
}

function mattersOf(visit, entries, problems) {
  const slots = new Map();
  for (const e of entries) {
    if (!ANSWERS.includes(e.type)) continue;
    const key = slotKey(e.body.matter, get(e.body, 'item'));
    if (!slots.has(key)) slots.set(key, []);
    slots.get(key).push(answerOf(e));
  }
  return visit.matters.map((m) => {
    const items = m.items.map((info) => {
      const answers = slots.get(slotKey(m.code, info.position)) ?? [];
      const [latest, by, conflict] = settle(answers);
      const media = new Map(); // every agreeing answer's media stays in view, first one kept
      for (const a of latest ? answers : []) {
        const fresh = new Map(); // {r.sha256: r for r in a.media if r.sha256 not in media}
        for (const r of a.media) if (!media.has(r.sha256)) fresh.set(r.sha256, r);
        for (const [k, r] of fresh) media.set(k, r);
      }
      if (conflict.length) {
        const msg = `${m.code} item ${info.position}: answers differ`;
        problems.push({ code: 'item.conflict', message: msg, event: conflict.at(-1).event });
      }
      return { position: info.position, text: info.text, result: latest ? latest.result : null,
        note: latest ? latest.note : '', media: [...media.values()], by, answers, conflict };
    });
    const answers = slots.get(slotKey(m.code, null)) ?? [];
    const [latest, by, conflict] = settle(answers);
    if (conflict.length) {
      const msg = `${m.code}: result codes differ`;
      problems.push({ code: 'matter_result.conflict', message: msg, event: conflict.at(-1).event });
    }
    return {
      code: m.code, department: m.department, name: m.name, items,
      answered: items.filter((i) => i.result !== null).length, total: items.length,
      result_code: latest ? latest.result : null, disposition: latest ? latest.disposition : null,
      note: latest ? latest.note : '', result_by: by, result_answers: answers,
      result_conflict: conflict,
    };
  });
}

function actsOf(acts, current, problems) {
  let signature = null;
  let refusal = null;
  const confirmations = new Map();
  for (const ev of acts) { // log order: the latest of each kind wins
    const b = ev.body;
    const stale = b.record_hash !== current;
    if (ev.type === 'signature') {
      signature = { event: ev.id, actor: ev.actor, at: ev.at, record_hash: b.record_hash,
        signer_name: b.signer_name, signer_role: b.signer_role, image: ref(b.image),
        strokes: ref(b.strokes), stale };
    } else if (ev.type === 'signature_refused') {
      refusal = { event: ev.id, actor: ev.actor, at: ev.at, record_hash: b.record_hash,
        reason_code: b.reason_code, reason: b.reason, witness: personOf(b.witness),
        witness_signature: ref(get(b, 'witness_signature')), photo: ref(get(b, 'photo')), stale };
    } else {
      confirmations.set(ev.actor, { event: ev.id, actor: ev.actor, at: ev.at, method: b.method,
        record_hash: b.record_hash, stale });
    }
  }
  if (signature && refusal) {
    problems.push({ code: 'signature.conflict', message: 'the record is both signed and refused',
      event: refusal.event });
  }
  const now = current.slice(0, 8);
  for (const [code, act] of [['signature', signature], ['refusal', refusal]]) {
    if (act && act.stale) {
      const msg = `${code} names record ${act.record_hash.slice(0, 8)}, not the current ${now}`;
      problems.push({ code: `${code}.stale_record`, message: msg, event: act.event });
    }
  }
  const confirmed = sortedText(confirmations.keys()).map((a) => confirmations.get(a));
  for (const c of confirmed) {
    if (c.stale) {
      const was = c.record_hash.slice(0, 8);
      const msg = `${c.actor} confirmed record ${was}, not the current ${now}`;
      problems.push({ code: 'confirmation.stale_record', message: msg, event: c.event });
    }
  }
  return [signature, refusal, confirmed];
}

async function freeze(fold, nowMs) {
  const { visit } = fold;
  const entries = [...fold.live.values()];
  const problems = [...fold.problems];
  const of = (type) => entries.filter((e) => e.type === type);
  const checkins = of('checkin').map((e) => checkinOf(visit, e));
  const flags = [['far', 'far from'], ['inaccurate', 'imprecise'],
    ['clock_suspect', 'clock off at']];
  for (const c of checkins) {
    for (const [flag, words] of flags) {
      const msg = `${c.actor}: ${words} check-in`;
      if (c[flag]) problems.push({ code: `checkin.${flag}`, message: msg, event: c.event });
    }
  }
  // Presence (002:20(二)): a check-in counts unless it is positively far.
  const present = new Set(checkins.filter((c) => !c.far).map((c) => c.actor));
  const head = (e) => ({ event: e.event, root: e.root, actor: e.actor, at: e.at });
  const state = {
    visit: visit.visit,
    as_of_ms: nowMs,
    checkins,
    two_present: present.size >= 2,
    matters: mattersOf(visit, entries, problems),
    notes: of('note').map((e) => ({ ...head(e), text: e.body.text, matter: get(e.body, 'matter'),
      corrected_by: e.corrected_by })),
    transcripts: of('transcript').map((e) => ({ ...head(e), text: e.body.text,
      media: refs(has(e.body, 'media') ? e.body.media : []), corrected_by: e.corrected_by })),
    photos: of('photo').map((e) => ({ ...head(e), media: ref(e.body.media),
      caption: has(e.body, 'caption') ? e.body.caption : '', matter: get(e.body, 'matter'),
      item: get(e.body, 'item'), lat_e6: get(e.body, 'lat_e6'), lon_e6: get(e.body, 'lon_e6'),
      accuracy_m: get(e.body, 'accuracy_m'), corrected_by: e.corrected_by })),
    special_outcomes: of('special_outcome').map((e) => ({ ...head(e), code: e.body.code,
      text: e.body.text, media: refs(has(e.body, 'media') ? e.body.media : []),
      corrected_by: e.corrected_by })),
    witnesses: of('witness').map((e) => ({ ...head(e), hash: e.hash, person: personOf(e.body),
      corrected_by: e.corrected_by })),
    corrections: fold.corrections.map((c) => ({ ...c })),
    record_hash: '',
    signature: null,
    refusal: null,
    confirmations: [],
    problems: [],
  };
  const current = await recordHash(buildRecord(state, visit));
  const [signature, refusal, confirmations] = actsOf(fold.acts, current, problems);
  if ((signature || refusal) && present.size < 2) {
    problems.push({ code: 'presence.fewer_than_two', event: null,
      message: 'the record was closed with fewer than two inspectors checked in on site' });
  }
  return { ...state, record_hash: current, signature, refusal, confirmations, problems };
}

/** One received event as {event, hash, received_ms, made_after_ms}: the hash is SHA-256 of
 * the envelope's canonical bytes, as the server's (parse_event takes canonical bytes only). */
async function received(item) {
  let event;
  let receivedMs;
  let madeAfterMs;
  if (Array.isArray(item)) {
    [event, receivedMs, madeAfterMs] = item;
  } else if (isDict(item.event)) {
    ({ event, received_ms: receivedMs, made_after_ms: madeAfterMs } = item);
  } else {
    ({ received_ms: receivedMs, made_after_ms: madeAfterMs } = item);
    event = item;
  }
  const envelope = Object.fromEntries(ENVELOPE_KEYS.filter((k) => has(event, k))
    .map((k) => [k, event[k]]));
  const hash = await sha256Hex(canonicalEvidence(envelope));
  return { event: envelope, hash, receivedMs, madeAfterMs: madeAfterMs ?? null };
}

/** The visit's state from its events in log order (project_visit): a pure fold. */
export async function projectVisit({ visit, events, nowMs }) {
  const fold = new Fold(visit);
  for (const r of await Promise.all(events.map(received))) {
    fold.apply(r.event, r.hash, r.receivedMs, r.madeAfterMs);
  }
  return freeze(fold, nowMs);
}
