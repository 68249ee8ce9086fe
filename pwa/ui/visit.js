// One visit, from this phone's downloaded package and the events it holds: the subject, the
// notice, 亮证, check-in, the matters with their progress, photos, notes and transcript,
// special outcomes, and the way on to the record. Every action is a signed event (fieldwork.act).

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { act, isLeader, localVisit, myMatters } from '../fieldwork.js';
import { busy, field, showError, showInfo, statusLine, title } from './common.js';
import { codeLabel, codeSelect, eventLog, fmtTime, photoInput, thumb } from './fieldparts.js';

export default async function visitScreen({ root, params: [visitId], me, go }) {
  const local = await localVisit(visitId);
  if (!local) {
    fill(root, title(t('visit.title')),
      h('p', { class: 'alert', role: 'alert' }, t('visit.not_downloaded')),
      h('a', { class: 'tile', href: '#/visits' }, t('visits.title')));
    return;
  }
  const { pkg, state } = local;
  const status = statusLine('visit-status');
  const say = (err) => showError(status, err);
  const redraw = () => visitScreen({ root, params: [visitId], me, go });
  const record = async (type, body, okKey) => {
    await act(me, visitId, type, body);
    showInfo(status, t(okKey ?? 'field.saved'), 'ok');
    await redraw();
  };
  const subject = pkg.info.subject;
  const base = `#/visit/${encodeURIComponent(visitId)}`;

  fill(root,
    title(subject.name),
    h('p', { class: 'muted' }, `${pkg.info.task_name || pkg.info.task} · ${subject.id}`),
    status,
    subjectCard(pkg),
    h('nav', { class: 'tiles', 'aria-label': t('visit.actions') },
      h('a', { class: 'tile', href: `${base}/credential`, id: 'show-credential' }, t('visit.credential')),
      h('a', { class: 'tile', href: `${base}/record`, id: 'open-record' }, t('visit.record')),
      isLeader(pkg, me) ? h('a', { class: 'tile', href: `${base}/team`, id: 'open-team' }, t('visit.team')) : null,
      h('a', { class: 'tile secondary-tile', href: `${base}/handover`, id: 'open-handover' }, t('visit.handover'))),
    noticeCard(pkg),
    checkinCard(pkg, state, me, record, say),
    mattersCard(pkg, state, me, base),
    photosCard(pkg, state, visitId, record, say),
    notesCard(record, say),
    specialCard(pkg, state, visitId, record, say),
    h('section', { class: 'card' }, h('h2', {}, t('visit.events')), eventLog(local.rows, me)),
  );
}

function subjectCard(pkg) {
  const s = pkg.subject ?? {};
  const fact = (key, value) => (value === undefined || value === null || value === ''
    ? null : [h('dt', {}, t(key)), h('dd', {}, String(value))]);
  const flags = [s.abnormal ? t('visit.flag_abnormal') : null,
    s.serious_violation ? t('visit.flag_serious') : null].filter(Boolean).join('，');
  return h('section', { class: 'card', id: 'subject-card' },
    h('h2', {}, t('visit.subject')),
    h('dl', { class: 'facts' },
      fact('visit.address', pkg.info.subject.address),
      fact('visit.credit', s.credit_class),
      fact('visit.flags', flags),
      fact('visit.last_inspected', s.last_inspected),
      fact('visit.members', pkg.info.members.map((m) => `${m.name}${m.is_leader ? `（${t('role.leader')}）` : ''}`).join('、'))));
}

function noticeCard(pkg) {
  const text = pkg.notice?.zh ?? '';
  return h('details', { class: 'card', id: 'notice' },
    h('summary', {}, t('visit.notice')),
    text.split('\n').map((p) => h('p', {}, p)));
}

function checkinCard(pkg, state, me, record, say) {
  const mine = state.checkins.filter((c) => c.actor === me.id);
  const others = new Set(state.checkins.map((c) => c.actor));
  const facts = h('p', { id: 'checkin-state' },
    mine.length ? t('checkin.done', {
      at: fmtTime(mine[0].at),
      distance: mine[0].distance_m ?? '—',
      accuracy: mine[0].accuracy_m ?? '—',
    }) : t('checkin.not_yet'),
    ' · ', t('checkin.present', { n: others.size, total: pkg.info.members.length }),
    ' · ', h('strong', { id: 'two-present' }, state.two_present ? t('checkin.two_yes') : t('checkin.two_no')));
  const reason = h('input', { id: 'checkin-reason', type: 'text', maxlength: 2000 });
  const manual = h('div', { hidden: true, id: 'checkin-manual' },
    field(t('checkin.reason'), reason),
    h('button', {
      type: 'button', class: 'secondary',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        if (!reason.value.trim()) return say(t('checkin.reason_needed'));
        try {
          await record('checkin', { position: null, reason: reason.value.trim(), source: 'manual' }, 'checkin.saved');
        } catch (err) { say(err); }
        return undefined;
      }),
    }, t('checkin.save_without')));
  return h('section', { class: 'card', id: 'checkin' },
    h('h2', {}, t('checkin.title')), facts,
    h('button', {
      type: 'button', id: 'checkin-button',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        try {
          // The wait for the position already counts as saving: the record screen waits for it.
          await record('checkin', position().then((pos) => ({
            lat_e6: Math.round(pos.coords.latitude * 1e6),
            lon_e6: Math.round(pos.coords.longitude * 1e6),
            accuracy_m: Math.max(0, Math.round(pos.coords.accuracy)),
            source: 'gps',
          })), 'checkin.saved');
        } catch (err) {
          manual.hidden = false; // no position: record why, never invent one
          say(err.code === undefined || typeof err.code === 'number'
            ? `${t('checkin.no_position')} (${err.message || err})` : err);
        }
      }),
    }, mine.length ? t('checkin.again') : t('checkin.button')),
    manual);
}

