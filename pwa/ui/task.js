// One task and its draw (../shared/specs/DRAW.md) as a guided sequence:
//   1. rules and commitment: a ratio or count per stratum, an optional cap, other committing
//      parties (each brings only the hash of its secret);
//   2. beacon, reveals, draw: what was fixed, an optional public beacon, each party's secret
//      (or "not revealed": 32 zero bytes stand in, a draw is never re-run), then 抽取;
//   3. result: seed, the subjects in batch order with their groups, the public record and its
//      verification in this browser (drawcheck.js, loaded on demand), and swaps per group
//      (the coordinator names who goes and why; the server computes who comes in).
// Every step is one API call (planning/api.py); the screen re-reads the draw after each.
// Only the initiating department's coordinators (and admins) draw: others (`may_draw` false)
// see the task and a line saying who draws. A triggered task with neither subjects nor a
// scope has no draw: its coordinators assign a group per subject directly, with a reason.

import { h, fill } from '../dom.js';
import { api, errorText } from '../api.js';
import { t } from '../i18n.js';
import '../i18n-desk.js'; // this screen's strings
import { busy, field, showError, showInfo, statusLine, title } from './common.js';
import { deskStyle, drawBadge, kindBadge } from './tasks.js';

const STRATA = [['A', '0.03'], ['B', '0.05'], ['C', '0.1'], ['D', '0.2'], ['3y+', '0.1']];
const REASONS = ['conflict_of_interest', 'post_change', 'work_conflict', 'health'];
const SERVER = 'server';
const HEX64 = /^[0-9a-f]{64}$/;

const stratumName = (s) => t(s === '3y+' ? 'draw.stratum_3y' : 'draw.stratum', { s });
const partyName = (name) => (name === SERVER ? t('draw.party_server') : name);

export default async function task({ root, params: [code], me }) {
  deskStyle();
  const path = `/api/tasks/${encodeURIComponent(code)}`;
  const status = statusLine('task-status');
  const heading = title(code);
  const facts = h('div', { id: 'task-facts' });
  const steps = h('ol', { class: 'steps', id: 'draw-steps', 'aria-label': t('draw.steps') });
  const body = h('div', { id: 'draw' });
  fill(root, heading, facts, steps, status, body);

  const [info, deps, people] = await Promise.all([
    api(path),
    api('/api/departments').then((d) => d.departments, () => []),
    // Names of the inspectors this caller may see (their department; admins all); others by code.
    api('/api/inspectors').then((d) => d.inspectors, () => []),
  ]);
  const ctx = {
    path, status, body, steps, me,
    dep: (c) => deps.find((d) => d.code === c)?.name || c,
    names: {}, // the draw's inspector_names once drawn
    nameOf: (c) => ctx.names[c]?.name || people.find((i) => i.code === c)?.name,
    // as text (options, status lines): "name（code）"; as nodes: the name, its code small
    who: (c) => {
      const name = ctx.nameOf(c);
      return name ? `${name}（${c}）` : c;
    },
    person: (c) => {
      const name = ctx.nameOf(c);
      return h('span', { class: 'who' }, name ? [name, ' ', h('small', { class: 'mono' }, c)] : h('span', { class: 'mono' }, c));
    },
    people,
  };
  fill(heading, info.name);
  fill(facts, h('dl', { class: 'facts' },
    h('dt', {}, t('task.code')), h('dd', { class: 'mono', id: 'task-code-value' }, info.code),
    h('dt', {}, t('task.initiator')), h('dd', {}, ctx.dep(info.initiator)),
    h('dt', {}, t('task.matters')),
    h('dd', {}, h('ul', { class: 'members', id: 'task-matters' }, info.matters.map((m) => h('li', {},
      m.lead ? h('span', { class: 'badge leader' }, t('task.lead_short')) : null, ' ',
      m.name, h('span', { class: 'muted' }, ` · ${ctx.dep(m.department)}`))))),
    info.plan ? [h('dt', {}, t('task.plan')), h('dd', { id: 'task-plan-value' },
      h('a', { href: `#/plan/${encodeURIComponent(info.plan.code)}` }, info.plan.code),
      ` · ${t('plan.line', { n: info.plan.line })}`)] : null),
  info.kind === 'triggered' ? triggerFacts(info.trigger) : null);
  if (!info.may_draw) {
    // not theirs to draw: say so at once instead of waiting for auth.forbidden
    fill(body, h('p', { class: 'status info', id: 'draw-not-mine' },
      t(direct(info) ? 'assign.not_mine' : 'draw.not_mine', { dep: ctx.dep(info.initiator) })));
    return;
  }
  if (direct(info)) {
    fill(body, ...assignView(ctx, info));
    return;
  }
  ctx.reload = async (notes = {}) => {
    let draw;
    try {
      draw = await api(`${path}/draw`);
    } catch (err) {
      fill(steps);
      fill(body);
      showError(status, err); // e.g. a participating department's coordinator: not theirs to draw
      return;
    }
    ctx.names = draw.inspector_names || {};
    renderSteps(steps, draw.status);
    fill(body, ...(draw.status === 'none' ? commitForm(ctx)
      : draw.status === 'committed' ? committedView(ctx, draw) : drawnView(ctx, draw, notes)));
  };
  await ctx.reload();
}

