// Self check-in at a gate: the code from the gate's poster (/g/<code> links here with ?code=) or
// typed; the answer full screen, as the guard sees it.
import { api, newId } from '../api.js';
import { $ } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { ANSWER_STRINGS, showAnswer } from './answer.js';
import { MENU_STRINGS, requireRole } from './common.js';

addStrings({
  ...MENU_STRINGS, ...ANSWER_STRINGS,
  'checkin.title': ['扫场所码登记', 'Check in at a gate'],
  'checkin.code': ['门禁码(场所码)', 'Gate code'],
  'checkin.in': ['进入小区', 'Enter'],
  'checkin.out': ['离开小区', 'Leave'],
  'checkin.note': ['出入登记信息仅用于疫情防控。', 'Check-ins are used for epidemic control only.'],
  'checkin.code.needed': ['请输入门禁码', 'Enter the gate code'],
});

async function submit(event) {
  event.preventDefault();
  const code = $('#gate-code').value.trim();
  const error = $('#checkin-error');
  if (!code) { error.textContent = t('checkin.code.needed'); error.hidden = false; return; }
  error.hidden = true;
  const direction = event.submitter?.value === 'out' ? 'out' : 'in';
  try {
    const reply = await api('/checkins/self', { method: 'POST', body: { gate_code: code, direction, client_id: newId() } });
    showAnswer(reply, { ms: 0 });
    $('#gate-name').textContent = [reply.compound?.name, reply.gate?.name].filter(Boolean).join(' · ');
  } catch (err) {
    error.textContent = err.offline ? t('error.network') : err.message;
    error.hidden = false;
  }
}

function main() {
  if (!requireRole('resident')) return;
  initPage();
  const code = new URLSearchParams(window.location.search).get('code');
  if (code) $('#gate-code').value = code.slice(0, 100);
  $('#checkin').addEventListener('submit', submit);
}

main();
