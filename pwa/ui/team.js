// The team leader's view of the whole visit across departments: who has checked in, each
// matter's progress and conflicts, and — when online — what the server already holds from each
// member (answers and their latest receipt), so the leader sees whose phone still has to sync.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { localVisit } from '../fieldwork.js';
import { showInfo, statusLine, title } from './common.js';
import { fmtTime } from './fieldparts.js';

function answersBy(state) {
  const by = new Map();
  for (const m of state.matters) {
    for (const i of m.items) for (const a of i.answers) by.set(a.actor, (by.get(a.actor) ?? 0) + 1);
  }
  return by;
}

function latestReceipt(state) {
  const last = new Map();
  const see = (actor, ms) => { if (ms && ms > (last.get(actor) ?? 0)) last.set(actor, ms); };
  for (const c of state.checkins) see(c.actor, c.received_ms);
  return last;
}

export default async function teamScreen({ root, params: [visitId], go }) {
  const local = await localVisit(visitId);
  if (!local) return go(`#/visit/${encodeURIComponent(visitId)}`);
  const { pkg, state } = local;
  const status = statusLine('team-status');
  let server = null;
  try {
    server = (await api(`/api/visits/${encodeURIComponent(visitId)}`)).state;
  } catch (err) {
    showInfo(status, err.code === 'network.unreachable' ? t('team.offline') : err.text?.() ?? String(err), 'warn');
  }
  const here = answersBy(state);
  const there = server ? answersBy(server) : new Map();
  const seen = server ? latestReceipt(server) : new Map();
  const checked = new Set(state.checkins.map((c) => c.actor));
  const conflicts = state.matters.flatMap((m) => m.items.filter((i) => i.conflict.length)
    .map((i) => ({ m, i })));
  fill(root,
    title(t('team.title')),
    status,
    h('p', { id: 'team-presence' }, state.two_present ? t('checkin.two_yes') : t('checkin.two_no')),
    h('table', { class: 'team', id: 'team-members' },
      h('thead', {}, h('tr', {},
        ['team.member', 'team.checked_in', 'team.answers_here', 'team.answers_server', 'team.last_receipt']
          .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, pkg.info.members.map((m) => h('tr', { 'data-actor': m.actor },
        h('th', { scope: 'row' }, `${m.name}${m.is_leader ? `（${t('role.leader')}）` : ''} · ${m.served}`),
        h('td', { 'data-checked-in': checked.has(m.actor) ? 'yes' : 'no' },
          checked.has(m.actor) ? t('team.checked_yes') : t('team.checked_no')),
        h('td', {}, String(here.get(m.actor) ?? 0)),
        h('td', {}, server ? String(there.get(m.actor) ?? 0) : '…'),
        h('td', {}, seen.get(m.actor) ? fmtTime(seen.get(m.actor)) : '—'))))),
    h('h2', {}, t('visit.matters')),
    h('ul', { class: 'list', id: 'team-matters' }, state.matters.map((m) => h('li', { 'data-matter': m.code },
      `${m.name}：${m.answered}/${m.total}`))),
    h('h2', {}, t('team.conflicts')),
    conflicts.length
      ? h('ul', { class: 'list', id: 'team-conflicts' }, conflicts.map(({ m, i }) => h('li', { class: 'alert' },
        h('a', { href: `#/visit/${encodeURIComponent(visitId)}/matter/${encodeURIComponent(m.code)}` },
          `${m.name} · ${i.position + 1}. ${i.text}`))))
      : h('p', { class: 'muted', id: 'team-conflicts' }, t('team.no_conflicts')),
    h('a', { class: 'tile', href: `#/visit/${encodeURIComponent(visitId)}` }, t('matter.back')));
  return undefined;
}
