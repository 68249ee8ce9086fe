// Subject directory: search by name, USCC or address (the server does the matching).

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { showError, statusLine, title } from './common.js';

const kindName = (kind) => {
  const key = `kind.${kind}`;
  const text = t(key);
  return text === key ? kind : text;
};

export default async function subjects({ root }) {
  const status = statusLine('subjects-status');
  const list = h('ul', { id: 'subject-list', class: 'list' });
  const q = h('input', { id: 'q', type: 'search', name: 'q', placeholder: t('dir.search'),
    'aria-label': t('dir.search'), autocomplete: 'off', enterkeyhint: 'search' });
  const button = h('button', { type: 'submit' }, t('dir.search_button'));

  // Every search runs, and only the latest one's answer is shown: a search typed while the
  // first list is still loading must not be dropped, nor overwritten by that older answer.
  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    try {
      const params = new URLSearchParams({ q: q.value.trim(), limit: '50' });
      const data = await api(`/api/subjects?${params}`);
      if (mine !== latest) return;
      fill(status, t('dir.total', { total: data.total, shown: data.subjects.length }));
      fill(list, data.subjects.length ? data.subjects.map(row) : h('li', { class: 'muted' }, t('dir.none')));
    } catch (err) {
      if (mine === latest) showError(status, err);
    }
  };

  fill(root,
    title(t('dir.subjects')),
    h('form', { class: 'search', role: 'search', onsubmit: (ev) => { ev.preventDefault(); load(); } },
      q, button),
    status,
    list);
  await load();
}

function row(s) {
  return h('li', { class: 'item' },
    h('div', { class: 'item-head' },
      h('strong', {}, s.name),
      h('span', { class: `badge credit-${s.credit_class}`, title: t('dir.credit') }, s.credit_class)),
    h('div', { class: 'mono' }, s.subject_id),
    h('div', { class: 'muted' }, [kindName(s.kind), s.region_code].filter(Boolean).join(' · ')),
    s.address ? h('div', {}, s.address) : null);
}
