// The dashboard (#/dashboard; docs/dashboard.md): for one year, plan coverage per plan line
// and task (planned by ratio, drawn, visited, closed), completion of the visits, results by
// state, and how many were published on time, late, or not yet although due (002:20: counted
// as not completed), per department. Drawn as small SVG bar charts from GET /api/dashboard;
// each chart is an image with a title and a text alternative, and its numbers are also a
// table, so a screen reader gets every figure.

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, showError, statusLine, title } from './common.js';
import { deskStyle } from './tasks.js';

const SVG = 'http://www.w3.org/2000/svg';
// Each colour ≥ 3:1 against white (WCAG 1.4.11 for graphics), told apart by position and
// label as well, never by colour alone.
const COLOURS = ['#0b3d91', '#0a6b2d', '#8a1c7c', '#a4000f', '#5c3b00', '#1f6f8b'];
const STATE_COLOURS = {
  pending_entry: '#5c3b00', pending_review: '#0b3d91', returned: '#a4000f',
  approved: '#1f6f8b', published: '#0a6b2d', withheld: '#8a1c7c',
};

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const srOnly = 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap';

const ROW = 32; // px per bar: the HTML labels beside the SVG use the same rows

/** Bars drawn in one SVG (an image with its title and a text alternative) between HTML labels
 * and values in the same grid rows: text stays HTML, so its contrast is checked and it
 * zooms like the rest. `rows`: [{label, total, rects: [{key, value, colour, x, w}]}]. */
function chart(id, summary, rows) {
  const svg = s('svg', { id, role: 'img', 'aria-label': summary, class: 'chart',
    viewBox: `0 0 100 ${rows.length * ROW}`, preserveAspectRatio: 'none',
    width: '100%', height: rows.length * ROW, style: `grid-row: 1 / span ${rows.length}` },
  s('title', {}, summary),
  rows.map((r, i) => s('g', { class: 'bar', 'data-label': r.label, 'data-value': r.total },
    r.rects.filter((x) => x.value).map((x) => s('rect', { x: x.x, y: i * ROW + 6, width: Math.max(x.w, 0.5),
      height: ROW - 12, fill: x.colour, 'data-key': x.key, 'data-value': x.value })))));
  return h('div', { class: 'bars', style: `grid-template-rows: repeat(${rows.length}, ${ROW}px)` },
    rows.map((r, i) => h('span', { class: 'bar-label', style: `grid-row: ${i + 1}`, 'aria-hidden': 'true' }, r.label)),
    svg,
    rows.map((r, i) => h('span', { class: 'value', style: `grid-row: ${i + 1}`, 'data-key': r.key, 'aria-hidden': 'true' }, r.total)));
}

/** A horizontal bar chart: one bar per {key, label, value, colour}; `shown`: the caption is
 * also written above it (a section's heading says it otherwise). */
export function barChart(id, caption, bars, shown = false) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const summary = `${caption}：${bars.map((b) => `${b.label} ${b.value}`).join('，')}`;
  const rows = bars.map((b, i) => ({ key: b.key, label: b.label, total: b.value,
    rects: [{ key: b.key, value: b.value, colour: b.colour || COLOURS[i % COLOURS.length], x: 0, w: (b.value / max) * 100 }] }));
  return h('figure', { class: 'chart-box' }, shown ? h('figcaption', {}, h('strong', {}, caption)) : null,
    chart(id, summary, rows),
    numbers(`${id}-table`, caption, [t('dash.item'), t('dash.count')], bars.map((b) => [b.label, b.value]), true));
}

/** A stacked bar per row ({label, parts: {key: value}}), segments in `keys` order. */
export function stackedChart(id, caption, rows, keys) {
  const total = (r) => keys.reduce((n, k) => n + (r.parts[k.key] || 0), 0);
  const max = Math.max(1, ...rows.map(total));
  const summary = `${caption}：${rows.map((r) => `${r.label} ${keys.filter((k) => r.parts[k.key])
    .map((k) => `${k.label} ${r.parts[k.key]}`).join('、') || 0}`).join('；')}`;
  const stacked = rows.map((r) => {
    let x = 0;
    return { key: r.label, label: r.label, total: total(r), rects: keys.map((k) => {
      const value = r.parts[k.key] || 0;
      const rect = { key: k.key, value, colour: k.colour, x, w: (value / max) * 100 };
      x += rect.w;
      return rect;
    }) };
  });
  const legend = h('ul', { class: 'legend' }, keys.map((k) => h('li', {},
    h('span', { class: 'swatch', style: `background:${k.colour}` }), k.label)));
  return h('figure', { class: 'chart-box' },
    chart(id, summary, stacked), legend,
    numbers(`${id}-table`, caption, ['', ...keys.map((k) => k.label), t('dash.total')],
      rows.map((r) => [r.label, ...keys.map((k) => r.parts[k.key] || 0), total(r)]), true));
}

/** The figures as a table; `hidden` keeps it for screen readers only (the chart shows it). */
function numbers(id, caption, head, rows, hidden = false) {
  return h('div', { class: 'table-wrap', style: hidden ? srOnly : null },
    h('table', { id },
      h('caption', { style: srOnly }, caption),
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map(([first, ...rest]) => h('tr', {},
        h('th', { scope: 'row' }, first), rest.map((v) => h('td', {}, v ?? '—')))))));
}

const pct = (rate) => (rate == null ? '—' : `${Math.round(rate * 1000) / 10}%`);

