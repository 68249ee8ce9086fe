// Evidence on the phone (EVIDENCE.md §1, §3): canonical bytes, SHA-256, ECDSA signatures and
// the device's hash chain. It mirrors backend/onevisit/evidence/jcs.py and events.py byte
// for byte — tests/browser/test_chain_vectors.py runs both sides on the same vectors — and
// throws the same stable error codes (errors.py), so callers branch on `err.code`.
// No DOM here: the outbox and a worker can use it too.

import { decode, encode, hex } from './b64url.js';
import { chain as heads } from './db.js';
import { lock } from './locks.js';

export const GENESIS_PREV = '0'.repeat(64); // `prev` of a device's first event (seq 1)
export const MAX_DEPTH = 64; // nesting of arrays/objects, as jcs.py
// Must equal events.EVENT_TYPES (the browser test compares them).
export const EVENT_TYPES = [
  'checkin', 'item_result', 'matter_result', 'photo', 'note', 'transcript', 'signature',
  'signature_refused', 'witness', 'special_outcome', 'record_confirmed', 'correction',
];

export class EvidenceError extends Error {
  constructor(code, reason = '', field = undefined) {
    super(reason ? `${code}: ${reason}` : code);
    this.name = 'EvidenceError';
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}
const fail = (code, reason, field) => { throw new EvidenceError(code, reason, field); };

// --- canonical JSON (RFC 8785 JCS + EVIDENCE.md §1) -------------------------------------------
const utf8 = new TextEncoder();
const isAscii = (s) => /^[\x00-\x7f]*$/.test(s);
const isPlainObject = (v) => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function write(value, evidence, depth, out) {
  if (evidence && depth > MAX_DEPTH) fail('json.invalid', `nesting deeper than ${MAX_DEPTH}`);
  if (value === null || value === true || value === false) {
    out.push(String(value));
  } else if (typeof value === 'number') {
    if (evidence) {
      // JS has no int type: a number is a float unless it is integral (1.0 === 1 here).
      if (!Number.isInteger(value)) fail('json.float', `${value}: use integers (µ°, ms, fen)`);
      if (!Number.isSafeInteger(value)) fail('json.int_range', `${value} is beyond ±(2^53-1)`);
    } else if (!Number.isFinite(value)) {
      fail('json.invalid', `${value} is not representable in JCS`);
    }
    // RFC 8785 §3.2.2.3: the ECMAScript Number serialisation, which JSON.stringify is (-0 → 0).
    out.push(JSON.stringify(value));
  } else if (typeof value === 'string') {
    // A lone surrogate has no UTF-8 form (RFC 8785 §3.2.2.2, I-JSON); TextEncoder would
    // silently turn it into U+FFFD, so the bytes would not be the value's.
    if (!value.isWellFormed()) fail('json.invalid', 'string holds a lone surrogate');
    // JSON.stringify escapes exactly as JCS: \" \\ \b \t \n \f \r, other controls \u00xx.
    out.push(JSON.stringify(evidence ? value.normalize('NFC') : value));
  } else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((v, i) => { if (i) out.push(','); write(v, evidence, depth + 1, out); });
    out.push(']');
  } else if (typeof value === 'object' && isPlainObject(value)) {
    // RFC 8785 §3.2.3: keys sorted by UTF-16 code units, which is what sort() compares.
    const keys = Object.keys(value).sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (!k.isWellFormed()) fail('json.invalid', 'key holds a lone surrogate');
      if (evidence && !isAscii(k)) fail('json.key_not_ascii', `object key ${JSON.stringify(k)}`);
      out.push(i ? ',' : '', JSON.stringify(k), ':');
      write(value[k], evidence, depth + 1, out);
    });
    out.push('}');
  } else {
    fail('json.invalid', `${typeof value} is not a JSON value`); // undefined, BigInt, Date…
  }
}

function serialise(value, evidence) {
  const out = [];
  try {
    write(value, evidence, 0, out);
  } catch (err) {
    if (err instanceof RangeError) fail('json.invalid', 'nesting too deep'); // or a cycle
    throw err;
  }
  return utf8.encode(out.join(''));
}

/** RFC 8785 canonical UTF-8 bytes of any JSON value (floats allowed, no normalisation). */
export const canonicalize = (value) => serialise(value, false);

/** JCS bytes of an evidence object: strings NFC-normalised, then the §1 rules enforced. */
export const canonicalEvidence = (value) => serialise(value, true);

