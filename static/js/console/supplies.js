// The supplies ledger (防疫物资): stock at every holder the user may see (low stock marked), record
// what the picked compound received or used, transfers to and from other companies and compounds
// (transfers.js), and one item's ledger with running balances (CSV too).
import { api, newId } from '../api.js';
import { $, el, formData, mount, toast } from '../dom.js';
import { addStrings, lang, t } from '../i18n.js';
import { itemAmount, itemName, itemOption } from './items.js';
import { act, clock, download, label, poll, startConsolePage } from './shell.js';
import { refreshTransferList, transferContext, transferForm, transferList } from './transfers.js';

addStrings({
  's.stock': ['库存', 'Stock'], 's.holder': ['持有方', 'Holder'], 's.item': ['物资', 'Item'], 's.qty': ['数量', 'Quantity'],
  's.low': ['低于警戒', 'Low'], 's.transit': ['在途', 'In transit'],
  's.record': ['登记本小区出入库', 'Record for this compound'], 's.kind': ['类型', 'Kind'],
  's.receipt': ['入库(收到)', 'Received'], 's.use': ['出库(使用)', 'Used'], 's.source': ['来源 / 备注', 'Source / note'],
  's.save': ['登记', 'Record'], 's.saved': ['已登记,结余 {n}', 'Recorded; balance {n}'],
  's.ledger': ['台账', 'Ledger'], 's.csv': ['导出 CSV', 'Export CSV'], 's.when': ['时间', 'When'],
  's.balance': ['结余', 'Balance'], 's.by': ['经办', 'By'], 's.noitems': ['物资目录为空(由联盟管理员添加)', 'The catalogue is empty (the alliance admin adds items)'],
});
const KINDS = { receipt: ['入库', 'Received'], use: ['使用', 'Used'], adjustment: ['盘点调整', 'Adjusted'], transfer_out: ['调出', 'Sent'], transfer_in: ['调入', 'Received (transfer)'], transfer_return: ['退回', 'Returned'] };

let picked = null;
let drawnIn = null; // the language the kept forms were drawn in
let polling = false;

async function refresh(compound) {
  const [items, stock, ctx] = await Promise.all([api('/supplies/items'), api('/supplies/stock'), transferContext()]);
  const again = () => refresh(compound);
  if (!items.length) { mount($('#supplies'), el('p', { class: 'muted' }, t('s.noitems'))); return; }
  picked = items.find((i) => i.code === picked)?.code || items[0].code;
  const ledger = await api('/supplies/ledger', { query: { item: picked, page_size: 50 } });
  const stockTable = el('section', { class: 'card' }, el('h3', {}, t('s.stock')),
    stock.length ? el('div', { class: 'scroll-x' }, el('table', { class: 'list', id: 'stock' }, el('thead', {}, el('tr', {}, ['s.holder', 's.item', 's.qty', 's.transit', ''].map((k) => el('th', {}, k ? t(k) : '')))),
      el('tbody', {}, stock.map((s) => el('tr', { dataset: { item: s.item.code, holder: `${s.holder.kind}:${s.holder.id}` } },
        el('td', {}, s.holder.name), el('td', {}, itemName(s.item.code, s.item.name)), el('td', {}, itemAmount(s.item, s.quantity)),
        el('td', {}, s.in_transit_in || s.in_transit_out ? `+${s.in_transit_in} / -${s.in_transit_out}` : ''),
        el('td', {}, s.low ? el('span', { class: 'badge red' }, t('s.low')) : ''))))))
      : el('p', { class: 'muted' }, t('empty')));
  const form = el('form', { class: 'card', id: 'record-form' }, el('h3', {}, `${t('s.record')} · ${compound.name}`),
    el('div', { class: 'field' }, el('label', { for: 's-kind' }, t('s.kind')),
      el('select', { id: 's-kind', name: 'kind' }, el('option', { value: 'receipts' }, t('s.receipt')), el('option', { value: 'uses' }, t('s.use')))),
    el('div', { class: 'field' }, el('label', { for: 's-item' }, t('s.item')),
      el('select', { id: 's-item', name: 'item' }, items.map((i) => el('option', { value: i.code, selected: i.code === picked }, itemOption(i))))),
    el('div', { class: 'field' }, el('label', { for: 's-qty' }, t('s.qty')), el('input', { id: 's-qty', name: 'quantity', type: 'number', min: 1, required: true })),
    el('div', { class: 'field' }, el('label', { for: 's-note' }, t('s.source')), el('input', { id: 's-note', name: 'note', maxlength: 100 })),
    el('button', { type: 'submit', class: 'primary' }, t('s.save')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = formData(form);
    const body = { client_id: newId(), item: data.item, holder: { kind: 'compound', id: compound.id }, quantity: Number(data.quantity) };
    if (data.kind === 'receipts') body.source = data.note; else body.note = data.note;
    act(form.querySelector('[type=submit]'), async () => {
      const entry = await api(`/supplies/${data.kind}`, { method: 'POST', body });
      picked = data.item;
      form.querySelector('[name=quantity]').value = '';
      toast(t('s.saved', { n: entry.balance_after }));
    }, again);
  });
  const itemPick = el('select', { 'aria-label': t('s.item'), id: 'ledger-item' }, items.map((i) => el('option', { value: i.code, selected: i.code === picked }, itemName(i.code, i.name))));
  itemPick.addEventListener('change', () => { picked = itemPick.value; again(); });
  const ledgerBox = el('section', { class: 'card' }, el('div', { class: 'row' }, el('h3', { class: 'grow' }, t('s.ledger')), itemPick,
    el('button', { type: 'button', onclick: (e) => act(e.currentTarget, () => download(`/supplies/ledger.csv?item=${encodeURIComponent(picked)}`, `ledger-${picked}.csv`)) }, t('s.csv'))),
    ledger.items.length ? el('div', { class: 'scroll-x' }, el('table', { class: 'list', id: 'ledger' }, el('thead', {}, el('tr', {}, ['s.when', 's.holder', 's.kind', 's.qty', 's.balance', 's.by'].map((k) => el('th', {}, t(k))))),
      el('tbody', {}, ledger.items.map((e) => el('tr', {}, el('td', {}, clock(e.created_at, { date: true })), el('td', {}, e.holder.name),
        el('td', {}, label(KINDS, e.kind), e.counterpart ? ` ${e.counterpart.name}` : ''), el('td', {}, e.quantity), el('td', {}, e.balance_after),
        el('td', {}, e.actor_name || ''))))))
      : el('p', { class: 'muted' }, t('empty')));
  const transfers = await transferList(ctx, again);
  // Keep a form being filled in across refreshes (only the figures are redrawn), unless the language changed.
  const fresh = drawnIn !== lang();
  drawnIn = lang();
  const kept = $('#record-form');
  const keep = !fresh && kept && kept.dataset.compound === String(compound.id);
  form.dataset.compound = compound.id;
  const keptOffer = $('#transfer-form');
  const offer = !fresh && keptOffer?.refreshStock ? keptOffer : transferForm(ctx, items, stock, picked, (item) => { picked = item; return again(); });
  if (offer === keptOffer) offer.refreshStock(stock);
  mount($('#supplies'), el('div', { class: 'grid-2' }, el('div', { class: 'stack' }, stockTable, keep ? kept : form), offer), transfers, ledgerBox);
  if (!polling) {
    polling = true;
    poll(() => refreshTransferList(ctx, again), 8000);
  }
}

startConsolePage('supplies', ({ compound }) => (compound ? refresh(compound) : null));
