// Small pieces the screens share: status lines, busy buttons, labelled fields.

import { h, fill } from '../dom.js';
import { errorText } from '../api.js';
import { t } from '../i18n.js';

export const roleName = (role) => t(`role.${role}`);

/** A live region: screen readers announce it, tests read it. */
export function statusLine(id) {
  return h('p', { id, class: 'status', role: 'status', 'aria-live': 'polite' });
}

export function showError(el, err) {
  el.className = 'status alert';
  el.setAttribute('role', 'alert');
  fill(el, typeof err === 'string' ? err : errorText(err));
}

export function showInfo(el, text, kind = 'info') {
  el.className = `status ${kind}`;
  el.setAttribute('role', 'status');
  fill(el, text);
}

/** Disable the button while `work` runs so a double tap cannot submit twice. */
export async function busy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function field(label, control, hint) {
  return h('label', { class: 'field' },
    h('span', { class: 'label' }, label), control, hint ? h('small', { class: 'hint' }, hint) : null);
}

export const title = (text) => h('h1', {}, text);