// --- the receiving side: bytes that must be the canonical form of themselves ------------------
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a BOM stays: refused

/** Parse evidence bytes as jcs.parse_canonical does, with the same codes, in the same order:
 * UTF-8 and JSON syntax (duplicate and non-ASCII keys, floats), then the value rules (integer
 * range, lone surrogates, NFC), then equality with the canonical bytes. JSON.parse cannot see
 * duplicate keys or tell 1.0 from 1, hence this small strict parser. */
export function parseCanonical(bytes) {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let text;
  try {
    text = decoder.decode(data);
  } catch {
    fail('json.invalid', 'not valid UTF-8');
  }
  let value;
  try {
    value = new Parser(text).document();
  } catch (err) {
    if (err instanceof RangeError) fail('json.invalid', 'nesting too deep');
    throw err;
  }
  check(value, 0);
  const again = canonicalize(value);
  if (again.length !== data.length || again.some((b, i) => b !== data[i])) {
    fail('event.not_canonical', 'bytes differ from their RFC 8785 canonical form');
  }
  return value;
}

function check(value, depth) {
  if (depth > MAX_DEPTH) fail('json.invalid', `nesting deeper than ${MAX_DEPTH}`);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) fail('json.int_range', `${value} is beyond ±(2^53-1)`);
  } else if (typeof value === 'string') {
    if (!value.isWellFormed()) fail('json.invalid', 'string holds a lone surrogate');
    if (value.normalize('NFC') !== value) fail('json.not_nfc', `${value.slice(0, 40)} is not NFC`);
  } else if (Array.isArray(value)) {
    value.forEach((v) => check(v, depth + 1));
  } else if (value !== null && typeof value === 'object') {
    Object.values(value).forEach((v) => check(v, depth + 1));
  }
}

const ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const WS = new Set([' ', '\t', '\n', '\r']); // JSON's whitespace, no more (RFC 8259 §2)
const PROP = (value) => ({ value, enumerable: true, writable: true, configurable: true });
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

class Parser {
  constructor(text) { this.s = text; this.i = 0; }
  bad(what) { fail('json.invalid', `${what} at character ${this.i}`); }
  ws() { while (WS.has(this.s[this.i])) this.i++; }

  document() {
    this.ws();
    const value = this.value();
    this.ws();
    if (this.i !== this.s.length) this.bad('extra data');
    return value;
  }

  value() {
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (this.s.startsWith(word, this.i)) { this.i += word.length; return v; }
    }
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.bad('expected a value'); // NaN and Infinity land here, as in Python
    this.i += m[0].length;
    if (m[1] || m[2]) fail('json.float', `number ${m[0]} is not an integer`);
    return Number(m[0]); // beyond 2^53 it rounds, and check() refuses it as json.int_range
  }

  array() {
    const out = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') { this.i++; return out; }
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.bad("expected ',' or ']'");
    }
  }

  object() {
    const pairs = [];
    this.i++;
    this.ws();
    if (this.s[this.i] !== '}') {
      for (;;) {
        this.ws();
        if (this.s[this.i] !== '"') this.bad('expected a key');
        const key = this.string();
        this.ws();
        if (this.s[this.i++] !== ':') this.bad("expected ':'");
        this.ws();
        pairs.push([key, this.value()]);
        this.ws();
        const c = this.s[this.i++];
        if (c === '}') break;
        if (c !== ',') this.bad("expected ',' or '}'");
      }
    } else {
      this.i++;
    }
    // Like jcs._object_of_pairs, keys are judged once the object is closed.
    const obj = {};
    for (const [key, value] of pairs) {
      if (Object.hasOwn(obj, key)) fail('json.duplicate_key', `duplicate object key ${key}`);
      if (!isAscii(key)) fail('json.key_not_ascii', `object key ${JSON.stringify(key)}`);
      // defineProperty: a key "__proto__" becomes a plain property, never the prototype.
      Object.defineProperty(obj, key, PROP(value));
    }
    return obj;
  }

  string() {
    let out = '';
    this.i++;
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) this.bad('unterminated string');
      if (c === '"') return out;
      if (c < ' ') this.bad('control character in string');
      if (c !== '\\') { out += c; continue; }
      const e = this.s[this.i++];
      if (e === 'u') {
        const h4 = this.s.slice(this.i, this.i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h4)) this.bad('bad \\u escape');
        out += String.fromCharCode(parseInt(h4, 16)); // a lone surrogate: check() refuses it
        this.i += 4;
      } else if (Object.hasOwn(ESCAPES, e ?? '')) {
        out += ESCAPES[e];
      } else {
        this.bad('bad escape');
      }
    }
  }
}

