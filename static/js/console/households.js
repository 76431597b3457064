// Households and residents of a compound: approve or remove residents who bound themselves, issue a
// household's invite code, print every household's invite slip (PDF).
import { api } from '../api.js';
import { $, el, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { act, clock, download, label, startConsolePage } from './shell.js';

addStrings({
  'h.pending': ['待审核的住户', 'Residents waiting for approval'],
  'h.residents': ['已登记住户', 'Residents'],
  'h.list': ['房屋', 'Households'],
  'h.approve': ['通过', 'Approve'], 'h.remove': ['移除', 'Remove'],
  'h.invite': ['生成邀请码', 'Invite code'], 'h.code': ['邀请码 {code},有效期至 {time}', 'Code {code}, valid until {time}'],
  'h.slips': ['打印全部邀请码(PDF)', 'Print all invite slips (PDF)'],
  'h.name': ['姓名', 'Name'], 'h.phone': ['电话', 'Phone'], 'h.household': ['房屋', 'Household'], 'h.state': ['状态', 'State'],
});
const RESIDENCY = { pending: ['待审核', 'Pending'], approved: ['已通过', 'Approved'], removed: ['已移除', 'Removed'] };

async function refresh(compound) {
  const [households, residents] = await Promise.all([
    api(`/compounds/${compound.id}/households`, { query: { page_size: 100 } }),
    api(`/compounds/${compound.id}/residents`, { query: { page_size: 100 } }),
  ]);
  const again = () => refresh(compound);
  const where = (id) => households.items.find((h) => h.id === id)?.label || '';
  const row = (r) => el('tr', { dataset: { id: r.id } }, el('td', {}, r.display_name), el('td', {}, r.phone || ''),
    el('td', {}, where(r.household_id)), el('td', {}, label(RESIDENCY, r.residency)),
    el('td', { class: 'actions' },
      r.residency === 'pending' ? el('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget,
        () => api(`/residents/${r.id}/approve`, { method: 'POST' }), again) }, t('h.approve')) : null,
      r.residency !== 'removed' ? el('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget,
        () => api(`/residents/${r.id}/remove`, { method: 'POST' }), again) }, t('h.remove')) : null));
  const table = (id, rows) => el('table', { class: 'list', id }, el('thead', {}, el('tr', {},
    ['h.name', 'h.phone', 'h.household', 'h.state', ''].map((k) => el('th', {}, k ? t(k) : '')))), el('tbody', {}, rows));
  const pending = residents.items.filter((r) => r.residency === 'pending');
  const others = residents.items.filter((r) => r.residency !== 'pending');
  mount($('#households'),
    el('section', { class: 'card' }, el('h3', {}, `${t('h.pending')} (${pending.length})`),
      pending.length ? table('pending', pending.map(row)) : el('p', { class: 'muted' }, t('empty'))),
    el('div', { class: 'grid-2' },
      el('section', { class: 'card' }, el('h3', {}, `${t('h.residents')} (${others.length})`),
        others.length ? table('residents', others.map(row)) : el('p', { class: 'muted' }, t('empty'))),
      el('section', { class: 'card' }, el('div', { class: 'row' }, el('h3', { class: 'grow' }, `${t('h.list')} (${households.total})`),
        el('button', { type: 'button', id: 'slips', onclick: (e) => act(e.currentTarget,
          () => download(`/compounds/${compound.id}/invite-slips`, `invite-slips-${compound.id}.pdf`, { method: 'POST', body: {} })) }, t('h.slips'))),
      el('ul', { id: 'household-list' }, households.items.map((h) => {
        const code = el('span', { class: 'muted' });
        return el('li', { class: 'row' }, el('span', { class: 'grow' }, h.label), code,
          el('button', { type: 'button', onclick: (e) => act(e.currentTarget, async () => {
            const invite = await api(`/households/${h.id}/invites`, { method: 'POST' });
            code.textContent = t('h.code', { code: invite.code, time: clock(invite.expires_at, { date: true }) });
            toast(invite.code);
          }) }, t('h.invite')));
      })))));
}

startConsolePage('households', ({ compound }) => (compound ? refresh(compound) : null));
