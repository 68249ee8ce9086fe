// The shell: header, hash router, service worker. Hash routes keep every screen on "/", so
// the one cached index.html serves them all offline and the server needs no route table.

import { h, fill } from './dom.js';
import { lang, loadLang, setLang, t } from './i18n.js';
import * as session from './session.js';
import { errorText, unreachable } from './api.js';
import home from './ui/home.js';
import visits from './ui/visits.js';
import visit from './ui/visit.js';
import matter from './ui/matter.js';
import record from './ui/record.js';
import credential from './ui/credential.js';
import team from './ui/team.js';
import handover from './ui/handover.js';
import { autoSync, syncBar } from './ui/syncbar.js';

const STAFF = ['admin', 'coordinator'];

// Screens that need the server anyway (sign-in, enrolment, the coordinators' desk) load when
// first opened, so the shell stays small; the service worker
// keeps each one it has served (sw.js ON_DEMAND).
const later = (path, name = 'default') => async (args) => {
  let screen;
  try {
    screen = (await import(path))[name];
  } catch (err) {
    console.warn('screen not loaded', path, err);
    throw unreachable(); // offline, and never opened on this phone before
  }
  return screen(args);
};
const signin = later('./ui/signin.js');
const enrol = later('./ui/enrol.js');
const subjects = later('./ui/subjects.js');
const inspectors = later('./ui/inspectors.js');
const matters = later('./ui/matters.js');
const importScreen = later('./ui/import.js');
const users = later('./ui/users.js');
const tasks = later('./ui/tasks.js');
const task = later('./ui/task.js');
const plans = later('./ui/plans.js');
const plan = later('./ui/plans.js', 'plan');
const dayplan = later('./ui/dayplan.js');
const results = later('./ui/results.js');
const result = later('./ui/results.js', 'result');
const dashboard = later('./ui/dashboard.js');
const calendar = later('./ui/calendar.js');
const followups = later('./ui/followups.js');
const followup = later('./ui/followups.js', 'followup');

