// Sign-in: a passkey where WebAuthn exists; a device key + PIN on phones enrolled without one.

import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import * as session from '../session.js';
import { supported as webauthnSupported, getPasskey } from '../webauthn.js';
import { pinKeys, rememberPin, signB64 } from '../devicekey.js';
import { busy, field, showError, showInfo, statusLine, title } from './common.js';

export default async function signin({ root, go }) {
  const status = statusLine('signin-status');
  const keys = await pinKeys().catch(() => []);
  const passkey = webauthnSupported();

  const done = async (answer, viaPasskey) => {
    await session.signedIn(answer);
    if (viaPasskey) {
      // A missing device key must not block sign-in; the home screen shows it is absent.
      await session.ensureDeviceKey(answer.user).catch((err) => console.warn('device key', err));
    }
    go('#/');
  };

  const passkeyButton = passkey && h('button', {
    id: 'signin-passkey', type: 'button',
    onclick: (ev) => busy(ev.currentTarget, async () => {
      try {
        showInfo(status, t('signin.working'));
        const { handle, publicKey } = await api('/api/auth/login/options', { method: 'POST', json: {} });
        const credential = await getPasskey(publicKey);
        await done(await api('/api/auth/login', { method: 'POST', json: { handle, credential } }), true);
      } catch (err) {
        showError(status, err);
      }
    }),
  }, t('signin.passkey'));

  fill(root,
    title(t('signin.title')),
    passkey ? h('p', { class: 'hint' }, t('signin.intro')) : null,
    passkeyButton,
    keys.length ? deviceForm(keys, status, done) : null,
    !passkey && !keys.length ? h('p', { class: 'alert', role: 'alert' }, t('signin.nothing')) : null,
    status);
}

function deviceForm(keys, status, done) {
  const pin = h('input', {
    id: 'pin', type: 'password', inputmode: 'numeric', pattern: '[0-9]*',
    autocomplete: 'off', maxlength: '12', required: true,
  });
  // Several people may share a phone (one key each); one key needs no choice.
  const who = keys.length > 1
    ? h('select', { id: 'device-user' },
      keys.map((k) => h('option', { value: k.device_id }, k.user_name || k.device_id.slice(0, 12))))
    : null;
  const submit = h('button', { id: 'signin-device', type: 'submit' }, t('signin.device'));

  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(submit, async () => {
      const key = who ? keys.find((k) => k.device_id === who.value) : keys[0];
      try {
        showInfo(status, t('signin.working'));
        const { handle, challenge } = await api('/api/auth/device/challenge', {
          method: 'POST', json: { device_id: key.device_id },
        });
        const signature = await signB64(key, challenge);
        const answer = await api('/api/auth/device/login', {
          method: 'POST', json: { handle, device_id: key.device_id, pin: pin.value, signature },
        });
        await rememberPin(key, pin.value); // the server accepted it: offline confirmations check it
        await done(answer, false);
      } catch (err) {
        pin.value = '';
        showError(status, err);
      }
    });
  };

  return h('form', { id: 'device-form', class: 'card', onsubmit },
    h('p', {}, t('signin.device_intro')),
    who ? field(t('signin.user'), who)
      : h('p', { class: 'who' }, keys[0].user_name),
    field(t('signin.pin'), pin),
    submit);
}
