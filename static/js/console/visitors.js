// Visitors (访客) of a compound: staff see who was announced or registered (phone masked by the API),
// cancel an expected visitor, and who is inside now (refreshed every 15 seconds). The API lets only a
// resident announce a visitor and read the visitor pass, so a resident signed in here gets the
// register form and a printable pass instead.
import { api, claims, getTokens, newId } from '../api.js';
import { $, el, formData, mount, toast } from '../dom.js';
import { addStrings, lang, t } from '../i18n.js';
import { act, clock, label, poll, showError, startConsolePage } from './shell.js';

addStrings({
  'v.list': ['访客登记', 'Visitors registered'], 'v.inside': ['当前在园访客', 'Visitors inside now'],
  'v.name': ['姓名', 'Name'], 'v.phone': ['电话', 'Phone'], 'v.kind': ['类型', 'Kind'], 'v.date': ['到访日期', 'Date'],
  'v.from': ['来自', 'From'], 'v.purpose': ['事由', 'Purpose'], 'v.status': ['状态', 'Status'],
  'v.arrived': ['进入时间', 'Came in'], 'v.returnee': ['外地来访', 'From another city'],
  'v.filter.status': ['状态筛选', 'Status'], 'v.filter.all': ['全部', 'All'], 'v.filter.date': ['到访日期', 'Date'],
  'v.cancel': ['取消', 'Cancel'], 'v.cancelled': ['已取消访客 {name}', 'Cancelled {name}'],
  'v.register': ['登记访客', 'Register a visitor'], 'v.save': ['登记', 'Register'],
  'v.registered': ['已登记访客 {name}', 'Registered {name}'],
  'v.pass': ['访客通行码', 'Visitor pass'], 'v.pass.show': ['通行码', 'Pass'], 'v.print': ['打印', 'Print'],
  'v.close': ['关闭', 'Close'], 'v.pass.how': ['请将此二维码转发给访客,仅限到访当日使用。', 'Forward this QR to the visitor; valid on the day of the visit only.'],
  'v.pass.staff': ['访客通行码只发给登记访客的住户,管理台不显示。', 'The visitor pass goes only to the resident who announced the visitor; the console does not show it.'],
});
const STATUS = { expected: ['待到访', 'Expected'], inside: ['在园', 'Inside'], left: ['已离开', 'Left'], cancelled: ['已取消', 'Cancelled'] };
const STATUS_COLOUR = { expected: 'blue', inside: 'green', left: '', cancelled: '' };
const KINDS = { pre_registered: ['住户预约', 'Announced'], walk_in: ['门岗登记', 'Walk-in'] };

let stop = null;
let filters = { status: '', date: '' };

const th = (keys) => el('thead', {}, el('tr', {}, keys.map((k) => el('th', {}, k ? t(k) : ''))));
const statusBadge = (v) => el('span', { class: `badge ${STATUS_COLOUR[v.status] || ''} status` }, label(STATUS, v.status));

/** The visitor pass of one visitor (resident only): the QR as PNG in a printable box. */
async function showPass(visitor) {
  const response = await fetch(`/api/v1/visitors/${visitor.id}/pass.png`, {
    headers: { Authorization: `Bearer ${getTokens()?.access_token}`, 'Accept-Language': lang() } });
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch { /* not JSON */ }
    throw Object.assign(new Error(data.message || `HTTP ${response.status}`), { status: response.status });
  }
  const url = URL.createObjectURL(await response.blob());
  const box = $('#pass-view');
  const close = () => { box.hidden = true; URL.revokeObjectURL(url); document.body.classList.remove('print-pass'); };
  mount(box, el('h3', {}, t('v.pass')),
    el('img', { id: 'pass-qr', src: url, alt: `${t('v.pass')} ${visitor.name}`, width: 240, height: 240 }),
    el('p', { class: 'pass-name' }, visitor.name), el('p', {}, `${t('v.date')}: ${visitor.expected_date}`),
    el('p', { class: 'pass-code' }, visitor.pass_code || ''), el('p', { class: 'muted' }, t('v.pass.how')),
    el('div', { class: 'actions no-print' },
      el('button', { type: 'button', class: 'primary', id: 'pass-print', onclick: () => window.print() }, t('v.print')),
      el('button', { type: 'button', onclick: close }, t('v.close'))));
  box.hidden = false;
  document.body.classList.add('print-pass');
  box.querySelector('#pass-print').focus();
}

function visitorTable(items, { resident, again }) {
  const row = (v) => el('tr', { dataset: { id: v.id, status: v.status } },
    el('td', {}, v.name, v.returnee ? el('span', { class: 'badge orange' }, t('v.returnee')) : null),
    el('td', {}, v.phone || ''), el('td', {}, label(KINDS, v.kind)), el('td', {}, v.expected_date),
    el('td', {}, v.from_city || ''), el('td', {}, v.purpose || ''), el('td', {}, statusBadge(v)),
    el('td', {}, el('div', { class: 'actions' },
      resident && v.pass_code && v.status === 'expected' ? el('button', { type: 'button', class: 'primary',
        onclick: (e) => act(e.currentTarget, () => showPass(v)) }, t('v.pass.show')) : null,
      v.status === 'expected' && claims()?.role !== 'guard' ? el('button', { type: 'button', class: 'danger', 'aria-label': `${t('v.cancel')} ${v.name}`,
        onclick: (e) => act(e.currentTarget, async () => {
          await api(`/visitors/${v.id}`, { method: 'DELETE' });
          toast(t('v.cancelled', { name: v.name }));
        }, again) }, t('v.cancel')) : null)));
  return items.length ? el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'visitor-list' },
    th(['v.name', 'v.phone', 'v.kind', 'v.date', 'v.from', 'v.purpose', 'v.status', '']), el('tbody', {}, items.map(row))))
    : el('p', { class: 'muted', id: 'visitor-list-empty' }, t('empty'));
}

