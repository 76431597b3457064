// The roster week grid of a compound: gates down, days across, each shift with its guards (lent
// ones marked) and open seats in red. Generate the week's shifts from the gates' templates, auto-fill,
// assign or remove a guard, post a gap to the alliance (lending), approve swaps, record leave.
import { api } from '../api.js';
import { $, el, formData, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { act, addDays, clock, label, mondayOf, myCompounds, showError, startConsolePage } from './shell.js';

addStrings({
  'roster.week': ['周', 'Week'],
  'roster.prev': ['上一周', 'Previous week'], 'roster.next': ['下一周', 'Next week'],
  'roster.generate': ['按模板生成班次', 'Create shifts from templates'],
  'roster.autofill': ['自动排班', 'Auto-fill'],
  'roster.generated': ['新建 {n} 个班次(已有 {s} 个)', '{n} shifts created ({s} already there)'],
  'roster.filled': ['已排 {n} 个岗位,{u} 个班次仍缺人', '{n} seats filled, {u} shifts still short'],
  'roster.gate': ['出入口', 'Gate'],
  'roster.open': ['缺 {n} 人', '{n} short'],
  'roster.lent': ['借调', 'lent'],
  'roster.assign': ['排入', 'Assign'],
  'roster.remove': ['移出 {name}', 'Remove {name}'],
  'roster.loan': ['向联盟借人', 'Ask the alliance'],
  'roster.loaned': ['已发布到联盟', 'Posted to the alliance'],
  'roster.gaps': ['缺口', 'Gaps'],
  'roster.nogaps': ['本周没有缺口', 'No gaps this week'],
  'roster.swaps': ['换班申请', 'Shift swaps'],
  'roster.swap.waiting': ['待其他保安接班', 'waiting for a guard'],
  'roster.approve': ['批准', 'Approve'], 'roster.reject': ['驳回', 'Reject'],
  'roster.leave': ['请假登记', 'Record leave'],
  'roster.guard': ['保安', 'Guard'], 'roster.from': ['开始', 'From'], 'roster.until': ['结束', 'Until'],
  'roster.release': ['同时释放其班次', 'Release their shifts'],
  'roster.leave.save': ['登记', 'Record'], 'roster.leave.saved': ['已登记请假', 'Leave recorded'],
  'roster.leave.note': ['备注', 'Note'], 'roster.leave.list': ['该保安的请假', "This guard's leave"],
  'roster.leave.none': ['暂无请假', 'No leave'], 'roster.leave.withdraw': ['撤销', 'Withdraw'],
  'roster.leave.withdrawn': ['已撤销请假', 'Leave withdrawn'],
  'roster.incident': ['应急支援', 'Incident duty'],
  'roster.loans': ['联盟借人需求', 'Requests for guards in the alliance'],
  'roster.loans.none': ['暂无借人需求', 'No open requests'],
  'roster.loan.offer': ['派出支援', 'Offer this guard'], 'roster.loan.offered': ['已派出,等待对方确认', 'Offered; waiting for them to accept'],
  'roster.loan.accept': ['接受', 'Accept'], 'roster.loan.decline': ['婉拒', 'Decline'], 'roster.loan.cancel': ['撤回需求', 'Withdraw the request'],
  'roster.loan.waiting': ['等待其他物业支援', 'Waiting for offers'], 'roster.loan.mine': ['本小区', 'Ours'],
  'roster.loan.filled': ['已借到', 'Covered'],
  'roster.loan.accepted': ['已接受借调', 'Lent guard accepted'],

});
const GAP_KINDS = { unfilled: ['未排满', 'Unfilled'], no_clock_in: ['未打卡', 'Not clocked in'] };
const OFFER_STATUS = { offered: ['待确认', 'offered'], accepted: ['已接受', 'accepted'], declined: ['已婉拒', 'declined'], withdrawn: ['已撤回', 'withdrawn'] };
const DAYS = { zh: ['一', '二', '三', '四', '五', '六', '日'], en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] };

let week = mondayOf();
let current = null;
let guards = [];
let companyGuards = []; // every guard the caller manages (those offered to other compounds)
let posted = new Set(); // this compound's shifts posted to the alliance and still open
let managed = []; // ids of the compounds the caller manages (their loan posts are not offered to)
let leaveGuard = null; // the guard whose leave the form showed last (kept across redraws)

function localDay(iso, zone) {
  return new Date(iso).toLocaleDateString('en-CA', { timeZone: zone });
}

