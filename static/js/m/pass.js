// The resident's pass: the QR from /me/pass (SVG shown as an image), refreshed before it expires,
// a countdown, and the masked name (as the guard's screen shows it).
import { api } from '../api.js';
import { $ } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { MENU_STRINGS, maskName, requireRole } from './common.js';

addStrings({
  ...MENU_STRINGS,
  'pass.title': ['我的通行码', 'My pass'],
  'pass.qr': ['通行码二维码', 'Pass QR code'],
  'pass.hint': ['请向门岗保安出示此码;二维码会自动刷新。', 'Show this code to the guard; it refreshes by itself.'],
  'pass.refresh': ['立即刷新', 'Refresh now'],
  'pass.countdown': ['{s} 秒后刷新', 'Refreshes in {s} s'],
  'pass.expired': ['已过期,正在刷新…', 'Expired, refreshing…'],
  'pass.quarantine': ['居家隔离中(至 {until}):请勿外出', 'In home quarantine (until {until}): do not go out'],
});

let refreshTimer = null;
let expiresAtLocal = 0;
let refreshAtLocal = 0;
let objectUrl = null;

async function loadPass() {
  clearTimeout(refreshTimer);
  try {
    // The API sends the code alone by default (the mini-program draws its own QR): ask for the SVG.
    const pass = await api('/me/pass', { query: { qr: 'svg' } });
    const received = Date.now();
    // The server's clock decides validity: count from its issue time with the local clock.
    expiresAtLocal = received + (Date.parse(pass.expires_at) - Date.parse(pass.issued_at));
    refreshAtLocal = received + pass.refresh_after_seconds * 1000;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(new Blob([pass.svg], { type: 'image/svg+xml' }));
    const img = $('#qr');
    img.src = objectUrl;
    img.hidden = false;
    img.dataset.expiresAt = pass.expires_at;
    $('#pass-error').hidden = true;
    refreshTimer = setTimeout(loadPass, pass.refresh_after_seconds * 1000);
  } catch (err) {
    $('#pass-error').textContent = err.offline ? t('error.network') : err.message;
    $('#pass-error').hidden = false;
    refreshTimer = setTimeout(loadPass, 5000);
  }
  tick();
}

function tick() {
  const now = Date.now();
  const box = $('#countdown');
  if (!expiresAtLocal) return;
  if (now >= expiresAtLocal) { box.textContent = t('pass.expired'); box.dataset.low = 'true'; $('#qr').hidden = true; return; }
  const seconds = Math.max(0, Math.ceil((refreshAtLocal - now) / 1000));
  box.textContent = t('pass.countdown', { s: seconds });
  box.dataset.low = String(seconds <= 5);
}

async function main() {
  if (!requireRole('resident')) return;
  initPage();
  $('#refresh').addEventListener('click', loadPass);
  document.addEventListener('wuye:lang', tick);
  setInterval(tick, 1000);
  loadPass();
  try {
    const me = await api('/me');
    $('#pass-name').textContent = maskName(me.display_name);
    const quarantine = await api('/me/quarantine');
    if (quarantine.active) {
      const until = new Date(quarantine.active.ends_at).toLocaleDateString();
      $('#quarantine').textContent = t('pass.quarantine', { until });
      $('#quarantine').hidden = false;
    }
  } catch { /* the pass itself still shows */ }
}

main();
