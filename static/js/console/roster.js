// The roster week grid of a compound: gates down, days across, each shift with its guards (lent
// ones marked) and open seats in red. Generate the week's shifts from the gates' templates, auto-fill,
// assign or remove a guard, post a gap to the alliance (lending), approve swaps, record leave.
import { api } from '../api.js';
import { $, el, formData, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { act, addDays, clock, label, mondayOf, showError, startConsolePage } from './shell.js';

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
  'roster.approve': ['批准', 'Approve'], 'roster.reject': ['驳回', 'Reject'],
  'roster.leave': ['请假登记', 'Record leave'],
  'roster.guard': ['保安', 'Guard'], 'roster.from': ['开始', 'From'], 'roster.until': ['结束', 'Until'],
  'roster.release': ['同时释放其班次', 'Release their shifts'],
  'roster.leave.save': ['登记', 'Record'], 'roster.leave.saved': ['已登记请假', 'Leave recorded'],
  'roster.incident': ['应急支援', 'Incident duty'],
});
const GAP_KINDS = { unfilled: ['未排满', 'Unfilled'], on_leave: ['请假冲突', 'On leave'], absent: ['未到岗', 'Absent'] };
const DAYS = { zh: ['一', '二', '三', '四', '五', '六', '日'], en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] };

let week = mondayOf();
let current = null;
let guards = [];

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
      el('button', { type: 'button', class: 'link', onclick: (e) => act(e.currentTarget, async () => {
        await api(`/shifts/${shift.id}/loan`, { method: 'POST', body: {} }); toast(t('roster.loaned'));
      }) }, t('roster.loan'))] : null);
}

async function refresh() {
  const compound = current;
  const [grid, gaps, swaps] = await Promise.all([
    api(`/compounds/${compound.id}/roster`, { query: { week } }),
    api(`/compounds/${compound.id}/roster/gaps`, { query: { week } }),
    api('/swaps', { query: { status: 'accepted', page_size: 50 } }),
  ]);
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
  const mine = swaps.items.filter((s) => s.compound_id === compound.id);
  const swapBox = el('section', { class: 'card' }, el('h3', {}, `${t('roster.swaps')} (${mine.length})`),
    mine.length ? el('ul', {}, mine.map((s) => el('li', { class: 'row' }, el('span', { class: 'grow' }, `#${s.shift_id} ${s.note || ''}`),
      el('button', { type: 'button', onclick: (e) => act(e.currentTarget, () => api(`/swaps/${s.id}/approve`, { method: 'POST' }), refresh) }, t('roster.approve')),
      el('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, () => api(`/swaps/${s.id}/reject`, { method: 'POST' }), refresh) }, t('roster.reject')))))
      : el('p', { class: 'muted' }, t('empty')));
  mount($('#roster'), table, duty, el('div', { class: 'grid-3' }, gapBox, swapBox, leaveForm(refresh)));
}

function leaveForm(refresh) {
  const form = el('form', { class: 'card', id: 'leave-form' }, el('h3', {}, t('roster.leave')),
    el('div', { class: 'field' }, el('label', { for: 'leave-guard' }, t('roster.guard')),
      el('select', { id: 'leave-guard', name: 'guard', required: true }, guards.map((g) => el('option', { value: g.id }, g.display_name)))),
    el('div', { class: 'field' }, el('label', { for: 'leave-from' }, t('roster.from')), el('input', { id: 'leave-from', name: 'from', type: 'datetime-local', required: true })),
    el('div', { class: 'field' }, el('label', { for: 'leave-until' }, t('roster.until')), el('input', { id: 'leave-until', name: 'until', type: 'datetime-local', required: true })),
    el('label', { class: 'row' }, el('input', { type: 'checkbox', name: 'release', class: 'check' }), t('roster.release')),
    el('button', { type: 'submit', class: 'primary' }, t('roster.leave.save')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = formData(form);
    act(form.querySelector('[type=submit]'), async () => {
      await api(`/guards/${data.guard}/leaves`, { method: 'POST', body: {
        starts_at: new Date(data.from).toISOString(), ends_at: new Date(data.until).toISOString(), release_shifts: Boolean(data.release) } });
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
  guards = (await api('/guards', { query: { page_size: 100 } })).items.filter((g) => !g.compound_id || g.compound_id === compound.id);
  renderTools();
  await refresh();
});
