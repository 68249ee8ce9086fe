// Home: who is signed in, how safe the offline store is, and where this role can go.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import * as session from '../session.js';
import { keyForUser } from '../devicekey.js';
import { meta } from '../db.js';
import * as outbox from '../outbox.js';
import { exportUnsynced, fileName } from '../bundle.js';
import { autoSync } from './syncbar.js';
import { busy, roleName, showError, showInfo, statusLine } from './common.js';

const STAFF_TILES = [
  ['#/dashboard', 'tile.dashboard'],
  ['#/tasks', 'tile.tasks'],
  ['#/plans', 'tile.plans'],
  ['#/directory/subjects', 'tile.subjects'],
  ['#/directory/inspectors', 'tile.inspectors'],
  ['#/directory/matters', 'tile.matters'],
  ['#/directory/import', 'tile.import'],
  ['#/users', 'tile.users'],
];

export default async function home({ root, me, go }) {
  const storage = h('dd', { id: 'storage-state' }, '…');
  const device = h('dd', { id: 'device-key' }, '…');
  const status = statusLine('home-status');
  const signOut = (ev) => busy(ev.currentTarget, async () => {
    try {
      await session.signOut();
      go('#/signin');
    } catch (err) {
      showError(status, err); // still signed in on the server: stay here and say why
    }
  });
  const staff = me.role === 'admin' || me.role === 'coordinator';
  fill(root,
    session.isOffline() ? h('p', { id: 'offline-note', class: 'status warn', role: 'status' }, t('home.offline')) : null,
    h('section', { class: 'card me' },
      h('h1', { id: 'me-name' }, me.name),
      h('dl', { class: 'facts' },
        h('dt', {}, t('home.role')), h('dd', { id: 'me-role' }, roleName(me.role)),
        h('dt', {}, t('home.department')),
        h('dd', { id: 'me-department' }, me.department_name || t('home.no_department')),
        h('dt', {}, t('home.storage')), storage,
        h('dt', {}, t('home.device_key')), device)),
    h('nav', { class: 'tiles', 'aria-label': t('nav.sections') },
      me.inspector_code || !staff ? h('a', { class: 'tile', href: '#/visits', id: 'tile-visits' }, t('tile.visits')) : null,
      h('a', { class: 'tile', href: '#/results', id: 'tile-results' }, t('tile.results')),
      // leaders get the first staff tile only: the dashboard of the visits they lead
      (staff ? STAFF_TILES : me.role === 'leader' ? STAFF_TILES.slice(0, 1) : []).map(([href, key]) => h('a', { class: 'tile', href }, t(key)))),
    autoSyncSwitch(),
    rescueButton(me, status),
    h('button', { id: 'signout', type: 'button', class: 'secondary', onclick: signOut },
      t('home.signout')),
    status,
  );

  fill(storage, await persistenceText());
  const key = await keyForUser(me.id).catch(() => null);
  // The short id lets an admin match this phone in the server's device list.
  fill(device, key
    ? `${t('home.device_key_yes')} · ${key.device_id.slice(0, 8)}${key.pin ? ' · PIN' : ''}`
    : t('home.device_key_none'));
}

async function persistenceText() {
  if (!navigator.storage?.persisted) return t('home.storage_unknown');
  return (await navigator.storage.persisted()) ? t('home.storage_persisted') : t('home.storage_best_effort');
}

/** Automatic sync on this phone (on by default); off, only the sync button sends — e.g. to
 * keep a metered connection for the photos of the day. */
function autoSyncSwitch() {
  const box = h('input', {
    id: 'autosync', type: 'checkbox',
    onchange: async () => {
      await meta.set('autosync', box.checked);
      await autoSync();
    },
  });
  meta.get('autosync').then((v) => { box.checked = v !== false; }).catch(() => {});
  return h('label', { class: 'check-row' }, box, h('span', {}, t('home.autosync')));
}

/** The rescue (docs/bundle.md): everything the server has not verified, saved as one file for
 * `onevisit import-bundle` when this phone cannot sync (broken network, server unreachable). */
function rescueButton(me, status) {
  const help = h('small', { class: 'hint', id: 'rescue-help' }, t('home.rescue_help'));
  const button = h('button', {
    id: 'rescue-export', type: 'button', class: 'secondary', 'aria-describedby': 'rescue-help',
    onclick: (ev) => busy(ev.currentTarget, async () => {
      try {
        const st = await outbox.status();
        const n = st.queued + st.uploading + st.rejected;
        if (!n) return showInfo(status, t('home.rescue_empty'));
        const key = await keyForUser(me.id).catch(() => null);
        const blob = await exportUnsynced();
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: fileName('rescue', key?.device_id ?? '') });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        showInfo(status, t('home.rescue_done', { n }), 'ok');
      } catch (err) {
        showError(status, err);
      }
      return undefined;
    }),
  }, t('home.rescue'));
  return h('div', { class: 'rescue' }, button, help);
}