/** A triggered task that names neither subjects nor a scope: inspectors are assigned. */
const direct = (info) => info.kind === 'triggered' && info.trigger
  && !info.trigger.subjects && !info.trigger.scope;

function triggerFacts(trigger) {
  if (!trigger) return null;
  const scope = trigger.scope && Object.entries(trigger.scope)
    .map(([k, v]) => `${t(`scope.${k}`)}：${Array.isArray(v) ? v.join('、') : v}`).join('；');
  return h('section', { class: 'card', id: 'task-trigger' },
    h('h2', {}, kindBadge(), ' ', t(`trigger.${trigger.kind}`)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('trigger.reference')), h('dd', { id: 'trigger-reference-value' }, trigger.reference),
      trigger.note ? [h('dt', {}, t('trigger.note')), h('dd', {}, trigger.note)] : null,
      h('dt', {}, t('trigger.target')),
      h('dd', { id: 'trigger-target-value' }, trigger.subjects
        ? [t('trigger.n_subjects', { n: trigger.subjects.length }), h('div', { class: 'mono' }, trigger.subjects.join('、'))]
        : scope || t('trigger.target_direct'))));
}

function renderSteps(el, state) {
  const at = { none: 0, committed: 1, drawn: 2 }[state] ?? 0;
  fill(el, ['draw.step_commit', 'draw.step_draw', 'draw.step_result'].map((key, n) => h('li', {
    class: n < at ? 'done' : null, 'aria-current': n === at ? 'step' : null,
  }, `${n + 1} ${t(key)}`)));
}

// --- 1. rules and commitment ----------------------------------------------------------------

