// Annual joint plans (002:12-13; docs/draw.md "Plans"): the list and a new plan (#/plans), and
// one plan with every version, newest first, and an adjustment (#/plan/<code>). A plan is
// published as version 1 and changed only by a new version with its reason; earlier versions
// stay as published (public at /public/plans/<code>). Each line: task name, lead matter (of
// the initiating department), X matters of other departments, ratio, schedule, optional scope.

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { formatTime, t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, showError, showInfo, statusLine, title } from './common.js';
import { deskStyle, splitList } from './tasks.js';

const SCOPE = [['kinds', 'list'], ['region', 'code'], ['industry', 'code'], ['tags', 'list']];

/** The directory the line editors choose from: active matters and department names. */
async function directory() {
  const [matters, deps] = await Promise.all([api('/api/matters'), api('/api/departments')]);
  const depName = new Map(deps.departments.map((d) => [d.code, d.name]));
  return {
    active: matters.matters.filter((m) => m.active),
    matter: new Map(matters.matters.map((m) => [m.code, m])),
    dep: (c) => depName.get(c) || c,
  };
}

const matterLabel = (dir, code) => {
  const m = dir.matter.get(code);
  return m ? `${m.name}（${dir.dep(m.department)}）` : code;
};

/** The lines of a plan as editable fieldsets; `read()` gives the `lines` of the API. */
function lineEditor(dir, me, initial) {
  const box = h('div', { class: 'plan-lines', id: 'plan-lines' });
  const editors = [];
  let made = 0;
  const own = dir.active.filter((m) => me.role === 'admin' || m.department === me.department);
  const year = new Date().getFullYear();

  const add = (line = null) => {
    const n = made++;
    const id = (part) => `line-${n}-${part}`;
    const name = h('input', { id: id('name'), required: true, maxlength: '256', autocomplete: 'off',
      value: line?.task_name || '' });
    const lead = h('select', { id: id('lead'), required: true },
      own.map((m) => h('option', { value: m.code, 'data-department': m.department,
        selected: m.code === line?.lead }, matterLabel(dir, m.code))));
    const xs = h('fieldset', { id: id('x'), class: 'choices-list' });
    const renderXs = () => {
      const initiator = lead.selectedOptions[0]?.dataset.department;
      const kept = new Set(xs.querySelector('input') ? [...xs.querySelectorAll('input:checked')].map((b) => b.value)
        : line?.matters || []);
      const choices = dir.active.filter((m) => m.department !== initiator);
      fill(xs, h('legend', {}, t('plan.line_x')),
        choices.length ? choices.map((m) => h('label', { class: 'check-row' },
          h('input', { type: 'checkbox', value: m.code, checked: kept.has(m.code) }),
          h('span', {}, matterLabel(dir, m.code)))) : h('p', { class: 'muted' }, t('task.no_others')));
    };
    lead.addEventListener('change', renderXs);
    renderXs();
    const ratio = h('input', { id: id('ratio'), required: true, inputmode: 'decimal', autocomplete: 'off',
      pattern: '(0|[1-9][0-9]*)(\\.[0-9]+)?', value: line?.ratio || '0.05' });
    const start = h('input', { id: id('start'), type: 'date', required: true,
      value: line?.schedule.start || `${year}-03-01` });
    const end = h('input', { id: id('end'), type: 'date', required: true,
      value: line?.schedule.end || `${year}-11-30` });
    const scope = Object.fromEntries(SCOPE.map(([key, type]) => {
      const v = line?.scope?.[key];
      return [key, h('input', { id: id(`scope-${key}`), autocomplete: 'off', autocapitalize: 'off',
        maxlength: type === 'code' ? '12' : '1000', pattern: type === 'code' ? '[A-Za-z0-9]+' : null,
        value: Array.isArray(v) ? v.join('、') : v || '' })];
    }));
    const hasScope = line?.scope && Object.keys(line.scope).length;
    const el = h('fieldset', { class: 'card plan-line', 'data-line': n },
      h('legend', {}, t('plan.line', { n: editors.length + 1 })),
      field(t('plan.line_name'), name),
      field(t('plan.line_lead'), lead),
      xs,
      field(t('plan.line_ratio'), ratio, t('plan.line_ratio_hint')),
      field(t('plan.line_start'), start),
      field(t('plan.line_end'), end),
      h('details', { class: 'card', open: hasScope ? true : null },
        h('summary', {}, t('plan.line_scope')),
        SCOPE.map(([key]) => field(t(`scope.${key}`), scope[key], t(`scope.${key}_hint`)))),
      h('button', { type: 'button', class: 'secondary line-remove', onclick: () => {
        if (editors.length < 2) return;
        editors.splice(editors.indexOf(editor), 1);
        el.remove();
        number();
      } }, t('plan.line_remove')));
    const editor = {
      el,
      read: () => {
        const out = {
          task_name: name.value.trim(), lead: lead.value, ratio: ratio.value.trim(),
          matters: [...xs.querySelectorAll('input:checked')].map((b) => b.value),
          schedule: { start: start.value, end: end.value },
        };
        const given = {};
        for (const [key, type] of SCOPE) {
          const text = scope[key].value.trim();
          if (text) given[key] = type === 'list' ? splitList(text) : text;
        }
        if (Object.keys(given).length) out.scope = given;
        return out;
      },
    };
    editors.push(editor);
    box.append(el);
    number();
    return name;
  };
  // legends say "line n" in order, and the only line cannot be removed
  const number = () => editors.forEach((e, i) => {
    e.el.querySelector('legend').textContent = t('plan.line', { n: i + 1 });
    e.el.querySelector('.line-remove').hidden = editors.length < 2;
  });
  (initial?.length ? initial : [null]).forEach((line) => add(line));
  const addButton = h('button', { id: 'plan-line-add', type: 'button', class: 'secondary',
    onclick: () => add().focus() }, t('plan.line_add'));
  return { el: [box, addButton], read: () => editors.map((e) => e.read()) };
}

