// Follow-up of results (后续处置, seed 002 art. 22; docs/followup.md): the follow-ups a caller
// may see (#/followups) with overdue orders and transfers awaiting feedback; one follow-up
// (#/followup/<id>) with its steps and the form of its next step (re-inspection, closing,
// feedback; a case or transfer continuing an uncorrected order); and the section of a
// result's screen (followupSection) listing its follow-ups, with the form to open one.

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { formatTime, t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, showError, showInfo, statusLine, title } from './common.js';
import { deskStyle } from './tasks.js';

const KINDS = ['rectification', 'case', 'transfer'];
const STATES = ['open', 'not_corrected', 'escalated', 'corrected', 'filed', 'closed', 'awaiting_feedback',
  'feedback_received'];
const TEXT_LABEL = { rectification: 'fu.requirement', case: 'fu.case_note', transfer: 'fu.reason' };

/** Today in Beijing (the server's dates are China's calendar days). */
const today = () => new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });

/** A code's words: this screen's strings, else the server's Chinese label, else the code. */
function word(prefix, code, fallback) {
  const key = `fu.${prefix}_${code}`;
  const text = t(key);
  return text === key ? fallback || code : text;
}

const badge = (f) => h('span', { class: `badge fu-${f.state}` }, word('state', f.state, f.state_label));
const overdueBadge = (f) => (f.overdue ? h('span', { class: 'badge fu-overdue' }, t('fu.overdue')) : null);

/** One line of what the follow-up is about: the due date, the case number, the receiver. */
function gist(f) {
  if (f.kind === 'rectification') {
    const left = f.days_left == null ? '' : ` · ${t(f.days_left < 0 ? 'fu.days_late' : 'fu.days_left',
      { n: Math.abs(f.days_left) })}`;
    return `${t('fu.due', { date: f.due_on })}${left}`;
  }
  if (f.kind === 'case') return t('fu.case_no_is', { no: f.case_no });
  return `${t('fu.to')} ${word('target', f.target, f.target_label)}${f.target_department ? ` ${f.target_department}` : ''}`;
}

function item(f) {
  return h('li', { class: 'item', 'data-id': f.id, 'data-state': f.state, 'data-kind': f.kind },
    h('a', { class: 'task-link', href: `#/followup/${f.id}` },
      h('span', { class: 'item-head' }, h('strong', {}, word('kind', f.kind, f.kind_label)),
        h('span', {}, badge(f), ' ', overdueBadge(f))),
      f.subject_name ? h('span', {}, `${f.subject_name} · ${f.matter_name}`) : null,
      h('span', { class: 'muted' }, gist(f))));
}

const choices = (id, codes, prefix, { empty } = {}) => h('select', { id },
  empty ? h('option', { value: '' }, empty) : null,
  codes.map((c) => h('option', { value: c }, word(prefix, c))));

export default async function followups({ root }) {
  deskStyle();
  const status = statusLine('followups-status');
  const list = h('ul', { id: 'followup-list', class: 'list' });
  const kind = choices('followup-kind', KINDS, 'kind', { empty: t('fu.all') });
  const state = choices('followup-state', STATES, 'state', { empty: t('fu.all') });
  const overdue = h('input', { id: 'followup-overdue', type: 'checkbox' });
  const summary = h('p', { id: 'followup-summary', class: 'muted' });
  const load = async () => {
    const q = new URLSearchParams();
    if (kind.value) q.set('kind', kind.value);
    if (state.value) q.set('state', state.value);
    if (overdue.checked) q.set('overdue', 'true');
    try {
      const data = await api(`/api/followups?${q}`);
      fill(summary, t('fu.summary', { n: data.followups.length, overdue: data.overdue, waiting: data.awaiting_feedback }));
      fill(list, data.followups.length ? data.followups.map(item) : h('li', { class: 'muted' }, t('fu.none')));
    } catch (err) {
      showError(status, err);
    }
  };
  for (const control of [kind, state, overdue]) control.addEventListener('change', load);
  fill(root, title(t('fu.title')), status, field(t('fu.kind'), kind), field(t('fu.state'), state),
    h('label', { class: 'check-row' }, overdue, h('span', {}, t('fu.only_overdue'))), summary, list);
  await load();
}

