// Tasks: the "1+X" joint inspection tasks my department initiates or joins, with where each
// draw stands, and a new task: a lead matter of my department plus matters of others —
// ordinary (a random draw) or triggered by a complaint, referral, monitoring or risk alert
// (drawn among named subjects or a directional scope, or with inspectors assigned directly).

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { formatTime, t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, showError, statusLine, title } from './common.js';

export const drawBadge = (draw) => h('span', { class: `badge draw-${draw}` }, t(`task.draw_${draw}`));

export default async function tasks({ root, me, go }) {
  deskStyle();
  const status = statusLine('tasks-status');
  const list = h('ul', { id: 'task-list', class: 'list' });
  const code = h('input', { id: 'task-code', name: 'code', required: true, maxlength: '64',
    pattern: '[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}', autocomplete: 'off', autocapitalize: 'off',
    'aria-describedby': 'task-code-hint' });
  const name = h('input', { id: 'task-name', name: 'name', required: true, maxlength: '256', autocomplete: 'off' });
  const lead = h('select', { id: 'task-lead', name: 'lead', required: true });
  const others = h('fieldset', { id: 'task-others', class: 'choices-list' });
  const submit = h('button', { id: 'task-create', type: 'submit' }, t('task.create'));
  const trigger = triggerFields();
  // optional: the plan line (002:12-13) this task runs — the line's lead must be the task's
  const plan = h('select', { id: 'task-plan' }, h('option', { value: '' }, t('task.plan_none')));
  const line = h('select', { id: 'task-plan-line', disabled: true });
  const planBox = h('fieldset', { id: 'task-plan-box' }, h('legend', {}, t('task.plan')),
    field(t('task.plan_pick'), plan), field(t('task.plan_line'), line, t('task.plan_hint')));
  let lines = [];

  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(submit, async () => {
      const picked = [...others.querySelectorAll('input:checked')].map((box) => box.value);
      const body = { code: code.value.trim(), name: name.value.trim(), matters: [lead.value, ...picked] };
      if (me.role === 'admin') body.initiator = lead.selectedOptions[0]?.dataset.department;
      if (trigger.on()) {
        const cause = trigger.read();
        if (typeof cause === 'string') {
          showError(status, cause);
          return;
        }
        body.trigger = cause;
      }
      if (plan.value) body.plan = { code: plan.value, line: Number(line.value) };
      try {
        const task = await api('/api/tasks', { method: 'POST', json: body });
        go(`#/task/${encodeURIComponent(task.code)}`);
      } catch (err) {
        showError(status, err);
      }
    });
  };

  fill(root,
    title(t('task.title')),
    status,
    list,
    h('form', { id: 'task-form', class: 'card', onsubmit },
      h('h2', {}, t('task.new')),
      trigger.choice,
      field(t('task.code'), code),
      h('small', { class: 'hint', id: 'task-code-hint' }, t('task.code_hint')),
      field(t('task.name'), name),
      field(t('task.lead'), lead, t('task.lead_hint')),
      others,
      planBox,
      trigger.box,
      submit));

  try {
    const [mine, directory, deps, plans] = await Promise.all([
      api('/api/tasks'), api('/api/matters'), api('/api/departments'),
      api('/api/plans').then((d) => d.plans, () => [])]);
    const depName = new Map(deps.departments.map((d) => [d.code, d.name]));
    fill(list, mine.tasks.length ? mine.tasks.map((task) => taskRow(task, depName))
      : h('li', { class: 'muted' }, t('task.none')));
    const active = directory.matters.filter((m) => m.active);
    const own = active.filter((m) => me.role === 'admin' || m.department === me.department);
    fill(lead, own.length ? own.map((m) => h('option', { value: m.code, 'data-department': m.department },
      `${m.name}（${depName.get(m.department) || m.department}）`))
      : h('option', { value: '' }, t('task.no_lead')));
    const renderOthers = () => {
      const initiator = lead.selectedOptions[0]?.dataset.department;
      const kept = new Set([...others.querySelectorAll('input:checked')].map((box) => box.value));
      const choices = active.filter((m) => m.department !== initiator);
      fill(others,
        h('legend', {}, t('task.others')),
        h('small', { class: 'hint' }, t('task.others_hint')),
        choices.length ? choices.map((m) => h('label', { class: 'check-row' },
          h('input', { type: 'checkbox', name: 'matter', value: m.code, checked: kept.has(m.code),
            'data-department': m.department }),
          h('span', {}, `${m.name}（${depName.get(m.department) || m.department}）`)))
          : h('p', { class: 'muted' }, t('task.no_others')));
    };
    lead.addEventListener('change', renderOthers);
    renderOthers();
    plan.append(...plans.map((p) => h('option', { value: p.code },
      `${p.name}（${p.code} · ${t('plan.version_short', { n: p.version })}）`)));
    // a line picked fills the lead and the X matters from it (still editable)
    const pickLine = () => {
      const x = lines[Number(line.value) - 1];
      if (!x) return;
      if ([...lead.options].some((o) => o.value === x.lead)) lead.value = x.lead;
      renderOthers();
      others.querySelectorAll('input').forEach((box) => { box.checked = x.matters.includes(box.value); });
      if (!name.value.trim()) name.value = x.task_name;
    };
    plan.addEventListener('change', async () => {
      lines = [];
      fill(line);
      line.disabled = !plan.value;
      if (!plan.value) return;
      try {
        lines = (await api(`/api/plans/${encodeURIComponent(plan.value)}`)).versions[0].lines;
      } catch (err) {
        showError(status, err);
      }
      fill(line, lines.map((x, n) => h('option', { value: String(n + 1) }, `${n + 1}. ${x.task_name}`)));
      pickLine();
    });
    line.addEventListener('change', pickLine);
  } catch (err) {
    showError(status, err);
  }
}

