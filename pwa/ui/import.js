// Bulk import of a directory file. The server checks every row first and imports all or
// nothing; the bad rows come back and are shown as a table to fix in the spreadsheet.

import { h, fill } from '../dom.js';
import { api, ApiError } from '../api.js';
import { t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, showError, showInfo, statusLine, title } from './common.js';

const KINDS = ['subjects', 'inspectors', 'matters'];

export default async function importScreen({ root }) {
  const status = statusLine('import-status');
  const errors = h('div', { id: 'import-errors' });
  const kind = h('select', { id: 'import-kind', name: 'kind' },
    KINDS.map((k) => h('option', { value: k }, t(`import.kind_${k}`))));
  const file = h('input', { id: 'import-file', type: 'file', name: 'file', accept: '.xlsx,.csv' });
  const submit = h('button', { id: 'import-submit', type: 'submit' }, t('import.submit'));

  const onsubmit = (ev) => {
    ev.preventDefault();
    fill(errors);
    if (!file.files.length) return showError(status, t('import.no_file'));
    return busy(submit, async () => {
      const form = new FormData();
      form.append('file', file.files[0]);
      try {
        showInfo(status, t('import.working'));
        const r = await api(`/api/imports/${kind.value}`, { method: 'POST', form });
        showInfo(status, t('import.done', r), 'ok');
      } catch (err) {
        showError(status, err);
        if (err instanceof ApiError && err.code === 'import.rows_invalid') {
          fill(errors, badRows(err.details.errors || []));
        }
      }
    });
  };

  fill(root,
    title(t('import.title')),
    h('form', { class: 'card', onsubmit },
      field(t('import.kind'), kind),
      field(t('import.file'), file),
      submit),
    status,
    errors);
}

function badRows(rows) {
  const col = (text) => h('th', { scope: 'col' }, text);
  return h('div', { class: 'table-wrap' },
    h('table', { id: 'import-error-table' },
      h('thead', {}, h('tr', {}, col(t('import.row')), col(t('import.column')),
        col(t('import.code')), col(t('import.message')))),
      h('tbody', {}, rows.map((e) => h('tr', {},
        h('td', {}, e.row), h('td', {}, e.column ?? ''),
        h('td', { class: 'mono' }, e.code), h('td', {}, e.message))))));
}