export async function followup({ root, params, go }) {
  deskStyle();
  const status = statusLine('followup-status');
  const box = h('div', { id: 'followup-detail' });
  fill(root, h('p', {}, h('a', { href: '#/followups' }, t('fu.back'))), title(t('fu.one')), status, box);
  const show = async (message) => {
    try {
      const f = await api(`/api/followups/${encodeURIComponent(params[0])}`);
      fill(box, detail(f, status, show, go));
      if (message) showInfo(status, message, 'ok');
    } catch (err) {
      showError(status, err);
    }
  };
  await show();
}

function detail(f, status, reload, go) {
  const link = (id) => h('a', { href: `#/followup/${id}` }, `#${id}`);
  const out = [h('section', { class: 'card' },
    h('h2', {}, word('kind', f.kind, f.kind_label), ' ', badge(f), ' ', overdueBadge(f)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('fu.subject')), h('dd', {}, f.subject_name, ' ', h('span', { class: 'mono' }, f.subject_id)),
      h('dt', {}, t('fu.matter')), h('dd', {}, h('a', { href: `#/result/${f.result}` }, f.matter_name)),
      h('dt', {}, t('fu.opened_on')), h('dd', {}, f.opened_on),
      h('dt', {}, t('fu.about')), h('dd', { id: 'followup-gist' }, gist(f)),
      f.text ? [h('dt', {}, t(TEXT_LABEL[f.kind])), h('dd', {}, f.text)] : null,
      f.follows ? [h('dt', {}, t('fu.follows')), h('dd', {}, link(f.follows))] : null,
      f.continued_by.length ? [h('dt', {}, t('fu.continued_by')), h('dd', {}, f.continued_by.map(link))] : null))];
  const next = nextStep(f, status, reload, go);
  if (next) out.push(next);
  out.push(h('section', { class: 'card', id: 'followup-history' }, h('h2', {}, t('fu.history')),
    h('ol', { class: 'members', id: 'followup-steps' }, f.steps.map((s) => h('li', {},
      h('strong', {}, word('action', s.action, s.label)), ` · ${s.on}`,
      s.outcome ? ` · ${word('outcome', s.outcome, s.outcome_label)}` : null,
      h('span', { class: 'muted' }, ` · ${formatTime(s.at)}`),
      s.text ? h('div', { class: 'muted' }, s.text) : null)))));
  return out;
}

/** The form of the step the follow-up waits for, if the caller may record it. */
function nextStep(f, status, reload, go) {
  if (f.kind === 'rectification' && f.state === 'not_corrected' && f.may_manage) {
    return h('section', { class: 'card', id: 'followup-next' }, h('h2', {}, t('fu.continue')),
      h('p', { class: 'hint' }, t('fu.continue_hint')),
      openForm({ id: f.result, codes: f.codes }, status, {
        kinds: ['case', 'transfer'], follows: f.id, done: (made) => go(`#/followup/${made.id}`) }));
  }
  const steps = {
    rectification: ['open', 'reinspect', f.may_reinspect, 'reinspection_outcomes'],
    case: ['filed', 'close', f.may_manage, 'case_outcomes'],
    transfer: ['awaiting_feedback', 'feedback', f.may_manage, null],
  };
  const [from, step, allowed, outcomes] = steps[f.kind];
  if (f.state !== from || !allowed) return null;
  const on = h('input', { id: 'step-on', type: 'date', required: true, value: today(), max: today() });
  const outcome = outcomes && h('select', { id: 'step-outcome', required: true },
    h('option', { value: '' }, t('fu.choose')),
    f.codes[outcomes].map(([c, zh]) => h('option', { value: c }, word('outcome', c, zh))));
  const text = h('textarea', { id: 'step-text', maxlength: '2000', rows: '3', required: step === 'feedback' });
  const send = h('button', { id: 'step-send', type: 'submit' }, t(`fu.do_${step}`));
  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(send, async () => {
      try {
        await api(`/api/followups/${f.id}/steps`, { method: 'POST', json: {
          step, on: on.value, outcome: outcome ? outcome.value : '', text: text.value.trim() } });
        await reload(t(`fu.done_${step}`));
      } catch (err) {
        showError(status, err);
      }
    });
  };
  return h('section', { class: 'card', id: 'followup-next' }, h('h2', {}, t(`fu.do_${step}`)),
    h('form', { onsubmit }, field(t(`fu.on_${step}`), on), outcome ? field(t('fu.outcome'), outcome) : null,
      field(t(step === 'feedback' ? 'fu.feedback_text' : 'fu.note'), text), send));
}

