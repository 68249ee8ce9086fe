// An independent verifier of a draw record (../shared/specs/DRAW.md), written from the spec,
// not translated from the server's code: the coordinator (or anyone with the page) recomputes
// the seed, the selection, the groups and the swaps in this browser and compares them with
// the published record. On demand (task.js imports it when "verify" is pressed).
//
// - SHA-256 through WebCrypto; 256-bit big-endian keys compare as their 32 digest bytes.
// - ceil(ratio × n) exactly: the decimal string becomes a BigInt fraction, never a float.
// - The snapshot hash is SHA-256 of JCS(sorted [[subject_id, stratum], …]). For lists of
//   strings JCS is JSON.stringify (the same escapes as RFC 8785); the sort is by Unicode code
//   point (as the spec's "sorted" means), not JavaScript's default UTF-16 order.
// - Identifiers enter hashes as UTF-8; a string with a lone surrogate has no UTF-8 form and
//   makes the record invalid.
//
// No DOM: verifyRecord(record) → {ok, problems: [string], expected}.

import { canonicalize, sha256Hex } from './chain.js';

export const SWAP_REASONS = ['conflict_of_interest', 'post_change', 'work_conflict', 'health'];
const CHECKED = ['population', 'snapshot_hash', 'seed', 'subjects', 'groups', 'swaps'];
const HEX64 = /^[0-9a-f]{64}$/;
const RATIO = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const ZERO = new Uint8Array(32);
const utf8 = new TextEncoder();

/** A record the spec cannot compute: `code` as the server names the same failure. */
export class DrawError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'DrawError';
    this.code = code;
  }
}
const invalid = (message) => new DrawError('draw.invalid', message);

// --- bytes ----------------------------------------------------------------------------------

function bytesOf(value, what) {
  if (typeof value !== 'string' || !value) throw invalid(`${what} must be a non-empty string`);
  if (!wellFormed(value)) throw invalid(`${what} is not valid Unicode`);
  return utf8.encode(value);
}