function taskRow(task, depName) {
  const lead = task.matters.find((m) => m.lead) || task.matters[0];
  const departments = [...new Set(task.matters.map((m) => m.department))];
  // The whole row is the link: a thumb-sized target, not just the name.
  return h('li', { class: 'item', 'data-code': task.code },
    h('a', { class: 'task-link', href: `#/task/${encodeURIComponent(task.code)}` },
      h('span', { class: 'item-head' }, h('strong', {}, task.name),
        h('span', {}, task.kind === 'triggered' ? [kindBadge(), ' '] : null, drawBadge(task.draw))),
      h('span', { class: 'mono' }, task.code),
      task.may_draw === false ? h('span', { class: 'muted view-only' }, t('task.view_only')) : null,
      h('span', { class: 'muted' }, [
        lead ? `${t('task.lead_short')} ${lead.name}` : null,
        departments.map((d) => depName.get(d) || d).join('、'),
        formatTime(task.created_at),
      ].filter(Boolean).join(' · '))));
}

export const kindBadge = () => h('span', { class: 'badge triggered' }, t('task.kind_triggered'));

const TRIGGER_KINDS = ['complaint', 'referral', 'monitoring', 'risk_alert'];
const SCOPE = [['kinds', 'list'], ['region', 'code'], ['industry', 'code'], ['tags', 'list']];
export const splitList = (text) => text.split(/[\s,，、;；]+/).filter(Boolean);

/** A radio group as a fieldset: [{value, label, id}] → {el, value(), onchange(fn)}. */
function radios(name, legend, choices) {
  const inputs = choices.map(([value, label]) => h('input', { type: 'radio', name, value,
    id: `${name}-${value}`, checked: value === choices[0][0] }));
  return {
    el: h('fieldset', { class: 'choices-list', id: name }, h('legend', {}, legend),
      inputs.map((input, n) => h('label', { class: 'check-row' }, input, h('span', {}, choices[n][1])))),
    value: () => inputs.find((i) => i.checked)?.value,
    onchange: (fn) => inputs.forEach((i) => i.addEventListener('change', fn)),
  };
}

/** Shown only when chosen: hidden and disabled (so its required fields do not block). */
const toggle = (el, on) => { el.hidden = !on; el.disabled = !on; };

/** The "ordinary / triggered" choice and the trigger's fields. `read()` gives the trigger
 * object for POST /api/tasks, or a message saying what is missing. */
