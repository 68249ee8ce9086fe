// The one way the PWA talks to the server: JSON in and out, the session cookie (same origin),
// and the CSRF token echoed on every state-changing request (auth/guards.py checks it).
// Error bodies {"code","message","message_en","details"} become ApiError; screens branch on
// `code` and show the message in the current language with the code beside it.

import { lang, t } from './i18n.js';

let csrfToken = '';

export function setCsrf(token) {
  csrfToken = token || '';
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message_en || body.message || body.code);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.messageZh = body.message || '';
    this.messageEn = body.message_en || '';
    this.details = body.details || {};
  }

  /** "message [code]" in the current language. */
  text() {
    const msg = lang() === 'en' ? this.messageEn || this.messageZh : this.messageZh || this.messageEn;
    return `${msg} [${this.code}]`;
  }
}

/** The error of a request (or a module load) that found no server. */
export const unreachable = () => new ApiError(0, {
  code: 'network.unreachable',
  message: t('err.network', 'zh'),
  message_en: t('err.network', 'en'),
});

const SAFE = new Set(['GET', 'HEAD']);

/** One request with the session cookie, the CSRF token on state-changing methods, and any
 * extra headers; `json`, a FormData `form` or a raw `body` (Blob, bytes). Resolves
 * {status, headers, data}; failures throw ApiError (network: status 0, network.unreachable). */
export async function request(path, { method = 'GET', json, form, body, headers: extra = {}, cache } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form; // FormData: the browser sets the multipart boundary itself
  }
  if (!SAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache });
  } catch {
    throw unreachable();
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, data?.code ? data : {
      code: `http.${res.status}`,
      message: t('err.http', 'zh'),
      message_en: t('err.http', 'en'),
    });
  }
  // /api/auth/me, the logins and the enrolments answer with the session's CSRF token.
  if (data && typeof data.csrf_token === 'string') setCsrf(data.csrf_token);
  return { status: res.status, headers: res.headers, data };
}

export async function api(path, options) {
  return (await request(path, options)).data;
}

/** Any failure as a line for the user: API errors with their code, browser errors by name. */
export function errorText(err) {
  if (err instanceof ApiError) return err.text();
  if (err?.name === 'NotAllowedError') return `${t('err.cancelled')} [${err.name}]`;
  if (err?.name === 'InvalidStateError') return `${t('err.passkey_exists')} [${err.name}]`;
  return `${t('err.unexpected')}: ${err?.message || err} [${err?.name || 'Error'}]`;
}
