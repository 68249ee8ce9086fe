// 亮证: the inspector's credential as a QR code the subject scans with any phone. The code opens
// the public page that confirms name, department, certificate number and that this visit is a
// real task (a short-lived token signed by the server). It comes with the downloaded package,
// so it shows without signal; after it expires the package must be downloaded again.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { myMembership, packageOf } from '../fieldwork.js';
import { title } from './common.js';
import { fmtTime } from './fieldparts.js';

export default async function credentialScreen({ root, params: [visitId], me }) {
  const pkg = await packageOf(visitId);
  const cred = pkg?.credential;
  const back = h('a', { class: 'tile', href: `#/visit/${encodeURIComponent(visitId)}` }, t('matter.back'));
  if (!cred) {
    fill(root, title(t('credential.title')), h('p', { class: 'alert', role: 'alert' }, t('credential.none')), back);
    return;
  }
  const member = myMembership(pkg, me)[0];
  const expired = cred.expires_ms <= Date.now();
  fill(root,
    title(t('credential.title')),
    h('section', { class: 'card credential', id: 'credential' },
      h('p', { class: 'cred-name' }, h('strong', {}, me.name)),
      h('p', {}, `${member?.department ?? ''} · ${t('credential.certificate')} ${member?.certificate ?? '—'}`),
      h('img', {
        id: 'credential-qr', class: 'qr', alt: t('credential.qr_alt'),
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(cred.qr_svg)}`,
      }),
      h('p', { class: expired ? 'status alert' : 'muted', id: 'credential-expiry' },
        expired ? t('credential.expired') : t('credential.valid_until', { at: fmtTime(cred.expires_ms) })),
      h('p', { class: 'muted mono' }, cred.url)),
    h('p', { class: 'muted' }, t('credential.help')),
    back);
}
