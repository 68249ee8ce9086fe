// The inspection record (检查记录) as this phone knows it, with its short code; then the
// subject's signature on the pad — or the refusal with reason and witness — and each
// inspector's confirmation: a WebAuthn assertion over the record hash (works offline), or the
// device key after the PIN where WebAuthn is missing. Confirmation waits for a signature or a
// refusal of the current record (EVIDENCE.md §5).

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { act, deviceKey, localVisit } from '../fieldwork.js';
import * as media from '../media.js';
import * as outbox from '../outbox.js';
import { assertOver, supported as webauthnSupported } from '../webauthn.js';
import { checkPin, hasPin } from '../devicekey.js';
import { busy, field, showError, showInfo, statusLine, title } from './common.js';
import { codeLabel, codeSelect, fmtTime, photoInput, thumb } from './fieldparts.js';
import { signPad } from './signpad.js';

// `shown`: the hash this screen showed before (a changed one is pointed out).
export default async function recordScreen(args, shown) {
  const { root, params: [visitId], me, go } = args;
  // Never a record without an event this page is still saving (a check-in waits for its
  // position): wait until none runs, and read again if one began while reading.
  let seen = outbox.begun;
  const local = !outbox.writes && await localVisit(visitId);
  if (outbox.writes || outbox.begun !== seen) {
    fill(root, title(t('record.title')), t('record.saving'));
    await new Promise((r) => setTimeout(r, 200));
    return recordScreen(args, shown);
  }
  if (!local) return go(`#/visit/${encodeURIComponent(visitId)}`);
  const { pkg, state, record, hash } = local;
  const status = statusLine('record-status');
  const say = (err) => showError(status, err);
  const redraw = () => recordScreen(args, hash);
  const save = async (type, body, okKey) => {
    seen = outbox.begun + 1; // this write (act counts it at once) is no reason to draw again
    await act(me, visitId, type, body);
    showInfo(status, t(okKey), 'ok');
    await redraw();
  };
  // Another write began after this was drawn: draw again (nothing to sign meanwhile).
  const watch = () => {
    if (status.isConnected && outbox.begun === seen) return;
    outbox.changes.removeEventListener('change', watch);
    if (status.isConnected) redraw();
  };
  outbox.changes.addEventListener('change', watch);
  const signedOff = (state.signature && !state.signature.stale) || (state.refusal && !state.refusal.stale);
  // 002:21: when the inspection could not proceed (unreachable, deregistered…) the evidence forms
  // the result and there may be nobody to sign: the inspectors confirm the record as it is.
  const confirmable = signedOff || state.special_outcomes.length > 0;

  fill(root,
    title(t('record.title')),
    h('p', { class: 'shortcode-line' }, t('record.short_code'), ' ',
      h('strong', { id: 'short-code', class: 'shortcode mono' }, local.short)),
    h('p', { class: 'muted mono', id: 'record-hash' }, hash),
    status,
    problems(state),
    recordView(pkg, record),
    signedOff ? actsDone(pkg, state) : [signatureCard(visitId, hash, save, say), refusalCard(pkg, visitId, hash, save, say)],
    confirmCard({ state, me, hash, signedOff: confirmable, save, say, visitId }),
    // The printable form (检查记录表) exists once an inspector confirmed the current record;
    // the server rebuilds it from what has synced, so it answers 409 until that has.
    state.confirmations.some((c) => !c.stale) ? h('a', { class: 'tile', id: 'record-pdf', target: '_blank', rel: 'noopener',
      href: `/api/visits/${encodeURIComponent(visitId)}/record.pdf` }, t('record.pdf')) : null,
    h('a', { class: 'tile', href: `#/visit/${encodeURIComponent(visitId)}` }, t('matter.back')));
  if (shown && shown !== hash) showError(status, t('record.changed'));
  return undefined;
}

function problems(state) {
  const shown = state.problems.filter((p) => !p.code.startsWith('checkin.clock'));
  if (!shown.length) return null;
  return h('ul', { class: 'card warn', id: 'record-problems' },
    shown.map((p) => h('li', { 'data-code': p.code }, `${t('problem.' + p.code) !== 'problem.' + p.code ? t('problem.' + p.code) : p.message} [${p.code}]`)));
}

