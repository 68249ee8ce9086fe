// Checking the server's log from the phone (EVIDENCE.md §4): RFC 6962 / RFC 9162 Merkle
// proofs and C2SP signed-note checkpoints. Pure (no I/O, no DOM), a port of
// backend/onevisit/evidence/merkle.py and note.py, so the outbox can hold the server to its
// receipts without trusting it; tests/browser/test_outbox.py runs the 196 transparency-dev
// proof vectors and the C2SP note example through it. Errors carry stable codes (`err.code`):
// proof.inclusion_invalid, proof.consistency_invalid, note.invalid, note.key_invalid,
// note.signature_invalid, note.unknown_key, checkpoint.invalid.

export class LogError extends Error {
  constructor(code, reason) {
    super(`${code}: ${reason}`);
    this.name = 'LogError';
    this.code = code;
  }
}
const fail = (code, reason) => { throw new LogError(code, reason); };

const HASH_SIZE = 32;
const utf8 = new TextEncoder();

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
const sha256 = async (...parts) => new Uint8Array(await crypto.subtle.digest('SHA-256', concat(parts)));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Leaf hash = SHA-256(0x00 || leaf input) (RFC 6962 §2.1). */
export const leafHash = (input) => sha256(Uint8Array.of(0), input);
/** Interior node = SHA-256(0x01 || left || right). */
export const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

export function fromHex(text) {
  if (typeof text !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(text)) return null;
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Strict standard base64 (RFC 4648 §4): only the canonical spelling of its bytes, as
 * note._unb64 — so no two notes verify for one signature. null when it is not. */
export function fromBase64(text) {
  let bin;
  try { bin = atob(text); } catch { return null; }
  if (!text || btoa(bin) !== text) return null;
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// Tree sizes reach 2^53; JS bit operators stop at 2^31, so the index arithmetic is BigInt.
const big = (n) => BigInt(n);
const checkHashes = (code, named) => {
  for (const [name, h] of named) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) fail(code, `${name} is not a ${HASH_SIZE}-byte hash`);
  }
};

/** RFC 9162 §2.1.3.2 (merkle.verify_inclusion). Byte arrays in, throws proof.inclusion_invalid. */
export async function verifyInclusion({ leafHash: leaf, index, size, path, root }) {
  const code = 'proof.inclusion_invalid';
  if (!(index >= 0 && index < size)) fail(code, `leaf index ${index} is not below tree size ${size}`);
  checkHashes(code, [['leaf hash', leaf], ['root', root], ...path.map((p) => ['path', p])]);
  let fn = big(index);
  let sn = big(size) - 1n;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) fail(code, 'proof is longer than the tree is deep');
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      while (fn && !(fn & 1n)) { fn >>= 1n; sn >>= 1n; } // climb to the next right turn
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail(code, 'proof is shorter than the tree is deep');
  if (!equal(r, root)) fail(code, 'computed root does not match');
}

/** RFC 9162 §2.1.4.2 with its preconditions (merkle.verify_consistency): 0 < size1 ≤ size2;
 * equal sizes need an empty proof and equal roots. Throws proof.consistency_invalid. */
