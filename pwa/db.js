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
//   outbox — every signed event of this phone, keyPath id (the event's UUIDv7: the server
//           answers a resend of the same id and bytes as `duplicate`, so a retry can never store
//           it twice). {id, device, seq, hash, envelope (the canonical text, sent byte for byte),
//           sig, visit, type, state, code?, reason?, details?, log_index?, received_ms?,
//           inclusion?, created_at, synced_at?}. state: 'queued' (waiting; also after a retryable
//           rejection) → 'uploading' (in a request now) → 'verified' (acknowledged, and its
//           inclusion proof checked against a signed checkpoint) or 'rejected' (final, `code`
//           kept to show the user). Written together with the chain head (chain.advance's
//           `also`), so no signed event exists that is not queued (since version 3). Verified rows
//           stay as the phone's receipts: the event, its log index and its inclusion proof.
//           Index queue [state, device, seq]: the rows of one state in sending order (EVIDENCE.md
//           §3: a device's chain is accepted only in seq order); index visit: a visit's rows.
//   visits — the offline package of each visit, keyPath visit (GET /api/visits/{id}/package):
//           subject, matters and check items, members, notice text, fetched_at. Read-only
//           reference data: replaced whole by a newer download, never edited on the phone
//           (since version 4).
//   media  — photos and signature images captured on this phone, keyPath sha256 (hashed at
//           capture: the same bytes are one object). {sha256, mime, size, blob, purpose, visit,
//           state: 'pending' → 'uploaded', upload_id?, offset?, created_at, uploaded_at?}. The Blob
//           is kept after upload as the phone's copy until the visit is closed (since version 4).
//           Index state: what still has to go up.
//   peer   — signed events of other phones of the same visit, handed over offline (a bundle
//           file), keyPath id: {id, device, seq, hash, envelope, sig, visit}. Only read to build
//           the shared record; never sent from here (each phone sends its own) (since version 4).
//           Index visit.

const DB_NAME = 'onevisit';
const DB_VERSION = 4;

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore('keys', { keyPath: 'device_id' });
    db.createObjectStore('meta');
  }
  if (oldVersion < 2) {
    db.createObjectStore('chain', { keyPath: 'device' });
  }
  if (oldVersion < 3) {
    const outbox = db.createObjectStore('outbox', { keyPath: 'id' });
    // Not unique: a row rejected for good keeps its seq while the events after it are
    // re-signed onto that seq (docs/sync.md "Recovering from a rejection").
    outbox.createIndex('queue', ['state', 'device', 'seq']);
    outbox.createIndex('visit', 'visit');
  }
  if (oldVersion < 4) {
    db.createObjectStore('visits', { keyPath: 'visit' });
    db.createObjectStore('media', { keyPath: 'sha256' }).createIndex('state', 'state');
    db.createObjectStore('peer', { keyPath: 'id' }).createIndex('visit', 'visit');
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

// Arrays sort after every string and number in IndexedDB keys, so [state, []] bounds all of a
// state's [state, device, seq] keys from above.
const stateRange = (state) => IDBKeyRange.bound([state], [state, []]);

/** Several rows put in one transaction (a sync answer is applied all together or not at all). */
async function putRows(storeName, rows) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, 'readwrite');
    const store = tx.objectStore(storeName);
    for (const row of rows) store.put(row);
    tx.oncomplete = () => resolve(rows.length);
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

/** {state: count} of the outbox, and `meta` values by key, read in one transaction (the sync
 * bar reads them after every tap: one round trip, not one per state). */
async function countStates(states, metaKeys = []) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(['outbox', 'meta'], 'readonly');
    const index = tx.objectStore('outbox').index('queue');
    const counts = {};
    const values = {};
    for (const state of states) index.count(stateRange(state)).onsuccess = (ev) => { counts[state] = ev.target.result; };
    for (const key of metaKeys) tx.objectStore('meta').get(key).onsuccess = (ev) => { values[key] = ev.target.result; };
    tx.oncomplete = () => resolve({ counts, meta: values });
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

export const outbox = {
  get: (id) => run('outbox', 'readonly', (s) => s.get(id)),
  /** Rows of one state in sending order (device, then seq); at most `limit`. */
  inState: (state, limit) => run('outbox', 'readonly',
    (s) => s.index('queue').getAll(stateRange(state), limit)),
  count: (state) => run('outbox', 'readonly', (s) => s.index('queue').count(stateRange(state))),
  countStates,
  ofVisit: (visit) => run('outbox', 'readonly', (s) => s.index('visit').getAll(visit)),
  putAll: (rows) => putRows('outbox', rows),
};

export const visits = {
  get: (visit) => run('visits', 'readonly', (s) => s.get(visit)),
  all: () => run('visits', 'readonly', (s) => s.getAll()),
  put: (pkg) => run('visits', 'readwrite', (s) => s.put(pkg)),
};

export const media = {
  get: (sha256) => run('media', 'readonly', (s) => s.get(sha256)),
  put: (row) => run('media', 'readwrite', (s) => s.put(row)),
  inState: (state) => run('media', 'readonly', (s) => s.index('state').getAll(state)),
  count: (state) => run('media', 'readonly', (s) => s.index('state').count(state)),
};

export const peer = {
  ofVisit: (visit) => run('peer', 'readonly', (s) => s.index('visit').getAll(visit)),
  putAll: (rows) => putRows('peer', rows),
};