function recordView(pkg, record) {
  const who = (code) => record.members.find((m) => m.inspector === code)?.name ?? code;
  return h('article', { class: 'card record', id: 'record-view' },
    h('h2', {}, record.subject.name),
    h('p', {}, `${record.subject.id}${record.subject.address ? ' · ' + record.subject.address : ''}`),
    h('p', {}, `${t('record.task')}：${record.task.name ?? ''}（${record.task.code}）`),
    h('p', {}, `${t('record.members')}：${record.members.map((m) => m.name + (m.certificate ? '（' + m.certificate + '）' : '')).join('、')}`),
    h('p', { id: 'record-checkins' }, `${t('record.checkins')}：`, record.checkins.length
      ? record.checkins.map((c) => `${who(c.inspector)} ${fmtTime(c.at)}${c.distance_m !== undefined ? ' ' + c.distance_m + ' m' : ''}`).join('；')
      : t('record.none')),
    record.matters.map((m) => h('section', { class: 'record-matter', 'data-matter': m.code },
      h('h3', {}, `${m.name}（${m.code}）`),
      h('ol', {}, m.items.map((i) => h('li', { 'data-item': i.position },
        `${i.text} — `,
        h('strong', {}, i.result ? t(`item.${i.result}`) : i.conflict ? t('item.in_conflict') : t('item.unanswered')),
        i.note ? `（${i.note}）` : ''))),
      h('p', {}, `${t('matter.result')}：`, m.result_code ? codeLabel(pkg, 'result_codes', m.result_code)
        : m.result_conflict ? t('matter.result_conflict') : t('matter.no_result')))),
    record.notes.length ? h('p', {}, `${t('visit.notes')}：${record.notes.map((n) => n.text).join('；')}`) : null,
    record.transcripts.length ? h('p', {}, `${t('note.kind_transcript')}：${record.transcripts.map((n) => n.text).join('；')}`) : null,
    record.special_outcomes.length ? h('p', {}, `${t('visit.special')}：${record.special_outcomes.map((s) => codeLabel(pkg, 'special_outcomes', s.code) + ' ' + s.text).join('；')}`) : null,
    record.photos.length ? h('div', { class: 'thumbs' }, record.photos.map((p) => thumb(p.sha256))) : null);
}

function actsDone(pkg, state) {
  if (state.signature && !state.signature.stale) {
    return h('section', { class: 'card ok', id: 'signed' },
      h('h2', {}, t('sign.done')),
      h('p', {}, `${state.signature.signer_name}（${state.signature.signer_role}） ${fmtTime(state.signature.at)}`),
      thumb(state.signature.image.sha256));
  }
  const r = state.refusal;
  return h('section', { class: 'card warn', id: 'refused' },
    h('h2', {}, t('refuse.done')),
    h('p', {}, `${codeLabel(pkg, 'refusal_reasons', r.reason_code)}：${r.reason}`),
    h('p', {}, `${t('refuse.witness')}：${r.witness.name}`));
}

function signatureCard(visitId, hash, save, say) {
  const name = h('input', { id: 'signer-name', type: 'text', maxlength: 128, autocomplete: 'off' });
  const role = h('input', { id: 'signer-role', type: 'text', maxlength: 128, value: '法定代表人' });
  const pad = signPad({ id: 'signature-pad', label: t('sign.pad') });
  return h('section', { class: 'card', id: 'signature' },
    h('h2', {}, t('sign.title')),
    h('p', {}, t('sign.compare', { code: hash.slice(0, 8) })),
    field(t('sign.name'), name), field(t('sign.role'), role), pad.node,
    h('button', {
      type: 'button', id: 'signature-save',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        if (!name.value.trim() || !role.value.trim()) return say(t('sign.incomplete'));
        if (pad.isEmpty()) return say(t('sign.empty'));
        try {
          const blobs = await pad.blobs();
          const image = await media.capture(blobs.png, { purpose: 'signature', visit: visitId, mime: 'image/png' });
          const strokes = await media.capture(blobs.strokes, { purpose: 'signature', visit: visitId, mime: 'application/json' });
          await save('signature', {
            record_hash: hash, signer_name: name.value.trim(), signer_role: role.value.trim(), image, strokes,
          }, 'sign.saved');
        } catch (err) { say(err); }
        return undefined;
      }),
    }, t('sign.save')));
}

