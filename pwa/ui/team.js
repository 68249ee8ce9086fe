// The team leader's view of the whole visit across departments: who has checked in, each
// matter's progress and conflicts, and — when online — what the server already holds from each
// member (answers and their latest receipt), so the leader sees whose phone still has to sync.

import { h, fill } from '../dom.js';
import { lang, t } from '../i18n.js';
import { api } from '../api.js';
import { localVisit } from '../fieldwork.js';
import { busy, showError, showInfo, statusLine, title } from './common.js';
import { fmtTime } from './fieldparts.js';

function answersBy(state) {
  const by = new Map();
  for (const m of state.matters) {
    for (const i of m.items) for (const a of i.answers) by.set(a.actor, (by.get(a.actor) ?? 0) + 1);
  }
  return by;
}

const ago = (ms) => (ms ? fmtTime(ms) : '—');

export default async function teamScreen({ root, params: [visitId], go }) {
  const local = await localVisit(visitId);
  if (!local) return go(`#/visit/${encodeURIComponent(visitId)}`);
  const { pkg, state } = local;
  const status = statusLine('team-status');
  const redraw = () => teamScreen({ root, params: [visitId], go });
  // The server's view of the team (docs/visits.md): online only; offline this phone's own.
  let team = null;
  try {
    team = await api(`/api/visits/${encodeURIComponent(visitId)}/team`);
  } catch (err) {
    showInfo(status, err.code === 'network.unreachable' ? t('team.offline') : err.text?.() ?? String(err), 'warn');
  }
  const here = answersBy(state);
  const onServer = new Map((team?.members ?? []).map((m) => [m.actor, m]));
  const checked = new Set(state.checkins.map((c) => c.actor));
  const conflicts = state.matters.flatMap((m) => m.items.filter((i) => i.conflict.length)
    .map((i) => ({ m, i })));
  const pendingText = (m) => {
    if (!m) return '…';
    if (m.reported_ms == null) return t('team.not_reported');
    return `${m.pending}${m.rejected ? ` · ${t('sync.rejected_n', { n: m.rejected })}` : ''} (${ago(m.reported_ms)})`;
  };
  fill(root,
    title(t('team.title')),
    status,
    team ? h('p', { id: 'team-fetched', class: 'muted' }, t('team.as_of', { at: ago(team.as_of_ms) })) : null,
    h('p', { id: 'team-presence' }, (team?.two_present ?? state.two_present) ? t('checkin.two_yes') : t('checkin.two_no')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'team', id: 'team-members' },
      h('thead', {}, h('tr', {},
        ['team.member', 'team.checked_in', 'team.answers_here', 'team.answers_server', 'team.last_receipt',
          'team.pending', 'team.confirmation'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, pkg.info.members.map((m) => {
        const srv = onServer.get(m.actor);
        const isIn = srv?.checked_in ?? checked.has(m.actor);
        return h('tr', { 'data-actor': m.actor },
          h('th', { scope: 'row' }, `${m.name}${m.is_leader ? `（${t('role.leader')}）` : ''} · ${m.served}`),
          h('td', { 'data-checked-in': isIn ? 'yes' : 'no' }, isIn ? t('team.checked_yes') : t('team.checked_no')),
          h('td', {}, String(here.get(m.actor) ?? 0)),
          h('td', {}, srv ? String(srv.answers) : '…'),
          h('td', {}, srv ? ago(srv.last_received_ms) : '…'),
          h('td', { 'data-pending': srv ? String(srv.pending) : '' }, pendingText(srv)),
          h('td', {}, srv ? t(`team.confirmation_${srv.confirmation ?? 'missing'}`) : '…'));
      })))),
    h('h2', {}, t('visit.matters')),
    h('ul', { class: 'list', id: 'team-matters' }, state.matters.map((m) => h('li', { 'data-matter': m.code },
      `${m.name}：${m.answered}/${m.total}`))),
    h('h2', {}, t('team.conflicts')),
    conflicts.length
      ? h('ul', { class: 'list', id: 'team-conflicts' }, conflicts.map(({ m, i }) => h('li', { class: 'alert' },
        h('a', { href: `#/visit/${encodeURIComponent(visitId)}/matter/${encodeURIComponent(m.code)}` },
          `${m.name} · ${i.position + 1}. ${i.text}`))))
      : h('p', { class: 'muted', id: 'team-conflicts' }, t('team.no_conflicts')),
    team ? closeCard(team, visitId, status, redraw) : null,
    h('a', { class: 'tile', href: `#/visit/${encodeURIComponent(visitId)}` }, t('matter.back')));
  return undefined;
}

/** Closing the visit (leader only, online): enabled when the server says it is closable,
 * otherwise the reasons in words; a record changed since the leader looked is refused. */
function closeCard(team, visitId, status, redraw) {
  const msg = (r) => (lang() === 'en' ? r.message_en || r.message : r.message) + ` [${r.code}]`;
  if (team.closed) {
    return h('section', { class: 'card ok', id: 'team-closed' },
      h('h2', {}, t('team.closed')),
      h('p', {}, t('team.closed_by', { name: team.closed.name, at: ago(team.closed.at) })),
      team.after_close.length ? h('p', { class: 'status warn' }, t('team.after_close', { n: team.after_close.length })) : null);
  }
  return h('section', { class: 'card', id: 'team-close' },
    h('h2', {}, t('team.close')),
    h('p', {}, t('record.short_code'), ' ', h('strong', { class: 'mono' }, team.short_code)),
    team.reasons.length ? h('ul', { id: 'team-reasons' }, team.reasons.map((r) => h('li', { 'data-code': r.code }, msg(r)))) : null,
    h('button', {
      type: 'button', id: 'team-close-button', disabled: !team.closable,
      onclick: (ev) => busy(ev.currentTarget, async () => {
        try {
          await api(`/api/visits/${encodeURIComponent(visitId)}/close`, { method: 'POST', json: { record_hash: team.record_hash } });
          await redraw();
        } catch (err) {
          showError(status, err);
        }
      }),
    }, t('team.close_button')));
}
