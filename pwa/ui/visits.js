// My visits: the leader's plan order (the draw's batch order within each task), its planned
// day, and for a leader the day plan (#/dayplan); each one
// downloadable as an offline package. Offline, the list is what this phone holds.

import { h, fill } from '../dom.js';
import { t, formatTime } from '../i18n.js';
import { download, myVisits } from '../fieldwork.js';
import { busy, showError, showInfo, statusLine, title } from './common.js';

export default async function visitsScreen({ root }) {
  const status = statusLine('visits-status');
  const list = h('ol', { id: 'visit-list', class: 'list' });
  fill(root, title(t('visits.title')), status, list);
  const { visits, offline } = await myVisits();
  if (offline) showInfo(status, t('visits.offline'), 'warn');
  if (!visits.length) {
    fill(list, h('li', { class: 'muted' }, t(offline ? 'visits.none_offline' : 'visits.none')));
    return;
  }
  fill(list, visits.map((v) => row(v, status)));
  // a group's leader plans the days (#/dayplan, on demand)
  if (visits.some((v) => v.leader)) list.before(h('a', { class: 'tile', id: 'dayplan-link', href: '#/dayplan' }, t('visits.dayplan')));
}

function row(v, status) {
  const state = h('span', { class: 'muted', 'data-downloaded': v.downloaded ? 'yes' : 'no' },
    v.downloaded ? t('visits.downloaded', { at: formatTime(v.fetched_ms ? new Date(v.fetched_ms).toISOString() : '') })
      : t('visits.not_downloaded'));
  // Every row has an "open" and a "download": each names its visit through the row's heading.
  const headingId = `visit-${v.visit}-name`;
  const open = h('a', { class: 'tile', href: `#/visit/${encodeURIComponent(v.visit)}`,
    hidden: !v.downloaded, 'aria-describedby': headingId }, t('visits.open'));
  const get = h('button', {
    type: 'button', class: 'secondary', 'data-visit': v.visit, 'aria-describedby': headingId,
    onclick: (ev) => busy(ev.currentTarget, async () => {
      try {
        const pkg = await download(v.visit);
        fill(state, t('visits.downloaded', { at: formatTime(new Date(pkg.fetched_ms).toISOString()) }));
        state.dataset.downloaded = 'yes';
        open.hidden = false;
        showInfo(status, t('visits.download_ok', { name: pkg.info.subject.name }), 'ok');
      } catch (err) {
        showError(status, err);
      }
    }),
  }, v.downloaded ? t('visits.refresh') : t('visits.download'));
  return h('li', { class: 'card visit-row', 'data-visit': v.visit },
    h('h2', { id: headingId }, v.subject_name || v.subject_id),
    h('p', { class: 'muted' }, `${v.task_name || v.task} · ${t('visits.order', { n: v.batch_order + 1 })}`
      + (v.leader ? ` · ${t('role.leader')}` : '') + (v.planned_date ? ` · ${v.planned_date}` : '')),
    state, open, get);
}
