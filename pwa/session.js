// Who is signed in on this page. The session itself is an HttpOnly cookie the page cannot
// read; here we keep only the answer of /api/auth/me (or of a sign-in) for the screens.

import { api, setCsrf } from './api.js';
import { meta } from './db.js';
import { available as deviceKeysAvailable, createDeviceKey, deviceLabel, discard, keyForUser,
  markRegistered } from './devicekey.js';

let me = null;
let offline = false;

export const current = () => me;
/** True when `me` is the last known user, remembered on this phone, because the server could
 * not be reached: field work goes on (signed offline), server calls wait for the network. */
export const isOffline = () => offline;

/** Ask the server; null when not signed in. Without network, the user last signed in on this
 * phone (kept in IndexedDB) — field work must not stop at a dead zone. Other failures propagate. */
export async function refresh() {
  try {
    me = (await api('/api/auth/me')).user;
    offline = false;
  } catch (err) {
    if (err.status === 401) {
      me = null;
      offline = false;
    } else if (err.code === 'network.unreachable') {
      me = (await meta.get('last_user').catch(() => null)) ?? null;
      offline = true;
      if (!me) throw err;
    } else {
      throw err;
    }
  }
  await remember();
  return me;
}

// The signed-in user survives a reload without network; a sign-out or a 401 forgets it.
const remember = () => (offline ? Promise.resolve() : meta.set('last_user', me)).catch(() => {});

/** Take a sign-in answer {user, csrf_token}. */
export async function signedIn(answer) {
  me = answer.user;
  offline = false;
  setCsrf(answer.csrf_token);
  await remember();
  await requestPersistence();
  return me;
}

export async function signOut() {
  await api('/api/auth/logout', { method: 'POST' });
  me = null;
  setCsrf('');
  await remember();
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
