// A signature pad: pointer strokes on a canvas. Both the picture (PNG) and the strokes (x, y,
// pressure, time per point) are kept as evidence: the strokes show how the signature was drawn,
// which a copied picture cannot.

import { h } from '../dom.js';
import { t } from '../i18n.js';

export function signPad({ id, label }) {
  const canvas = h('canvas', { id, class: 'signpad', width: 640, height: 260, role: 'img', 'aria-label': label });
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
  const end = () => { current = null; };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  const clear = h('button', { type: 'button', class: 'secondary', onclick: () => { strokes.length = 0; blank(); } },
    t('sign.clear'));
  return {
    node: h('div', { class: 'signpad-box' }, h('span', { class: 'label' }, label), canvas, clear),
    isEmpty: () => !strokes.some((s) => s.length > 1),
    /** {png: Blob, strokes: Blob} — both become media of the signature event. */
    async blobs() {
      const png = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/png'); });
      const json = JSON.stringify({ width: canvas.width, height: canvas.height, started_ms: started, strokes });
      return { png, strokes: new Blob([json], { type: 'application/json' }) };
    },
  };
}
