// Temperature self-report (twice a day in home quarantine): the order's status, the form, history.
import { api, newId } from '../api.js';
import { $, el, formatTime } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { MENU_STRINGS, requireRole } from './common.js';

addStrings({
  ...MENU_STRINGS,
  'temperature.title': ['体温上报', 'Report temperature'],
  'temperature.celsius': ['体温(℃)', 'Temperature (°C)'],
  'temperature.submit': ['提交体温', 'Submit'],
  'temperature.history': ['近期记录', 'Recent readings'],
  'temperature.none': ['暂无记录', 'No readings yet'],
  'temperature.quarantine': ['居家隔离中,至 {until};今日已报 {n}/{of} 次', 'In home quarantine until {until}; {n}/{of} reports today'],
  'temperature.slot.done': ['本时段已上报', 'This period is reported'],
  'temperature.free': ['未在隔离期,可自愿上报', 'Not in quarantine; reporting is voluntary'],
  'temperature.range': ['请输入 34.0 至 43.0 之间的体温', 'Enter a temperature from 34.0 to 43.0'],
  'consent.title': ['健康信息采集同意', 'Consent to health data'],
  'consent.text': ['体温等健康信息仅用于本小区疫情防控,按规定期限保存,您可随时撤回同意。',
    'Temperatures and other health data are used only for epidemic control in this compound, kept for the set period; you may withdraw at any time.'],
  'consent.give': ['同意并继续', 'Agree and continue'],
  'temperature.ok': ['已记录:{c}℃ 正常', 'Recorded: {c} °C, normal'],
});

async function loadStatus() {
  const q = await api('/me/quarantine');
  const box = $('#status');
  if (q.active) {
    box.className = 'status-banner red';
    box.textContent = t('temperature.quarantine', { until: formatTime(q.active.ends_at, { date: true }),
      n: q.reports_today, of: q.reports_required_per_day }) + (q.current_slot_reported ? ` · ${t('temperature.slot.done')}` : '');
  } else {
    box.className = 'status-banner green';
    box.textContent = t('temperature.free');
  }
}

/** Ask for consent when there is no lawful basis yet (no consent, no declared emergency). */
async function loadConsent() {
  const consent = await api('/me/consent');
  const needed = !consent.consented && !consent.health_emergency;
  $('#consent').hidden = !needed;
  $('#report').hidden = needed;
}

async function giveConsent() {
  try {
    await api('/me/consent', { method: 'POST', body: {} });
    await loadConsent();
    $('#celsius').focus();
  } catch (err) {
    $('#report-error').textContent = err.message;
    $('#report-error').hidden = false;
  }
}

async function loadHistory() {
  const body = await api('/me/temperatures');
  const items = Array.isArray(body) ? body : (body.items || []);
  const list = $('#history');
  if (!items.length) { list.replaceChildren(el('li', { class: 'muted' }, t('temperature.none'))); return; }
  list.replaceChildren(...items.slice(0, 14).map((r) => el('li', { class: r.high ? 'error' : '' },
    `${formatTime(r.measured_at || r.created_at, { date: true })} · ${Number(r.celsius).toFixed(1)}℃`)));
}

async function submit(event) {
  event.preventDefault();
  const value = Number($('#celsius').value);
  const error = $('#report-error');
  const result = $('#report-result');
  result.hidden = true;
  if (!(value >= 34 && value <= 43)) { error.textContent = t('temperature.range'); error.hidden = false; return; }
  error.hidden = true;
  try {
    const reading = await api('/me/temperatures', { method: 'POST',
      body: { celsius: value.toFixed(1), client_id: newId(), device_time: new Date().toISOString() } });
    result.className = `status-banner ${reading.outcome === 'normal' ? 'green' : 'red'}`;
    result.textContent = reading.message || t('temperature.ok', { c: Number(reading.celsius).toFixed(1) });
    result.hidden = false;
    $('#celsius').value = '';
    await Promise.all([loadStatus(), loadHistory()]);
  } catch (err) {
    error.textContent = err.offline ? t('error.network') : err.message;
    error.hidden = false;
  }
}

async function main() {
  if (!requireRole('resident')) return;
  initPage();
  $('#report').addEventListener('submit', submit);
  $('#consent-give').addEventListener('click', giveConsent);
  await Promise.all([loadConsent(), loadStatus(), loadHistory()]).catch((err) => {
    $('#report-error').textContent = err.message;
    $('#report-error').hidden = false;
  });
}

main();