export async function verifyConsistency({ size1, size2, root1, root2, path }) {
  const code = 'proof.consistency_invalid';
  if (size1 <= 0) fail(code, 'no consistency proof from an empty tree');
  if (size2 < size1) fail(code, `size2 ${size2} is smaller than size1 ${size1}`);
  if (size1 === size2) {
    if (path.length) fail(code, 'sizes are equal but the proof is not empty');
    if (!equal(root1, root2)) fail(code, 'sizes are equal but the roots differ');
    return;
  }
  if (!path.length) fail(code, 'empty proof');
  checkHashes(code, [['root1', root1], ['root2', root2], ...path.map((p) => ['path', p])]);
  const nodes = [...path];
  const s1 = big(size1);
  if ((s1 & (s1 - 1n)) === 0n) nodes.unshift(root1); // step 2: size1 is a power of two
  let fn = s1 - 1n;
  let sn = big(size2) - 1n;
  while (fn & 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = nodes[0];
  let sr = nodes[0];
  for (const c of nodes.slice(1)) {
    if (sn === 0n) fail(code, 'proof is longer than needed');
    if (fn & 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn && !(fn & 1n)) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail(code, 'proof is shorter than needed');
  if (!equal(fr, root1)) fail(code, 'computed first root does not match root1');
  if (!equal(sr, root2)) fail(code, 'computed second root does not match root2');
}

// --- C2SP signed-note with Ed25519 (note.py) --------------------------------------------------
const SIG_PREFIX = '— '; // U+2014 EM DASH, U+0020
const CONTROL = /[\x00-\x09\x0b-\x1f]/;
const validName = (name) => Boolean(name) && !name.includes('+') && !/\s/u.test(name);

/** key ID = SHA-256(name || "\n" || 0x01 || 32-byte public key)[:4]. */
const keyId = async (name, pub) => (await sha256(utf8.encode(`${name}\n`), Uint8Array.of(1), pub)).slice(0, 4);

/** Parse "<name>+<hex8 key ID>+<base64(0x01 || Ed25519 public key)>"; the ID must match. */
export async function parseVerifierKey(vkey) {
  const code = 'note.key_invalid';
  const m = typeof vkey === 'string' && /^([^+]+)\+([0-9a-fA-F]{8})\+(.+)$/s.exec(vkey);
  if (!m || !validName(m[1])) fail(code, 'not <name>+<hex8>+<base64>');
  const key = fromBase64(m[3]);
  if (!key || key.length !== 33 || key[0] !== 1) fail(code, 'not an Ed25519 (0x01) verifier key');
  const pub = key.slice(1);
  const id = fromHex(m[2].toLowerCase());
  if (!equal(await keyId(m[1], pub), id)) fail(code, 'key ID does not match name and key');
  return { name: m[1], id, pub };
}

/** Does this browser's WebCrypto do Ed25519 (Chromium ships it since 137)? */
export async function ed25519Supported() {
  try {
    await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'Ed25519' }, false, ['verify']);
    return true;
  } catch {
    return false;
  }
}

/** Verify a signed note against one verifier key; returns {text, signature} where signature
 * is 'ed25519' (checked), or 'unsupported' if WebCrypto has no Ed25519 — then only the
 * structure and key ID were checked (docs/pwa.md says so). Signatures by other keys are
 * ignored, as the spec requires; none by ours is note.unknown_key. */
export async function verifyNote(note, vkey) {
  const verifier = await parseVerifierKey(vkey);
  if (typeof note !== 'string' || CONTROL.test(note) || !note.isWellFormed()) {
    fail('note.invalid', 'control characters or invalid UTF-8');
  }
  const split = note.lastIndexOf('\n\n');
  if (split < 0) fail('note.invalid', 'no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const sigs = note.slice(split + 2);
  if (!sigs.endsWith('\n')) fail('note.invalid', 'signature block does not end in a newline');
  let signature = null;
  for (const line of sigs.slice(0, -1).split('\n')) {
    if (!line.startsWith(SIG_PREFIX)) fail('note.invalid', "signature line does not start with '— '");
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const sig = space < 0 ? null : fromBase64(rest.slice(space + 1));
    if (!sig || sig.length < 5 || !validName(name)) fail('note.invalid', 'malformed signature line');
    if (name !== verifier.name || !equal(sig.slice(0, 4), verifier.id) || signature) continue;
    signature = await checkEd25519(verifier.pub, sig.slice(4), utf8.encode(text), name);
  }
  if (!signature) fail('note.unknown_key', 'no signature by the trusted key');
  return { text, signature };
}

async function checkEd25519(pub, sig, data, name) {
  let key;
  try {
    key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
  } catch (err) {
    if (err?.name === 'NotSupportedError') return 'unsupported';
    fail('note.key_invalid', `not an Ed25519 public key (${err?.name})`);
  }
  if (!(await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, data))) {
    fail('note.signature_invalid', `signature by ${name} does not verify`);
  }
  return 'ed25519';
}

/** A tlog-checkpoint text (origin, size, base64 root, extension lines), as note.parse_checkpoint. */
export function parseCheckpoint(text) {
  const code = 'checkpoint.invalid';
  if (typeof text !== 'string' || !text.endsWith('\n')) fail(code, 'text must end in a newline');
  const [origin, size, rootB64, ...exts] = text.slice(0, -1).split('\n');
  if (!origin || rootB64 === undefined) fail(code, 'fewer than three lines');
  if (!/^(?:0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    fail(code, 'tree size is not a decimal without leading zeros');
  }
  const root = fromBase64(rootB64);
  if (!root || root.length !== HASH_SIZE) fail(code, 'root is not a 32-byte hash in standard base64');
  if (exts.some((e) => !e)) fail(code, 'empty extension line');
  return { origin, size: Number(size), root, rootB64 };
}
