// The service worker: keeps the app shell so the PWA opens without network. Nothing else.
// - The shell cache name carries a version: bump it whenever a shell file changes, and the
//   new worker installs a fresh copy while activate deletes every older onevisit cache.
// - /api/ is never answered from here: no caching of server answers, no fake responses —
//   an offline request fails visibly and the page says so.

const VERSION = 'v7';
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
  '/ui/enrol.js',
  '/ui/fieldparts.js',
  '/ui/handover.js',
  '/ui/home.js',
  '/ui/import.js',
  '/ui/inspectors.js',
  '/ui/matter.js',
  '/ui/matters.js',
  '/ui/record.js',
  '/ui/signin.js',
  '/ui/signpad.js',
  '/ui/subjects.js',
  '/ui/syncbar.js',
  '/ui/team.js',
  '/ui/users.js',
  '/ui/visit.js',
  '/ui/visits.js',
  '/visit/projection.js',
  '/visit/record.js',
];

self.addEventListener('install', (event) => {
  // cache: 'reload' bypasses the HTTP cache so a new version never stores stale files.
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
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
  if (!SHELL.includes(url.pathname)) return;
  const key = url.pathname;
  event.respondWith(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.match(key))
      .then((hit) => hit || fetch(event.request)),
  );
});
