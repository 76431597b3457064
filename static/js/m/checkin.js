// Self check-in at a gate: the code from the gate's poster (/g/<code> links here with ?code=) or
// typed; the answer full screen, as the guard sees it.
import { api, newId } from '../api.js';
import { startQrCamera } from '../camera.js';
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
  'checkin.scan': ['扫描门岗二维码', 'Scan the gate QR code'],
  'checkin.scanned': ['已识别门禁码,请选择进入或离开', 'Gate code read: choose enter or leave'],
  'checkin.camera.none': ['摄像头不可用,请手动输入', 'No camera: type the code'],
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

/** The gate code in a scanned poster URL (https://HOST/g/<code>) or the code itself. */
function gateCodeIn(value) {
  const at = value.lastIndexOf('/g/');
  return (at >= 0 ? value.slice(at + 3) : value).split(/[?#]/)[0].slice(0, 100);
}

async function scan() {
  let stop = null;
  stop = await startQrCamera($('#video'), (value) => {
    $('#gate-code').value = gateCodeIn(value);
    $('#camera-state').textContent = t('checkin.scanned');
    $('#camera-state').hidden = false;
    stop?.();
    $('#camera-start').hidden = false;
  });
  if (!stop) {
    $('#camera-state').textContent = t('checkin.camera.none');
    $('#camera-state').hidden = false;
    return;
  }
  $('#camera-start').hidden = true;
}

function main() {
  if (!requireRole('resident')) return;
  initPage();
  const code = new URLSearchParams(window.location.search).get('code');
  if (code) $('#gate-code').value = code.slice(0, 100);
  $('#checkin').addEventListener('submit', submit);
  $('#camera-start').addEventListener('click', scan);
}

main();
