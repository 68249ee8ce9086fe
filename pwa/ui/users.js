// Users and enrolment: create a user and hand over a one-time enrolment link (QR or text).

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { formatTime, t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, roleName, showError, statusLine, title } from './common.js';

const ROLES = ['inspector', 'leader', 'coordinator', 'admin'];

export default async function users({ root, me }) {
  const status = statusLine('users-status');
  const result = h('div', { id: 'enrolment' });
  const list = h('ul', { id: 'user-list', class: 'list' });

  const name = h('input', { id: 'user-name', name: 'name', required: true, maxlength: '64', autocomplete: 'off' });
  const role = h('select', { id: 'user-role', name: 'role' },
    ROLES.map((r) => h('option', { value: r }, roleName(r))));
  const department = h('select', { id: 'user-department', name: 'department' });
  const submit = h('button', { id: 'user-create', type: 'submit' }, t('users.create'));

  const refresh = async () => {
    const data = await api('/api/auth/users');
    fill(list, data.users.length ? data.users.map(userRow) : h('li', { class: 'muted' }, t('dir.none')));
  };

  const onsubmit = (ev) => {
    ev.preventDefault();
    fill(result);
    return busy(submit, async () => {
      try {
        const answer = await api('/api/auth/users', {
          method: 'POST',
          json: { name: name.value.trim(), role: role.value, department: department.value || null },
        });
        fill(result, enrolmentCard(answer));
        name.value = '';
        await refresh();
      } catch (err) {
        showError(status, err);
      }
    });
  };

  fill(root,
    title(t('users.title')),
    h('form', { class: 'card', onsubmit },
      h('h2', {}, t('users.new')),
      field(t('users.name'), name),
      field(t('users.role'), role),
      field(t('users.department'), department),
      submit),
    status,
    result,
    h('h2', {}, t('users.list')),
    list);

  try {
    const { departments } = await api('/api/departments');
    fill(department,
      me.role === 'admin' ? h('option', { value: '' }, t('users.no_department')) : null,
      departments.map((d) => h('option', { value: d.code, selected: d.code === me.department }, d.name)));
    await refresh();
  } catch (err) {
    showError(status, err);
  }
}

function userRow(u) {
  return h('li', { class: `item${u.active === false ? ' inactive' : ''}` },
    h('div', { class: 'item-head' }, h('strong', {}, u.name), h('span', {}, roleName(u.role))),
    h('div', { class: 'muted' }, [u.department_name, u.inspector_code,
      u.active === false ? t('users.inactive') : null].filter(Boolean).join(' · ')));
}

function enrolmentCard({ user, enrolment }) {
  const link = h('input', { id: 'enrol-link', type: 'text', readonly: true, value: enrolment.url });
  const copied = statusLine('copy-status');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(enrolment.url);
    } catch {
      link.select(); // no clipboard permission (or not a secure context): select for manual copy
      document.execCommand?.('copy');
    }
    fill(copied, t('users.copied'));
  };
  return h('section', { class: 'card enrolment' },
    h('p', {}, t('users.created', { name: user.name, expires: formatTime(enrolment.expires_at) })),
    // qr_png is a data: URL made by the server (CSP img-src allows data:).
    h('img', { id: 'enrol-qr', src: enrolment.qr_png, alt: enrolment.url, width: '240', height: '240' }),
    field(t('users.link'), link),
    h('button', { id: 'enrol-copy', type: 'button', class: 'secondary', onclick: copy }, t('users.copy')),
    copied);
}