function position() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error('geolocation unavailable')); return; }
    navigator.geolocation.getCurrentPosition(resolve, reject,
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 30_000 });
  });
}

function mattersCard(pkg, state, me, base) {
  const mine = new Set(myMatters(pkg, me).map((m) => m.code));
  return h('section', { class: 'card', id: 'matters' },
    h('h2', {}, t('visit.matters')),
    h('ul', { class: 'list' }, state.matters.map((m) => {
      const conflicts = m.items.filter((i) => i.conflict.length).length;
      return h('li', { 'data-matter': m.code },
        h('a', { href: `${base}/matter/${encodeURIComponent(m.code)}`, class: mine.has(m.code) ? 'mine' : '' },
          `${m.name}（${m.code}）`),
        h('div', { class: 'progress-line' },
          h('progress', { max: m.total || 1, value: m.answered, 'aria-label': t('matter.progress_label', { name: m.name }) }),
          h('span', { class: 'progress-text' }, ` ${m.answered}/${m.total}`),
          m.result_code ? h('span', { class: 'badge verified' }, codeLabel(pkg, 'result_codes', m.result_code)) : null,
          conflicts ? h('span', { class: 'badge rejected' }, t('matter.conflicts', { n: conflicts })) : null,
          mine.has(m.code) ? null : h('span', { class: 'muted' }, ` · ${t('matter.other_department')}`)));
    })));
}

function photosCard(pkg, state, visitId, record, say) {
  const caption = h('input', { id: 'photo-caption', type: 'text', maxlength: 2000 });
  return h('section', { class: 'card', id: 'photos' },
    h('h2', {}, t('visit.photos')),
    h('div', { class: 'thumbs' }, state.photos.map((p) => thumb(p.media.sha256))),
    field(t('photo.caption'), caption),
    photoInput({
      id: 'photo-input', visit: visitId, label: t('photo.take'), status: say,
      onref: (ref) => record('photo', caption.value.trim() ? { media: ref, caption: caption.value.trim() }
        : { media: ref }, 'photo.saved'),
    }));
}

function notesCard(record, say) {
  const kind = h('select', { id: 'note-kind' },
    h('option', { value: 'note' }, t('note.kind_note')),
    h('option', { value: 'transcript' }, t('note.kind_transcript')));
  const text = h('textarea', { id: 'note-text', rows: 4, maxlength: 20000 });
  return h('section', { class: 'card', id: 'notes' },
    h('h2', {}, t('visit.notes')),
    field(t('note.kind'), kind), field(t('note.text'), text),
    h('button', {
      type: 'button', id: 'note-save',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        if (!text.value.trim()) return say(t('note.empty'));
        try { await record(kind.value, { text: text.value.trim() }); } catch (err) { say(err); }
        return undefined;
      }),
    }, t('note.save')));
}

function specialCard(pkg, state, visitId, record, say) {
  const code = codeSelect(pkg, 'special_outcomes', { id: 'special-code' });
  const text = h('textarea', { id: 'special-text', rows: 3, maxlength: 2000 });
  const refs = [];
  const picked = h('div', { class: 'thumbs', id: 'special-photos' });
  const done = state.special_outcomes.map((s) => h('li', { 'data-code': s.code },
    `${codeLabel(pkg, 'special_outcomes', s.code)}：${s.text}`));
  return h('details', { class: 'card', id: 'special', open: state.special_outcomes.length > 0 },
    h('summary', {}, t('visit.special')),
    done.length ? h('ul', { class: 'list' }, done) : null,
    h('p', { class: 'muted' }, t('special.intro')),
    field(t('special.code'), code), field(t('special.text'), text),
    photoInput({
      id: 'special-photo', visit: visitId, label: t('special.photo'), status: say,
      onref: (ref) => { refs.push(ref); picked.append(thumb(ref.sha256)); },
    }),
    picked,
    h('button', {
      type: 'button', id: 'special-save',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        if (!code.value || !text.value.trim()) return say(t('special.incomplete'));
        try {
          await record('special_outcome', { code: code.value, text: text.value.trim(), media: refs },
            'special.saved');
        } catch (err) { say(err); }
        return undefined;
      }),
    }, t('special.save')));
}