function commitForm(ctx) {
  const rules = STRATA.map(([s, ratio], n) => {
    const hint = `stratum-${n}-hint`;
    const kind = h('select', { id: `rule-${n}-kind`, 'aria-label': t('draw.rule_kind', { s: stratumName(s) }) },
      h('option', { value: 'ratio' }, t('draw.ratio')), h('option', { value: 'count' }, t('draw.count')));
    const value = h('input', { id: `rule-${n}-value`, value: ratio, required: true, inputmode: 'decimal',
      autocomplete: 'off', 'aria-label': t('draw.rule_value', { s: stratumName(s) }), 'aria-describedby': hint });
    kind.addEventListener('change', () => {
      value.value = kind.value === 'ratio' ? ratio : '1';
      value.inputMode = kind.value === 'ratio' ? 'decimal' : 'numeric';
    });
    return { s, kind, value, row: h('div', { class: 'stratum' },
      h('div', { class: 'rule' }, h('span', { class: 'badge' }, s), kind, value),
      h('small', { class: 'hint', id: hint }, t(`draw.explain_${n}`))) };
  });
  const cap = h('input', { id: 'draw-cap', type: 'number', min: '1', step: '1', inputmode: 'numeric',
    autocomplete: 'off' });
  const partyRows = h('div', { id: 'party-rows' });
  let added = 0;
  const addParty = () => {
    const n = added++;
    const name = h('input', { id: `party-name-${n}`, class: 'party-name', maxlength: '64', autocomplete: 'off' });
    const commit = h('input', { id: `party-commit-${n}`, class: 'party-commit mono', maxlength: '64',
      autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', pattern: '[0-9a-f]{64}' });
    const row = h('div', { class: 'card party' },
      field(t('draw.party_name'), name),
      field(t('draw.party_commit'), commit, t('draw.party_commit_hint')),
      h('button', { type: 'button', class: 'secondary', onclick: () => row.remove() }, t('draw.party_remove')));
    partyRows.append(row);
    name.focus();
  };
  const revealHours = h('input', { id: 'reveal-hours', type: 'number', min: '1', max: '720', value: '48', inputmode: 'numeric' });
  const submit = h('button', { id: 'draw-commit', type: 'submit' }, t('draw.commit'));

  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(submit, async () => {
      const strata = {};
      for (const r of rules) {
        const text = r.value.value.trim();
        if (r.kind.value === 'count' && !/^\d+$/.test(text)) {
          showError(ctx.status, t('draw.count_rule', { s: stratumName(r.s) }));
          r.value.focus();
          return;
        }
        strata[r.s] = r.kind.value === 'count' ? { count: Number(text) } : { ratio: text };
      }
      const parties = [...partyRows.querySelectorAll('.party')].map((row) => ({
        name: row.querySelector('.party-name').value.trim(),
        commit: row.querySelector('.party-commit').value.trim().toLowerCase(),
      }));
      const bad = parties.find((p) => !p.name || !HEX64.test(p.commit));
      if (bad) {
        showError(ctx.status, t('draw.party_invalid'));
        return;
      }
      const body = { strata, parties };
      if (parties.length) body.reveal_hours = Number(revealHours.value);
      if (cap.value.trim()) body.cap = Number(cap.value);
      try {
        await api(`${ctx.path}/draw`, { method: 'POST', json: body });
        showInfo(ctx.status, t('draw.committed_ok'), 'ok');
        await ctx.reload();
      } catch (err) {
        showError(ctx.status, err);
      }
    });
  };

  return [h('form', { id: 'commit-form', onsubmit },
    h('h2', {}, t('draw.step_commit')),
    h('p', { class: 'hint' }, t('draw.commit_intro')),
    h('fieldset', {}, h('legend', {}, t('draw.strata')), rules.map((r) => r.row)),
    field(t('draw.cap'), cap, t('draw.cap_hint')),
    h('fieldset', { id: 'parties' },
      h('legend', {}, t('draw.parties')),
      h('p', { class: 'hint' }, t('draw.parties_hint')),
      partyRows,
      h('button', { id: 'party-add', type: 'button', class: 'secondary', onclick: addParty }, t('draw.party_add')),
      field(t('draw.reveal_hours'), revealHours, t('draw.reveal_hours_hint'))),
    submit)];
}

// --- 2. what was fixed; beacon, reveals, draw -----------------------------------------------

function summary(ctx, draw) {
  const revealed = new Set(draw.revealed || []);
  return h('section', { class: 'card', id: 'draw-summary' },
    h('h2', {}, t('draw.summary')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('draw.population')), h('dd', { id: 'draw-population' }, String(draw.population)),
      h('dt', {}, t('draw.snapshot')), h('dd', { class: 'mono' }, draw.snapshot_hash),
      h('dt', {}, t('draw.inspectors')), h('dd', {}, String(draw.inspectors)),
      h('dt', {}, t('draw.cap')), h('dd', {}, draw.cap == null ? t('draw.no_cap') : String(draw.cap)),
      draw.beacon != null ? [h('dt', {}, t('draw.beacon')), h('dd', { id: 'draw-beacon' }, draw.beacon)] : null),
    h('div', { class: 'table-wrap' }, h('table', { id: 'strata-table' },
      h('caption', { class: 'muted' }, t('draw.strata_caption')),
      h('thead', {}, h('tr', {}, [t('draw.stratum_col'), t('draw.rule_col'), t('draw.eligible'), t('draw.drawn')]
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, Object.entries(draw.strata).map(([s, row]) => h('tr', { 'data-stratum': s },
        h('th', { scope: 'row' }, stratumName(s)),
        h('td', {}, 'ratio' in row.rule ? `${t('draw.ratio')} ${row.rule.ratio}` : `${t('draw.count')} ${row.rule.count}`),
        h('td', {}, String(row.eligible)),
        h('td', {}, `→ ${row.drawn}`)))))),
    h('h3', {}, t('draw.parties_fixed')),
    h('ul', { class: 'members', id: 'party-list' }, draw.parties.map((p) => h('li', {},
      h('strong', {}, partyName(p.name)), ' ',
      h('span', { class: 'muted' }, partyState(draw, p.name, revealed)),
      h('div', { class: 'mono' }, p.commit)))),
    h('h3', {}, t('draw.departments')),
    h('ul', { class: 'members', id: 'department-list' }, draw.departments.map((d, n) => h('li', {},
      h('strong', {}, ctx.dep(d.id)), ' ',
      h('span', { class: 'muted' }, [n === 0 ? t('task.initiator') : null, t('draw.need', { n: d.need })]
        .filter(Boolean).join(' · ')),
      d.partners.length ? h('div', { class: 'muted' }, t('draw.partners', { list: d.partners.map(ctx.dep).join('、') })) : null))));
}

function partyState(draw, name, revealed) {
  const drawn = draw.status === 'drawn';
  if (name === SERVER) return t(drawn ? 'draw.revealed' : 'draw.server_reveals');
  if (revealed.has(name)) return t('draw.revealed');
  return t(drawn ? 'draw.not_revealed' : 'draw.waiting');
}

function committedView(ctx, draw) {
  const out = [summary(ctx, draw)];
  if (draw.beacon == null) {
    const beacon = h('input', { id: 'beacon', maxlength: '1000', autocomplete: 'off' });
    const set = h('button', { id: 'beacon-set', type: 'submit', class: 'secondary' }, t('draw.beacon_set'));
    out.push(h('form', { class: 'card', id: 'beacon-form', onsubmit: (ev) => {
      ev.preventDefault();
      return busy(set, async () => {
        try {
          await api(`${ctx.path}/draw/beacon`, { method: 'POST', json: { beacon: beacon.value } });
          showInfo(ctx.status, t('draw.beacon_ok'), 'ok');
          await ctx.reload();
        } catch (err) {
          showError(ctx.status, err);
        }
      });
    } }, h('h2', {}, t('draw.beacon')), field(t('draw.beacon_value'), beacon, t('draw.beacon_hint')), set));
  }
  const revealed = new Set(draw.revealed || []);
  const waiting = draw.parties.filter((p) => p.name !== SERVER && !revealed.has(p.name));
  const giveUps = [];
  // a party can be recorded as not revealed only after its public deadline (the server says so too)
  const due = draw.reveal_by ? new Date(draw.reveal_by) : null;
  const overdue = !due || due <= new Date();
  if (waiting.length) {
    out.push(h('section', { class: 'card', id: 'reveals' }, h('h2', {}, t('draw.reveals')),
      h('p', { class: 'hint' }, t('draw.reveals_hint')),
      due ? h('p', { id: 'reveal-by', class: overdue ? 'status warn' : 'hint' },
        t(overdue ? 'draw.reveal_over' : 'draw.reveal_by', { time: due.toLocaleString() })) : null,
      waiting.map((p, n) => {
        const secret = h('input', { id: `reveal-secret-${n}`, class: 'mono', maxlength: '64', autocomplete: 'off',
          autocapitalize: 'off', spellcheck: 'false' });
        const send = h('button', { id: `reveal-${n}`, type: 'submit', class: 'secondary' }, t('draw.reveal'));
        const giveUp = h('input', { id: `giveup-${n}`, type: 'checkbox', value: p.name, disabled: !overdue });
        giveUps.push(giveUp);
        return h('form', { class: 'party', 'data-party': p.name, onsubmit: (ev) => {
          ev.preventDefault();
          return busy(send, async () => {
            try {
              await api(`${ctx.path}/draw/reveal`, { method: 'POST',
                json: { party: p.name, secret: secret.value.trim().toLowerCase() } });
              showInfo(ctx.status, t('draw.reveal_ok', { party: p.name }), 'ok');
              await ctx.reload();
            } catch (err) {
              showError(ctx.status, err);
            }
          });
        } }, h('h3', {}, p.name),
        field(t('draw.secret', { party: p.name }), secret),
        send,
        h('label', { class: 'check-row' }, giveUp, h('span', {}, t('draw.give_up'))));
      })));
  }
  const run = h('button', { id: 'draw-run', type: 'button' }, t('draw.run'));
  run.addEventListener('click', () => busy(run, async () => {
    try {
      const give_up = giveUps.filter((box) => box.checked).map((box) => box.value);
      await api(`${ctx.path}/draw/run`, { method: 'POST', json: { give_up } });
      showInfo(ctx.status, t('draw.run_ok'), 'ok');
      await ctx.reload();
    } catch (err) {
      showError(ctx.status, err);
    }
  }));
  out.push(h('section', { class: 'card' }, h('h2', {}, t('draw.step_draw')),
    h('p', { class: 'hint', id: 'draw-run-hint' }, t('draw.run_hint')), run));
  run.setAttribute('aria-describedby', 'draw-run-hint');
  return out;
}

// --- 3. result, verification, swaps ---------------------------------------------------------

function drawnView(ctx, draw, notes) {
  const verifyResult = statusLine('verify-result');
  const problems = h('ul', { id: 'verify-problems', class: 'verify-problems' });
  const verify = h('button', { id: 'draw-verify', type: 'button', class: 'secondary',
    'aria-describedby': 'verify-hint' }, t('draw.verify'));
  verify.addEventListener('click', () => busy(verify, async () => {
    fill(problems);
    showInfo(verifyResult, t('draw.verifying'));
    try {
      const [{ verifyRecord }, record] = await Promise.all([
        import('../drawcheck.js'),
        api(draw.record_url),
      ]);
      const result = await verifyRecord(record, draw.record_hash);
      if (result.ok) {
        showInfo(verifyResult, t('draw.verify_ok', { n: record.subjects.length, swaps: record.swaps.length }), 'ok');
      } else {
        showError(verifyResult, t('draw.verify_bad', { n: result.problems.length }));
        fill(problems, result.problems.map((p) => h('li', { class: 'mono' }, p)));
      }
    } catch (err) {
      showError(verifyResult, errorText(err));
    }
  }));
  return [
    h('section', { class: 'card ok', id: 'draw-result' },
      h('h2', {}, t('draw.step_result')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('draw.seed')), h('dd', { class: 'mono', id: 'draw-seed' }, draw.seed),
        h('dt', {}, t('draw.record_hash')), h('dd', { class: 'mono', id: 'draw-record-hash' }, draw.record_hash),
        h('dt', {}, t('draw.subjects')), h('dd', {}, String(draw.subjects.length))),
      h('p', {}, h('a', { id: 'record-link', href: draw.record_url, target: '_blank', rel: 'noopener' },
        t('draw.record_link'))),
      h('p', { class: 'hint', id: 'verify-hint' }, t('draw.verify_hint')),
      verify, verifyResult, problems),
    h('h2', {}, t('draw.groups')),
    h('ol', { class: 'list', id: 'group-list' }, draw.groups.map((g, n) => groupCard(ctx, g, n, notes[g.subject_id],
      draw.subject_names?.[g.subject_id], (draw.started || []).includes(g.subject_id)))),
    draw.swaps.length ? [h('h2', {}, t('draw.swaps')), h('ul', { class: 'members', id: 'swap-list' },
      draw.swaps.map((w) => h('li', {}, `${w.subject_id}：${ctx.who(w.out)} → ${ctx.who(w.in)} · ${t(`draw.reason_${w.reason}`)}`)))] : null,
    summary(ctx, draw),
  ];
}

