// Inspector directory. The server scopes it: a coordinator gets their own department only.

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { showError, statusLine, title } from './common.js';

export default async function inspectors({ root }) {
  const status = statusLine('inspectors-status');
  const list = h('ul', { id: 'inspector-list', class: 'list' });
  fill(root, title(t('dir.inspectors')), status, list);
  try {
    const data = await api('/api/inspectors');
    fill(list, data.inspectors.length ? data.inspectors.map(row) : h('li', { class: 'muted' }, t('dir.none')));
  } catch (err) {
    showError(status, err); // e.g. 403 auth.department_forbidden, with its code
  }
}

function row(i) {
  return h('li', { class: `item${i.active === false ? ' inactive' : ''}`, 'data-code': i.code },
    h('div', { class: 'item-head' },
      h('strong', {}, i.name),
      h('span', { class: 'mono' }, i.code)),
    h('div', { class: 'muted' }, [i.department, i.post].filter(Boolean).join(' · ')),
    h('div', {}, `${t('dir.certificate')}: `, h('span', { class: 'mono' }, i.certificate_no)),
    i.active === false ? h('div', { class: 'badge' }, t('dir.inactive')) : null);
}
