// Results (一公开; docs/results.md): the list a caller may see (#/results) — coordinators their
// department's, inspectors the matters they serve — with the 20-working-day clock, and one
// result (#/result/<id>): review (approve / return with a reason), publish, withhold (with
// the approving leader and a reason), and a correction as a new version (谁检查、谁录入).

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { formatTime, t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, showError, showInfo, statusLine, title } from './common.js';
import { codeSelect } from './fieldparts.js';
import { followupSection } from './followups.js';
import { deskStyle } from './tasks.js';

const STATES = ['pending_review', 'returned', 'approved', 'published', 'withheld', 'pending_entry'];

/** The clock in words: due date, working days left or overdue, on time once published. */
function clockText(c) {
  const due = t('result.due', { date: c.due }) + (c.provisional ? t('result.provisional') : '');
  if ('on_time' in c) return `${due} · ${t(c.on_time ? 'result.on_time' : 'result.late', { date: c.published_on })}`;
  if (c.withheld) return `${due} · ${t('result.clock_stopped')}`;
  if (c.overdue) return `${due} · ${t('result.overdue')}`;
  return `${due} · ${t('result.left', { n: c.working_days_left })}`;
}

const badge = (r) => h('span', { class: `badge result-${r.state}` }, r.state_label);
const alertBadge = (c) => (c.alert ? h('span', { class: `badge alert-${c.alert}` }, t(`result.alert_${c.alert}`)) : null);

export default async function results({ root }) {
  deskStyle();
  const status = statusLine('results-status');
  const list = h('ul', { id: 'result-list', class: 'list' });
  const state = h('select', { id: 'result-state' }, h('option', { value: '' }, t('result.all')),
    STATES.map((s) => h('option', { value: s }, t(`result.state_${s}`))));
  const summary = h('p', { id: 'result-summary', class: 'muted' });
  const load = async () => {
    try {
      const q = state.value ? `?state=${encodeURIComponent(state.value)}` : '';
      const data = await api(`/api/results${q}`);
      fill(summary, t('result.summary', { n: data.results.length, overdue: data.overdue }));
      fill(list, data.results.length ? data.results.map(row) : h('li', { class: 'muted' }, t('result.none')));
    } catch (err) {
      showError(status, err);
    }
  };
  state.addEventListener('change', load);
  fill(root, title(t('result.title')), status, field(t('result.filter'), state), summary, list);
  await load();
}

function row(r) {
  return h('li', { class: 'item', 'data-id': r.id, 'data-state': r.state },
    h('a', { class: 'task-link', href: `#/result/${r.id}` },
      h('span', { class: 'item-head' }, h('strong', {}, r.subject_name || r.subject_id), h('span', {}, badge(r), ' ', alertBadge(r.clock))),
      h('span', {}, `${r.matter_name} · ${r.result_label || t('result.no_code')}`),
      h('span', { class: 'muted clock' }, clockText(r.clock))));
}

export async function result({ root, params, me }) {
  deskStyle();
  const status = statusLine('result-status');
  const box = h('div', { id: 'result-detail' });
  fill(root, h('p', {}, h('a', { href: '#/results' }, t('result.back'))), title(t('result.one')), status, box);
  const show = async (message) => {
    try {
      const r = await api(`/api/results/${encodeURIComponent(params[0])}`);
      fill(box, detail(r, me, status, show));
      if (message) showInfo(status, message, 'ok');
    } catch (err) {
      showError(status, err);
    }
  };
  await show();
}