function wellFormed(s) {
  if (typeof s.isWellFormed === 'function') return s.isWellFormed();
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function fromHex(value, what) {
  if (typeof value !== 'string' || !HEX64.test(value)) {
    throw invalid(`${what} must be 64 lowercase hex characters`);
  }
  return Uint8Array.from(value.match(/../g), (pair) => parseInt(pair, 16));
}

/** Big-endian keys: byte by byte. */
export function compareBytes(a, b) {
  for (let i = 0; i < a.length && i < b.length; i += 1) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** Strings by Unicode code point (Python's order, UTF-8 byte order). UTF-16 code units order
 * the same except that U+E000–U+FFFF sort below the surrogates that encode U+10000 and above;
 * at the first differing unit, shift those two ranges into code point order. */
export function compareCodePoints(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}
const rank = (unit) => (unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit);

const byKeyThenId = (p, q) => compareBytes(p[0], q[0]) || compareCodePoints(p[1], q[1]);

// --- inputs ---------------------------------------------------------------------------------

/** SHA-256 hex of JCS(sorted population). */
export async function snapshotHash(population) {
  const rows = population.map(([sid, stratum]) => [String(sid), String(stratum)])
    .sort((p, q) => compareCodePoints(p[0], q[0]) || compareCodePoints(p[1], q[1]));
  for (const [sid, stratum] of rows) {
    if (!wellFormed(sid) || !wellFormed(stratum)) {
      throw invalid('a subject id or stratum is not valid Unicode');
    }
  }
  return toHex(await sha256(utf8.encode(JSON.stringify(rows))));
}

/** How many of a stratum of n are drawn: ceil(ratio × n) capped at n, or min(count, n). */
export function quota(rule, n) {
  if (!rule || typeof rule !== 'object' || Array.isArray(rule) || Object.keys(rule).length !== 1) {
    throw invalid('a stratum rule is {"ratio": "<decimal>"} or {"count": <integer>}');
  }
  if ('count' in rule) {
    const count = rule.count;
    if (!Number.isInteger(count) || count < 0) {
      throw invalid('a stratum count must be a non-negative integer');
    }
    return Math.min(count, n);
  }
  const m = typeof rule.ratio === 'string' ? RATIO.exec(rule.ratio) : null;
  if (!m) throw invalid('a stratum ratio must be a decimal string such as "0.05"');
  const fraction = m[2] || '';
  const num = BigInt(m[1] + fraction);
  const den = 10n ** BigInt(fraction.length);
  if (num > den) throw invalid('a stratum ratio must be between 0 and 1');
  const size = BigInt(n);
  const ceil = (num * size + den - 1n) / den;
  return Number(ceil < size ? ceil : size);
}

/** The parties' secrets in commitment order (a party that did not reveal: 32 zero bytes). */
async function secretsOf(parties) {
  if (!Array.isArray(parties) || !parties.length) {
    throw invalid('a draw has at least one committing party');
  }
  const out = [];
  for (const [n, party] of parties.entries()) {
    if (!party || typeof party !== 'object' || typeof party.name !== 'string') {
      throw invalid(`party #${n + 1} needs a name`);
    }
    const commit = fromHex(party.commit, `party ${party.name}: commit`);
    const secret = fromHex(party.secret, `party ${party.name}: secret`);
    if (party.revealed === false) {
      if (compareBytes(secret, ZERO)) {
        throw invalid(`party ${party.name} did not reveal: its secret is 32 zero bytes`);
      }
    } else if (compareBytes(await sha256(secret), commit)) {
      throw invalid(`party ${party.name}: SHA-256(secret) is not its commitment`);
    }
    out.push(secret);
  }
  return out;
}

function pairs(value, what) {
  const ok = Array.isArray(value) && value.every((p) => Array.isArray(p) && p.length === 2
    && typeof p[0] === 'string' && typeof p[1] === 'string');
  if (!ok) throw invalid(`${what} is a list of [string, string]`);
  return value;
}

// --- selection ------------------------------------------------------------------------------

async function select(seed, task, population, strata) {
  const prefix = concat(seed, [0], task, [0]);
  const seen = new Set();
  for (const [sid] of population) {
    if (seen.has(sid)) throw invalid(`subject ${sid} appears twice in the population`);
    seen.add(sid);
  }
  const keys = await Promise.all(population.map(([sid]) => sha256(concat(prefix, bytesOf(sid, 'subject_id')))));
  const byStratum = new Map();
  population.forEach(([sid, stratum], i) => {
    if (!byStratum.has(stratum)) byStratum.set(stratum, []);
    byStratum.get(stratum).push([keys[i], sid]);
  });
  const unruled = [...byStratum.keys()].filter((s) => !Object.hasOwn(strata, s)).sort(compareCodePoints);
  if (unruled.length) throw invalid(`no ratio or count for stratum ${unruled[0]}`);
  const chosen = [];
  for (const [stratum, keyed] of byStratum) {
    keyed.sort(byKeyThenId);
    chosen.push(...keyed.slice(0, quota(strata[stratum], keyed.length)));
  }
  for (const rule of Object.values(strata)) quota(rule, 0); // an empty stratum's rule too
  return chosen.sort(byKeyThenId).map(([, sid]) => sid);
}

// --- matching -------------------------------------------------------------------------------

class Pool {
  constructor(seed, task, inspectors, conflicts, cap) {
    if (cap !== null && (!Number.isInteger(cap) || cap < 1)) {
      throw invalid('cap is a positive integer or null');
    }
    this.seed = seed;
    this.task = task;
    this.cap = cap;
    this.byDepartment = new Map();
    this.load = new Map();
    for (const [inspector, department] of inspectors) {
      if (this.load.has(inspector)) throw invalid(`inspector ${inspector} is listed twice`);
      bytesOf(inspector, 'inspector_id');
      this.load.set(inspector, 0);
      if (!this.byDepartment.has(department)) this.byDepartment.set(department, []);
      this.byDepartment.get(department).push(inspector);
    }
    this.conflicts = new Set(conflicts.map(([i, s]) => `${i}\u0000${s}`));
  }

  /** Candidates of `source` for subject `sid`: not excluded, no conflict, under the cap,
   * lowest key1 = SHA-256(seed‖01‖task‖00‖s‖00‖d‖00‖i) first. */
  async ranked(sid, source, excluded) {
    const prefix = concat(this.seed, [1], this.task, [0], utf8.encode(sid), [0], utf8.encode(source), [0]);
    const candidates = (this.byDepartment.get(source) || []).filter((i) => !excluded.has(i)
      && !this.conflicts.has(`${i}\u0000${sid}`)
      && (this.cap === null || this.load.get(i) < this.cap));
    const keys = await Promise.all(candidates.map((i) => sha256(concat(prefix, utf8.encode(i)))));
    return candidates.map((i, n) => [keys[n], i]).sort(byKeyThenId).map(([, i]) => i);
  }
}

function checkDepartments(departments) {
  if (!departments.length) throw invalid('a draw needs at least the initiating department');
  if (new Set(departments.map((d) => d.id)).size !== departments.length) {
    throw invalid('a department is listed twice');
  }
  for (const d of departments) {
    if (!Number.isInteger(d.need) || d.need < 0) {
      throw invalid(`need of ${d.id} must be a non-negative integer`);
    }
  }
}

async function group(pool, sid, departments) {
  const members = [];
  const taken = new Set();
  let leader = '';
  for (const [position, d] of departments.entries()) {
    let short = d.need;
    for (const source of [d.id, ...d.partners]) {
      if (!short) break;
      for (const inspector of (await pool.ranked(sid, source, taken)).slice(0, short)) {
        members.push([inspector, source, d.id]);
        taken.add(inspector);
        pool.load.set(inspector, pool.load.get(inspector) + 1);
        short -= 1;
        if (position === 0 && !leader) leader = inspector;
      }
    }
    if (short) throw new DrawError('draw.short', `${d.id} (${sid}) is ${short} short`);
  }
  if (members.length < 2) throw new DrawError('draw.short', `${departments[0].id} (${sid}): fewer than 2 inspectors`);
  return { subject_id: sid, leader, members };
}

async function matchAndSwap(pool, subjects, departments, swaps) {
  const groups = [];
  for (const sid of subjects) groups.push(await group(pool, sid, departments));
  const bySubject = new Map(groups.map((g) => [g.subject_id, g]));
  const partners = new Map(departments.map((d) => [d.id, d.partners]));
  const swappedOut = new Map();
  const done = [];
  for (const [n, swap] of swaps.entries()) {
    const { subject_id: sid, out } = swap;
    const g = bySubject.get(sid);
    if (!g) throw new DrawError('swap.invalid', `#${n + 1}: ${sid} was not drawn`);
    const place = g.members.findIndex((m) => m[0] === out);
    if (place < 0) throw new DrawError('swap.invalid', `#${n + 1}: ${out} is not in the group of ${sid}`);
    if (!SWAP_REASONS.includes(swap.reason)) {
      throw new DrawError('swap.invalid', `#${n + 1}: reason is one of ${SWAP_REASONS.join(', ')}`);
    }
    if (typeof swap.approved_by !== 'string' || !swap.approved_by) {
      throw new DrawError('swap.invalid', `#${n + 1}: a swap names its approver`);
    }
    const [, own, served] = g.members[place];
    if (!swappedOut.has(sid)) swappedOut.set(sid, new Set());
    const gone = swappedOut.get(sid).add(out);
    const excluded = new Set([...g.members.map((m) => m[0]), ...gone]);
    let chosen = null;
    for (const source of new Set([own, ...(partners.get(served) || [])])) {
      const [first] = await pool.ranked(sid, source, excluded);
      if (first !== undefined) {
        chosen = [first, source];
        break;
      }
    }
    if (!chosen) throw new DrawError('swap.no_candidate', `${served} (${sid})`);
    const [inspector, source] = chosen;
    g.members[place] = [inspector, source, served];
    pool.load.set(out, pool.load.get(out) - 1);
    pool.load.set(inspector, pool.load.get(inspector) + 1);
    if (g.leader === out) g.leader = inspector;
    done.push({ subject_id: sid, out, in: inspector, reason: swap.reason, approved_by: swap.approved_by });
  }
  return { groups, swaps: done };
}

// --- the record -----------------------------------------------------------------------------

/** What the record's inputs give: population (sorted), snapshot_hash, seed, subjects, groups
 * (after the swaps) and the swaps with their computed `in`. Throws DrawError. */
export async function recompute(record) {
  if (!record || typeof record !== 'object' || record.v !== 1) {
    throw invalid('not a draw record of format "v": 1');
  }
  const task = bytesOf(record.task_id, 'task_id');
  const population = pairs(record.population, 'population');
  const { strata } = record;
  if (!strata || typeof strata !== 'object' || Array.isArray(strata)) {
    throw invalid('strata is an object of stratum → rule');
  }
  const beacon = 'beacon' in record ? record.beacon : '';
  if (typeof beacon !== 'string') throw invalid('beacon is a string (empty if none)');
  const seed = await sha256(concat(...(await secretsOf(record.parties)), utf8.encode(beacon)));
  const departments = (record.departments || []).map((d) => {
    if (!d || typeof d !== 'object' || typeof d.id !== 'string') {
      throw invalid('departments are objects with id, need and partners');
    }
    const partners = d.partners ?? [];
    if (!Array.isArray(partners) || !partners.every((p) => typeof p === 'string')) {
      throw invalid(`partners of ${d.id} are a list of department ids`);
    }
    return { id: d.id, need: d.need, partners };
  });
  const inspectors = pairs(record.inspectors, 'inspectors');
  const conflicts = pairs('conflicts' in record ? record.conflicts : [], 'conflicts');
  const swaps = 'swaps' in record ? record.swaps : [];
  if (!Array.isArray(swaps) || !swaps.every((s) => s && typeof s === 'object' && !Array.isArray(s))) {
    throw invalid('swaps is a list of objects');
  }
  const subjects = await select(seed, task, population, strata);
  checkDepartments(departments);
  const pool = new Pool(seed, task, inspectors, conflicts, record.cap ?? null);
  const result = await matchAndSwap(pool, subjects, departments, swaps);
  return {
    population: population.map((p) => [...p])
      .sort((p, q) => compareCodePoints(p[0], q[0]) || compareCodePoints(p[1], q[1])),
    snapshot_hash: await snapshotHash(population),
    seed: toHex(seed),
    subjects,
    ...result,
  };
}

/** JSON values equal (object key order does not matter). */
export function same(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
}

function where(got, want) {
  const short = (v) => JSON.stringify(v)?.slice(0, 200);
  if (Array.isArray(got) && Array.isArray(want)) {
    const i = got.findIndex((x, n) => n < want.length && !same(x, want[n]));
    if (i >= 0) return ` (first at [${i}]: ${short(got[i])}, expected ${short(want[i])})`;
    return ` (${got.length} entries, expected ${want.length})`;
  }
  return ` (expected ${short(want)})`;
}

/** Recompute the record and compare: {ok, problems, expected}. `recordHash` (optional): the
 * hash the server logged, compared with SHA-256(JCS(record)). */
export async function verifyRecord(record, recordHash) {
  let expected;
  try {
    expected = await recompute(record);
  } catch (err) {
    if (!(err instanceof DrawError)) throw err;
    return { ok: false, problems: [`${err.code}: ${err.message}`], expected: null };
  }
  const problems = CHECKED.filter((name) => !same(record[name], expected[name]))
    .map((name) => `${name} differs from what the inputs give${where(record[name], expected[name])}`);
  if (recordHash) {
    const got = await sha256Hex(canonicalize(record));
    if (got !== recordHash) problems.push(`record hash ${got} is not the logged ${recordHash}`);
  }
  return { ok: !problems.length, problems, expected };
}
