// The service worker: keeps the app shell so the PWA opens without network. Nothing else.
// - SHELL is fetched at install; ON_DEMAND files (English strings, sign-in, enrolment, the
//   coordinators' desk) are kept from the first time the app loads them, and carried into
//   each new version's cache, so what a phone has used still opens offline after an update.
// - The shell cache name carries a version: bump it whenever a shell file changes, and the
//   new worker installs a fresh copy while activate deletes every older onevisit cache.
// - /api/ is never answered from here: no caching of server answers, no fake responses —
//   an offline request fails visibly and the page says so.

const VERSION = 'v18';
const SHELL_CACHE = `onevisit-shell-${VERSION}`;
const SHELL = [
  '/',
  '/index.html',
  '/style.css',
  '/manifest.webmanifest',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/api.js',
  '/app.js',
  '/b64url.js',
  '/bundle.js',
  '/chain.js',
  '/db.js',
  '/devicekey.js',
  '/dom.js',
  '/fieldwork.js',
  '/i18n.js',
  '/locks.js',
  '/logproof.js',
  '/media.js',
  '/outbox.js',
  '/session.js',
  '/webauthn.js',
  '/ui/common.js',
  '/ui/credential.js',
  '/ui/fieldparts.js',
  '/ui/handover.js',
  '/ui/home.js',
  '/ui/matter.js',
  '/ui/record.js',
  '/ui/signpad.js',
  '/ui/syncbar.js',
  '/ui/team.js',
  '/ui/visit.js',
  '/ui/visits.js',
  '/visit/projection.js',
  '/visit/record.js',
];
const ON_DEMAND = [
  '/drawcheck.js',
  '/i18n-desk.js',
  '/i18n-en.js',
  '/publicdraw.js',
  '/ui/calendar.js',
  '/ui/dashboard.js',
  '/ui/dayplan.js',
  '/ui/enrol.js',
  '/ui/followups.js',
  '/ui/import.js',
  '/ui/inspectors.js',
  '/ui/matters.js',
  '/ui/plans.js',
  '/ui/results.js',
  '/ui/signin.js',
  '/ui/subjects.js',
  '/ui/task.js',
  '/ui/tasks.js',
  '/ui/users.js',
];

async function install() {
  const cache = await caches.open(SHELL_CACHE);
  await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
  // Older caches still exist here (activate deletes them): what they kept comes along, fresh.
  await Promise.all(ON_DEMAND.map(async (url) => {
    if (!(await caches.match(url))) return;
    try {
      await cache.add(new Request(url, { cache: 'reload' }));
    } catch (err) {
      console.warn('not carried over', url, err); // fetched again when next opened online
    }
  }));
}

async function fromCache(request, path, keep) {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match(path);
  if (hit) return hit;
  const response = await fetch(request);
  if (keep && response.ok) await cache.put(path, response.clone());
  return response;
}

self.addEventListener('install', (event) => {
  // cache: 'reload' bypasses the HTTP cache so a new version never stores stale files.
  event.waitUntil(install().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith('onevisit-') && name !== SHELL_CACHE)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // straight to the network, never cached

  // Only shell files are served from the cache; anything else (e.g. /schema) goes to the
  // network untouched. Screens are hash routes under "/", so the shell page covers them all.
  const onDemand = ON_DEMAND.includes(url.pathname);
  if (!onDemand && !SHELL.includes(url.pathname)) return;
  event.respondWith(fromCache(event.request, url.pathname, onDemand));
});
