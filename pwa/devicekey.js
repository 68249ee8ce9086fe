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
