// Tasks: the "1+X" joint inspection tasks my department initiates or joins, with where each
// draw stands, and a new task: a lead matter of my department plus matters of others.

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

  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(submit, async () => {
      const picked = [...others.querySelectorAll('input:checked')].map((box) => box.value);
      const body = { code: code.value.trim(), name: name.value.trim(), matters: [lead.value, ...picked] };
      if (me.role === 'admin') body.initiator = lead.selectedOptions[0]?.dataset.department;
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
      field(t('task.code'), code),
      h('small', { class: 'hint', id: 'task-code-hint' }, t('task.code_hint')),
      field(t('task.name'), name),
      field(t('task.lead'), lead, t('task.lead_hint')),
      others,
      submit));

  try {
    const [mine, directory, deps] = await Promise.all([
      api('/api/tasks'), api('/api/matters'), api('/api/departments')]);
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
      h('span', { class: 'item-head' }, h('strong', {}, task.name), drawBadge(task.draw)),
      h('span', { class: 'mono' }, task.code),
      h('span', { class: 'muted' }, [
        lead ? `${t('task.lead_short')} ${lead.name}` : null,
        departments.map((d) => depName.get(d) || d).join('、'),
        formatTime(task.created_at),
      ].filter(Boolean).join(' · '))));
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
