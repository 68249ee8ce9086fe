// The sync state in the header, on every screen: how many events wait on this phone, and a
// button to send now. It re-reads the outbox whenever the outbox says something changed.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import * as outbox from '../outbox.js';
import { meta } from '../db.js';
import * as session from '../session.js';

let bar = null;

async function show() {
  // Read first, then check: the bar is created before the header puts it in the page.
  const st = await outbox.status().catch(() => null);
  if (!st || !bar?.isConnected) return;
  const waiting = st.queued + st.uploading + (outbox.writes > 0);
  bar.dataset.waiting = String(waiting);
  bar.dataset.rejected = String(st.rejected);
  bar.title = st.last_ok_ms ? t('sync.last_ok', { at: new Date(st.last_ok_ms).toLocaleString() }) : t('sync.never');
  // A failure other than no network needs the user: an expired session most of all.
  const problem = waiting && st.last_error && st.last_error !== 'network.unreachable' ? st.last_error : '';
  bar.dataset.error = problem;
  fill(bar, waiting ? t('sync.waiting', { n: waiting }) : t('sync.all_verified'),
    st.rejected ? ` · ${t('sync.rejected_n', { n: st.rejected })}` : '',
    problem ? ` · ⚠ ${t(problem === 'auth.required' ? 'sync.signin_needed' : 'sync.failed')}` : '');
  // The name starts with what the button shows (WCAG 2.5.3) and says what pressing it does.
  bar.setAttribute('aria-label', `${bar.textContent} · ${t('sync.now')}`);
}

// Taps come in bursts: redraw once after them, not after every one (each read competes with
// the next tap's write).
let pending = null;
outbox.changes.addEventListener('change', () => {
  // A write began: "all sent" must not stay shown until the re-read.
  if (outbox.writes && bar?.dataset.waiting === '0') { bar.dataset.waiting = ''; fill(bar, '…'); }
  pending ??= setTimeout(() => { pending = null; show(); }, 300);
});

export function syncBar() {
  bar = h('button', {
    id: 'sync-button', type: 'button', class: 'ghost sync', 'aria-label': t('sync.now'),
    onclick: async () => {
      if (bar.dataset.error === 'auth.required') {
        // The session expired while the phone was away: nothing is lost, sign in again to send.
        await session.refresh().catch(() => null);
        if (!session.current()) { location.hash = '#/signin'; return; }
      }
      bar.setAttribute('aria-busy', 'true');
      try { await outbox.sync(); } finally { bar.removeAttribute('aria-busy'); await show(); }
    },
  }, '…');
  show();
  return bar;
}

/** Signed in (or remembered offline): the outbox sends now, on `online`, and with backoff —
 * unless the user turned automatic sync off on this phone (then only the sync button sends). */
export async function autoSync() {
  const on = (await meta.get('autosync').catch(() => true)) !== false;
  if (on) outbox.start();
  else outbox.stop();
}