/** A subject's heading: its name with the id small beside it, and its address. */
function subjectHead(id, subject, headingId, prefix) {
  return [h('h3', { id: headingId, class: 'subject-name' }, prefix,
    subject ? [subject.name, ' ', h('small', { class: 'mono' }, id)] : h('span', { class: 'mono' }, id)),
  subject?.address ? h('div', { class: 'muted' }, subject.address) : null];
}

/** The members of a group: the leader marked, a lent member shown with whom they serve. */
function memberList(ctx, g) {
  return h('ul', { class: 'members' }, g.members.map(([i, own, served]) => h('li', { 'data-inspector': i },
    i === g.leader ? [h('span', { class: 'badge leader' }, t('draw.leader')), ' '] : null,
    h('strong', {}, ctx.person(i)),
    h('div', { class: 'muted' }, [ctx.names[i]?.department ? `${ctx.names[i].department} · ` : null,
      own === served ? ctx.dep(own) : t('draw.serves', { own: ctx.dep(own), served: ctx.dep(served) })]))));
}

function groupCard(ctx, g, n, note, subject, started) {
  const status = statusLine(`swap-status-${n}`);
  const out = h('select', { id: `swap-out-${n}`, name: 'out' },
    g.members.map(([i]) => h('option', { value: i }, ctx.who(i))));
  const reason = h('select', { id: `swap-reason-${n}`, name: 'reason' },
    REASONS.map((r) => h('option', { value: r }, t(`draw.reason_${r}`))));
  const submit = h('button', { id: `swap-submit-${n}`, type: 'submit', class: 'secondary' }, t('draw.swap_submit'));
  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(submit, async () => {
      try {
        const { swap } = await api(`${ctx.path}/draw/swaps`, { method: 'POST',
          json: { subject_id: g.subject_id, out: out.value, reason: reason.value } });
        await ctx.reload({ [g.subject_id]: t('draw.swap_ok', { out: ctx.who(swap.out), in: ctx.who(swap.in) }) });
      } catch (err) {
        showError(status, err);
      }
    });
  };
  if (note) showInfo(status, note, 'ok');
  const heading = `group-${n}-name`;
  return h('li', { class: 'card group', 'data-subject': g.subject_id, 'data-started': started ? 'true' : null },
    subjectHead(g.subject_id, subject, heading, `${n + 1}. `),
    memberList(ctx, g),
    // once the visit has begun its group is evidence: no swap is offered, and the card says why
    started ? h('p', { class: 'status warn', id: `swap-started-${n}` },
      h('span', { class: 'badge started' }, t('draw.started')), ' ', t('draw.started_no_swap'))
    : h('details', { class: 'card swap', open: note ? true : null },
      h('summary', { 'aria-describedby': heading }, t('draw.swap')),
      h('form', { onsubmit },
        field(t('draw.swap_out'), out),
        field(t('draw.swap_reason'), reason),
        h('p', { class: 'hint' }, t('draw.swap_hint')),
        submit)),
    status);
}

