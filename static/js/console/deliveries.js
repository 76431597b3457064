// The delivery queue of a compound, refreshed every 3 seconds without a reload: claim, go shopping,
// record what the shop had (bought, out of stock, substituted), set off, delivered; staff may
// reject with a reason. Below it, the requests finished today.
import { api, claims } from '../api.js';
import { $, el, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { act, clock, duration, label, poll, startConsolePage } from './shell.js';

addStrings({
  'deliveries.hint': ['队列每 3 秒自动刷新;最紧急(药品、婴儿、老人)和等待最久的排在前面。',
    'The queue refreshes every 3 seconds; the most urgent (medicine, infant, elderly) and the longest waiting come first.'],
  'deliveries.empty': ['队列中没有待处理的送菜请求', 'No open delivery request in the queue'],
  'deliveries.done': ['最近送达', 'Recently delivered'],
  'deliveries.waited': ['已等待 {t}', 'waiting {t}'],
  'deliveries.runner': ['跑腿:{name}', 'Runner: {name}'],
  'd.claim': ['认领', 'Claim'], 'd.start': ['开始采购', 'Start shopping'], 'd.dispatch': ['出发配送', 'Set off'],
  'd.deliver': ['已送达', 'Delivered'], 'd.reject': ['拒绝', 'Reject'], 'd.items': ['保存商品情况', 'Save items'],
  'd.reason': ['拒绝原因', 'Reason to reject'], 'd.substitute': ['替代品', 'Substitute'],
  'd.rejected': ['已拒绝', 'Rejected'], 'd.saved': ['已保存', 'Saved'],
  'd.contactless': ['无接触', 'contactless'],
});

const STATUS = {
  submitted: ['待认领', 'Waiting'], claimed: ['已认领', 'Claimed'], purchasing: ['采购中', 'Shopping'],
  on_the_way: ['配送中', 'On the way'], delivered: ['已送达', 'Delivered'], confirmed: ['已确认', 'Confirmed'],
  cancelled: ['已取消', 'Cancelled'], rejected: ['已拒绝', 'Rejected'],
};
const TAGS = { medicine: ['药品', 'Medicine'], infant: ['婴儿', 'Infant'], elderly: ['老人', 'Elderly'] };
const OUTCOMES = { pending: ['待定', 'Pending'], bought: ['已买到', 'Bought'], out_of_stock: ['缺货', 'Out of stock'], substituted: ['替代', 'Substituted'] };
const DROP = { door: ['送到门口', 'To the door'], unit_entrance: ['放单元门口', 'Unit entrance'] };
const NEXT = { submitted: ['claim', 'd.claim'], claimed: ['start', 'd.start'], purchasing: ['dispatch', 'd.dispatch'], on_the_way: ['deliver', 'd.deliver'] };

let stop = null;
const drawn = new Map(); // id -> signature of the card drawn

function itemsEditor(d, refresh) {
  const rows = d.items.map((item) => {
    const outcome = el('select', { name: `outcome-${item.id}`, 'aria-label': `${item.name}` },
      Object.keys(OUTCOMES).map((o) => el('option', { value: o, selected: o === item.outcome }, label(OUTCOMES, o))));
    const substitute = el('input', { name: `substitute-${item.id}`, value: item.substitute || '', placeholder: t('d.substitute'),
      'aria-label': `${item.name} ${t('d.substitute')}`, maxlength: 30, hidden: item.outcome !== 'substituted' });
    outcome.addEventListener('change', () => { substitute.hidden = outcome.value !== 'substituted'; });
    return { item, outcome, substitute, node: el('li', { class: 'item-line' }, `${item.name} × ${item.quantity}${item.unit || ''}`, item.note ? ` (${item.note})` : '', outcome, substitute) };
  });
  const save = el('button', { type: 'button', onclick: (e) => act(e.currentTarget, async () => {
    const items = rows.filter((r) => r.outcome.value !== r.item.outcome || (r.substitute.value || null) !== (r.item.substitute || null))
      .map((r) => ({ item_id: r.item.id, outcome: r.outcome.value, ...(r.outcome.value === 'substituted' ? { substitute: r.substitute.value.trim() } : {}) }));
    if (!items.length) return;
    await api(`/deliveries/${d.id}/items`, { method: 'PATCH', body: { items } });
    toast(t('d.saved'));
  }, refresh) }, t('d.items'));
  return [el('ul', {}, rows.map((r) => r.node)), ['claimed', 'purchasing'].includes(d.status) ? save : null];
}

function card(d, refresh) {
  const me = claims()?.sub;
  const mine = d.claimed_by_id !== null && String(d.claimed_by_id) === String(me);
  const [move, moveKey] = NEXT[d.status] || [];
  const canMove = d.status === 'submitted' || mine;
  const reason = el('input', { name: 'reason', class: 'reason', placeholder: t('d.reason'), 'aria-label': t('d.reason'), maxlength: 200 });
  const reject = el('button', { type: 'button', class: 'danger', onclick: (e) => {
    if (!reason.value.trim()) { reason.focus(); return; }
    act(e.currentTarget, () => api(`/deliveries/${d.id}/reject`, { method: 'POST', body: { reason: reason.value.trim() } }), refresh);
  } }, t('d.reject'));
  return el('article', { class: 'card delivery', dataset: { id: d.id, status: d.status }, 'aria-label': d.number },
    el('div', { class: 'row' },
      el('strong', { class: 'grow' }, `${d.number} · ${d.household_address}`),
      el('span', { class: 'badge blue status' }, label(STATUS, d.status))),
    el('div', { class: 'meta' },
      `${d.requester_name}${d.contact_phone ? ` ${d.contact_phone}` : ''} · ${label(DROP, d.drop_point)}`,
      d.contactless ? ` · ${t('d.contactless')}` : '',
      ` · ${t('deliveries.waited', { t: duration(d.waited_seconds) })}`,
      d.runner_name ? ` · ${t('deliveries.runner', { name: d.runner_name })}` : ''),
    d.urgency.length ? el('div', {}, d.urgency.map((u) => el('span', { class: 'badge red' }, label(TAGS, u)))) : null,
    ...itemsEditor(d, refresh),
    d.budget_note || d.note ? el('p', { class: 'meta' }, [d.budget_note, d.note].filter(Boolean).join(' · ')) : null,
    el('div', { class: 'actions' },
      move && canMove ? el('button', { type: 'button', class: 'primary', dataset: { move },
        onclick: (e) => act(e.currentTarget, () => api(`/deliveries/${d.id}/${move}`, { method: 'POST', body: move === 'dispatch' || move === 'deliver' ? {} : undefined }), refresh) }, t(moveKey)) : null,
      ['submitted', 'claimed'].includes(d.status) ? [reason, reject] : null));
}

async function refresh(compound) {
  const [queue, done] = await Promise.all([
    api(`/compounds/${compound.id}/delivery-queue`, { query: { page_size: 100 } }),
    api('/deliveries', { query: { compound_id: compound.id, status: 'delivered', page_size: 10 } }),
  ]);
  const box = $('#queue');
  const again = () => refresh(compound);
  if (!queue.items.length) {
    mount(box, el('p', { class: 'muted empty' }, t('deliveries.empty')));
    drawn.clear();
  } else {
    box.querySelector('.empty')?.remove();
    const ids = new Set(queue.items.map((d) => String(d.id)));
    [...box.querySelectorAll('article.delivery')].forEach((node) => { if (!ids.has(node.dataset.id)) { node.remove(); drawn.delete(node.dataset.id); } });
    queue.items.forEach((d, index) => {
      const key = String(d.id);
      const signature = JSON.stringify({ ...d, waited_seconds: 0 });
      let node = box.querySelector(`article.delivery[data-id="${key}"]`);
      const editing = node && node.contains(document.activeElement) && document.activeElement.tagName !== 'BUTTON';
      if (!node || (drawn.get(key) !== signature && !editing)) {
        const fresh = card(d, again);
        if (node) node.replaceWith(fresh); else box.append(fresh);
        node = fresh;
        drawn.set(key, signature);
      }
      if (box.children[index] !== node) box.insertBefore(node, box.children[index] || null);
    });
  }
  let doneBox = $('#done');
  if (!doneBox) { doneBox = el('section', { id: 'done', class: 'card' }); box.after(doneBox); }
  mount(doneBox, el('h3', {}, t('deliveries.done')),
    done.items.length ? el('table', { class: 'list' }, el('tbody', {}, done.items.map((d) => el('tr', { dataset: { id: d.id } },
      el('td', {}, d.number), el('td', {}, d.household_address), el('td', {}, label(STATUS, d.status)),
      el('td', {}, clock(d.delivered_at, { date: true })), el('td', {}, d.runner_name || '')))))
      : el('p', { class: 'muted' }, t('empty')));
}

startConsolePage('deliveries', ({ compound }) => {
  if (stop) stop();
  drawn.clear();
  $('#queue').replaceChildren();
  if (!compound) return;
  stop = poll(() => refresh(compound), 3000);
});
