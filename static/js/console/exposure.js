// Exposure look-up (密接排查) with its two-person rule: staff file a reasoned request about a resident
// and a time window; a second person (the alliance admin, as the API requires; never the requester)
// approves or rejects it; only then does the requester see the contacts (as the API gives them) and
// may download them as CSV or Excel. The request list refreshes every 10 seconds.
import { api, claims } from '../api.js';
import { $, el, formData, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { act, clock, download, label, myCompounds, poll, startConsolePage } from './shell.js';

addStrings({
  'x.file': ['提交排查申请', 'File a look-up request'],
  'x.how': ['查询某位居民在时间段内、前后若干分钟内经过同一出入口的人员。须说明理由,经第二人(联盟管理员)审批后方可查看结果;查询、审批与导出均记入审计日志。',
    'Who passed the same gates as a resident within ± minutes, in a time window. State the reason; a second person (the alliance admin) must approve before any result is shown; requests, decisions and exports are audited.'],
  'x.subject': ['排查对象(居民)', 'Subject (resident)'], 'x.start': ['开始时间', 'From'], 'x.end': ['结束时间', 'Until'],
  'x.minutes': ['前后分钟数', '± minutes'], 'x.reason': ['理由', 'Reason'], 'x.submit': ['提交申请', 'File request'],
  'x.filed': ['已提交,等待审批', 'Filed; waiting for approval'],
  'x.requests': ['排查申请', 'Requests'], 'x.compound': ['小区', 'Compound'], 'x.window': ['时间段', 'Window'],
  'x.status': ['状态', 'Status'], 'x.filedat': ['提交时间', 'Filed'], 'x.decision': ['审批意见', 'Decision note'],
  'x.note': ['审批意见', 'Note'], 'x.approve': ['批准', 'Approve'], 'x.reject': ['驳回', 'Reject'],
  'x.approved': ['已批准', 'Approved'], 'x.rejected': ['已驳回', 'Rejected'],
  'x.own': ['这是您提出的申请:申请人不能审批自己的申请,须由第二人(联盟管理员)审批。',
    'You filed this request: the requester cannot approve their own request; a second person (the alliance admin) must.'],
  'x.wait': ['等待联盟管理员审批', 'Waiting for the alliance admin'],
  'x.show': ['查看密接人员', 'Show contacts'],
  'x.contacts': ['密接人员(申请 #{id})', 'Contacts (request #{id})'], 'x.none': ['没有找到密接人员', 'No contacts found'],
  'x.kind': ['类别', 'Kind'], 'x.name': ['姓名', 'Name'], 'x.phone': ['电话', 'Phone'], 'x.gate': ['出入口', 'Gate'],
  'x.first': ['首次接触', 'First contact'], 'x.passed': ['对象通过', 'Subject passed'], 'x.gap': ['间隔(秒)', 'Gap (s)'],
  'x.times': ['次数', 'Times'], 'x.offline': ['含离线补传', 'Offline upload'],
  'x.csv': ['导出 CSV', 'Export CSV'], 'x.xlsx': ['导出 Excel', 'Export Excel'], 'x.saved': ['已下载 {name}', 'Downloaded {name}'],
});
const STATUS = { pending: ['待审批', 'Pending'], approved: ['已批准', 'Approved'], rejected: ['已驳回', 'Rejected'] };
const COLOUR = { pending: 'orange', approved: 'green', rejected: 'red' };
const KINDS = { resident: ['居民', 'Resident'], visitor: ['访客', 'Visitor'], household: ['登记人员', 'Registered person'] };

let stop = null;
let shown = '';

/** Show an API error in the page (and as a toast) and pass it on. */
function inPage(action) {
  return async () => {
    const box = $('#exposure-error');
    box.hidden = true;
    try { await action(); } catch (err) {
      box.textContent = err.message || String(err);
      box.hidden = false;
      throw err;
    }
  };
}

const localInput = (date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

function requestForm(compound, residents, again) {
  const now = new Date();
  const field = (id, key, input) => el('div', { class: 'field' }, el('label', { for: id }, t(key)), input);
  const form = el('form', { class: 'card', id: 'request-form' }, el('h3', {}, t('x.file')), el('p', { class: 'muted' }, t('x.how')),
    el('div', { class: 'x-fields' },
      field('x-subject', 'x.subject', el('select', { id: 'x-subject', name: 'subject_user_id', required: true },
        residents.map((r) => el('option', { value: r.id }, r.display_name)))),
      field('x-start', 'x.start', el('input', { id: 'x-start', name: 'window_start', type: 'datetime-local', required: true,
        value: localInput(new Date(now.getTime() - 7 * 86_400_000)) })),
      field('x-end', 'x.end', el('input', { id: 'x-end', name: 'window_end', type: 'datetime-local', required: true, value: localInput(now) })),
      field('x-minutes', 'x.minutes', el('input', { id: 'x-minutes', name: 'minutes', type: 'number', min: 1, max: 240, value: 15 }))),
    el('div', { class: 'x-reason' },
      field('x-reason', 'x.reason', el('input', { id: 'x-reason', name: 'reason', maxlength: 500, required: true })),
      el('button', { type: 'submit', class: 'primary' }, t('x.submit'))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = formData(form);
    act(form.querySelector('[type=submit]'), inPage(async () => {
      await api('/exposure-requests', { method: 'POST', body: {
        subject_user_id: Number(data.subject_user_id), window_start: new Date(data.window_start).toISOString(),
        window_end: new Date(data.window_end).toISOString(), minutes: Number(data.minutes), reason: data.reason } });
      toast(t('x.filed'));
      form.querySelector('#x-reason').value = '';
    }), again);
  });
  return form;
}

async function showContacts(request) {
  const result = await api(`/exposure-requests/${request.id}/contacts`);
  const file = (ext) => (e) => {
    const name = `exposure-${request.id}.${ext}`;
    act(e.currentTarget, inPage(() => download(`/exposure-requests/${request.id}/contacts.${ext}`, name)), () => toast(t('x.saved', { name })));
  };
  const box = $('#contacts');
  mount(box, el('div', { class: 'row' }, el('h3', { class: 'grow' }, `${t('x.contacts', { id: request.id })} · ${result.contacts.length}`),
    el('button', { type: 'button', id: 'contacts-csv', onclick: file('csv') }, t('x.csv')),
    el('button', { type: 'button', id: 'contacts-xlsx', onclick: file('xlsx') }, t('x.xlsx'))),
  result.contacts.length ? el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'contact-list' },
    el('thead', {}, el('tr', {}, ['x.kind', 'x.name', 'x.phone', 'x.gate', 'x.first', 'x.passed', 'x.gap', 'x.times', 'x.offline']
      .map((k) => el('th', {}, t(k))))),
    el('tbody', {}, result.contacts.map((c) => el('tr', {}, el('td', {}, label(KINDS, c.kind)), el('td', {}, c.name || ''),
      el('td', {}, c.phone || ''), el('td', {}, c.gate_name), el('td', {}, clock(c.first_contact_at, { date: true })),
      el('td', {}, clock(c.subject_passed_at, { date: true })), el('td', {}, String(c.gap_seconds)),
      el('td', {}, String(c.encounters)), el('td', {}, c.offline ? '✓' : ''))))))
    : el('p', { class: 'muted' }, t('x.none')));
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}