// [pattern, screen, who may open it]; null = anyone, [] = any signed-in user.
const ROUTES = [
  [/^#\/?$/, home, []],
  [/^#\/enrol\/([^/]+)$/, enrol, null],
  [/^#\/signin$/, signin, null],
  [/^#\/directory\/subjects$/, subjects, STAFF],
  [/^#\/directory\/inspectors$/, inspectors, STAFF],
  [/^#\/directory\/matters$/, matters, STAFF],
  [/^#\/directory\/import$/, importScreen, STAFF],
  [/^#\/users$/, users, STAFF],
  [/^#\/tasks$/, tasks, STAFF],
  [/^#\/task\/([^/]+)$/, task, STAFF],
  [/^#\/plans$/, plans, STAFF],
  [/^#\/plan\/([^/]+)$/, plan, STAFF],
  [/^#\/visits$/, visits, []],
  [/^#\/dayplan$/, dayplan, []],
  [/^#\/results$/, results, []],
  [/^#\/result\/(\d+)$/, result, []],
  [/^#\/dashboard$/, dashboard, [...STAFF, 'leader']],
  [/^#\/calendar$/, calendar, []],
  [/^#\/followups$/, followups, []],
  [/^#\/followup\/(\d+)$/, followup, []],
  [/^#\/visit\/([^/]+)$/, visit, []],
  [/^#\/visit\/([^/]+)\/matter\/([^/]+)$/, matter, []],
  [/^#\/visit\/([^/]+)\/record$/, record, []],
  [/^#\/visit\/([^/]+)\/credential$/, credential, []],
  [/^#\/visit\/([^/]+)\/team$/, team, []],
  [/^#\/visit\/([^/]+)\/handover$/, handover, []],
];

export const go = (hash) => {
  if (location.hash === hash) route();
  else location.hash = hash;
};

function renderHeader(hash) {
  // Signed out, "home" would only bounce to sign-in: show the name instead of a back link.
  const atHome = hash === '#/' || hash === '#' || hash === '' || !session.current();
  fill(
    document.getElementById('top'),
    h('div', { class: 'bar' },
      atHome ? h('span', { class: 'brand' }, t('app.title'))
        : h('a', { href: '#/', class: 'back' }, t('nav.home')),
      session.current() ? syncBar() : null,
      // The name is the visible word ("English" / "中文"), spoken in its own language
      // (WCAG 3.1.2); what it does is the description.
      h('button', {
        id: 'lang-toggle', type: 'button', class: 'ghost',
        lang: lang() === 'en' ? 'zh-CN' : 'en', title: t('lang.switch_label'),
        onclick: async () => {
          const switched = await setLang(lang() === 'en' ? 'zh' : 'en');
          await route();
          const note = h('p', { class: 'alert', role: 'alert' }, t('lang.unavailable'));
          if (!switched) document.getElementById('view').prepend(note);
        },
      }, t('lang.switch'))),
  );
}

function freshView() {
  // A new <main> per navigation: a slow screen still loading writes into a detached node.
  const main = h('main', { id: 'view', tabindex: '-1' });
  document.getElementById('view').replaceWith(main);
  return main;
}

async function route() {
  const hash = location.hash || '#/';
  renderHeader(hash);
  const view = freshView();
  const found = ROUTES.map(([re, screen, who]) => [hash.match(re), screen, who]).find(([m]) => m);
  if (!found) {
    view.append(h('p', { class: 'alert', role: 'alert' }, t('err.not_found')));
    return;
  }
  const [match, screen, who] = found;
  const me = session.current();
  if (me) autoSync();
  if (who && !me) return go('#/signin');
  if (me && hash === '#/signin') return go('#/');
  if (who?.length && !who.includes(me.role)) {
    view.append(h('p', { class: 'alert', role: 'alert' }, t('err.role')));
    return;
  }
  try {
    await screen({ root: view, params: match.slice(1).map(decodeURIComponent), me, go });
  } catch (err) {
    view.append(h('p', { class: 'alert', role: 'alert' }, errorText(err)));
  }
  announce(view);
}

let navigated = false;

/** A new screen has a title of its own, and after a navigation the focus moves to it, so a
 * screen reader starts reading the new screen instead of staying on a link that is gone. */
function announce(view) {
  if (!view.isConnected) return; // a later navigation replaced it
  const heading = view.querySelector('h1')?.textContent.trim();
  document.title = heading && heading !== t('app.title') ? `${heading} · ${t('app.title')}` : t('app.title');
  if (navigated && !view.contains(document.activeElement)) view.focus({ preventScroll: true });
  navigated = true;
}

async function boot() {
  await loadLang();
  try {
    await session.refresh();
  } catch (err) {
    // Offline at start: say so and let the user retry (nothing is faked).
    renderHeader('#/');
    fill(freshView(),
      h('p', { class: 'alert', role: 'alert' }, `${t('app.offline')} ${errorText(err)}`),
      h('button', { type: 'button', onclick: boot }, t('app.retry')));
    return;
  }
  window.addEventListener('hashchange', route);
  await route();
}

/** Modules this page loaded before the service worker controlled it (the first visit:
 * enrolment, sign-in) are fetched once more through it, so it keeps them for offline use. */
function keepLoadedModules() {
  const paths = new Set(performance.getEntriesByType('resource')
    .map((entry) => new URL(entry.name))
    .filter((url) => url.origin === location.origin && url.pathname.endsWith('.js'))
    .map((url) => url.pathname));
  for (const path of paths) fetch(path).catch(() => {}); // offline: kept when next loaded
}

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => {
    console.warn('service worker not registered', err); // the app still works online
  });
  if (!navigator.serviceWorker.controller) {
    navigator.serviceWorker.addEventListener('controllerchange', keepLoadedModules, { once: true });
  }
}

boot();
