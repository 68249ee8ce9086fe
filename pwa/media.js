// Photos and signature images on the phone: hashed at capture, kept as a Blob in IndexedDB
// (db.js store `media`), and uploaded resumably (docs/media.md) before the events that name
// them are synced (docs/sync.md "Media before the events"). No DOM (STYLE.md habit 9).
//
// - capture() hashes the bytes with WebCrypto SHA-256 and stores a copy of exactly those bytes
//   (a File from a camera input may stop being readable later); the same bytes are one object.
// - uploadPending() sends every 'pending' object in chunks (Blob.slice, PATCH at an explicit
//   Upload-Offset). Each object starts with the declaration POST: the server answers the offset
//   it holds (or `complete: true`), so a cut request, a 409 or a lost upload id all resume from
//   the server's offset, never from a number the phone remembered. A row becomes 'uploaded' only
//   after `Upload-Complete: ?1` or `complete: true`; a final 4xx makes it 'failed', kept with its
//   code. One run at a time across tabs (Web Lock `onevisit-media`).

import { api, ApiError, request } from './api.js';
import { hex } from './b64url.js';
import { media as rows, meta } from './db.js';
import { lock } from './locks.js';

export const CHUNK_BYTES = 1024 * 1024; // docs/media.md: 1–4 MiB on a bad network, ≤ 8 MiB
const CHUNK_MAX = 8 * 1024 * 1024;
const PURPOSES = new Set(['photo', 'signature', 'video']);
const STATES = ['pending', 'uploaded', 'failed'];
// docs/events.md "media reference": lowercase type/subtype (RFC 6838 restricted names).
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
// Answers that say nothing about the object itself: the next run tries again.
const RETRY_STATUS = new Set([401, 403, 404, 408, 409, 425, 429]);

/** Fires 'change' after every stored change and on upload progress; `event.detail` is
 * {sha256, state: 'pending'|'uploading'|'uploaded'|'failed', offset, size, code?}. */
export const changes = new EventTarget();
const changed = (detail) => changes.dispatchEvent(new CustomEvent('change', { detail }));

export class MediaError extends Error {
  constructor(code, reason) { super(`${code}: ${reason}`); this.name = 'MediaError'; this.code = code; }
}

// --- capture ----------------------------------------------------------------------------------
/** Hash `file` (a File or Blob) and keep it for upload. `purpose`: 'photo' | 'signature' (or
 * 'video'); `visit`: the visit id or null; `mime` overrides the Blob's type. Resolves the media
 * reference events carry, {sha256, bytes, mime}. The same bytes again are the same object: the
 * earliest row is kept and its reference returned. */
export async function capture(file, { purpose, visit = null, mime } = {}) {
  if (!PURPOSES.has(purpose)) throw new MediaError('media.purpose_unknown', `purpose ${purpose}`);
  const type = mediaType(mime ?? file?.type);
  const bytes = await file.arrayBuffer();
  if (!bytes.byteLength) throw new MediaError('media.empty', 'no bytes to keep');
  const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
  // A lock so two tabs capturing the same picture cannot both write a row.
  const row = await lock('onevisit-media-capture', async () => {
    const held = await rows.get(sha256);
    if (held) return held;
    const fresh = {
      sha256, mime: type, size: bytes.byteLength, blob: new Blob([bytes], { type }), purpose, visit,
      state: 'pending', created_at: Date.now(),
    };
    await rows.put(fresh);
    changed({ sha256, state: 'pending', offset: 0, size: fresh.size });
    return fresh;
  });
  return { sha256, bytes: row.size, mime: row.mime };
}

/** The lowercase type/subtype of a Content-Type-like string (parameters dropped). */
export function mediaType(value) {
  const type = String(value ?? '').split(';')[0].trim().toLowerCase();
  if (!MIME.test(type)) throw new MediaError('media.mime_unknown', `no media type in "${value ?? ''}"`);
  return type;
}

/** This phone's copy of an object (for thumbnails), or null when it is not held here. */
export async function blobOf(sha256) {
  return (await rows.get(sha256))?.blob ?? null;
}

// --- status -----------------------------------------------------------------------------------
let current = null; // {sha256, offset, size} of the object being sent now (this tab)

/** {pending, uploaded, failed, current: {sha256, offset, size} | null, last_run_ms, last_ok_ms,
 * last_error} — for the UI. */
export async function status() {
  const counts = Object.fromEntries(await Promise.all(STATES.map(async (s) => [s, await rows.count(s)])));
  const st = (await meta.get('media_status')) ?? {};
  return {
    ...counts,
    current,
    last_run_ms: st.last_run_ms ?? null,
    last_ok_ms: st.last_ok_ms ?? null,
    last_error: st.last_error ?? null,
  };
}

/** Objects refused for good ({sha256, code, reason, details, …}), to show the user. */
export const failed = () => rows.inState('failed');

// --- upload -----------------------------------------------------------------------------------
let running = null;

/** Upload every pending object. Resolves {uploaded, already (the server held this user's
 * complete upload: nothing sent), failed, pending (left for a later run), bytes_sent,
 * error: code|null}; network and server failures are answered, not thrown. */
export function uploadPending({ chunkBytes = CHUNK_BYTES } = {}) {
  if (!(Number.isSafeInteger(chunkBytes) && chunkBytes > 0 && chunkBytes <= CHUNK_MAX)) {
    return Promise.reject(new MediaError('media.chunk_size', `chunkBytes must be 1..${CHUNK_MAX}`));
  }
  running ??= lock('onevisit-media', () => uploadAll(chunkBytes)).finally(() => { running = null; });
  return running;
}

