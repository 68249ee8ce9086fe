// Enrolment from a one-time link: register a passkey, or — without WebAuthn — a device key
// protected by a PIN. The link's owner is shown first so nobody enrols into someone else.

import { h, fill } from '../dom.js';
import { api, ApiError } from '../api.js';
import { formatTime, t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import * as session from '../session.js';
import { supported as webauthnSupported, createPasskey } from '../webauthn.js';
import { createDeviceKey, deviceLabel, discard, markRegistered, rememberPin, signText } from '../devicekey.js';
import { busy, field, roleName, showError, showInfo, statusLine, title } from './common.js';

const PIN_RE = /^[0-9]{6,12}$/;

export default async function enrol({ root, params: [token], go }) {
  const status = statusLine('enrol-status');
  const base = `/api/auth/enrol/${encodeURIComponent(token)}`;
  let info;
  try {
    info = await api(base);
  } catch (err) {
    // Unknown, expired or used link: say which, offer nothing to press.
    fill(root, title(t('enrol.title')),
      h('p', { id: 'enrol-error', class: 'alert', role: 'alert' }, err instanceof ApiError ? err.text() : String(err)));
    return;
  }

  const methods = h('div', { id: 'enrol-methods' });
  fill(root,
    title(t('enrol.title')),
    h('section', { class: 'card' },
      h('p', {}, t('enrol.intro')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('enrol.name')), h('dd', { id: 'enrol-name' }, info.user.name),
        h('dt', {}, t('home.role')), h('dd', {}, roleName(info.user.role)),
        h('dt', {}, t('home.department')), h('dd', {}, info.user.department_name || '—'),
        h('dt', {}, t('enrol.expires')), h('dd', {}, formatTime(info.expires_at)))),
    methods,
    status);

  const finish = async (answer) => {
    await session.signedIn(answer);
    go('#/');
  };

  const showPinForm = () => fill(methods, pinForm({ token, base, info, status, finish }));

  if (!webauthnSupported()) {
    showPinForm();
    return;
  }
  fill(methods,
    h('p', { class: 'hint' }, t('enrol.passkey_hint')),
    h('button', {
      id: 'enrol-passkey', type: 'button',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        try {
          showInfo(status, t('enrol.working'));
          const { handle, publicKey } = await api(`${base}/passkey/options`, { method: 'POST', json: {} });
          const credential = await createPasskey(publicKey);
          const answer = await api(`${base}/passkey`, { method: 'POST', json: { handle, credential } });
          await session.signedIn(answer);
          try {
            await session.ensureDeviceKey(answer.user);
          } catch (err) {
            // Signed in with the passkey all the same; the device key can be made later.
            console.warn(t('enrol.device_failed'), err);
          }
          go('#/');
        } catch (err) {
          if (err?.name === 'NotSupportedError') showPinForm(); // WebAuthn present but unusable
          else showError(status, err);
        }
      }),
    }, t('enrol.passkey')));
}

function pinForm({ token, base, info, status, finish }) {
  const input = (id, autocomplete) => h('input', {
    id, type: 'password', inputmode: 'numeric', pattern: '[0-9]*', minlength: '6',
    maxlength: '12', autocomplete, required: true,
  });
  const pin = input('pin', 'new-password');
  const pin2 = input('pin2', 'new-password');
  const submit = h('button', { id: 'enrol-device', type: 'submit' }, t('enrol.device'));

  const onsubmit = (ev) => {
    ev.preventDefault();
    if (!PIN_RE.test(pin.value)) return showError(status, t('enrol.pin_rule'));
    if (pin.value !== pin2.value) return showError(status, t('enrol.pin_mismatch'));
    return busy(submit, async () => {
      let key = null;
      try {
        showInfo(status, t('enrol.working'));
        key = await createDeviceKey({ user: { name: info.user.name }, pin: true });
        // Proves to the server that whoever holds this link also holds the private key.
        const signature = await signText(key, `onevisit-enrol:${token}`);
        const answer = await api(`${base}/device`, {
          method: 'POST',
          json: { spki: key.spki, pin: pin.value, label: deviceLabel(), signature },
        });
        await rememberPin(await markRegistered(key, answer.user), pin.value);
        await finish(answer);
      } catch (err) {
        if (key) await discard(key).catch(() => {}); // never offer a key the server refused
        showError(status, err);
      }
    });
  };

  return h('form', { id: 'pin-form', class: 'card', onsubmit },
    h('p', {}, t('enrol.pin_intro')),
    field(t('enrol.pin'), pin, t('enrol.pin_rule')),
    field(t('enrol.pin_repeat'), pin2),
    submit);
}
