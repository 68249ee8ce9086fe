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

const DB_NAME = 'onevisit';
const DB_VERSION = 1;

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore('keys', { keyPath: 'device_id' });
    db.createObjectStore('meta');
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