async function uploadAll(chunkBytes) {
  const out = { uploaded: 0, already: 0, failed: 0, pending: 0, bytes_sent: 0, error: null };
  const todo = (await rows.inState('pending')).sort((a, b) => a.created_at - b.created_at);
  const ctx = { chunkBytes, out };
  for (const row of todo) {
    try {
      await uploadOne(row, ctx);
    } catch (err) {
      if (!(err instanceof ApiError || err instanceof MediaError)) throw err;
      out.error = err.code ?? 'media.upload_failed';
      // Keep where it stopped (for the UI) and why; the next run asks the server anyway.
      await rows.put({ ...row, offset: current?.offset ?? row.offset, code: err.code });
      changed({ sha256: row.sha256, state: 'pending', offset: current?.offset ?? 0, size: row.size, code: err.code });
      // Without network or a session, every other object would fail the same way.
      if (err.status === 0 || err.status === 401) break;
    } finally {
      current = null;
    }
  }
  out.pending = await rows.count('pending');
  const st = (await meta.get('media_status')) ?? {};
  const now = Date.now();
  await meta.set('media_status', {
    last_run_ms: now, last_ok_ms: out.error ? st.last_ok_ms ?? null : now, last_error: out.error,
  });
  return out;
}

/** Send one object from the server's offset to the end. Final refusals mark it 'failed';
 * anything else is thrown (the row stays 'pending' and the next run resumes). */
async function uploadOne(row, ctx) {
  try {
    await transfer(row, ctx);
  } catch (err) {
    if (!(err instanceof ApiError) || !final(err)) throw err;
    await rows.put({ ...row, state: 'failed', code: err.code, reason: err.messageEn || err.message,
      details: err.details ?? {}, failed_at: Date.now() });
    ctx.out.failed += 1;
    changed({ sha256: row.sha256, state: 'failed', offset: 0, size: row.size, code: err.code });
  }
}

/** A 4xx that no retry can change (too large, wrong type, bytes that do not match twice…). */
const final = (err) => err.status >= 400 && err.status < 500 && !RETRY_STATUS.has(err.status);

async function transfer(row, ctx) {
  const { sha256, size } = row;
  let restarted = false;
  // Each request either moves the offset or changes what we know; this bounds a server that
  // keeps answering without progress (every chunk twice, plus declarations and restarts).
  let budget = 2 * Math.ceil(size / ctx.chunkBytes) + 6;
  let up = await declare(row, ctx);
  if (up.complete) {
    ctx.out.already += 1;
    return done(row, up);
  }
  while (!up.complete) {
    if (budget-- <= 0) throw new MediaError('media.no_progress', `upload of ${sha256} does not advance`);
    current = { sha256, offset: up.offset, size };
    changed({ sha256, state: 'uploading', offset: up.offset, size });
    // At offset == size an empty PATCH finishes an upload whose last answer was lost (docs/media.md).
    const end = Math.min(size, up.offset + ctx.chunkBytes);
    try {
      const res = await call(ctx, 'PATCH', `/api/media/uploads/${up.upload_id}`, {
        body: row.blob.slice(up.offset, end), offset: up.offset,
      });
      const next = Number(res.headers.get('Upload-Offset'));
      if (!Number.isSafeInteger(next) || next < up.offset || next > size) {
        throw new MediaError('media.bad_answer', `Upload-Offset ${res.headers.get('Upload-Offset')}`);
      }
      ctx.out.bytes_sent += end - up.offset;
      up = { ...up, offset: next, complete: res.headers.get('Upload-Complete') === '?1' };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const at = err.details?.offset;
      if (err.code === 'upload.offset_mismatch' && Number.isSafeInteger(at)) {
        up = { ...up, offset: at }; // another request (ours, retried by the network) got there
      } else if (err.code === 'upload.unknown') {
        up = await declare(row, ctx); // the id was lost or pruned: the declaration finds or opens one
      } else if (err.code === 'media.hash_mismatch' && !restarted) {
        restarted = true; // the server dropped the bytes; a second mismatch means our copy is wrong
        up = { ...up, offset: Number.isSafeInteger(at) ? at : 0 };
      } else {
        throw err;
      }
    }
  }
  ctx.out.uploaded += 1;
  return done(row, up);
}

/** POST the declaration: {upload_id, offset, complete} of a new, resumed or finished upload. */
async function declare(row, ctx) {
  const { data } = await call(ctx, 'POST', '/api/media/uploads', {
    json: { sha256: row.sha256, size: row.size, mime: row.mime, purpose: row.purpose },
  });
  if (!data || !Number.isSafeInteger(data.offset) || (!data.complete && !data.upload_id)) {
    throw new MediaError('media.bad_answer', 'declaration answer without offset or id');
  }
  if (data.upload_id && data.upload_id !== row.upload_id) {
    row.upload_id = data.upload_id;
    await rows.put({ ...row, offset: data.offset });
  }
  return { upload_id: data.upload_id, offset: data.offset, complete: data.complete === true };
}

async function done(row, up) {
  const kept = { ...row, state: 'uploaded', offset: row.size, upload_id: up.upload_id ?? row.upload_id,
    code: undefined, uploaded_at: Date.now() };
  await rows.put(kept);
  changed({ sha256: row.sha256, state: 'uploaded', offset: row.size, size: row.size });
}

// --- requests ---------------------------------------------------------------------------------
/** One request through api.js (session cookie, CSRF token). A session restored offline has
 * no token yet: an auth.csrf answer fetches it from /api/auth/me and the request goes once more. */
async function call(ctx, method, path, { json, body, offset } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/offset+octet-stream';
  if (offset !== undefined) headers['Upload-Offset'] = String(offset);
  for (let attempt = 0; ; attempt++) {
    try {
      return await request(path, { method, json, body, headers, cache: 'no-store' });
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'auth.csrf' || attempt > 0) throw err;
      await api('/api/auth/me');
    }
  }
}