function actions(request, me, role, again) {
  const mine = request.requested_by_id === me;
  if (request.status === 'approved' && mine) {
    return el('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, inPage(() => showContacts(request))) }, t('x.show'));
  }
  if (request.status !== 'pending') return request.decision_note ? el('span', {}, request.decision_note) : null;
  if (mine) return el('p', { class: 'notice own' }, t('x.own'));
  if (role !== 'alliance_admin') return el('span', { class: 'muted' }, t('x.wait'));
  const note = el('input', { 'aria-label': `${t('x.note')} #${request.id}`, placeholder: t('x.note'), maxlength: 500 });
  const decide = (verb, done) => (e) => act(e.currentTarget, inPage(async () => {
    await api(`/exposure-requests/${request.id}/${verb}`, { method: 'POST', body: { note: note.value.trim() } });
    toast(t(done));
  }), again);
  return [note, el('button', { type: 'button', class: 'primary', onclick: decide('approve', 'x.approved') }, t('x.approve')),
    el('button', { type: 'button', class: 'danger', onclick: decide('reject', 'x.rejected') }, t('x.reject'))];
}

async function renderRequests(names, residents, force = false) {
  const list = await api('/exposure-requests', { query: { page_size: 50 } });
  const signature = JSON.stringify(list.items);
  if (!force && signature === shown) return;
  shown = signature;
  const who = claims();
  const me = Number(who?.sub);
  const again = () => renderRequests(names, residents, true);
  const subject = (id) => residents.find((r) => r.id === id)?.display_name || `#${id}`;
  const row = (r) => el('tr', { dataset: { id: r.id, status: r.status } }, el('td', {}, `#${r.id}`), el('td', {}, names[r.compound_id] || ''),
    el('td', {}, subject(r.subject_user_id)),
    el('td', {}, `${clock(r.window_start, { date: true })} – ${clock(r.window_end, { date: true })} · ±${r.minutes}′`),
    el('td', { class: 'reason' }, r.reason), el('td', {}, el('span', { class: `badge ${COLOUR[r.status]} status` }, label(STATUS, r.status))),
    el('td', {}, clock(r.created_at, { date: true })), el('td', {}, el('div', { class: 'actions' }, actions(r, me, who?.role, again))));
  mount($('#requests'), el('h3', {}, `${t('x.requests')} (${list.total})`),
    list.items.length ? el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'request-list' },
      el('thead', {}, el('tr', {}, ['', 'x.compound', 'x.subject', 'x.window', 'x.reason', 'x.status', 'x.filedat', '']
        .map((k) => el('th', {}, k ? t(k) : '')))), el('tbody', {}, list.items.map(row))))
      : el('p', { class: 'muted' }, t('empty')));
}

startConsolePage('exposure', async ({ who, compound }) => {
  if (stop) { stop(); stop = null; }
  shown = '';
  const staff = who.role === 'staff';
  const [compounds, residents] = await Promise.all([
    myCompounds(),
    staff && compound ? api(`/compounds/${compound.id}/residents`, { query: { page_size: 100 } }).then((p) => p.items) : [],
  ]);
  const names = Object.fromEntries(compounds.map((c) => [c.id, c.name]));
  const people = residents.filter((r) => r.residency !== 'removed');
  const again = () => renderRequests(names, people, true);
  mount($('#exposure'), el('p', { class: 'error', id: 'exposure-error', role: 'alert', hidden: true }),
    staff && compound ? requestForm(compound, people, again) : null,
    el('section', { class: 'card', id: 'requests' }), el('section', { class: 'card', id: 'contacts', hidden: true }));
  stop = poll(() => renderRequests(names, people), 10_000);
}, { needsCompound: claims()?.role === 'staff' });