function coverage(data) {
  const lines = data.coverage.plans.flatMap((p) => p.lines.map((l) => ({
    key: `${p.code}-${l.line}`, label: `${l.task_name}（${t('dash.line', { plan: p.code, n: l.line })}）`, ...l })));
  const outside = data.coverage.tasks.filter((task) => !task.plan);
  const rows = [...lines, ...outside.map((task) => ({ key: task.task, label: `${task.name}（${task.task}）`, ...task }))];
  if (!rows.length) return h('p', { class: 'muted' }, t('dash.none'));
  const cols = ['planned', 'drawn', 'visited', 'closed'];
  return h('div', {},
    coverageCharts(rows, cols),
    numbers('coverage-table', t('dash.coverage'), [t('dash.task'), ...cols.map((c) => t(`dash.${c}`))],
      rows.map((r) => [r.label, ...cols.map((c) => r[c])])));
}

/** Coverage rows as grouped bars (planned, drawn, visited, closed side by side). */
function coverageCharts(rows, cols) {
  return h('div', {}, rows.map((r, i) => barChart(`chart-coverage-${i}`, r.label,
    cols.map((c, j) => ({ key: c, label: t(`dash.${c}`), value: r[c] ?? 0, colour: COLOURS[j] })), true)));
}

export default async function dashboard({ root, me }) {
  deskStyle();
  const status = statusLine('dashboard-status');
  const body = h('div', { id: 'dashboard-body' });
  const year = h('input', { id: 'dash-year', type: 'number', min: '2000', max: '2099', required: true,
    value: String(new Date().getFullYear()), inputmode: 'numeric' });
  const dep = h('select', { id: 'dash-department' }, h('option', { value: '' }, t('dash.all_departments')));
  const show = h('button', { id: 'dash-show', type: 'submit' }, t('dash.show'));
  if (me.role === 'admin') {
    api('/api/departments').then((r) => r.departments.forEach((d) => dep.append(h('option', { value: d.code }, d.name))))
      .catch(() => {});
  }
  const load = () => busy(show, async () => {
    try {
      const q = new URLSearchParams({ year: year.value });
      if (dep.value) q.set('department', dep.value);
      render(body, await api(`/api/dashboard?${q}`));
    } catch (err) {
      fill(body);
      showError(status, err);
    }
  });
  fill(root, title(t('dash.title')),
    h('form', { class: 'card', onsubmit: (ev) => { ev.preventDefault(); load(); } },
      field(t('dash.year'), year), me.role === 'admin' ? field(t('dash.department'), dep) : null, show),
    h('p', {}, h('a', { href: '#/calendar', id: 'dash-calendar' }, t('dash.calendar'))),
    status, body);
  await load();
}

function render(body, data) {
  const c = data.completion;
  const r = data.results;
  const label = (code) => t(`result.state_${code}`);
  const scope = data.scope === 'all' ? t('dash.scope_all')
    : data.scope === 'led_visits' ? t('dash.scope_led') : t('dash.scope_department', { name: data.department_name || data.department });
  const states = data.states.map((st) => ({ key: st.code, label: label(st.code), colour: STATE_COLOURS[st.code] }));
  fill(body,
    h('p', { id: 'dash-scope', class: 'muted' }, `${data.year} · ${scope}`),
    h('section', { class: 'card', id: 'dash-completion' }, h('h2', {}, t('dash.completion')),
      h('p', {}, t('dash.rate', { rate: pct(c.rate), closed: c.closed, assigned: c.assigned })),
      barChart('chart-completion', t('dash.completion'), ['assigned', 'visited', 'closed']
        .map((k, i) => ({ key: k, label: t(`dash.${k}`), value: c[k], colour: COLOURS[i] })))),
    h('section', { class: 'card', id: 'dash-clock' }, h('h2', {}, t('dash.clock')),
      h('p', { class: r.overdue ? 'status warn' : 'muted' }, t('dash.overdue_note', { n: r.overdue })),
      barChart('chart-clock', t('dash.clock'), [
        { key: 'published_on_time', label: t('dash.on_time'), value: r.published_on_time, colour: COLOURS[1] },
        { key: 'published_late', label: t('dash.late'), value: r.published_late, colour: COLOURS[4] },
        { key: 'overdue', label: t('dash.overdue'), value: r.overdue, colour: COLOURS[3] },
      ])),
    h('section', { class: 'card', id: 'dash-states' }, h('h2', {}, t('dash.results', { n: r.total })),
      barChart('chart-states', t('dash.results', { n: r.total }),
        states.map((st) => ({ ...st, value: r.by_state[st.key] || 0 })))),
    h('section', { class: 'card', id: 'dash-departments' }, h('h2', {}, t('dash.by_department')),
      data.departments.length ? [
        stackedChart('chart-departments', t('dash.by_department'),
          data.departments.map((d) => ({ label: d.name, parts: d.by_state })), states),
        numbers('department-clock-table', t('dash.clock'),
          ['', t('dash.on_time'), t('dash.late'), t('dash.overdue')],
          data.departments.map((d) => [d.name, d.published_on_time, d.published_late, d.overdue])),
      ] : h('p', { class: 'muted' }, t('dash.none'))),
    h('section', { class: 'card', id: 'dash-coverage' }, h('h2', {}, t('dash.coverage')),
      h('p', { class: 'hint' }, t('dash.coverage_hint')), coverage(data)));
  chartStyle();
}

let styled = false;
function chartStyle() {
  if (styled || !document.adoptedStyleSheets) return;
  styled = true;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`
.chart-box { margin: 8px 0 12px; }
.bars { display: grid; grid-template-columns: minmax(5em, 9em) minmax(0, 1fr) 3.5em; column-gap: 8px;
  align-items: center; max-width: 640px; font-size: 0.9rem; }
.bars .chart { grid-column: 2; display: block; }
.bars .bar-label { grid-column: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bars .value { grid-column: 3; font-weight: 700; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; list-style: none; padding: 0; margin: 4px 0; font-size: 0.85rem; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