function detail(r, me, status, reload) {
  const step = (path, body, done) => async () => {
    try {
      await api(`/api/results/${r.id}/${path}`, { method: 'POST', json: body && body() });
      await reload(t(done));
    } catch (err) {
      showError(status, err);
    }
  };
  const button = (id, label, work, cls = '') => {
    const b = h('button', { id, type: 'button', class: cls });
    b.textContent = t(label);
    b.addEventListener('click', () => busy(b, work));
    return b;
  };
  const out = [h('section', { class: 'card' },
    h('h2', {}, r.subject_name || r.subject_id, ' ', badge(r)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('result.subject')), h('dd', { class: 'mono' }, r.subject_id),
      h('dt', {}, t('result.matter')), h('dd', {}, r.matter_name),
      h('dt', {}, t('result.code')), h('dd', { id: 'result-code' }, r.result_label || t('result.no_code')),
      r.disposition_label ? [h('dt', {}, t('result.disposition')), h('dd', {}, r.disposition_label)] : null,
      r.note ? [h('dt', {}, t('result.note')), h('dd', {}, r.note)] : null,
      h('dt', {}, t('result.inspected')), h('dd', {}, r.inspected_on),
      h('dt', {}, t('result.clock')), h('dd', { id: 'result-clock' }, clockText(r.clock), ' ', alertBadge(r.clock)),
      h('dt', {}, t('result.version')), h('dd', {}, String(r.version))),
    h('p', {}, h('a', { href: `/verify/record/${r.record_hash}`, target: '_blank', rel: 'noopener' }, t('result.verify'))))];

  if (r.may_review) {
    const reason = h('input', { id: 'review-reason', maxlength: '500', autocomplete: 'off' });
    const approver = h('input', { id: 'withhold-approver', maxlength: '64', autocomplete: 'off' });
    const need = (input) => () => {
      if (!input.value.trim()) throw new Error(t('result.reason_needed'));
      return input.value.trim();
    };
    const actions = [];
    if (r.state === 'pending_review') {
      actions.push(button('result-approve', 'result.approve', step('approve', null, 'result.approved_ok')),
        field(t('result.return_reason'), reason),
        button('result-return', 'result.return', step('return', () => ({ reason: need(reason)() }), 'result.returned_ok'), 'secondary'));
    }
    if (r.state === 'approved' || r.state === 'withheld') {
      actions.push(button('result-publish', 'result.publish', step('publish', null, 'result.published_ok')));
    }
    if (r.state === 'approved') {
      actions.push(field(t('result.withhold_reason'), reason), field(t('result.withhold_approver'), approver),
        button('result-withhold', 'result.withhold', step('withhold',
          () => ({ reason: need(reason)(), approver: need(approver)() }), 'result.withheld_ok'), 'secondary'));
    }
    if (actions.length) out.push(h('section', { class: 'card', id: 'review' }, h('h2', {}, t('result.review')), actions));
  }
  out.push(correction(r, status, reload), followupSection(r.id), history(r));
  return out;
}

function correction(r, status, reload) {
  // the code lists come with the result (r.codes), as a visit's package brings them
  const code = codeSelect(r, 'result_codes', { id: 'fix-code', value: r.result_code });
  const disposition = codeSelect(r, 'dispositions', { id: 'fix-disposition', required: false, value: r.disposition });
  const note = h('textarea', { id: 'fix-note', maxlength: '2000', rows: '3' });
  note.value = r.note || '';
  const reason = h('input', { id: 'fix-reason', required: true, maxlength: '500', autocomplete: 'off' });
  const send = h('button', { id: 'fix-send', type: 'submit', class: 'secondary' }, t('result.correct'));
  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(send, async () => {
      try {
        await api(`/api/results/${r.id}/versions`, { method: 'POST', json: {
          result_code: code.value, disposition: disposition.value, note: note.value.trim(), reason: reason.value.trim() } });
        await reload(t('result.corrected_ok'));
      } catch (err) {
        showError(status, err);
      }
    });
  };
  return h('details', { class: 'card', id: 'correction' }, h('summary', {}, t('result.correction')),
    h('form', { onsubmit }, h('p', { class: 'hint' }, t('result.correction_hint')),
      field(t('result.code'), code), field(t('result.disposition'), disposition), field(t('result.note'), note),
      field(t('result.correction_reason'), reason), send));
}

function history(r) {
  return h('section', { class: 'card', id: 'result-history' }, h('h2', {}, t('result.history')),
    h('ol', { class: 'members' }, r.steps.map((s) => h('li', {},
      h('strong', {}, s.label), ` · ${t('result.version')} ${s.version} · ${formatTime(Date.parse(s.at))}`,
      s.approver ? ` · ${t('result.approver', { name: s.approver })}` : null,
      s.reason ? h('div', { class: 'muted' }, s.reason) : null))));
}
