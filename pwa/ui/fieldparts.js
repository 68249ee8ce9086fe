// Pieces the field screens share: code labels from the package, the per-visit event log with
// each event's sync state, photo capture into the media store, thumbnails from local copies.

import { h, fill } from '../dom.js';
import { lang, t } from '../i18n.js';
import * as media from '../media.js';

/** Label of a code of one of the package's code lists ([[code, zh label], …]). */
export function codeLabel(pkg, list, code) {
  if (lang() === 'en') {
    const en = t(`code.${code}`);
    if (en !== `code.${code}`) return en;
  }
  return (pkg.codes?.[list] ?? []).find(([c]) => c === code)?.[1] ?? code;
}

/** A <select> of one code list, with a placeholder that cannot be submitted. */
export function codeSelect(pkg, list, { id, name, required = true, value = '' } = {}) {
  return h('select', { id, name, required },
    h('option', { value: '' }, t('field.choose')),
    (pkg.codes?.[list] ?? []).map(([c]) => h('option', { value: c, selected: c === value },
      codeLabel(pkg, list, c))));
}

const STATE_KEYS = { queued: 'sync.queued', uploading: 'sync.uploading', verified: 'sync.verified',
  rejected: 'sync.rejected' };

/** saved → queued → uploading → verified, per event of this phone (peers' events: handed over). */
export function eventLog(rows, me) {
  return h('ol', { class: 'event-log', id: 'event-log' }, rows.slice().reverse().map((r) => {
    const own = r.state !== undefined;
    const env = JSON.parse(r.envelope);
    const when = new Date(env.at).toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN');
    return h('li', { 'data-state': own ? r.state : 'peer', 'data-type': env.type },
      h('span', { class: 'mono' }, when), ' ', t(`event.${env.type}`),
      env.actor === me.id ? '' : ` · ${t('field.colleague')}`, ' ',
      h('span', { class: `badge ${own ? r.state : 'peer'}` },
        own ? t(STATE_KEYS[r.state] ?? 'sync.queued') : t('sync.peer')),
      r.code ? h('span', { class: 'alert-inline' }, ` [${r.code}]`) : null);
  }));
}

/** A camera input: each chosen picture is hashed and kept, then `onref(ref, file)` is called. */
export function photoInput({ id, visit, label, onref, status }) {
  const input = h('input', {
    id, type: 'file', accept: 'image/*', capture: 'environment', multiple: true,
    'aria-label': label,
    onchange: async () => {
      const files = [...input.files];
      input.value = '';
      for (const file of files) {
        try {
          const ref = await media.capture(file, { purpose: 'photo', visit });
          await onref(ref, file);
        } catch (err) {
          status(err);
        }
      }
    },
  });
  return h('label', { class: 'field photo-pick' }, h('span', { class: 'label' }, label), input);
}

/** A thumbnail from this phone's copy (object URL), or the short hash when not held here. */
export function thumb(sha256) {
  const box = h('span', { class: 'thumb', 'data-sha256': sha256 }, sha256.slice(0, 8));
  media.blobOf(sha256).then((blob) => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    fill(box, h('img', { src: url, alt: t('field.photo_alt', { hash: sha256.slice(0, 8) }) }));
  }).catch(() => {});
  return box;
}

export const fmtTime = (ms) => new Date(ms).toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN');
