// One exclusive section per name across the tabs of this origin (Web Locks): one chain writer
// per device, one outbox run, one media upload run. Without Web Locks (old browsers) the
// section is exclusive within this tab only.

const queues = new Map();

export function lock(name, fn) {
  if (globalThis.navigator?.locks) return navigator.locks.request(name, fn);
  const run = (queues.get(name) ?? Promise.resolve()).then(() => fn());
  queues.set(name, run.catch(() => {}));
  return run;
}