// --- a triggered task without subjects or scope: direct assignment --------------------------

/** A directly assigned group: its subject's and members' names (the codes small beside). */
function assignedCard(ctx, g, note) {
  for (const [c, name] of Object.entries(g.inspector_names || {})) ctx.names[c] = { name };
  const name = g.subject_name ? { name: g.subject_name } : null;
  return h('li', { class: 'card group ok', 'data-subject': g.subject_id, 'data-visit': g.visit || null },
    subjectHead(g.subject_id, name, `assigned-${ctx.assigned = (ctx.assigned || 0) + 1}`, ''),
    memberList(ctx, g),
    note ? h('p', { class: 'muted' }, note) : null);
}

function assignView(ctx, info) {
  const departments = [...new Set([info.initiator, ...info.matters.map((m) => m.department)])];
  // the groups assigned so far (GET /api/tasks/{code} assignments), then each new one
  const done = h('ol', { class: 'list', id: 'assign-list' },
    (info.assignments || []).map((g) => assignedCard(ctx, g, g.note)));
  const subject = h('input', { id: 'assign-subject', required: true, maxlength: '64', autocomplete: 'off',
    autocapitalize: 'off', spellcheck: 'false' });
  const reason = h('textarea', { id: 'assign-reason', required: true, maxlength: '500' });
  const rows = h('div', { id: 'assign-members' });
  const known = h('datalist', { id: 'assign-inspectors' },
    ctx.people.map((p) => h('option', { value: p.code }, p.name)));
  let added = 0;
  const addRow = (first) => {
    const n = added++;
    const code = h('input', { id: `assign-inspector-${n}`, class: 'assign-inspector mono', required: true,
      maxlength: '64', list: 'assign-inspectors', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false' });
    const served = h('select', { id: `assign-served-${n}`, class: 'assign-served' },
      departments.map((d) => h('option', { value: d }, ctx.dep(d))));
    const row = h('fieldset', { class: 'assign-member' }, h('legend', {}, t('assign.member')),
      field(t('assign.inspector'), code), field(t('assign.served'), served),
      first ? null : h('button', { type: 'button', class: 'secondary', onclick: () => row.remove() }, t('assign.remove')));
    rows.append(row);
    return code;
  };
  addRow(true);
  addRow(true);
  const submit = h('button', { id: 'assign-submit', type: 'submit' }, t('assign.submit'));
  const onsubmit = (ev) => {
    ev.preventDefault();
    return busy(submit, async () => {
      const members = [...rows.querySelectorAll('.assign-member')].map((row) => [
        row.querySelector('.assign-inspector').value.trim(), row.querySelector('.assign-served').value]);
      try {
        const group = await api(`${ctx.path}/assignments`, { method: 'POST',
          json: { subject_id: subject.value.trim(), members, reason: reason.value.trim() } });
        done.append(assignedCard(ctx, group, t('assign.logged', { reason: reason.value.trim() })));
        showInfo(ctx.status, t('assign.ok', { subject: group.subject_id }), 'ok');
        subject.value = '';
        reason.value = '';
      } catch (err) {
        showError(ctx.status, err);
      }
    });
  };
  return [
    h('p', { class: 'hint', id: 'assign-intro' }, t('assign.intro')),
    info.visits ? h('p', { class: 'muted', id: 'assign-count' }, t('assign.count', { n: info.visits })) : null,
    h('form', { class: 'card', id: 'assign-form', onsubmit },
      h('h2', {}, t('assign.title')),
      field(t('assign.subject'), subject),
      known, rows,
      h('button', { id: 'assign-add', type: 'button', class: 'secondary', onclick: () => addRow(false).focus() },
        t('assign.add')),
      field(t('assign.reason'), reason, t('assign.reason_hint')),
      submit),
    h('h2', {}, t('assign.done')),
    done,
  ];
}
