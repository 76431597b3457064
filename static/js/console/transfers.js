// Supplies transfers between the alliance's holders (a company's warehouse or a compound): offer items
// of a holder I run to another company or compound (moved at once when I run the receiver too), and
// the transfers in and out with their status and each side's actions: the receiver accepts, receives
// (the whole quantity enters its stock) or declines; the giver cancels before it is received.
import { api, newId } from '../api.js';
import { $, el, formData, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { itemAmount, itemName, itemOption } from './items.js';
import { act, clock, label, myCompounds } from './shell.js';

addStrings({
  'tr.offer': ['调拨物资给其他单位', 'Send supplies to another holder'], 'tr.from': ['调出方', 'From'], 'tr.to': ['调入方', 'To'],
  'tr.companies': ['企业仓库', 'Company warehouses'], 'tr.compounds': ['小区', 'Compounds'], 'tr.warehouse': ['{name}(仓库)', '{name} (warehouse)'],
  'tr.note': ['备注', 'Note'], 'tr.send': ['发出调拨', 'Offer'], 'tr.sent': ['已发出调拨,等待对方接受', 'Offered; waiting for the receiver'],
  'tr.moved': ['已在本单位内调拨', 'Moved between your own holders'], 'tr.available': ['可调出 {n}', '{n} available'],
  'tr.list': ['调拨记录', 'Transfers'], 'tr.all': ['全部', 'All'], 'tr.open': ['进行中', 'In progress'],
  'tr.in': ['调入', 'In'], 'tr.out': ['调出', 'Out'], 'tr.what': ['物资', 'Item'], 'tr.route': ['调出 → 调入', 'From → to'],
  'tr.state': ['状态', 'Status'], 'tr.none': ['暂无调拨', 'No transfer'], 'tr.mine': ['无可调出的持有方', 'You run no holder to send from'],
  'tr.accept': ['接受', 'Accept'], 'tr.receive': ['确认收到 {n}', 'Received {n}'], 'tr.decline': ['拒绝', 'Decline'], 'tr.cancel': ['撤回', 'Cancel'],
  'tr.reason': ['原因(可不填)', 'Reason (optional)'], 'tr.confirm.decline': ['确认拒绝', 'Decline it'], 'tr.confirm.cancel': ['确认撤回', 'Cancel it'],
  'tr.back': ['不了', 'Keep it'], 'tr.accepted': ['已接受,请在收到后确认', 'Accepted; confirm when it arrives'],
  'tr.received': ['已收货,库存已更新', 'Received; the stock is updated'], 'tr.declined': ['已拒绝,物资退回调出方', 'Declined; the items return to the giver'],
  'tr.cancelled': ['已撤回,物资退回本方库存', 'Cancelled; the items are back in your stock'],
});
const STATUS = { offered: ['待接受', 'Offered'], accepted: ['已接受 · 在途', 'Accepted · on the way'], received: ['已收货', 'Received'],
  declined: ['已拒绝', 'Declined'], cancelled: ['已撤回', 'Cancelled'] };
const BADGE = { offered: 'orange', accepted: 'blue', received: 'green', declined: 'red', cancelled: '' };

const key = (h) => `${h.kind}:${h.id}`;
let context = null;
let statusFilter = 'all';

/** Who I am and the alliance's holders: those I run (may send from, act for) and every other one. */
export async function transferContext() {
  if (context) return context;
  const [me, summary] = await Promise.all([api('/me'), api('/alliance')]);
  const warehouse = (c) => ({ kind: 'company', id: c.id, name: c.name });
  const companies = summary.companies.map(warehouse);
  const compounds = new Map();
  for (const c of summary.companies) for (const x of c.compounds) compounds.set(x.id, { kind: 'compound', id: x.id, name: x.name });
  for (const x of summary.compounds_without_company) compounds.set(x.id, { kind: 'compound', id: x.id, name: x.name });
  let mine = [];
  if (me.role === 'staff') {
    const own = summary.companies.find((c) => c.id === me.company_id);
    mine = [...(own ? [warehouse(own)] : []), ...(await myCompounds()).map((x) => ({ kind: 'compound', id: x.id, name: x.name }))];
  } else {
    mine = summary.compounds_without_company.map((x) => ({ kind: 'compound', id: x.id, name: x.name }));
  }
  context = { companies, compounds: [...compounds.values()], mine, runs: new Set(mine.map(key)) };
  return context;
}

function holderName(h) {
  return h.kind === 'company' ? t('tr.warehouse', { name: h.name }) : h.name;
}

function field(id, labelKey, input) {
  return el('div', { class: 'field' }, el('label', { for: id }, t(labelKey)), input);
}

/** An API error in the form's alert line: the message and each field's complaint. */
export function showFormError(box, err) {
  const fields = Object.values(err?.errors?.json || err?.errors || {}).flatMap((v) => (Array.isArray(v) ? v : Object.values(v || {})).flat());
  box.textContent = [err?.offline ? t('error.network') : (err?.message || t('error.generic')), ...fields].join(' · ');
  box.hidden = false;
}

/** The offer form: from a holder I run, an item and a quantity, to any other holder of the alliance. */
export function transferForm(ctx, items, stock, picked, after) {
  if (!ctx.mine.length) return el('section', { class: 'card', id: 'transfer-form' }, el('h3', {}, t('tr.offer')), el('p', { class: 'muted' }, t('tr.mine')));
  const from = el('select', { id: 'tr-from', name: 'from' }, ctx.mine.map((h) => el('option', { value: key(h) }, holderName(h))));
  const option = (h) => el('option', { value: key(h) }, holderName(h));
  const to = el('select', { id: 'tr-to', name: 'to' },
    el('optgroup', { label: t('tr.companies') }, ctx.companies.map(option)),
    el('optgroup', { label: t('tr.compounds') }, ctx.compounds.map(option)));
  const item = el('select', { id: 'tr-item', name: 'item' }, items.map((i) => el('option', { value: i.code, selected: i.code === picked }, itemOption(i))));
  const hint = el('p', { class: 'muted', id: 'tr-available' });
  const showAvailable = () => {
    const row = stock.find((s) => s.item.code === item.value && key(s.holder) === from.value);
    const it = items.find((i) => i.code === item.value);
    hint.textContent = it ? t('tr.available', { n: itemAmount(it, row ? row.quantity : 0) }) : '';
    [...to.options].forEach((o) => { o.disabled = o.value === from.value; });
    if (to.value === from.value) to.value = [...to.options].find((o) => !o.disabled)?.value;
  };
  from.addEventListener('change', showAvailable);
  item.addEventListener('change', showAvailable);
  const error = el('p', { class: 'error', role: 'alert', id: 'tr-error', hidden: true });
  const form = el('form', { class: 'card', id: 'transfer-form' }, el('h3', {}, t('tr.offer')),
    el('div', { class: 'grid-2' }, field('tr-from', 'tr.from', from), field('tr-to', 'tr.to', to)),
    el('div', { class: 'grid-2' }, field('tr-item', 's.item', item),
      field('tr-qty', 's.qty', el('input', { id: 'tr-qty', name: 'quantity', type: 'number', min: 1, required: true }))),
    hint, field('tr-note', 'tr.note', el('input', { id: 'tr-note', name: 'note', maxlength: 200 })),
    error, el('button', { type: 'submit', class: 'primary' }, t('tr.send')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = formData(form);
    const [fromKind, fromId] = data.from.split(':');
    const [toKind, toId] = data.to.split(':');
    const inside = ctx.runs.has(data.to);
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    error.hidden = true;
    try {
      await api(inside ? '/supplies/moves' : '/supplies/transfers', { method: 'POST', body: {
        client_id: newId(), item: data.item, from: { kind: fromKind, id: Number(fromId) }, to: { kind: toKind, id: Number(toId) },
        quantity: Number(data.quantity), note: data.note.trim() } });
      form.querySelector('[name=quantity]').value = '';
      form.querySelector('[name=note]').value = '';
      toast(t(inside ? 'tr.moved' : 'tr.sent'));
      await after(data.item);
    } catch (err) {
      showFormError(error, err);
    } finally { button.disabled = false; }
  });
  form.refreshStock = (fresh) => { stock = fresh; showAvailable(); };
  showAvailable();
  return form;
}

function actions(ctx, tr, after) {
  const incoming = ctx.runs.has(key(tr.to));
  const outgoing = ctx.runs.has(key(tr.from));
  const box = el('div', { class: 'actions' });
  const call = (path, body, done) => (e) => act(e.currentTarget, async () => {
    await api(`/supplies/transfers/${tr.id}/${path}`, { method: 'POST', body });
    toast(t(done));
  }, after);
  const closing = (path, confirmKey, done) => () => {
    const reason = el('input', { name: 'reason', maxlength: 200, 'aria-label': t('tr.reason'), placeholder: t('tr.reason') });
    const list = box.closest('#transfers');
    const restore = () => { delete list.dataset.busy; mount(box, ...buttons()); };
    list.dataset.busy = '1'; // a reason being typed: the polling leaves the list alone
    mount(box, reason, el('button', { type: 'button', class: 'danger', onclick: (e) => call(path, { reason: reason.value.trim() }, done)(e) }, t(confirmKey)),
      el('button', { type: 'button', onclick: restore }, t('tr.back')));
    reason.focus();
  };
  const buttons = () => [
    incoming && tr.status === 'offered' ? el('button', { type: 'button', class: 'primary', onclick: call('accept', undefined, 'tr.accepted') }, t('tr.accept')) : null,
    incoming && tr.status === 'accepted' ? el('button', { type: 'button', class: 'primary', onclick: call('receive', undefined, 'tr.received') },
      t('tr.receive', { n: itemAmount(tr.item, tr.quantity) })) : null,
    incoming && tr.status === 'offered' ? el('button', { type: 'button', class: 'danger', onclick: closing('decline', 'tr.confirm.decline', 'tr.declined') }, t('tr.decline')) : null,
    outgoing && tr.in_transit ? el('button', { type: 'button', class: 'danger', onclick: closing('cancel', 'tr.confirm.cancel', 'tr.cancelled') }, t('tr.cancel')) : null,
  ].filter(Boolean);
  mount(box, ...buttons());
  return box;
}

function row(ctx, tr, after) {
  const incoming = ctx.runs.has(key(tr.to));
  const outgoing = ctx.runs.has(key(tr.from));
  const when = tr.received_at || tr.closed_at || tr.accepted_at || tr.offered_at;
  return el('tr', { dataset: { id: tr.id, status: tr.status } },
    el('td', {}, incoming || outgoing ? el('span', { class: `badge ${incoming ? 'green' : ''}` }, t(incoming ? 'tr.in' : 'tr.out')) : ''),
    el('td', {}, el('strong', {}, itemName(tr.item.code, tr.item.name)), ' ', itemAmount(tr.item, tr.quantity),
      tr.note ? el('div', { class: 'muted' }, tr.note) : null),
    el('td', {}, `${holderName(tr.from)} → ${holderName(tr.to)}`),
    el('td', {}, el('span', { class: `badge ${BADGE[tr.status]}` }, label(STATUS, tr.status)), el('div', { class: 'muted' }, clock(when, { date: true })),
      tr.close_reason ? el('div', { class: 'muted' }, tr.close_reason) : null),
    el('td', {}, actions(ctx, tr, after)));
}

/** The transfers in and out (in progress, or all), newest first, with each side's actions. */
export async function transferList(ctx, after) {
  const page = await api('/supplies/transfers', { query: { kind: 'transfer', page_size: 30, status: statusFilter === 'all' ? null : statusFilter } });
  const filter = el('select', { id: 'tr-filter', 'aria-label': t('tr.state') },
    el('option', { value: 'all', selected: statusFilter === 'all' }, t('tr.all')),
    el('option', { value: 'in_transit', selected: statusFilter === 'in_transit' }, t('tr.open')));
  filter.addEventListener('change', async () => { statusFilter = filter.value; $('#transfers').replaceWith(await transferList(ctx, after)); $('#tr-filter').focus(); });
  return el('section', { class: 'card', id: 'transfers' }, el('div', { class: 'row' }, el('h3', { class: 'grow' }, t('tr.list')), filter),
    page.items.length ? el('div', { class: 'scroll-x' }, el('table', { class: 'list', id: 'transfer-list' },
      el('thead', {}, el('tr', {}, ['', 'tr.what', 'tr.route', 'tr.state', ''].map((k) => el('th', {}, k ? t(k) : '')))),
      el('tbody', {}, page.items.map((tr) => row(ctx, tr, after)))))
      : el('p', { class: 'muted' }, t('tr.none')));
}

/** Redraw the transfer list alone (the other side's answers), unless someone is acting in it. */
export async function refreshTransferList(ctx, after) {
  const idle = (list) => list?.isConnected && !list.dataset.busy && !list.contains(document.activeElement);
  const old = $('#transfers');
  if (!idle(old)) return;
  const fresh = await transferList(ctx, after);
  if (idle(old)) old.replaceWith(fresh);
}