// --- events (EVIDENCE.md §3), as events.parse_event checks them -------------------------------
const HEX64 = /^[0-9a-f]{64}$/;
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SERVER_TYPE = /^server\.[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const REQUIRED = ['v', 'id', 'device', 'seq', 'prev', 'actor', 'visit', 'type', 'at', 'body'];
const OPTIONAL = ['mono', 'session', 'anchor'];
const isInt = (x) => Number.isSafeInteger(x);
const isText = (x) => typeof x === 'string' && x !== '';
const isHex64 = (x) => typeof x === 'string' && HEX64.test(x);
const want = (ok, field, reason) => {
  if (!ok) fail('event.malformed', `${field}: ${reason}`, field);
};

/** The checked envelope of canonical event bytes, or an EvidenceError (`field` on
 * event.malformed). Its hash is `await eventHash(bytes)`. */
export function parseEvent(bytes) {
  const obj = parseCanonical(bytes);
  want(isObject(obj), 'envelope', 'not a JSON object');
  for (const key of Object.keys(obj).sort()) {
    want(REQUIRED.includes(key) || OPTIONAL.includes(key), key, 'unknown field');
  }
  for (const key of REQUIRED) want(Object.hasOwn(obj, key), key, 'missing');
  want(obj.v === 1, 'v', 'must be 1');
  want(typeof obj.id === 'string' && UUID7.test(obj.id), 'id', 'not a UUIDv7');
  const isServer = obj.device === 'server';
  want(isServer || isHex64(obj.device), 'device', "not 64 lowercase hex or 'server'");
  want(isInt(obj.seq) && obj.seq >= 1, 'seq', 'not an integer >= 1');
  want(isHex64(obj.prev), 'prev', 'not 64 lowercase hex');
  want((obj.prev === GENESIS_PREV) === (obj.seq === 1), 'prev', 'zeros exactly when seq is 1');
  want(isText(obj.actor), 'actor', 'not a non-empty string');
  want(obj.visit === null || isText(obj.visit), 'visit', 'not a string or null');
  if (isServer) {
    want(typeof obj.type === 'string' && SERVER_TYPE.test(obj.type), 'type',
      "device 'server' records only 'server.*' types");
  } else {
    want(EVENT_TYPES.includes(obj.type), 'type', 'unknown event type');
  }
  want(isInt(obj.at) && obj.at >= 0, 'at', 'not an integer of ms >= 0');
  want(isObject(obj.body), 'body', 'not an object');
  const has = (k) => Object.hasOwn(obj, k);
  if (has('mono')) want(isInt(obj.mono) && obj.mono >= 0, 'mono', 'not an integer of ms >= 0');
  if (has('session')) want(isText(obj.session), 'session', 'not a non-empty string');
  if (has('anchor')) checkAnchor(obj.anchor);
  return obj;
}

function checkAnchor(a) {
  const ok = isObject(a) && Object.keys(a).sort().join() === 'root,size';
  want(ok, 'anchor', 'not exactly {"size","root"}');
  want(isInt(a.size) && a.size >= 0, 'anchor', 'size is not an integer >= 0');
  let raw = '';
  try { raw = typeof a.root === 'string' ? atob(a.root) : ''; } catch { /* not base64 */ }
  // Standard base64 of exactly 32 bytes, in its one canonical spelling (C2SP checkpoints).
  want(raw.length === 32 && btoa(raw) === a.root, 'anchor',
    'root is not a 32-byte hash in standard base64');
}

// --- hashes and signatures --------------------------------------------------------------------
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };

export const sha256Hex = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));

/** hash = SHA-256(JCS(envelope)), lowercase hex (§3). */
export const eventHash = (envelopeBytes) => sha256Hex(envelopeBytes);

/** sig = ECDSA P-256/SHA-256 over the bytes; WebCrypto already gives the raw 64-byte r||s
 * (IEEE P1363) form the spec asks for, sent as unpadded base64url (RFC 4648 §5). */
export async function signEnvelope(privateKey, bytes) {
  return encode(await crypto.subtle.sign(SIGN, privateKey, bytes));
}

