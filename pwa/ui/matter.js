// One matter's check items. A member answers the items of the matters their department owns
// (compliant / non-compliant / not applicable; a note is required for non-compliant), with
// photos per item, and the matter's national result code. Other departments' matters are shown
// read-only. Disagreeing answers of two inspectors are shown as a conflict, never as one side.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { act, localVisit, myMatters } from '../fieldwork.js';
import { busy, field, showError, showInfo, statusLine, title } from './common.js';
import { codeLabel, codeSelect, photoInput, thumb } from './fieldparts.js';

const RESULTS = ['compliant', 'non_compliant', 'not_applicable'];

export default async function matterScreen({ root, params: [visitId, code], me, go }) {
  const local = await localVisit(visitId);
  if (!local) return go(`#/visit/${encodeURIComponent(visitId)}`);
  const { pkg, state } = local;
  const matter = state.matters.find((m) => m.code === code);
  if (!matter) {
    fill(root, h('p', { class: 'alert', role: 'alert' }, t('err.not_found')));
    return undefined;
  }
  const mine = myMatters(pkg, me).some((m) => m.code === code);
  const status = statusLine('matter-status');
  const say = (err) => showError(status, err);
  const redraw = () => matterScreen({ root, params: [visitId, code], me, go });
  const info = (pkg.matters ?? []).find((m) => m.code === code) ?? {};
  const progress = h('p', { id: 'matter-progress' }, t('matter.progress', { n: matter.answered, total: matter.total }));

  fill(root,
    title(matter.name),
    h('p', { class: 'muted' }, `${code} · ${info.department_name ?? matter.department}`
      + (info.legal_basis ? ` · ${info.legal_basis}` : '')),
    progress,
    mine ? null : h('p', { class: 'status info' }, t('matter.read_only')),
    status,
    h('ol', { class: 'items', id: 'items' }, matter.items.map((item) => itemRow({
      root, pkg, visitId, me, code, item, mine, say, status, progress, redraw, guide: (info.items ?? [])[item.position],
    }))),
    resultCard({ pkg, matter, mine, say, outcome: latestOutcome(state), record: async (body) => {
      await act(me, visitId, 'matter_result', body);
      showInfo(status, t('field.saved'), 'ok');
      await redraw();
    } }),
    h('a', { class: 'tile', href: `#/visit/${encodeURIComponent(visitId)}` }, t('matter.back')));
  return undefined;
}

function itemRow({ root, pkg, visitId, me, code, item, mine, say, status, progress, guide, redraw }) {
  const myAnswer = item.answers.find((a) => a.actor === me.id);
  const name = `item-${item.position}`;
  const note = h('textarea', { rows: 2, maxlength: 20000, id: `${name}-note`, value: myAnswer?.note ?? '' });
  const refs = [...(myAnswer?.media ?? [])];
  const pics = h('div', { class: 'thumbs' }, refs.map((r) => thumb(r.sha256)));
  const shown = h('span', { class: 'item-state', id: `${name}-state` }, stateText(pkg, item));
  const save = async (result) => {
    if (result === 'non_compliant' && !note.value.trim()) {
      note.focus();
      say(t('item.note_required'));
      return;
    }
    const body = { matter: code, item: item.position, result };
    if (note.value.trim()) body.note = note.value.trim();
    if (refs.length) body.media = refs;
    try {
      const started = performance.now();
      await act(me, visitId, 'item_result', body);
      performance.measure('onevisit.tick', { start: started, end: performance.now() });
      if (item.conflict.length) {
        // This answer may settle the disagreement (or not): show the item as it now stands,
        // and keep the focus on the answer just given.
        await redraw();
        root.querySelector(`li[data-item='${item.position}'] input:checked`)?.focus();
        showInfo(root.querySelector('#matter-status'), t('item.saved', { n: item.position + 1 }), 'ok');
        return;
      }
      fill(shown, t(`item.${result}`));
      showInfo(status, t('item.saved', { n: item.position + 1 }), 'ok');
      if (!myAnswer && !item.answers.length) {
        const [n, total] = progress.textContent.match(/\d+/g).map(Number);
        fill(progress, t('matter.progress', { n: n + 1, total }));
      }
    } catch (err) {
      say(err);
    }
  };
  // The group is named by the item's own text (number included), the answer saved so far
  // describes it.
  const choices = h('div', { class: 'choices', role: 'radiogroup', 'aria-labelledby': `${name}-text`,
    'aria-describedby': `${name}-state` },
    RESULTS.map((r) => h('label', { class: `choice ${r}` },
      h('input', {
        type: 'radio', name, value: r, disabled: !mine, checked: myAnswer?.result === r,
        onchange: (ev) => busy(ev.currentTarget, () => save(r)),
      }),
      h('span', {}, t(`item.${r}`)))));
  return h('li', { class: 'card item', 'data-item': item.position },
    h('p', { class: 'item-text', id: `${name}-text` }, h('strong', {}, `${item.position + 1}. `), item.text),
    guide?.legal_basis ? h('p', { class: 'muted' }, guide.legal_basis) : null,
    shown,
    item.conflict.length ? h('p', { class: 'alert', role: 'alert', 'data-conflict': 'yes' },
      t('item.conflict', { answers: item.conflict.map((a) => `${memberName(pkg, a.actor)}：${t(`item.${a.result}`)}`).join('；') }))
      : null,
    mine ? [choices, field(t('item.note'), note),
      photoInput({
        id: `${name}-photo`, visit: visitId, label: t('item.photo'), status: say,
        onref: async (ref) => {
          refs.push(ref);
          pics.append(thumb(ref.sha256));
          const chosen = choices.querySelector('input:checked')?.value;
          if (chosen) await save(chosen); // the answer now names the photo too
        },
      }), pics] : null,
    mine && myAnswer && item.conflict.some((a) => a.actor === me.id)
      ? correctionForm({ code, item, myAnswer, name, say, correct: async (body) => {
        await act(me, visitId, 'correction', body);
        await redraw();
        showInfo(root.querySelector('#matter-status'), t('item.corrected', { n: item.position + 1 }), 'ok');
      } })
      : null);
}