function seat(s, refresh) {
  return el('span', { class: 'guard' }, s.guard_name, s.lent ? el('span', { class: 'lent' }, ` ${t('roster.lent')}`) : '', ' ',
    el('button', { type: 'button', class: 'link', 'aria-label': t('roster.remove', { name: s.guard_name }), title: t('roster.remove', { name: s.guard_name }),
      onclick: (e) => act(e.currentTarget, () => api(`/shift-assignments/${s.assignment_id}`, { method: 'DELETE' }), refresh) }, '×'));
}

function shiftBox(shift, zone, refresh) {
  const gap = shift.open_seats > 0;
  const pick = gap ? el('select', { 'aria-label': t('roster.guard') }, el('option', { value: '' }, '—'),
    guards.map((g) => el('option', { value: g.id }, g.display_name))) : null;
  return el('div', { class: gap ? 'shift gap' : 'shift', dataset: { shift: shift.id } },
    el('span', { class: 'time' }, `${clock(shift.starts_at, { zone })}–${clock(shift.ends_at, { zone })}`),
    shift.guards.map((s) => seat(s, refresh)),
    gap ? [el('span', { class: 'badge red' }, t('roster.open', { n: shift.open_seats })), ' ', pick,
      el('button', { type: 'button', class: 'link', onclick: (e) => pick.value && act(e.currentTarget,
        () => api(`/shifts/${shift.id}/assignments`, { method: 'POST', body: { guard_id: Number(pick.value) } }), refresh) }, t('roster.assign')),
      posted.has(shift.id) ? el('span', { class: 'badge' }, t('roster.loaned'))
        : el('button', { type: 'button', class: 'link', onclick: (e) => act(e.currentTarget, async () => {
          await api(`/shifts/${shift.id}/loan`, { method: 'POST', body: {} }); toast(t('roster.loaned'));
        }, refresh) }, t('roster.loan'))] : null);
}

async function refresh() {
  const compound = current;
  const [grid, gaps, accepted, offered] = await Promise.all([
    api(`/compounds/${compound.id}/roster`, { query: { week } }),
    api(`/compounds/${compound.id}/roster/gaps`, { query: { week } }),
    api('/swaps', { query: { status: 'accepted', page_size: 50 } }),
    api('/swaps', { query: { status: 'offered', page_size: 50 } }),
  ]);
  const loanBox = await loansCard(compound, refresh);
  const zone = grid.timezone;
  const days = [...Array(7).keys()].map((i) => addDays(grid.week_start, i));
  const names = DAYS[document.documentElement.lang === 'en' ? 'en' : 'zh'];
  const table = el('table', { class: 'roster', id: 'roster-grid' },
    el('thead', {}, el('tr', {}, el('th', { class: 'gate' }, t('roster.gate')),
      days.map((d, i) => el('th', {}, `${names[i]} ${d.slice(5)}`)))),
    el('tbody', {}, grid.gates.map((gate) => el('tr', { dataset: { gate: gate.id } },
      el('th', { class: 'gate' }, gate.name),
      days.map((d) => el('td', {}, grid.shifts.filter((s) => s.gate_id === gate.id && localDay(s.starts_at, zone) === d)
        .map((s) => shiftBox(s, zone, refresh))))))));
  const duty = grid.incident_duty.length ? el('section', { class: 'card' }, el('h3', {}, t('roster.incident')),
    el('ul', {}, grid.incident_duty.map((d) => el('li', {}, `${d.guard_name} → ${d.compound_name} ${clock(d.starts_at, { date: true })}–${clock(d.ends_at, { date: true })}`)))) : null;
  const gapBox = el('section', { class: 'card', id: 'gaps' }, el('h3', {}, `${t('roster.gaps')} (${gaps.items.length})`),
    gaps.items.length ? el('ul', {}, gaps.items.map((g) => el('li', {},
      `${label(GAP_KINDS, g.kind)} · ${grid.gates.find((x) => x.id === g.gate_id)?.name || ''} ${clock(g.starts_at, { date: true, zone })} · ${t('roster.open', { n: g.missing })}`)))
      : el('p', { class: 'muted' }, t('roster.nogaps')));
  const swapBox = swapList([...accepted.items, ...offered.items].filter((s) => s.compound_id === compound.id), grid, zone, refresh);
  mount($('#roster'), table, duty, el('div', { class: 'grid-3' }, gapBox, swapBox, leaveForm(refresh, zone)), loanBox);
}