/** Check a signature as events.verify_event_signature does: strict unpadded base64url of
 * exactly 64 bytes, then the ECDSA check. Throws sig.invalid. */
export async function verifyEnvelope(publicKey, bytes, signature) {
  // 64 bytes are 86 characters whose last one carries 4 zero bits (A, Q, g or w): the one
  // spelling of those bytes — padding, '+', '/', DER or another length are refused.
  const ok = typeof signature === 'string' && /^[A-Za-z0-9_-]{85}[AQgw]$/.test(signature);
  if (!ok || !(await crypto.subtle.verify(SIGN, publicKey, decode(signature), bytes))) {
    fail('sig.invalid', 'ECDSA P-256 signature does not verify');
  }
}

// --- the device chain -------------------------------------------------------------------------
/** A UUIDv7 (RFC 9562 §5.7), as store.new_event_id: 48-bit Unix ms, version 7, variant 10,
 * 74 random bits — ids sort by time and are made offline without collisions. */
export function newEventId(ms = Date.now()) {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let t = ms;
  for (let i = 5; i >= 0; i--) { b[i] = t % 256; t = Math.floor(t / 256); }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The envelope following `head` ({seq, hash} of the device's last event, or null), as
 * simulate.Phone.envelope builds it. Optional fields appear only when given. */
export function nextEnvelope({ device, actor, visit = null, type, body, at = Date.now(),
  head = null, mono, session, anchor }) {
  const env = {
    v: 1, id: newEventId(at), device, seq: (head?.seq ?? 0) + 1, prev: head?.hash ?? GENESIS_PREV,
    actor, visit, type, at, body,
  };
  if (mono !== undefined) env.mono = mono;
  if (session !== undefined) env.session = session;
  if (anchor !== undefined) env.anchor = anchor;
  return env;
}

/** Largest envelope the server takes (sync/ingest.py MAX_ENVELOPE_BYTES). */
export const MAX_ENVELOPE_BYTES = 64 * 1024;

/** The head {device, seq, hash} of a device's chain in IndexedDB; null before its first event. */
export const chainHead = async (device) => (await heads.head(device)) ?? null;

/** Record the next event of the key's device: build, canonicalise, check, sign, and advance
 * the chain head in IndexedDB. `key` is a devicekey.js record ({device_id, privateKey}).
 * `keep(signed)` may return [[store, value, key?], …] written in the same transaction as the new
 * head (the outbox's row): an event and the head that names it are saved together or not at
 * all — a head without its event would leave a gap the server refuses (chain.gap).
 * Returns {envelope (the canonical text, sent as is), bytes, sig, id, hash, seq}. */
export function appendEvent(key, { actor, visit, type, body, at, mono, session, anchor },
  keep = () => []) {
  const device = key.device_id;
  // One writer per device chain, across tabs too (Web Locks), so seq stays gapless. The
  // compare-and-set in db.js catches any writer that slips past (chain.fork).
  return lock(`onevisit-chain:${device}`, async () => {
    // The head this tab wrote last saves a read per tick; if another tab (or the outbox's
    // re-signing) moved it since, the compare-and-set fails and we sign again on the stored one.
    for (let attempt = 0; ; attempt++) {
      const head = attempt === 0 && lastHeads.has(device) ? lastHeads.get(device) : await chainHead(device);
      const env = nextEnvelope({ device, actor, visit, type, body, at, head, mono, session, anchor });
      const bytes = canonicalEvidence(env);
      // The server refuses a larger envelope (event.too_large); bodies reference media by hash.
      if (bytes.length > MAX_ENVELOPE_BYTES) {
        fail('event.too_large', `envelope of ${bytes.length} bytes, over ${MAX_ENVELOPE_BYTES}`);
      }
      parseEvent(bytes); // never sign what the server would refuse as malformed
      const hash = await eventHash(bytes);
      const sig = await signEnvelope(key.privateKey, bytes);
      const envelope = new TextDecoder().decode(bytes);
      const signed = { envelope, bytes, sig, id: env.id, hash, seq: env.seq };
      const to = { device, seq: env.seq, hash };
      if (await heads.advance(head, to, keep(signed))) {
        lastHeads.set(device, to);
        return signed;
      }
      lastHeads.delete(device);
      if (attempt > 0) fail('chain.fork', `the head of ${device} moved while seq ${env.seq} was signed`);
    }
  });
}

const lastHeads = new Map(); // device → the head this tab last wrote