function filterBar(onChange) {
  const status = el('select', { id: 'v-status', name: 'status' },
    el('option', { value: '' }, t('v.filter.all')),
    Object.keys(STATUS).map((s) => el('option', { value: s, selected: filters.status === s }, label(STATUS, s))));
  const date = el('input', { id: 'v-date', type: 'date', name: 'date', value: filters.date });
  const changed = () => { filters = { status: status.value, date: date.value }; onChange(); };
  status.addEventListener('change', changed);
  date.addEventListener('change', changed);
  return el('div', { class: 'inline' },
    el('div', { class: 'field' }, el('label', { for: 'v-status' }, t('v.filter.status')), status),
    el('div', { class: 'field' }, el('label', { for: 'v-date' }, t('v.filter.date')), date));
}

async function renderList(compound, resident) {
  const query = { page_size: 100, status: filters.status || undefined, date: filters.date || undefined };
  if (!resident) query.compound_id = compound.id;
  const list = await api('/visitors', { query });
  const again = () => renderList(compound, resident);
  $('#visitor-count').textContent = `${t('v.list')} (${list.total})`;
  mount($('#visitor-table'), visitorTable(list.items, { resident, again }));
}

/** The list's frame: title, filters (kept across refreshes), the table's place. */
function visitorBox(compound, resident) {
  const again = () => renderList(compound, resident).catch(showError);
  return el('section', { class: 'card', id: 'visitor-box' },
    el('div', { class: 'row' }, el('h3', { class: 'grow', id: 'visitor-count' }, t('v.list')), filterBar(again)),
    el('div', { id: 'visitor-table' }), resident ? null : el('p', { class: 'muted' }, t('v.pass.staff')));
}

async function renderInside(compound) {
  const inside = await api(`/compounds/${compound.id}/visitors/inside`, { query: { page_size: 100 } });
  const box = $('#inside');
  if (!box) return;
  mount(box, el('h3', {}, `${t('v.inside')} (${inside.total})`),
    inside.items.length ? el('ul', { class: 'plain' }, inside.items.map((v) => el('li', { dataset: { id: v.id } },
      el('strong', {}, v.name), ` · ${v.phone || ''} · ${t('v.arrived')} ${clock(v.arrived_at)}`,
      v.purpose ? ` · ${v.purpose}` : '', v.returnee ? el('span', { class: 'badge orange' }, t('v.returnee')) : null)))
      : el('p', { class: 'muted' }, t('empty')));
}

function registerForm(again) {
  const today = new Date().toLocaleDateString('en-CA');
  const form = el('form', { class: 'card', id: 'register-form' }, el('h3', {}, t('v.register')),
    el('div', { class: 'field' }, el('label', { for: 'v-name' }, t('v.name')), el('input', { id: 'v-name', name: 'name', required: true, maxlength: 50 })),
    el('div', { class: 'field' }, el('label', { for: 'v-phone' }, t('v.phone')), el('input', { id: 'v-phone', name: 'phone', type: 'tel', maxlength: 20 })),
    el('div', { class: 'field' }, el('label', { for: 'v-expected' }, t('v.date')), el('input', { id: 'v-expected', name: 'expected_date', type: 'date', required: true, value: today, min: today })),
    el('div', { class: 'field' }, el('label', { for: 'v-from' }, t('v.from')), el('input', { id: 'v-from', name: 'from_city', maxlength: 50 })),
    el('div', { class: 'field' }, el('label', { for: 'v-purpose' }, t('v.purpose')), el('input', { id: 'v-purpose', name: 'purpose', maxlength: 200 })),
    el('p', { class: 'error', id: 'register-error', role: 'alert', hidden: true }),
    el('button', { type: 'submit', class: 'primary' }, t('v.save')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = formData(form);
    const body = { name: data.name.trim(), expected_date: data.expected_date, client_id: newId() };
    for (const key of ['phone', 'from_city', 'purpose']) if (data[key].trim()) body[key] = data[key].trim();
    const error = $('#register-error');
    error.hidden = true;
    act(form.querySelector('[type=submit]'), async () => {
      try {
        await api('/visitors', { method: 'POST', body });
      } catch (err) {
        const fields = err.errors?.json ? Object.entries(err.errors.json).map(([k, v]) => `${k}: ${[].concat(v).join(', ')}`) : [];
        error.textContent = [err.message, ...fields].join(' · ');
        error.hidden = false;
        throw err;
      }
      toast(t('v.registered', { name: body.name }));
      form.reset();
    }, again);
  });
  return form;
}

startConsolePage('visitors', ({ compound }) => {
  if (stop) { stop(); stop = null; }
  const resident = claims()?.role === 'resident';
  const root = $('#visitors');
  if (!resident && !compound) { root.replaceChildren(); return; }
  const again = () => renderList(compound, resident).catch(showError);
  mount(root, el('section', { class: 'card pass-view', id: 'pass-view', hidden: true, 'aria-live': 'polite' }),
    resident ? el('div', { class: 'visitors-grid' }, visitorBox(compound, true), registerForm(again))
      : el('div', { class: 'visitors-grid' }, visitorBox(compound, false), el('section', { class: 'card', id: 'inside' })));
  if (resident) return renderList(compound, resident);
  stop = poll(() => Promise.all([renderList(compound, false), renderInside(compound)]), 15_000);
  return null;
}, { needsCompound: claims()?.role !== 'resident' });
