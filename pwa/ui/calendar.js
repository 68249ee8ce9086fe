// The working-day calendar (#/calendar; docs/calendar.md): one year's special days — weekday
// holidays and make-up working weekends — and whether the year is loaded or still counted
// Monday–Friday (provisional). An admin imports the State Council's notice as a CSV or JSON
// file of whole years (all or nothing): the bad rows come back as a table, or the years
// imported with their versions. Everyone else reads the year.

import { h, fill } from '../dom.js';
import { api, ApiError } from '../api.js';
import { formatTime, t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, showError, showInfo, statusLine, title } from './common.js';
import { deskStyle } from './tasks.js';

export default async function calendar({ root, me }) {
  deskStyle();
  const status = statusLine('calendar-status');
  const view = h('div', { id: 'calendar-year-view' });
  const year = h('input', { id: 'calendar-year', type: 'number', min: '2000', max: '2099', required: true,
    inputmode: 'numeric', value: String(new Date().getFullYear()) });
  const show = h('button', { id: 'calendar-show', type: 'submit' }, t('cal.show'));
  const load = () => busy(show, async () => {
    try {
      showYear(view, await api(`/api/calendar/${encodeURIComponent(year.value)}`));
    } catch (err) {
      fill(view);
      showError(status, err);
    }
  });
  fill(root, title(t('cal.title')),
    h('form', { class: 'card', onsubmit: (ev) => { ev.preventDefault(); load(); } }, field(t('cal.year'), year), show),
    me.role === 'admin' ? importForm(year, load) : h('p', { class: 'muted', id: 'calendar-readonly' }, t('cal.readonly')),
    status, view);
  await load();
}

function showYear(view, y) {
  const state = y.loaded
    ? h('p', { id: 'calendar-state', class: 'status ok', 'data-loaded': 'true' },
      t('cal.loaded', { year: y.year, version: y.version, source: y.source, at: formatTime(y.loaded_at) }))
    : h('p', { id: 'calendar-state', class: 'status warn', 'data-loaded': 'false' }, t('cal.provisional', { year: y.year }));
  const holidays = y.days.filter((d) => d.kind === 'holiday').length;
  const col = (text) => h('th', { scope: 'col' }, text);
  fill(view, h('h2', {}, t('cal.year_title', { year: y.year })), state,
    y.days.length ? [
      h('p', { class: 'muted', id: 'calendar-counts' }, t('cal.counts', { holidays, workdays: y.days.length - holidays })),
      h('div', { class: 'table-wrap' }, h('table', { id: 'calendar-days' },
        h('thead', {}, h('tr', {}, col(t('cal.date')), col(t('cal.kind')), col(t('cal.name')))),
        h('tbody', {}, y.days.map((d) => h('tr', { 'data-kind': d.kind },
          h('td', {}, d.date), h('td', {}, t(`cal.kind_${d.kind}`)), h('td', {}, d.name)))))),
    ] : h('p', { class: 'muted' }, t('cal.none')));
}

function importForm(year, reload) {
  const status = statusLine('calendar-import-status');
  const report = h('div', { id: 'calendar-report' });
  const file = h('input', { id: 'calendar-file', type: 'file', accept: '.csv,.json', 'aria-describedby': 'calendar-file-hint' });
  const submit = h('button', { id: 'calendar-import', type: 'submit' }, t('cal.submit'));
  const onsubmit = (ev) => {
    ev.preventDefault();
    fill(report);
    if (!file.files.length) return showError(status, t('cal.no_file'));
    return busy(submit, async () => {
      const form = new FormData();
      form.append('file', file.files[0]);
      try {
        const r = await api('/api/calendar/import', { method: 'POST', form });
        showInfo(status, t('cal.imported', { years: r.years.map((y) => y.year).join('、') }), 'ok');
        fill(report, h('ul', { id: 'calendar-imported' }, r.years.map((y) => h('li', { 'data-year': y.year },
          t('cal.year_report', { ...y, changed: t(y.changed ? 'cal.changed' : 'cal.unchanged') })))),
        r.warnings.length ? rows('calendar-warnings', t('cal.warnings', { n: r.warnings.length }), r.warnings) : null);
        year.value = String(r.years[0].year);
        await reload();
      } catch (err) {
        showError(status, err);
        if (err instanceof ApiError && err.code === 'calendar.rows_invalid') {
          fill(report, rows('calendar-errors', t('cal.bad_rows'), err.details.errors || []));
        }
      }
    });
  };
  return h('form', { class: 'card', id: 'calendar-import-form', onsubmit },
    h('h2', {}, t('cal.import')),
    field(t('cal.file'), file),
    h('small', { class: 'hint', id: 'calendar-file-hint' }, t('cal.file_hint')),
    submit, status, report);
}

/** Problems of a file as a table: row, column, code, message (docs/calendar.md). */
function rows(id, caption, problems) {
  const col = (text) => h('th', { scope: 'col' }, text);
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, col(t('import.row')), col(t('import.column')), col(t('import.code')), col(t('import.message')))),
    h('tbody', {}, problems.map((e) => h('tr', {},
      h('td', {}, e.row), h('td', {}, e.column ?? ''), h('td', { class: 'mono' }, e.code), h('td', {}, e.message))))));
}
