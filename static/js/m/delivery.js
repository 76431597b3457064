// Deliveries for a resident: a request form, my requests with their status (polled), confirm,
// cancel and rate.
import { api, newId } from '../api.js';
import { $, $$, el, formatTime, toast } from '../dom.js';
import { addStrings, applyI18n, t } from '../i18n.js';
import { initPage } from '../page.js';
import { MENU_STRINGS, requireRole } from './common.js';

const STATUS = {
  submitted: ['已提交,等待接单', 'Submitted, waiting'],
  claimed: ['已接单', 'Claimed'],
  purchasing: ['采购中', 'Buying'],
  on_the_way: ['配送中', 'On the way'],
  delivered: ['已送达,请确认', 'Delivered: please confirm'],
  confirmed: ['已确认收货', 'Received'],
  cancelled: ['已取消', 'Cancelled'],
  rejected: ['未受理', 'Declined'],
};
const OUTCOME = {
  pending: ['待采购', 'to buy'], bought: ['已购', 'bought'],
  out_of_stock: ['缺货', 'out of stock'], substituted: ['已替换为', 'substituted by'],
};

addStrings({
  ...MENU_STRINGS,
  ...Object.fromEntries(Object.entries(STATUS).map(([k, v]) => [`delivery.status.${k}`, v])),
  ...Object.fromEntries(Object.entries(OUTCOME).map(([k, v]) => [`delivery.outcome.${k}`, v])),
  'delivery.title': ['代购代送', 'Deliveries'],
  'delivery.new': ['新的代购请求', 'New request'],
  'delivery.item': ['物品', 'Item'],
  'delivery.quantity': ['数量', 'Quantity'],
  'delivery.unit': ['单位', 'Unit'],
  'delivery.remove': ['删除', 'Remove'],
  'delivery.add': ['添加一项', 'Add an item'],
  'delivery.drop': ['放置地点', 'Drop point'],
  'delivery.drop.door': ['家门口', 'At the door'],
  'delivery.drop.unit': ['单元门口', 'Building entrance'],
  'delivery.contactless': ['无接触配送', 'Contactless'],
  'delivery.medicine': ['药品', 'Medicine'],
  'delivery.infant': ['婴幼儿用品', 'Infant'],
  'delivery.elderly': ['老人', 'Elderly'],
  'delivery.note': ['备注', 'Note'],
  'delivery.submit': ['提交请求', 'Send request'],
  'delivery.sent': ['已提交代购请求 {number}', 'Request {number} sent'],
  'delivery.mine': ['我的请求', 'My requests'],
  'delivery.none': ['暂无请求', 'No requests yet'],
  'delivery.items.needed': ['请至少填写一项物品(名称、数量、单位)', 'Fill in at least one item (name, quantity, unit)'],
  'delivery.confirm': ['确认收货', 'Confirm receipt'],
  'delivery.cancel': ['取消请求', 'Cancel request'],
  'delivery.rate': ['评价', 'Rate'],
  'delivery.rate.comment': ['评价内容(可选)', 'Comment (optional)'],
  'delivery.rated': ['已评价:{score} 星', 'Rated {score} stars'],
  'delivery.runner': ['配送员:{name}', 'Runner: {name}'],
  'delivery.stars': ['{n} 星', '{n} stars'],
  'delivery.close': ['收起', 'Close'],
});

let openId = null;

function itemRow() {
  const n = $$('.item-row').length;
  const input = (name, key, attrs = {}) => el('div', {},
    el('label', { for: `${name}-${n}`, 'data-i18n': key }, t(key)),
    el('input', { id: `${name}-${n}`, name, ...attrs }));
  return el('div', { class: 'item-row' },
    input('name', 'delivery.item', { maxlength: 30 }),
    input('quantity', 'delivery.quantity', { type: 'number', min: '0.01', step: '0.01', inputmode: 'decimal' }),
    input('unit', 'delivery.unit', { maxlength: 10 }),
    el('button', { type: 'button', class: 'danger', 'aria-label': t('delivery.remove'),
      onclick: (e) => { if ($$('.item-row').length > 1) e.target.closest('.item-row').remove(); } }, '×'));
}