/** Settling a disagreement on the record: a correction names the answer it supersedes and
 * says why (docs/events.md `correction`), where simply answering again would say nothing. */
function correctionForm({ code, item, myAnswer, name, say, correct }) {
  const result = h('select', { id: `${name}-correct-result` },
    RESULTS.map((r) => h('option', { value: r, selected: r !== myAnswer.result && r === 'compliant' }, t(`item.${r}`))));
  const reason = h('input', { id: `${name}-correct-reason`, type: 'text', maxlength: 2000 });
  const note = h('input', { id: `${name}-correct-note`, type: 'text', maxlength: 20000, value: myAnswer.note ?? '' });
  return h('details', { class: 'correction', id: `${name}-correct` },
    h('summary', {}, t('item.correct')),
    field(t('item.correct_result'), result), field(t('item.note'), note), field(t('item.correct_reason'), reason),
    h('button', {
      type: 'button', id: `${name}-correct-save`,
      onclick: (ev) => busy(ev.currentTarget, async () => {
        if (!reason.value.trim()) return say(t('item.correct_reason_needed'));
        if (result.value === 'non_compliant' && !note.value.trim()) return say(t('item.note_required'));
        const body = { matter: code, item: item.position, result: result.value };
        if (note.value.trim()) body.note = note.value.trim();
        if (myAnswer.media?.length) body.media = myAnswer.media;
        try {
          await correct({ supersedes: myAnswer.event, reason: reason.value.trim(), body });
        } catch (err) { say(err); }
        return undefined;
      }),
    }, t('item.correct_save')));
}

function stateText(pkg, item) {
  if (item.conflict.length) return t('item.in_conflict');
  if (!item.result) return t('item.unanswered');
  return `${t(`item.${item.result}`)} · ${item.by.map((a) => memberName(pkg, a)).join('、')}`;
}

const memberName = (pkg, actor) => pkg.info.members.find((m) => m.actor === actor)?.name ?? actor;

/** The special outcome in force (the latest not corrected), or null. */
function latestOutcome(state) {
  const live = state.special_outcomes.filter((s) => !s.corrected_by);
  return live.reduce((a, b) => (!a || b.at >= a.at ? b : a), null);
}

function resultCard({ pkg, matter, mine, say, outcome, record }) {
  // After a special outcome (查无下落, 已注销…) every matter gets the national result code it
  // leads to (package codes.special_outcome_result): proposed, not recorded, while the matter
  // has no result yet — the inspector still saves it as a matter_result.
  const proposed = !matter.result_code && !matter.result_conflict.length && outcome
    ? pkg.codes?.special_outcome_result?.[outcome.code] ?? '' : '';
  const code = codeSelect(pkg, 'result_codes', { id: 'result-code', value: matter.result_code ?? proposed });
  if (proposed) code.dataset.proposed = proposed;
  const disposition = codeSelect(pkg, 'dispositions', { id: 'result-disposition', required: false,
    value: matter.disposition ?? '' });
  const note = h('textarea', { id: 'result-note', rows: 2, maxlength: 20000, value: matter.note ?? '' });
  return h('section', { class: 'card', id: 'matter-result' },
    h('h2', {}, t('matter.result')),
    h('p', { id: 'result-current' }, matter.result_code ? codeLabel(pkg, 'result_codes', matter.result_code)
      : matter.result_conflict.length ? t('matter.result_conflict') : t('matter.no_result')),
    mine ? [field(t('matter.result_code'), code,
      proposed ? t('matter.result_proposed', { outcome: codeLabel(pkg, 'special_outcomes', outcome.code) }) : null),
    field(t('matter.disposition'), disposition),
      field(t('item.note'), note),
      h('button', {
        type: 'button', id: 'result-save',
        onclick: (ev) => busy(ev.currentTarget, async () => {
          if (!code.value) return say(t('matter.result_needed'));
          const body = { matter: matter.code, result_code: code.value };
          if (disposition.value) body.disposition = disposition.value;
          if (note.value.trim()) body.note = note.value.trim();
          try { await record(body); } catch (err) { say(err); }
          return undefined;
        }),
      }, t('matter.result_save'))] : null);
}