function refusalCard(pkg, visitId, hash, save, say) {
  const code = codeSelect(pkg, 'refusal_reasons', { id: 'refusal-code' });
  const reason = h('textarea', { id: 'refusal-reason', rows: 2, maxlength: 2000 });
  const wName = h('input', { id: 'witness-name', type: 'text', maxlength: 128, autocomplete: 'off' });
  const wId = h('input', { id: 'witness-id', type: 'text', maxlength: 128, autocomplete: 'off' });
  const wPhone = h('input', { id: 'witness-phone', type: 'tel', maxlength: 128, autocomplete: 'off' });
  const wRole = h('input', { id: 'witness-role', type: 'text', maxlength: 128 });
  const pad = signPad({ id: 'witness-pad', label: t('refuse.witness_signature') });
  let photo = null;
  const pic = h('div', { class: 'thumbs' });
  return h('details', { class: 'card', id: 'refusal' },
    h('summary', {}, t('refuse.title')),
    h('p', { class: 'muted' }, t('refuse.intro')),
    field(t('refuse.code'), code), field(t('refuse.reason'), reason),
    field(t('refuse.witness_name'), wName), field(t('refuse.witness_id'), wId),
    field(t('refuse.witness_phone'), wPhone), field(t('refuse.witness_role'), wRole),
    pad.node,
    photoInput({
      id: 'refusal-photo', visit: visitId, label: t('refuse.photo'), status: say,
      onref: (ref) => { photo = ref; fill(pic, thumb(ref.sha256)); },
    }), pic,
    h('button', {
      type: 'button', id: 'refusal-save',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        // 002:20(三): no refusal without its reason and a witness.
        if (!code.value || !reason.value.trim() || !wName.value.trim()) return say(t('refuse.incomplete'));
        try {
          const witness = { name: wName.value.trim() };
          if (wId.value.trim()) witness.id_number = wId.value.trim();
          if (wPhone.value.trim()) witness.phone = wPhone.value.trim();
          if (wRole.value.trim()) witness.role = wRole.value.trim();
          const body = { record_hash: hash, reason_code: code.value, reason: reason.value.trim(), witness };
          if (!pad.isEmpty()) {
            const { png } = await pad.blobs();
            body.witness_signature = await media.capture(png, { purpose: 'signature', visit: visitId, mime: 'image/png' });
          }
          if (photo) body.photo = photo;
          await save('signature_refused', body, 'refuse.saved');
        } catch (err) { say(err); }
        return undefined;
      }),
    }, t('refuse.save')));
}

function confirmCard({ state, me, hash, signedOff, save, say, visitId }) {
  const mine = state.confirmations.find((c) => c.actor === me.id && !c.stale);
  const list = h('ul', { id: 'confirmations' }, state.confirmations.map((c) => h('li', { 'data-stale': c.stale ? 'yes' : 'no' },
    `${c.actor === me.id ? t('confirm.me') : c.actor.slice(0, 8)} · ${t('confirm.' + c.method)} · ${fmtTime(c.at)}${c.stale ? ' · ' + t('confirm.stale') : ''}`)));
  const pin = h('input', { id: 'confirm-pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: 12 });
  const pinBox = h('div', { id: 'confirm-pin-box', hidden: true },
    field(t('confirm.pin'), pin),
    h('button', {
      type: 'button', id: 'confirm-pin-button',
      onclick: (ev) => busy(ev.currentTarget, async () => {
        try {
          const key = await deviceKey(me);
          if (!key || !hasPin(key)) return say(t('confirm.no_pin'));
          if (!(await checkPin(key, pin.value))) return say(t('confirm.pin_wrong'));
          await save('record_confirmed', { record_hash: hash, method: 'device_pin' }, 'confirm.saved');
        } catch (err) { say(err); }
        return undefined;
      }),
    }, t('confirm.with_pin')));
  return h('section', { class: 'card', id: 'confirm' },
    h('h2', {}, t('confirm.title')), list,
    !signedOff ? h('p', { class: 'muted', id: 'confirm-wait' }, t('confirm.wait')) : null,
    mine ? h('p', { class: 'status ok', id: 'confirmed' }, t('confirm.done')) : null,
    signedOff && !mine ? [
      h('button', {
        type: 'button', id: 'confirm-passkey',
        onclick: (ev) => busy(ev.currentTarget, async () => {
          if (!webauthnSupported()) { pinBox.hidden = false; return say(t('confirm.no_webauthn')); }
          try {
            const assertion = await assertOver(fromHex(hash));
            await save('record_confirmed', { record_hash: hash, method: 'webauthn', assertion }, 'confirm.saved');
          } catch (err) {
            if (err?.name === 'NotSupportedError') pinBox.hidden = false; // never block on WebAuthn
            say(err);
          }
          return undefined;
        }),
      }, t('confirm.with_passkey')),
      h('button', { type: 'button', class: 'secondary', onclick: () => { pinBox.hidden = false; } }, t('confirm.use_pin')),
      pinBox] : null,
    h('p', { class: 'muted' }, t('confirm.visit', { id: visitId.slice(0, 8) })));
}

const fromHex = (hex) => new Uint8Array(hex.match(/../g).map((b) => parseInt(b, 16)));
