// Who is signed in on this page. The session itself is an HttpOnly cookie the page cannot
// read; here we keep only the answer of /api/auth/me (or of a sign-in) for the screens.

import { api, setCsrf } from './api.js';
import { meta } from './db.js';
import { available as deviceKeysAvailable, createDeviceKey, deviceLabel, discard, keyForUser,
  markRegistered } from './devicekey.js';

let me = null;

export const current = () => me;

/** Ask the server; null when not signed in. Network failures propagate (the shell says so). */
export async function refresh() {
  try {
    me = (await api('/api/auth/me')).user;
  } catch (err) {
    if (err.status !== 401) throw err;
    me = null;
  }
  return me;
}

/** Take a sign-in answer {user, csrf_token}. */
export async function signedIn(answer) {
  me = answer.user;
  setCsrf(answer.csrf_token);
  await requestPersistence();
  return me;
}

export async function signOut() {
  await api('/api/auth/logout', { method: 'POST' });
  me = null;
  setCsrf('');
}

/** Offline data (keys now, evidence later) must survive storage pressure: ask once signed in.
 * Chromium grants it by heuristics (installed, engagement), so the answer is shown, not assumed. */
async function requestPersistence() {
  if (!navigator.storage?.persist) return;
  try {
    const granted = await navigator.storage.persist();
    await meta.set('storage_persist', { granted, asked_at: new Date().toISOString() });
  } catch {
    // A refusal is reported by persisted() on the home screen; sign-in goes on.
  }
}

/** After a passkey sign-in: make sure this phone holds a registered device key for the user
 * (EVIDENCE.md §2: keys are registered in a passkey-authenticated session). */
export async function ensureDeviceKey(user) {
  if (!deviceKeysAvailable() || (await keyForUser(user.id))) return null;
  const record = await createDeviceKey({ user });
  try {
    await api('/api/auth/devices', { method: 'POST', json: { spki: record.spki, label: deviceLabel() } });
  } catch (err) {
    await discard(record);
    throw err;
  }
  return markRegistered(record, user);
}