export default async function plans({ root, me, go }) {
  deskStyle();
  const status = statusLine('plans-status');
  const list = h('ul', { id: 'plan-list', class: 'list' });
  const form = h('form', { id: 'plan-form', class: 'card' });
  fill(root, title(t('plan.title')), status, list, form);
  let dir;
  try {
    const [listed, d] = await Promise.all([api('/api/plans'), directory()]);
    dir = d;
    fill(list, listed.plans.length ? listed.plans.map((p) => h('li', { class: 'item', 'data-code': p.code },
      h('a', { class: 'task-link', href: `#/plan/${encodeURIComponent(p.code)}` },
        h('span', { class: 'item-head' }, h('strong', {}, p.name),
          h('span', { class: 'badge' }, t('plan.version_short', { n: p.version }))),
        h('span', { class: 'mono' }, p.code),
        h('span', { class: 'muted' }, [t('plan.year_of', { year: p.year }), p.initiator_name,
          t('plan.n_lines', { n: p.lines })].join(' · ')))))
      : h('li', { class: 'muted' }, t('plan.none')));
  } catch (err) {
    showError(status, err);
    return;
  }
  const code = h('input', { id: 'plan-code', required: true, maxlength: '64', autocomplete: 'off',
    autocapitalize: 'off', pattern: '[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}' });
  const year = h('input', { id: 'plan-year', type: 'number', required: true, min: '2000', max: '2100',
    inputmode: 'numeric', value: String(new Date().getFullYear()) });
  const name = h('input', { id: 'plan-name', required: true, maxlength: '256', autocomplete: 'off' });
  const lines = lineEditor(dir, me);
  const submit = h('button', { id: 'plan-create', type: 'submit' }, t('plan.create'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    return busy(submit, async () => {
      const body = { code: code.value.trim(), year: Number(year.value), name: name.value.trim(), lines: lines.read() };
      if (me.role === 'admin') body.initiator = dir.matter.get(body.lines[0].lead)?.department;
      try {
        const plan = await api('/api/plans', { method: 'POST', json: body });
        go(`#/plan/${encodeURIComponent(plan.code)}`);
      } catch (err) {
        showError(status, err);
      }
    });
  });
  fill(form, h('h2', {}, t('plan.new')),
    field(t('plan.code'), code, t('task.code_hint')),
    field(t('plan.year'), year),
    field(t('plan.name'), name),
    h('p', { class: 'hint' }, t('plan.lines_hint')),
    lines.el,
    submit);
}