function triggerFields() {
  const kindChoice = radios('task-kind', t('task.kind'),
    [['ordinary', t('task.kind_ordinary')], ['triggered', t('task.kind_triggered')]]);
  const kind = h('select', { id: 'trigger-kind' },
    TRIGGER_KINDS.map((k) => h('option', { value: k }, t(`trigger.${k}`))));
  const reference = h('input', { id: 'trigger-reference', required: true, maxlength: '128', autocomplete: 'off' });
  const note = h('textarea', { id: 'trigger-note', maxlength: '2000' });
  const target = radios('trigger-target', t('trigger.target'), [['subjects', t('trigger.target_subjects')],
    ['scope', t('trigger.target_scope')], ['direct', t('trigger.target_direct')]]);
  const subjects = h('textarea', { id: 'trigger-subjects', required: true, autocomplete: 'off',
    autocapitalize: 'off', spellcheck: 'false', class: 'mono' });
  const scope = Object.fromEntries(SCOPE.map(([key, type]) => [key, h('input', { id: `scope-${key}`,
    autocomplete: 'off', autocapitalize: 'off', maxlength: type === 'code' ? '16' : '1000',
    pattern: type === 'code' ? '[A-Za-z0-9]+' : null })]));
  const subjectsBox = h('fieldset', { id: 'trigger-subjects-box' }, h('legend', {}, t('trigger.target_subjects')),
    field(t('trigger.subjects'), subjects, t('trigger.subjects_hint')));
  const scopeBox = h('fieldset', { id: 'trigger-scope-box' }, h('legend', {}, t('trigger.target_scope')),
    SCOPE.map(([key]) => field(t(`scope.${key}`), scope[key], t(`scope.${key}_hint`))));
  const directNote = h('p', { class: 'hint', id: 'trigger-direct-hint' }, t('trigger.direct_hint'));
  const box = h('fieldset', { id: 'trigger-box' }, h('legend', {}, t('trigger.title')),
    field(t('trigger.kind'), kind),
    field(t('trigger.reference'), reference, t('trigger.reference_hint')),
    field(t('trigger.note'), note),
    target.el, subjectsBox, scopeBox, directNote);
  const show = () => {
    const on = kindChoice.value() === 'triggered';
    toggle(box, on);
    toggle(subjectsBox, on && target.value() === 'subjects');
    toggle(scopeBox, on && target.value() === 'scope');
    directNote.hidden = !on || target.value() !== 'direct';
  };
  kindChoice.onchange(show);
  target.onchange(show);
  show();
  const read = () => {
    const out = { kind: kind.value, reference: reference.value.trim(), note: note.value.trim() };
    if (!out.reference) return t('trigger.reference_missing');
    if (target.value() === 'subjects') {
      out.subjects = [...new Set(subjects.value.split(/\r?\n/).map((x) => x.trim()).filter(Boolean))];
      if (!out.subjects.length) return t('trigger.subjects_missing');
    } else if (target.value() === 'scope') {
      const given = {};
      for (const [key, type] of SCOPE) {
        const text = scope[key].value.trim();
        if (text) given[key] = type === 'list' ? splitList(text) : text;
      }
      if (!Object.keys(given).length) return t('trigger.scope_missing');
      out.scope = given;
    }
    return out;
  };
  return { choice: kindChoice.el, box, on: () => kindChoice.value() === 'triggered', read };
}

let styled = false;

/** The desk's few extra rules, adopted when a task screen first opens: the shell's style.css
 * stays as it is (its size counts against the budget; these screens load on demand). */
export function deskStyle() {
  if (styled || !document.adoptedStyleSheets) return;
  styled = true;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`
.task-link { display: flex; flex-direction: column; gap: 2px; min-height: var(--tap);
  color: var(--ink); text-decoration: none; }
.task-link strong { color: var(--brand); text-decoration: underline; }
.badge.draw-drawn { border-color: var(--ok); color: var(--ok); }
.badge.draw-committed { border-color: #b77900; color: #5c3b00; }
.badge.leader { border-color: var(--brand); color: var(--brand); }
.badge.triggered { border-color: #8a1c7c; color: #8a1c7c; }
.badge.started { border-color: #5c3b00; color: #5c3b00; }
.who small, .subject-name small { font-weight: 400; color: var(--muted); }
[hidden] { display: none !important; }
fieldset { border: 2px solid #c9d3e6; border-radius: 8px; margin: 12px 0; padding: 6px 12px 10px; min-width: 0; }
legend { font-weight: 700; padding: 0 4px; }
.steps { display: flex; gap: 4px; list-style: none; padding: 0; margin: 4px 0 12px; }
.steps li { flex: 1; text-align: center; padding: 6px 2px; border-bottom: 5px solid #c9d3e6;
  color: var(--muted); font-size: 0.9rem; }
.steps li.done { border-color: var(--ok); color: var(--ok); }
.steps li[aria-current] { border-color: var(--brand); color: var(--ink); font-weight: 700; }
.rule { display: grid; grid-template-columns: 4.5em minmax(0, 1fr) minmax(0, 1fr); gap: 6px; align-items: center; }
.rule .badge { justify-self: start; }
.rule select, .rule input { min-width: 0; }
.members { list-style: none; padding: 0; margin: 6px 0; }
.members li { padding: 4px 0; border-top: 1px solid #e1e6f0; }
.verify-problems { margin: 4px 0; padding-left: 1.2em; }
`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
