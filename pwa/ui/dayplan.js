// The leader's day plan (#/dayplan; docs/draw.md "The leader's day plan"): the visits this
// user leads, each with its day and its place within the day (up/down). Saving sends
// POST /api/day-plan {visits: [{visit, date|null}]} in list order — the order within each
// date — and returns to "my visits", which the members' phones list in that order.
// Online only: the plan lives on the server.

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, showError, showInfo, statusLine, title } from './common.js';

export default async function dayplan({ root, go }) {
  const status = statusLine('dayplan-status');
  const list = h('ol', { id: 'dayplan-list', class: 'list' });
  const save = h('button', { id: 'dayplan-save', type: 'button' }, t('dayplan.save'));
  fill(root, title(t('dayplan.title')), h('p', { class: 'hint' }, t('dayplan.hint')), status, list);
  let visits;
  try {
    if (navigator.onLine === false) throw Object.assign(new Error('offline'), { code: 'network.unreachable' });
    visits = (await api('/api/visits')).visits.filter((v) => v.leader);
  } catch (err) {
    if (err.code === 'network.unreachable') showInfo(status, t('dayplan.offline'), 'warn');
    else showError(status, err);
    return;
  }
  if (!visits.length) {
    fill(list, h('li', { class: 'muted' }, t('dayplan.none')));
    return;
  }
  // moving a row keeps the focus on the button pressed, so repeated presses keep moving it
  const move = (li, up, button) => {
    const to = up ? li.previousElementSibling : li.nextElementSibling;
    if (!to) return;
    if (up) to.before(li);
    else to.after(li);
    button.focus();
  };
  fill(list, visits.map((v) => {
    const headingId = `dayplan-${v.visit}-name`;
    const date = h('input', { type: 'date', class: 'dayplan-date', id: `dayplan-date-${v.visit}`,
      value: v.planned_date || '' });
    const li = h('li', { class: 'card visit-row', 'data-visit': v.visit },
      h('h2', { id: headingId }, v.subject_name || v.subject_id),
      h('p', { class: 'muted' }, `${v.task_name || v.task} · ${t('visits.order', { n: v.batch_order + 1 })}`),
      h('label', { for: date.id }, t('dayplan.date')), date);
    const arrow = (up) => h('button', { type: 'button', class: `secondary dayplan-${up ? 'up' : 'down'}`,
      'aria-describedby': headingId, onclick: (ev) => move(li, up, ev.currentTarget) },
    t(up ? 'dayplan.up' : 'dayplan.down'));
    li.append(h('div', { class: 'progress-line' }, arrow(true), arrow(false)));
    return li;
  }));
  save.addEventListener('click', () => busy(save, async () => {
    const entries = [...list.children].map((li) => ({
      visit: li.dataset.visit, date: li.querySelector('.dayplan-date').value || null,
    }));
    try {
      await api('/api/day-plan', { method: 'POST', json: { visits: entries } });
      go('#/visits');
    } catch (err) {
      showError(status, err.code === 'network.unreachable' ? t('dayplan.offline') : err);
    }
  }));
  root.append(save);
}