function versionCard(dir, v) {
  return h('li', { class: 'card plan-version', 'data-version': v.version },
    h('h3', {}, t('plan.version', { n: v.version }), ' ',
      h('small', { class: 'muted' }, formatTime(v.published_at))),
    h('p', { class: 'plan-reason' }, h('strong', {}, t('plan.reason')), '：', v.reason),
    h('ol', { class: 'members plan-lines-list' }, v.lines.map((x) => h('li', {},
      h('strong', {}, x.task_name),
      h('div', {}, `${t('task.lead_short')} ${matterLabel(dir, x.lead)}`),
      x.matters.length ? h('div', { class: 'muted' }, `${t('plan.with')} ${x.matters.map((m) => matterLabel(dir, m)).join('、')}`) : null,
      h('div', { class: 'muted' }, [`${t('plan.line_ratio')} ${x.ratio}`,
        t('plan.schedule', { start: x.schedule.start, end: x.schedule.end })].join(' · ')),
      x.scope && Object.keys(x.scope).length ? h('div', { class: 'muted' }, Object.entries(x.scope)
        .map(([k, val]) => `${t(`scope.${k}`)}：${Array.isArray(val) ? val.join('、') : val}`).join('；')) : null))),
    h('p', { class: 'mono muted' }, v.content_hash));
}

export async function plan({ root, params: [code], me }) {
  deskStyle();
  const heading = title(code);
  const status = statusLine('plan-status');
  const view = h('div', { id: 'plan-view' });
  fill(root, heading, status, view);
  const [detail, dir] = await Promise.all([
    api(`/api/plans/${encodeURIComponent(code)}`), directory()]);
  // the server says who may adjust (may_adjust); an adjustment's answer is the public detail
  const mayKeep = detail.may_adjust;
  const render = (p, note) => {
    fill(heading, p.name);
    fill(view,
      h('dl', { class: 'facts' },
        h('dt', {}, t('plan.code')), h('dd', { class: 'mono' }, p.code),
        h('dt', {}, t('plan.year')), h('dd', {}, String(p.year)),
        h('dt', {}, t('task.initiator')), h('dd', {}, p.initiator_name)),
      h('p', {}, h('a', { id: 'plan-public-link', href: `/public/plans/${encodeURIComponent(p.code)}`,
        target: '_blank', rel: 'noopener' }, t('plan.public_link'))),
      h('h2', {}, t('plan.versions', { n: p.versions.length })),
      h('ol', { class: 'list', id: 'plan-versions' }, p.versions.map((v) => versionCard(dir, v))),
      mayKeep ? adjustForm(p) : h('p', { class: 'status info', id: 'plan-not-mine' }, t('plan.not_mine', { dep: p.initiator_name })));
    if (note) showInfo(status, note, 'ok');
  };
  const adjustForm = (p) => {
    const lines = lineEditor(dir, me, p.versions[0].lines);
    const reason = h('textarea', { id: 'plan-reason', required: true, maxlength: '1000' });
    const submit = h('button', { id: 'plan-adjust', type: 'submit' }, t('plan.adjust_submit'));
    return h('form', { id: 'plan-adjust-form', class: 'card', onsubmit: (ev) => {
      ev.preventDefault();
      return busy(submit, async () => {
        if (!reason.value.trim()) {
          showError(status, t('plan.reason_missing'));
          reason.focus();
          return;
        }
        try {
          const next = await api(`/api/plans/${encodeURIComponent(p.code)}/versions`, { method: 'POST',
            json: { reason: reason.value.trim(), lines: lines.read() } });
          render(next, t('plan.adjusted', { n: next.versions[0].version }));
        } catch (err) {
          showError(status, err);
        }
      });
    } },
    h('h2', {}, t('plan.adjust')),
    h('p', { class: 'hint' }, t('plan.adjust_hint')),
    lines.el,
    field(t('plan.reason'), reason, t('plan.reason_hint')),
    submit);
  };
  render(detail);
}
