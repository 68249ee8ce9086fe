// A signature pad: pointer strokes on a canvas. Both the picture (PNG) and the strokes (x, y,
// pressure, time per point) are kept as evidence: the strokes show how the signature was drawn,
// which a copied picture cannot.

import { h } from '../dom.js';
import { t } from '../i18n.js';

export function signPad({ id, label }) {
  // Named by its visible label and described by how to use it and whether it holds a
  // signature yet, so a screen reader user can hand the phone over knowing its state.
  const canvas = h('canvas', {
    id, class: 'signpad', width: 640, height: 260, role: 'img',
    'aria-labelledby': `${id}-label`, 'aria-describedby': `${id}-hint ${id}-state`,
  });
  const state = h('span', { id: `${id}-state`, class: 'hint', 'aria-live': 'polite' }, t('sign.pad_empty'));
  const drawn = () => strokes.filter((s) => s.length > 1).length;
  const showState = () => {
    const n = drawn();
    state.textContent = n ? t('sign.pad_drawn', { n }) : t('sign.pad_empty');
  };
  const strokes = [];
  let current = null;
  const started = Date.now();
  const ctx = canvas.getContext('2d');
  const blank = () => {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 4;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#000';
  };
  blank();
  const point = (ev) => {
    const box = canvas.getBoundingClientRect();
    return {
      x: Math.round(((ev.clientX - box.left) * canvas.width) / box.width),
      y: Math.round(((ev.clientY - box.top) * canvas.height) / box.height),
      p: Math.round((ev.pressure || 0.5) * 1000), // integers only (EVIDENCE.md §1)
      t: Date.now() - started,
    };
  };
  canvas.addEventListener('pointerdown', (ev) => {
    canvas.setPointerCapture(ev.pointerId);
    current = [point(ev)];
    strokes.push(current);
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!current) return;
    const a = current[current.length - 1];
    const b = point(ev);
    current.push(b);
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  });
  const end = () => { if (current) showState(); current = null; };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  // Two pads can share a screen (subject and witness): each clear button names its pad.
  const clear = h('button', {
    type: 'button', class: 'secondary', id: `${id}-clear`, 'aria-label': `${t('sign.clear')} · ${label}`,
    onclick: () => { strokes.length = 0; blank(); showState(); },
  }, t('sign.clear'));
  return {
    node: h('div', { class: 'signpad-box' },
      h('span', { class: 'label', id: `${id}-label` }, label),
      h('small', { class: 'hint', id: `${id}-hint` }, t('sign.pad_hint')), canvas, state, clear),
    isEmpty: () => drawn() === 0,
    /** {png: Blob, strokes: Blob} — both become media of the signature event. */
    async blobs() {
      const png = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/png'); });
      const json = JSON.stringify({ width: canvas.width, height: canvas.height, started_ms: started, strokes });
      return { png, strokes: new Blob([json], { type: 'application/json' }) };
    },
  };
}
