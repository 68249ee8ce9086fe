// The list of inspectable matters; each opens to its check items (<details>: no script needed).

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { showError, statusLine, title } from './common.js';

export default async function matters({ root }) {
  const status = statusLine('matters-status');
  const list = h('div', { id: 'matter-list' });
  fill(root, title(t('dir.matters')), status, list);
  try {
    const data = await api('/api/matters');
    fill(list, data.matters.length ? data.matters.map(matter) : h('p', { class: 'muted' }, t('dir.none')));
  } catch (err) {
    showError(status, err);
  }
}

function matter(m) {
  const key = m.category === 'key';
  return h('details', { class: 'item matter', 'data-code': m.code },
    h('summary', {},
      h('strong', {}, m.name),
      h('div', { class: 'muted' },
        [m.code, m.department, key ? t('dir.category_key') : t('dir.category_general'),
          !key && m.ratio_cap ? `${t('dir.ratio_cap')} ${m.ratio_cap}` : null,
          t('dir.items', { count: m.items.length })].filter(Boolean).join(' · '))),
    h('ol', { class: 'items' },
      [...m.items].sort((a, b) => a.position - b.position).map((it) => h('li', {},
        it.text,
        it.basis ? h('div', { class: 'muted' }, `${t('dir.basis')}: ${it.basis}`) : null))));
}
