// The device key (EVIDENCE.md §2): one ECDSA P-256 key pair per phone and user, made by
// WebCrypto with extractable:false so the private key never leaves the browser's key store.
// It signs the device sign-in challenge (phones without WebAuthn) and, later, evidence.

import { encode, decode, hex } from './b64url.js';
import { keys } from './db.js';

const GEN = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };

export const available = () => Boolean(globalThis.crypto?.subtle && globalThis.indexedDB);

/** Make a key pair and keep it in IndexedDB. `user` is what we know of its owner so far. */
export async function createDeviceKey({ user, pin = false }) {
  // For ECDSA, `extractable` governs the private key; the public key is always exportable.
  const pair = await crypto.subtle.generateKey(GEN, false, ['sign', 'verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const record = {
    device_id: hex(await crypto.subtle.digest('SHA-256', spki)),
    spki: encode(spki),
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    user_id: user?.id ?? null,
    user_name: user?.name ?? '',
    pin, // true: this key signs in with a PIN (no passkey on this phone)
    registered: false, // set once the server acknowledged the public key
    created_at: new Date().toISOString(),
  };
  await keys.put(record);
  return record;
}

export async function markRegistered(record, user) {
  const updated = { ...record, registered: true, user_id: user.id, user_name: user.name };
  await keys.put(updated);
  return updated;
}

/** Forget a key the server never accepted, so no orphan is offered at sign-in. */
export const discard = (record) => keys.delete(record.device_id);

/** Sign bytes; WebCrypto gives raw r||s (64 bytes, not DER), sent as base64url. */
export async function sign(record, bytes) {
  return encode(await crypto.subtle.sign(SIGN, record.privateKey, bytes));
}

export const signText = (record, text) => sign(record, new TextEncoder().encode(text));
export const signB64 = (record, challenge) => sign(record, decode(challenge));

/** Registered keys that can sign in with a PIN. */
export async function pinKeys() {
  if (!available()) return [];
  return (await keys.all()).filter((k) => k.pin && k.registered);
}

export async function keyForUser(userId) {
  if (!available()) return null;
  return (await keys.all()).find((k) => k.registered && k.user_id === userId) ?? null;
}

/** A short label so an admin can tell a user's phones apart in the device list. */
export function deviceLabel() {
  const platform = navigator.userAgentData?.platform || navigator.platform || 'web';
  const mobile = navigator.userAgentData?.mobile ?? /Mobi|Android/i.test(navigator.userAgent);
  return `${platform}${mobile ? ' mobile' : ''} · ${new Date().toISOString().slice(0, 10)}`;
}

// The PIN on the phone. The server checks the PIN at sign-in; a confirmation made offline
// (EVIDENCE.md §5 fallback) must check it here, so the phone keeps a slow salted verifier
// (PBKDF2-SHA256), never the PIN. Set when the PIN was last accepted by the server.
const PIN_ITERATIONS = 310_000;

async function pinHash(pin, salt, iterations) {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, 256);
  return hex(bits);
}

/** Remember a verifier of a PIN the server has just accepted for this key. */
export async function rememberPin(record, pin) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const verifier = { salt: encode(salt), iterations: PIN_ITERATIONS, hash: await pinHash(pin, salt, PIN_ITERATIONS) };
  const updated = { ...record, pin_verifier: verifier };
  await keys.put(updated);
  return updated;
}

export const hasPin = (record) => Boolean(record?.pin_verifier);

export async function checkPin(record, pin) {
  const v = record.pin_verifier;
  return Boolean(v) && (await pinHash(pin, decode(v.salt), v.iterations)) === v.hash;
}
