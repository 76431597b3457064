// The trip declaration (外地返回登记): where from and when back; the gate watches for 14 days after.
import { api } from '../api.js';
import { $, el, formatTime } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { MENU_STRINGS, requireRole } from './common.js';

addStrings({
  ...MENU_STRINGS,
  'trips.title': ['返回登记', 'Trip declaration'],
  'trips.new': ['登记外地返回', 'Declare a return from another city'],
  'trips.why': ['从外地返回的居民请如实登记;返回后 14 天内出入小区时门岗会留意。',
    'Residents back from another city declare it; for 14 days after, the gate keeps an eye out.'],
  'trips.from': ['从哪座城市返回', 'Returned from (city)'],
  'trips.on': ['返回日期', 'Day of return'],
  'trips.note': ['备注(选填)', 'Note (optional)'],
  'trips.submit': ['提交登记', 'Declare'],
  'trips.mine': ['我的登记', 'My declarations'],
  'trips.none': ['暂无登记', 'Nothing declared'],
  'trips.done': ['已登记:{city}', 'Declared: {city}'],
  'trips.required': ['请填写城市和返回日期', 'Enter the city and the day of return'],
  'trips.status.upcoming': ['尚未返回', 'not back yet'],
  'trips.status.attention': ['留意期内,至 {until}', 'watched until {until}'],
  'trips.status.over': ['已结束', 'over'],
});

function statusText(trip) {
  if (trip.status === 'attention') return t('trips.status.attention', { until: formatTime(trip.attention_until, { date: true }) });
  return t(`trips.status.${trip.status}`);
}

async function loadTrips() {
  const body = await api('/me/trips');
  const list = $('#trips');
  if (!body.items.length) { list.replaceChildren(el('li', { class: 'muted' }, t('trips.none'))); return; }
  list.replaceChildren(...body.items.map((trip) => el('li', { class: trip.status === 'attention' ? 'warn' : '' },
    `${trip.from_city} · ${formatTime(trip.returned_at, { date: true })} · ${statusText(trip)}`)));
}

async function declare(event) {
  event.preventDefault();
  const error = $('#declare-error');
  const done = $('#declare-result');
  const city = $('#from-city').value.trim();
  const day = $('#returned-on').value;
  done.hidden = true;
  if (!city || !day) { error.textContent = t('trips.required'); error.hidden = false; return; }
  error.hidden = true;
  try {
    const body = { from_city: city, returned_on: day };
    if ($('#trip-note').value.trim()) body.note = $('#trip-note').value.trim();
    const trip = await api('/me/trips', { method: 'POST', body });
    done.textContent = t('trips.done', { city: trip.from_city });
    done.hidden = false;
    event.target.reset();
    await loadTrips();
  } catch (err) {
    error.textContent = err.offline ? t('error.network') : err.message;
    error.hidden = false;
  }
}

async function main() {
  if (!requireRole('resident')) return;
  initPage();
  $('#declare').addEventListener('submit', declare);
  await loadTrips().catch((err) => { $('#declare-error').textContent = err.message; $('#declare-error').hidden = false; });
}

main();
