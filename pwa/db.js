// The whole IndexedDB schema of the PWA and its version, in one place (STYLE.md habit 9).
// Bump DB_VERSION and add a step to upgrade() for every change; never edit an old step,
// because phones in the field upgrade from any earlier version.
//
// Stores, and why they exist:
//   keys  — device key pairs (EVIDENCE.md §2), keyPath device_id (hex SHA-256 of the SPKI).
//           The CryptoKey objects are stored as they are: IndexedDB keeps them by structured
//           clone, and a non-extractable private key stays non-extractable, so page script
//           (or an XSS) can ask it to sign but can never read it out. One record per user
//           enrolled on this phone, with the user's name so the sign-in screen can offer it.
//   meta  — small key → value facts about this installation (e.g. whether the browser
//           granted persistent storage), kept out of localStorage so the worker can read them.
//   chain — the head of each device's hash chain (EVIDENCE.md §3), keyPath device (the
//           device_id): {device, seq, hash} of its last signed event. The next event gets
//           seq + 1 and prev = hash. Never reset or rewritten by hand: a phone that forgot
//           its head would start a second chain at seq 1, which the server refuses
//           (chain.fork). Only chain.js writes it, through chain.advance (since version 2).

const DB_NAME = 'onevisit';
const DB_VERSION = 2;

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore('keys', { keyPath: 'device_id' });
    db.createObjectStore('meta');
  }
  if (oldVersion < 2) {
    db.createObjectStore('chain', { keyPath: 'device' });
  }
}

let opening = null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = (ev) => upgrade(req.result, ev.oldVersion);
    req.onsuccess = () => {
      const db = req.result;
      // Another tab opened a newer version: step aside so its upgrade can run.
      db.onversionchange = () => { db.close(); opening = null; };
      resolve(db);
    };
    req.onerror = () => { opening = null; reject(req.error); };
    req.onblocked = () => reject(new Error('IndexedDB upgrade blocked by another tab'));
  });
  return opening;
}

/** Run `fn(store)` in one transaction; resolves with the request's result once committed. */
async function run(storeName, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode);
    const req = fn(tx.objectStore(storeName));
    tx.oncomplete = () => resolve(req?.result);
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

export const keys = {
  get: (deviceId) => run('keys', 'readonly', (s) => s.get(deviceId)),
  all: () => run('keys', 'readonly', (s) => s.getAll()),
  put: (record) => run('keys', 'readwrite', (s) => s.put(record)),
  delete: (deviceId) => run('keys', 'readwrite', (s) => s.delete(deviceId)),
};

export const meta = {
  get: (key) => run('meta', 'readonly', (s) => s.get(key)),
  set: (key, value) => run('meta', 'readwrite', (s) => s.put(value, key)),
};

/** Move a device's chain head from `from` (the head read before signing, or null for none)
 * to `to`, and put `also` ([[store, value, key?], …], e.g. the outbox row of the event) in the
 * same transaction. A compare-and-set: resolves false, writing nothing, if the head is no longer
 * `from` — another writer got there first and the signed event must not be kept. */
async function advance(from, to, also = []) {
  const db = await open();
  const names = [...new Set(['chain', ...also.map(([name]) => name)])];
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, 'readwrite');
    const store = tx.objectStore('chain');
    let moved = false;
    let failure = null;
    const req = store.get(to.device);
    req.onsuccess = () => {
      const now = req.result;
      if ((now?.seq ?? null) !== (from?.seq ?? null) || now?.hash !== from?.hash) return;
      try {
        store.put(to);
        for (const [name, value, key] of also) tx.objectStore(name).put(value, key);
        moved = true;
      } catch (err) { // e.g. a row without its key: nothing of the step is kept
        failure = err;
        tx.abort();
      }
    };
    tx.oncomplete = () => resolve(moved);
    tx.onerror = tx.onabort = () => reject(failure ?? tx.error);
  });
}

export const chain = {
  head: (device) => run('chain', 'readonly', (s) => s.get(device)),
  advance,
};