/** The swaps waiting for staff: who offers which shift, who takes it (approve once a guard accepted; reject any). */
function swapList(swaps, grid, zone, refresh) {
  const who = (id) => guards.find((g) => g.id === id)?.display_name || `#${id}`;
  const when = (id) => {
    const shift = grid.shifts.find((x) => x.id === id);
    return shift ? `${grid.gates.find((g) => g.id === shift.gate_id)?.name || ''} ${clock(shift.starts_at, { date: true, zone })}` : `#${id}`;
  };
  const item = (s) => el('li', { class: 'row', dataset: { id: s.id } },
    el('span', { class: 'grow' }, `${when(s.shift_id)} · ${who(s.offered_by_id)} → ${s.accepted_by_id ? who(s.accepted_by_id) : t('roster.swap.waiting')}`,
      s.note ? el('span', { class: 'muted' }, ` (${s.note})`) : ''),
    s.status === 'accepted' ? el('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget,
      () => api(`/swaps/${s.id}/approve`, { method: 'POST' }), refresh) }, t('roster.approve')) : null,
    el('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, () => api(`/swaps/${s.id}/reject`, { method: 'POST' }), refresh) }, t('roster.reject')));
  return el('section', { class: 'card', id: 'swaps' }, el('h3', {}, `${t('roster.swaps')} (${swaps.length})`),
    swaps.length ? el('ul', {}, swaps.map(item)) : el('p', { class: 'muted' }, t('empty')));
}

/**
 * The alliance's open requests for a guard (借人): for this compound's own posts, the offers to accept
 * or decline (the offered guard's name is masked until accepted); for other companies' posts, one of
 * our guards to offer. Covered posts stay listed, with who came, until their shift ends.
 */
async function loansCard(compound, refresh) {
  const [open, filled] = await Promise.all([
    api('/loans', { query: { status: 'open', page_size: 50 } }),
    api('/loans', { query: { status: 'filled', page_size: 50 } }),
  ]);
  const shown = [...open.items, ...filled.items.filter((l) => new Date(l.ends_at) > new Date())]
    .filter((l) => l.compound_id === compound.id || !managed.includes(l.compound_id));
  // A covered post of another company stays listed only when one of our guards covers it.
  const details = (await Promise.all(shown.map((l) => api(`/loans/${l.id}`))))
    .filter((l) => l.status === 'open' || l.compound_id === compound.id || l.offers.some((o) => o.status === 'accepted'));
  const when = (l) => `${clock(l.starts_at, { date: true })}–${clock(l.ends_at)}`;
  const item = (loan) => {
    const ours = loan.compound_id === compound.id;
    const head = el('span', { class: 'grow' }, ours ? `${t('roster.loan.mine')} · ` : `${loan.compound_name} · `,
      `${loan.gate_name} ${when(loan)}`, ' ', loan.status === 'open' ? el('span', { class: 'badge red' }, t('roster.open', { n: loan.open_seats }))
        : el('span', { class: 'badge' }, t('roster.loan.filled')));
    const offers = loan.offers.map((o) => el('li', { class: 'row', dataset: { offer: o.id } },
      // The server names our own guard in full, another company's masked (乙*).
      el('span', { class: 'grow' }, o.guard_name, ' ', el('span', { class: 'muted' }, label(OFFER_STATUS, o.status))),
      ours && o.status === 'offered' ? [
        el('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, async () => {
          await api(`/loan-offers/${o.id}/accept`, { method: 'POST' }); toast(t('roster.loan.accepted'));
        }, refresh) }, t('roster.loan.accept')),
        el('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget,
          () => api(`/loan-offers/${o.id}/decline`, { method: 'POST' }), refresh) }, t('roster.loan.decline'))] : null));
    let action = null;
    if (ours && loan.status === 'open') {
      action = el('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget,
        () => api(`/loans/${loan.id}/cancel`, { method: 'POST' }), refresh) }, t('roster.loan.cancel'));
    } else if (!ours && loan.status === 'open' && companyGuards.length) {
      const pick = el('select', { 'aria-label': t('roster.guard') }, companyGuards.map((g) => el('option', { value: g.id }, g.display_name)));
      action = el('span', { class: 'row' }, pick, el('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, async () => {
        await api(`/loans/${loan.id}/offers`, { method: 'POST', body: { guard_id: Number(pick.value) } }); toast(t('roster.loan.offered'));
      }, refresh) }, t('roster.loan.offer')));
    }
    return el('li', { class: 'loan', dataset: { loan: loan.id } }, el('div', { class: 'row' }, head, action),
      offers.length ? el('ul', { class: 'offers' }, offers) : (ours && loan.status === 'open' ? el('p', { class: 'muted' }, t('roster.loan.waiting')) : null));
  };
  posted = new Set(open.items.filter((l) => l.compound_id === compound.id).map((l) => l.shift_id));
  return el('section', { class: 'card', id: 'loans' }, el('h3', {}, `${t('roster.loans')} (${details.length})`),
    details.length ? el('ul', {}, details.map(item)) : el('p', { class: 'muted' }, t('roster.loans.none')));
}

