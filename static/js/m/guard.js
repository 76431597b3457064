// The guard's scanner: the camera through BarcodeDetector (the vendored ponyfill where the browser
// has none), typing as the fallback; a full-screen answer; scans made offline are kept in IndexedDB
// and uploaded through /checkins/batch when the network returns; shift clock-in; the temperature post.
import { api, newId } from '../api.js';
import { cameraGranted, startQrCamera } from '../camera.js';
import { $, $$, el, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { ANSWER_STRINGS, showAnswer } from './answer.js';
import { MENU_STRINGS, requireRole } from './common.js';
import { enqueue, queued, remove } from './queue.js';

addStrings({
  ...MENU_STRINGS, ...ANSWER_STRINGS,
  'guard.title': ['门岗扫码', 'Gate scanner'],
  'guard.setup': ['岗位设置', 'Post'],
  'guard.gate': ['门岗', 'Gate'],
  'guard.mode': ['模式', 'Mode'],
  'guard.mode.scan': ['扫码通行', 'Scan passes'],
  'guard.mode.temperature': ['测温岗', 'Temperature post'],
  'guard.mode.clock': ['上下班打卡', 'Clock in/out'],
  'guard.direction': ['方向', 'Direction'],
  'guard.in': ['进', 'In'],
  'guard.out': ['出', 'Out'],
  'guard.camera': ['摄像头', 'Camera'],
  'guard.camera.off': ['摄像头未开启', 'Camera off'],
  'guard.camera.on': ['请将通行码对准摄像头', 'Hold the pass code to the camera'],
  'guard.camera.none': ['摄像头不可用,请手动输入', 'No camera: type the code'],
  'guard.camera.start': ['开启摄像头扫码', 'Start the camera'],
  'guard.code': ['手动输入通行码', 'Type the pass code'],
  'guard.code.clock': ['门岗码(扫描或输入)', 'Gate code (scan or type)'],
  'guard.temperature': ['体温(℃)', 'Temperature (°C)'],
  'guard.temperature.needed': ['请先输入体温', 'Enter the temperature first'],
  'guard.code.needed': ['请扫码或输入通行码', 'Scan or type a code'],
  'guard.submit': ['提交', 'Submit'],
  'guard.clock.in': ['上班打卡', 'Clock in'],
  'guard.clock.out': ['下班打卡', 'Clock out'],
  'guard.clocked.in': ['已上班打卡', 'Clocked in'],
  'guard.clocked.out': ['已下班打卡', 'Clocked out'],
  'guard.clocked.late': ['(迟到)', ' (late)'],
  'guard.log': ['最近记录', 'Recent'],
  'guard.queued.status': ['已离线记录', 'Saved offline'],
  'guard.queued.message': ['网络恢复后自动上传核验', 'Uploaded and checked when the network returns'],
  'sync.online': ['在线 · 已同步', 'Online · synced'],
  'sync.pending': ['待同步 {n} 条', '{n} waiting to sync'],
  'sync.offline': ['离线 · 待同步 {n} 条', 'Offline · {n} waiting'],
  'sync.syncing': ['同步中…', 'Syncing…'],
  'sync.done': ['已同步 {n} 条离线记录', 'Synced {n} offline scans'],
  'log.synced': ['(离线补传)', ' (synced later)'],
  'log.queued': ['待同步', 'waiting to sync'],
});

const state = { mode: 'scan', direction: 'in', gateId: null, lastCode: '', lastAt: 0, syncing: false };
const GATE_KEY = 'wuye.guard.gate';

function setPressed(attr, value) {
  $$(`[data-${attr}]`).forEach((b) => b.setAttribute('aria-pressed', String(b.dataset[attr] === value)));
}

function setMode(mode) {
  state.mode = mode;
  setPressed('mode', mode);
  $('#temperature-field').hidden = mode !== 'temperature';
  $('#clock-buttons').hidden = mode !== 'clock';
  $('#submit').hidden = mode === 'clock';
  $('#directions').hidden = mode === 'clock';
  const key = mode === 'clock' ? 'guard.code.clock' : 'guard.code';
  $('#code-label').dataset.i18n = key;
  $('#code-label').textContent = t(key);
}

function log(text, color) {
  const item = el('li', { class: `log-${color || 'grey'}` }, `${new Date().toLocaleTimeString()} ${text}`);
  $('#log').prepend(item);
  while ($('#log').children.length > 20) $('#log').lastChild.remove();
}

function formError(message) {
  $('#form-error').textContent = message || '';
  $('#form-error').hidden = !message;
}

// --- the check-in ---------------------------------------------------------------------------

async function checkIn(code) {
  const temperatureText = $('#temperature').value.trim();
  if (state.mode === 'temperature' && !temperatureText) {
    $('#code').value = code;
    formError(t('guard.temperature.needed'));
    $('#temperature').focus();
    return;
  }
  formError('');
  const item = {
    pass_code: code, gate_id: state.gateId, direction: state.direction,
    client_id: newId(), device_time: new Date().toISOString(),
  };
  if (temperatureText) item.temperature = temperatureText;
  $('#code').value = '';
  $('#temperature').value = '';
  if (!navigator.onLine) { await queueScan(item); return; }
  try {
    const reply = await api('/checkins', { method: 'POST', body: item });
    showAnswer(reply);
    log(`${reply.status_text} ${reply.subject?.name || ''} ${reply.message}`, reply.color);
  } catch (err) {
    if (err.offline) await queueScan(item);
    else {
      showAnswer({ color: 'red', status_text: t('error.generic'), message: err.message, reason: err.reason });
      log(err.message, 'red');
    }
  }
}

async function queueScan(item) {
  await enqueue({ kind: 'scan', ...item });
  showAnswer({ color: 'yellow', status_text: t('guard.queued.status'), message: t('guard.queued.message'),
    reason: 'queued_offline' });
  log(`${t('guard.queued.status')} · ${t('log.queued')}`, 'yellow');
  await showSync();
}

// --- the offline queue ------------------------------------------------------------------------

async function showSync(mode) {
  const n = (await queued()).length;
  const box = $('#sync');
  if (mode === 'syncing') { box.textContent = t('sync.syncing'); box.dataset.state = 'syncing'; return; }
  if (!navigator.onLine) { box.textContent = t('sync.offline', { n }); box.dataset.state = 'offline'; }
  else if (n) { box.textContent = t('sync.pending', { n }); box.dataset.state = 'pending'; }
  else { box.textContent = t('sync.online'); box.dataset.state = 'synced'; }
  box.dataset.pending = String(n);
}

/** Upload queued scans (at most 200 a batch); keep those the server did not answer. */
async function sync() {
  if (state.syncing || !navigator.onLine) { await showSync(); return; }
  const items = (await queued()).slice(0, 200);
  if (!items.length) { await showSync(); return; }
  state.syncing = true;
  await showSync('syncing');
  try {
    const { results } = await api('/checkins/batch', { method: 'POST', body: { items } });
    const answered = results.filter((r) => r.status < 500).map((r) => r.client_id || items[r.index].client_id);
    await remove(answered);
    for (const r of results) {
      const c = r.checkin;
      if (c) log(`${c.status_text} ${c.subject?.name || ''} ${c.message}${t('log.synced')}`, c.color);
      else if (r.error) log(`${r.error.message || r.error.reason}${t('log.synced')}`, 'red');
    }
    toast(t('sync.done', { n: answered.length }));
  } catch (err) {
    if (!err.offline) log(err.message, 'red');
  } finally {
    state.syncing = false;
    await showSync();
  }
}

// --- shift clock-in ---------------------------------------------------------------------------

async function clock(kind) {
  const code = $('#code').value.trim();
  if (!code) { formError(t('guard.code.needed')); return; }
  formError('');
  try {
    const event = await api(`/rosters/clock-${kind}`, { method: 'POST', body: { code } });
    const text = `${t(kind === 'in' ? 'guard.clocked.in' : 'guard.clocked.out')}${event.late ? t('guard.clocked.late') : ''}`;
    showAnswer({ color: event.late ? 'yellow' : 'green', status_text: text, message: new Date(event.at).toLocaleTimeString(), reason: `clock_${kind}` });
    log(text, event.late ? 'yellow' : 'green');
    $('#code').value = '';
  } catch (err) {
    showAnswer({ color: 'red', status_text: t('error.generic'), message: err.message, reason: err.reason });
    log(err.message, 'red');
  }
}

// --- the camera -------------------------------------------------------------------------------

function cameraState(key, stateName) {
  const p = $('#camera-state');
  p.dataset.i18n = key;
  p.textContent = t(key);
  p.dataset.state = stateName;
}

async function startCamera() {
  const stop = await startQrCamera($('#video'), onDetected, { paused: () => Boolean(document.querySelector('.answer')) });
  if (!stop) { cameraState('guard.camera.none', 'none'); return; }
  $('#camera-start').hidden = true;
  cameraState('guard.camera.on', 'on');
}

async function onDetected(value) {
  const now = Date.now();
  if (value === state.lastCode && now - state.lastAt < 10000) return; // the same code still in view
  state.lastCode = value;
  state.lastAt = now;
  if (state.mode === 'clock') { $('#code').value = value; return; }
  await checkIn(value);
}

// --- start ------------------------------------------------------------------------------------

async function loadGates() {
  const me = await api('/me');
  const select = $('#gate');
  const ids = me.scope?.compound_ids?.length ? me.scope.compound_ids : [me.compound_id].filter(Boolean);
  const options = [];
  for (const compoundId of ids) {
    const page = await api(`/compounds/${compoundId}/gates`, { query: { page_size: 100 } });
    for (const gate of page.items) options.push(el('option', { value: gate.id }, gate.name));
  }
  select.replaceChildren(...options);
  const saved = localStorage.getItem(GATE_KEY);
  if (saved && options.some((o) => o.value === saved)) select.value = saved;
  state.gateId = Number(select.value) || null;
  select.addEventListener('change', () => {
    state.gateId = Number(select.value);
    localStorage.setItem(GATE_KEY, select.value);
  });
}

async function main() {
  if (!requireRole('guard')) return;
  initPage();
  $$('[data-mode]').forEach((b) => b.addEventListener('click', () => setMode(b.dataset.mode)));
  $$('[data-direction]').forEach((b) => b.addEventListener('click', () => {
    state.direction = b.dataset.direction;
    setPressed('direction', state.direction);
  }));
  $$('[data-clock]').forEach((b) => b.addEventListener('click', () => clock(b.dataset.clock)));
  $('#manual').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = $('#code').value.trim();
    if (!code) { formError(t('guard.code.needed')); return; }
    checkIn(code);
  });
  $('#camera-start').addEventListener('click', startCamera);
  document.addEventListener('wuye:lang', () => showSync());
  window.addEventListener('online', sync);
  window.addEventListener('offline', () => showSync());
  setInterval(sync, 15000);
  try { await loadGates(); } catch (err) { toast(err.message, { kind: 'error', ms: 0 }); }
  await sync();
  if (await cameraGranted()) startCamera();
}

main();
