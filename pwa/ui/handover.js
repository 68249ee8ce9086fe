// Handing events between the phones of one joint visit with no network: each member saves
// their events of the visit as one file and shares it (Bluetooth, nearby share, a cable); the
// others open it here. Every event is checked against the member's registered device key from
// the package before it counts (bundle.js), so a record everyone confirms is the same record.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { packageOf } from '../fieldwork.js';
import { exportVisit, importToPeer, readBundle } from '../bundle.js';
import { busy, field, showError, showInfo, statusLine, title } from './common.js';

export default async function handoverScreen({ root, params: [visitId] }) {
  const pkg = await packageOf(visitId);
  const status = statusLine('handover-status');
  const file = h('input', { id: 'handover-file', type: 'file', accept: '.json,application/json' });
  fill(root,
    title(t('handover.title')),
    h('p', {}, t('handover.intro')),
    status,
    h('button', {
      type: 'button', id: 'handover-export',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        try {
          const blob = await exportVisit(visitId);
          const a = h('a', { href: URL.createObjectURL(blob), download: `onevisit-${visitId.slice(0, 8)}-${Date.now()}.json` });
          document.body.append(a);
          a.click();
          a.remove();
          showInfo(status, t('handover.exported'), 'ok');
        } catch (err) { showError(status, err); }
      }),
    }, t('handover.export')),
    field(t('handover.import'), file),
    h('button', {
      type: 'button', id: 'handover-import',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        if (!file.files.length) return showError(status, t('handover.choose'));
        showInfo(status, t('handover.working'));
        try {
          // The stored row keeps the package's VisitInfo under `info` (`visit` is the store's key).
          const result = await readBundle(file.files[0], { visitPackage: { ...pkg, visit: pkg.info } });
          const stored = await importToPeer(result);
          const problems = result.problems ?? [];
          showInfo(status, t('handover.imported', { n: stored?.events ?? result.events.length, bad: problems.length }),
            problems.length ? 'warn' : 'ok');
        } catch (err) { showError(status, err); }
        return undefined;
      }),
    }, t('handover.import_button')),
    h('a', { class: 'tile', href: `#/visit/${encodeURIComponent(visitId)}` }, t('matter.back')));
}
