// The public task page's "check it here" (/public/tasks/<id>): fetch the published draw
// record and recompute it with drawcheck.js, an implementation of DRAW.md independent of the
// server's Python, then compare its hash with the one the page (and the log) gives.

import { verifyRecord } from './drawcheck.js';

const button = document.getElementById('draw-check');
const out = document.getElementById('draw-check-result');
const link = document.getElementById('draw-record');
const hash = document.getElementById('draw-hash');

if (button && out && link) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    out.textContent = '正在复算…';
    try {
      const record = await (await fetch(link.getAttribute('href'))).json();
      const { ok, problems } = await verifyRecord(record, hash ? hash.textContent.trim() : undefined);
      out.className = ok ? 'ok' : 'alert';
      out.textContent = ok
        ? `复算一致：${record.subjects.length} 户抽取对象与 ${record.groups.length} 个检查组均与公布记录相同。`
        : `复算不一致：${problems.join('；')}`;
    } catch (err) {
      out.className = 'alert';
      out.textContent = `无法复算：${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
}