/** The form that opens a follow-up of a result: its fields follow the kind chosen. */
function openForm(result, status, { kinds = KINDS, follows = null, done }) {
  const kind = h('select', { id: 'fu-kind' }, kinds.map((c) => h('option', { value: c }, word('kind', c))));
  const on = h('input', { id: 'fu-on', type: 'date', required: true, value: today(), max: today() });
  const due = h('input', { id: 'fu-due', type: 'date' });
  const caseNo = h('input', { id: 'fu-case-no', maxlength: '64', autocomplete: 'off' });
  const target = h('select', { id: 'fu-target' },
    result.codes.targets.map(([c, zh]) => h('option', { value: c }, word('target', c, zh))));
  const department = h('select', { id: 'fu-department' }, h('option', { value: '' }, t('fu.choose')));
  const text = h('textarea', { id: 'fu-text', maxlength: '2000', rows: '3' });
  const textLabel = h('span', { class: 'label' });
  const parts = {
    due: field(t('fu.due_on'), due, t('fu.due_hint')),
    caseNo: field(t('fu.case_no'), caseNo),
    target: field(t('fu.target'), target),
    department: field(t('fu.department'), department),
  };
  const textField = h('label', { class: 'field' }, textLabel, text);
  const shape = () => {
    const k = kind.value;
    parts.due.hidden = k !== 'rectification';
    parts.caseNo.hidden = k !== 'case';
    parts.target.hidden = k !== 'transfer';
    parts.department.hidden = k !== 'transfer' || target.value !== 'department';
    fill(textLabel, t(TEXT_LABEL[k]));
  };
  kind.addEventListener('change', shape);
  target.addEventListener('change', shape);
  shape();
  api('/api/departments').then((d) => department.append(...d.departments.filter((x) => x.active !== false)
    .map((x) => h('option', { value: x.code }, `${x.name}（${x.code}）`)))).catch(() => {});
  const send = h('button', { id: 'fu-open', type: 'submit' }, t('fu.open'));
  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(send, async () => {
      const k = kind.value;
      const body = { kind: k, on: on.value, text: text.value.trim() };
      if (k === 'rectification') body.due_on = due.value;
      if (k === 'case') body.case_no = caseNo.value.trim();
      if (k === 'transfer') Object.assign(body, { target: target.value,
        department: target.value === 'department' ? department.value : '' });
      if (follows) body.follows = follows;
      try {
        done(await api(`/api/results/${result.id}/followups`, { method: 'POST', json: body }));
      } catch (err) {
        showError(status, err);
      }
    });
  };
  return h('form', { id: 'fu-form', onsubmit }, field(t('fu.kind'), kind), field(t('fu.on'), on),
    parts.due, parts.caseNo, parts.target, parts.department, textField, send);
}

/** The result screen's section 后续处置: the result's follow-ups and, for its department's
 * coordinators, the form to open one. Fills itself in when its data arrives. */
export function followupSection(resultId) {
  const status = statusLine('result-followups-status');
  const box = h('section', { class: 'card', id: 'result-followups' }, h('h2', {}, t('fu.section')), status);
  const load = async (message) => {
    try {
      const data = await api(`/api/results/${resultId}/followups`);
      const list = h('ul', { class: 'list', id: 'result-followup-list' },
        data.followups.length ? data.followups.map(item) : h('li', { class: 'muted' }, t('fu.none_here')));
      const form = data.may_manage ? h('details', { id: 'fu-new' }, h('summary', {}, t('fu.new')),
        h('p', { class: 'hint' }, t('fu.new_hint')),
        openForm({ id: resultId, codes: data.codes }, status, { done: () => load(t('fu.opened_ok')) })) : null;
      fill(box, h('h2', {}, t('fu.section')), status, list, form,
        h('p', {}, h('a', { href: '#/followups' }, t('fu.all_link'))));
      if (message) showInfo(status, message, 'ok');
    } catch (err) {
      showError(status, err);
    }
  };
  load();
  return box;
}