async function submit(event) {
  event.preventDefault();
  const error = $('#request-error');
  const items = $$('.item-row').map((row) => ({
    name: row.querySelector('[name=name]').value.trim(),
    quantity: Number(row.querySelector('[name=quantity]').value),
    unit: row.querySelector('[name=unit]').value.trim(),
  })).filter((i) => i.name || i.unit || i.quantity);
  if (!items.length || items.some((i) => !i.name || !i.unit || !(i.quantity > 0))) {
    error.textContent = t('delivery.items.needed');
    error.hidden = false;
    return;
  }
  error.hidden = true;
  const form = event.target;
  const body = {
    client_id: newId(), items, drop_point: form.drop_point.value, contactless: form.contactless.checked,
    urgency: $$('[name=urgency]:checked').map((c) => c.value),
  };
  if (form.note.value.trim()) body.note = form.note.value.trim();
  try {
    const delivery = await api('/deliveries', { method: 'POST', body });
    toast(t('delivery.sent', { number: delivery.number }));
    form.reset();
    $('#items').replaceChildren(itemRow());
    openId = delivery.id;
    await refresh();
  } catch (err) {
    const fields = err.errors ? ` ${JSON.stringify(err.errors)}` : '';
    error.textContent = (err.offline ? t('error.network') : err.message) + fields;
    error.hidden = false;
  }
}

async function act(delivery, action, body) {
  try {
    await api(`/deliveries/${delivery.id}/${action}`, { method: 'POST', body: body || {} });
    await refresh();
  } catch (err) {
    toast(err.message, { kind: 'error' });
  }
}

function ratingForm(delivery) {
  let score = 5;
  const stars = [1, 2, 3, 4, 5].map((n) => el('button', {
    type: 'button', 'aria-pressed': String(n === score), 'aria-label': t('delivery.stars', { n }),
    onclick: () => { score = n; stars.forEach((s, i) => s.setAttribute('aria-pressed', String(i + 1 === n))); },
  }, '★'));
  const comment = el('input', { id: 'rate-comment', maxlength: 200 });
  return el('form', { class: 'rate', onsubmit: (e) => {
    e.preventDefault();
    act(delivery, 'rate', comment.value.trim() ? { score, comment: comment.value.trim() } : { score });
  } },
  el('div', { class: 'stars', role: 'group', 'aria-label': t('delivery.rate') }, stars),
  el('div', { class: 'field' }, el('label', { for: 'rate-comment' }, t('delivery.rate.comment')), comment),
  el('button', { type: 'submit', class: 'big primary' }, t('delivery.rate')));
}

function showDetail(delivery) {
  const box = $('#detail');
  if (!delivery) { box.hidden = true; return; }
  const items = el('ul', { class: 'list' }, delivery.items.map((i) => el('li', {},
    `${i.name} ${i.quantity} ${i.unit} · ${t(`delivery.outcome.${i.outcome}`)}${i.substitute ? ` ${i.substitute}` : ''}`)));
  const actions = [];
  if (delivery.status === 'submitted') {
    actions.push(el('button', { type: 'button', class: 'big danger', onclick: () => act(delivery, 'cancel') }, t('delivery.cancel')));
  }
  if (delivery.status === 'delivered') {
    actions.push(el('button', { type: 'button', class: 'big primary', onclick: () => act(delivery, 'confirm') }, t('delivery.confirm')));
  }
  if (delivery.status === 'confirmed' && !delivery.rating) actions.push(ratingForm(delivery));
  if (delivery.rating) actions.push(el('p', { class: 'status-banner green' }, t('delivery.rated', { score: delivery.rating.score })));
  box.replaceChildren(
    el('h2', {}, `${delivery.number} · `, el('span', { class: 'badge', dataset: { status: delivery.status } }, t(`delivery.status.${delivery.status}`))),
    delivery.runner_name ? el('p', {}, t('delivery.runner', { name: delivery.runner_name })) : null,
    items, ...actions,
    el('button', { type: 'button', onclick: () => { openId = null; box.hidden = true; } }, t('delivery.close')));
  box.hidden = false;
}

async function refresh() {
  const page = await api('/deliveries', { query: { page_size: 20 } });
  const list = $('#deliveries');
  if (!page.items.length) list.replaceChildren(el('li', { class: 'muted' }, t('delivery.none')));
  else {
    list.replaceChildren(...page.items.map((d) => el('li', {},
      el('button', { type: 'button', class: 'row', dataset: { id: d.id }, onclick: () => { openId = d.id; showDetail(d); } },
        `${d.number} · ${formatTime(d.created_at, { date: true })} · `,
        el('span', { class: 'badge', dataset: { status: d.status } }, t(`delivery.status.${d.status}`))))));
  }
  showDetail(page.items.find((d) => d.id === openId) || null);
}

async function main() {
  if (!requireRole('resident')) return;
  initPage();
  $('#items').replaceChildren(itemRow());
  applyI18n($('#items'));
  $('#add-item').addEventListener('click', () => $('#items').append(itemRow()));
  $('#request').addEventListener('submit', submit);
  document.addEventListener('wuye:lang', () => refresh().catch(() => {}));
  await refresh().catch((err) => toast(err.message, { kind: 'error' }));
  setInterval(() => refresh().catch(() => {}), 10000);
}

main();
