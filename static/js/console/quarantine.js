// Home quarantine of a compound: the orders in force (extend, lift with a reason), place a household
// in quarantine, and turn a returnee's trip that needs attention into an order.
import { api } from '../api.js';
import { $, el, formData, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { act, clock, label, startConsolePage } from './shell.js';

addStrings({
  'q.orders': ['隔离中的住户', 'Households in quarantine'],
  'q.household': ['住户', 'Household'], 'q.reason': ['原因', 'Reason'], 'q.from': ['来自', 'From'],
  'q.period': ['隔离期', 'Period'], 'q.status': ['状态', 'Status'],
  'q.extend': ['延长 7 天', 'Extend 7 days'], 'q.lift': ['解除', 'Lift'], 'q.lift.reason': ['解除原因', 'Reason to lift'],
  'q.place': ['登记居家隔离', 'Place in quarantine'], 'q.days': ['天数', 'Days'], 'q.city': ['来自城市', 'From city'],
  'q.save': ['登记', 'Place'], 'q.placed': ['已登记', 'Placed'],
  'q.trips': ['需关注的返乡行程', 'Returnee trips needing attention'], 'q.fromtrip': ['转为居家隔离', 'Quarantine'],
  'q.fromtrip.done': ['已转隔离', 'Quarantined'],
  'q.extended': ['已延长', 'Extended'], 'q.lifted': ['已解除', 'Lifted'],
});
const REASONS = { returned_from_city: ['外地返回', 'Returned from a city'], close_contact: ['密切接触', 'Close contact'], other: ['其他', 'Other'] };
const TRIP_STATUS = { upcoming: ['尚未返回', 'Not back yet'], attention: ['返回观察期内', 'Back, being watched'] };
const STATUS = { scheduled: ['待开始', 'Scheduled'], active: ['隔离中', 'Active'], ended: ['已结束', 'Ended'], lifted: ['已解除', 'Lifted'] };

async function refresh(compound) {
  const [active, scheduled, households, residents, attention, upcoming] = await Promise.all([
    api(`/compounds/${compound.id}/quarantine-orders`, { query: { status: 'active', page_size: 100 } }),
    api(`/compounds/${compound.id}/quarantine-orders`, { query: { status: 'scheduled', page_size: 100 } }),
    api(`/compounds/${compound.id}/households`, { query: { page_size: 100 } }),
    api(`/compounds/${compound.id}/residents`, { query: { residency: 'approved', page_size: 100 } }),
    api(`/compounds/${compound.id}/trips`, { query: { status: 'attention', page_size: 50 } }),
    api(`/compounds/${compound.id}/trips`, { query: { status: 'upcoming', page_size: 50 } }),
  ]);
  const name = (id) => households.items.find((h) => h.id === id)?.label || (id ? `#${id}` : '');
  const person = (id) => residents.items.find((r) => r.id === id)?.display_name || '';
  const who = (householdId, userId) => [name(householdId), userId ? person(userId) : ''].filter(Boolean).join(' · ');
  const trips = [...upcoming.items, ...attention.items];
  const again = () => refresh(compound);
  const orders = [...active.items, ...scheduled.items];
  const rows = orders.map((o) => {
    const why = el('input', { 'aria-label': t('q.lift.reason'), placeholder: t('q.lift.reason'), maxlength: 200 });
    return el('tr', { dataset: { id: o.id } }, el('td', {}, who(o.household_id, o.user_id)), el('td', {}, label(REASONS, o.reason)),
      el('td', {}, o.from_city || ''), el('td', {}, `${clock(o.starts_at, { date: true })} – ${clock(o.ends_at, { date: true })}`),
      el('td', {}, label(STATUS, o.status)),
      el('td', { class: 'actions' },
        el('button', { type: 'button', onclick: (e) => act(e.currentTarget, async () => {
          await api(`/quarantine-orders/${o.id}/extend`, { method: 'POST', body: { days: 7 } }); toast(t('q.extended'));
        }, again) }, t('q.extend')),
        why, el('button', { type: 'button', class: 'danger', onclick: (e) => (why.value.trim() ? act(e.currentTarget, async () => {
          await api(`/quarantine-orders/${o.id}/lift`, { method: 'POST', body: { reason: why.value.trim() } }); toast(t('q.lifted'));
        }, again) : why.focus()) }, t('q.lift'))));
  });
  const table = el('section', { class: 'card' }, el('h3', {}, `${t('q.orders')} (${orders.length})`),
    orders.length ? el('table', { class: 'list', id: 'orders' }, el('thead', {}, el('tr', {},
      ['q.household', 'q.reason', 'q.from', 'q.period', 'q.status', ''].map((k) => el('th', {}, k ? t(k) : '')))), el('tbody', {}, rows))
      : el('p', { class: 'muted' }, t('empty')));
  const form = el('form', { class: 'card', id: 'place-form' }, el('h3', {}, t('q.place')),
    el('div', { class: 'field' }, el('label', { for: 'q-household' }, t('q.household')),
      el('select', { id: 'q-household', name: 'household_id' }, households.items.map((h) => el('option', { value: h.id }, h.label)))),
    el('div', { class: 'field' }, el('label', { for: 'q-reason' }, t('q.reason')),
      el('select', { id: 'q-reason', name: 'reason' }, Object.keys(REASONS).map((r) => el('option', { value: r }, label(REASONS, r))))),
    el('div', { class: 'field' }, el('label', { for: 'q-city' }, t('q.city')), el('input', { id: 'q-city', name: 'from_city', maxlength: 50 })),
    el('div', { class: 'field' }, el('label', { for: 'q-days' }, t('q.days')), el('input', { id: 'q-days', name: 'days', type: 'number', min: 1, max: 60, value: 14 })),
    el('button', { type: 'submit', class: 'primary' }, t('q.save')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = formData(form);
    act(form.querySelector('[type=submit]'), async () => {
      await api(`/compounds/${compound.id}/quarantine-orders`, { method: 'POST', body: {
        household_id: Number(data.household_id), reason: data.reason, days: Number(data.days), ...(data.from_city ? { from_city: data.from_city } : {}) } });
      toast(t('q.placed'));
    }, again);
  });
  const tripBox = el('section', { class: 'card', id: 'trips' }, el('h3', {}, `${t('q.trips')} (${trips.length})`),
    trips.length ? el('ul', {}, trips.map((trip) => el('li', { class: 'row', dataset: { id: trip.id } },
      el('span', { class: 'grow' }, `${who(trip.household_id, trip.user_id)} · ${trip.from_city} · ${clock(trip.returned_at, { date: true })} `,
        el('span', { class: 'muted' }, label(TRIP_STATUS, trip.status))),
      trip.quarantine_order_id ? el('span', { class: 'badge' }, t('q.fromtrip.done')) : el('button', { type: 'button', onclick: (e) => act(e.currentTarget, async () => {
        await api(`/trips/${trip.id}/quarantine`, { method: 'POST', body: {} }); toast(t('q.placed'));
      }, again) }, t('q.fromtrip')))))
      : el('p', { class: 'muted' }, t('empty')));
  mount($('#quarantine'), table, el('div', { class: 'grid-2' }, form, tripBox));
}

startConsolePage('quarantine', ({ compound }) => (compound ? refresh(compound) : null));