/** A guard's leave records (latest first), each with a withdraw button. */
async function showLeaves(box, guardId, zone) {
  if (!guardId) { mount(box); return; }
  const leaves = (await api(`/guards/${guardId}/leaves`)).items;
  const again = () => showLeaves(box, guardId, zone);
  mount(box, leaves.length ? leaves.map((l) => el('li', { class: 'row', dataset: { id: l.id } },
    el('span', { class: 'grow' }, `${clock(l.starts_at, { date: true, zone })} – ${clock(l.ends_at, { date: true, zone })}`, l.note ? ` (${l.note})` : ''),
    el('button', { type: 'button', class: 'link', onclick: (e) => act(e.currentTarget, async () => {
      await api(`/guard-leaves/${l.id}`, { method: 'DELETE' }); toast(t('roster.leave.withdrawn'));
    }, again) }, t('roster.leave.withdraw')))) : el('li', { class: 'muted' }, t('roster.leave.none')));
}

function leaveForm(refresh, zone) {
  const pick = el('select', { id: 'leave-guard', name: 'guard', required: true }, guards.map((g) => el('option', { value: g.id }, g.display_name)));
  const list = el('ul', { id: 'leaves', 'aria-live': 'polite' });
  const form = el('form', { class: 'card', id: 'leave-form' }, el('h3', {}, t('roster.leave')),
    el('div', { class: 'field' }, el('label', { for: 'leave-guard' }, t('roster.guard')), pick),
    el('div', { class: 'field' }, el('label', { for: 'leave-from' }, t('roster.from')), el('input', { id: 'leave-from', name: 'from', type: 'datetime-local', required: true })),
    el('div', { class: 'field' }, el('label', { for: 'leave-until' }, t('roster.until')), el('input', { id: 'leave-until', name: 'until', type: 'datetime-local', required: true })),
    el('div', { class: 'field' }, el('label', { for: 'leave-note' }, t('roster.leave.note')), el('input', { id: 'leave-note', name: 'note', maxlength: 200 })),
    el('label', { class: 'row' }, el('input', { type: 'checkbox', name: 'release', class: 'check' }), t('roster.release')),
    el('button', { type: 'submit', class: 'primary' }, t('roster.leave.save')),
    el('h4', {}, t('roster.leave.list')), list);
  if (leaveGuard && guards.some((g) => String(g.id) === String(leaveGuard))) pick.value = leaveGuard;
  pick.addEventListener('change', () => { leaveGuard = pick.value; showLeaves(list, pick.value, zone).catch(showError); });
  showLeaves(list, pick.value, zone).catch(showError);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = formData(form);
    act(form.querySelector('[type=submit]'), async () => {
      await api(`/guards/${data.guard}/leaves`, { method: 'POST', body: {
        starts_at: new Date(data.from).toISOString(), ends_at: new Date(data.until).toISOString(), note: data.note, release_shifts: Boolean(data.release) } });
      toast(t('roster.leave.saved'));
    }, refresh);
  });
  return form;
}

function renderTools() {
  const weekLabel = el('strong', { id: 'week-label' }, `${t('roster.week')} ${week} – ${addDays(week, 6)}`);
  const move = (n) => () => { week = addDays(week, 7 * n); renderTools(); refresh().catch(showError); };
  mount($('#roster-tools'),
    el('button', { type: 'button', onclick: move(-1) }, t('roster.prev')), weekLabel,
    el('button', { type: 'button', onclick: move(1) }, t('roster.next')),
    el('span', { class: 'grow' }),
    el('button', { type: 'button', id: 'generate', onclick: (e) => act(e.currentTarget, async () => {
      const r = await api(`/compounds/${current.id}/shifts/generate`, { method: 'POST', body: { week } });
      toast(t('roster.generated', { n: r.created, s: r.skipped }));
    }, refresh) }, t('roster.generate')),
    el('button', { type: 'button', id: 'autofill', class: 'primary', onclick: (e) => act(e.currentTarget, async () => {
      const r = await api('/rosters/autofill', { method: 'POST', body: { week, compound_id: current.id } });
      toast(t('roster.filled', { n: r.filled, u: r.unfilled.length }));
    }, refresh) }, t('roster.autofill')));
}

startConsolePage('roster', async ({ compound }) => {
  current = compound;
  if (!compound) return;
  const hinted = new URLSearchParams(window.location.search).get('week');
  if (hinted && /^\d{4}-\d{2}-\d{2}$/.test(hinted)) week = mondayOf(`${hinted}T12:00:00`);
  const [mine, compounds] = await Promise.all([api('/guards', { query: { page_size: 100 } }), myCompounds()]);
  companyGuards = mine.items.filter((g) => g.is_active !== false);
  managed = compounds.map((c) => c.id);
  guards = companyGuards.filter((g) => !g.compound_id || g.compound_id === compound.id);
  renderTools();
  await refresh();
});
