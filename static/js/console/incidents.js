// Emergency mutual aid: raise an incident at a compound with its needs, watch the dispatch clock run,
// see the other companies' pledges arrive (refreshed every 4 seconds), pledge people and equipment to
// another company's incident, mark departures and arrivals, close with a summary.
import { api, claims } from '../api.js';
import { $, el, formData, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { itemCodeOf, itemCount, itemName } from './items.js';
import { act, clock, duration, label, myCompounds, poll, startConsolePage } from './shell.js';

addStrings({
  'inc.raise': ['发起求助', 'Raise an incident'],
  'inc.list': ['事件', 'Incidents'],
  'inc.none': ['没有事件', 'No incident'],
  'inc.compound': ['小区', 'Compound'], 'inc.kind': ['类型', 'Kind'], 'inc.place': ['地点', 'Place'],
  'inc.description': ['情况说明', 'Description'], 'inc.target': ['目标到达时间(分钟)', 'Target arrival (minutes)'],
  'inc.needs': ['需要(每行:物资 数量,如 人员 6、水泵 2)', 'Needs (one a line: item quantity, e.g. people 6, pumps 2)'],
  'inc.submit': ['发起', 'Raise'], 'inc.raised': ['已发起,联盟各成员已收到通知', 'Raised; the alliance members are told'],
  'inc.clock': ['调度计时', 'Dispatch clock'], 'inc.target.of': ['目标 {m} 分钟', 'target {m} min'],
  'inc.first': ['首批到达用时 {t}', 'First arrival after {t}'], 'inc.met': ['需求满足用时 {t}', 'Needs met after {t}'],
  'inc.overdue': ['已超时', 'Overdue'], 'inc.within': ['在目标内', 'Within target'],
  'inc.need': ['物资', 'Item'], 'inc.requested': ['需要', 'Needed'], 'inc.pledged': ['已承诺', 'Pledged'],
  'inc.departed': ['已出发', 'Departed'], 'inc.arrived': ['已到达', 'Arrived'], 'inc.missing': ['缺口', 'Missing'],
  'inc.pledges': ['支援承诺', 'Pledges'], 'inc.nopledge': ['暂无承诺', 'No pledge yet'],
  'inc.pledge': ['承诺支援', 'Pledge help'], 'inc.pledge.send': ['提交承诺', 'Pledge'],
  'inc.pledge.people': ['派出人员', 'People sent'], 'inc.pledge.note': ['备注', 'Note'],
  'inc.depart': ['已出发', 'Departed'], 'inc.arrive': ['已到达', 'Arrived'], 'inc.cancel': ['撤回', 'Withdraw'],
  'inc.close': ['结束事件', 'Close'], 'inc.summary': ['总结', 'Summary'],
  'inc.status.open': ['进行中', 'Open'], 'inc.status.closed': ['已结束', 'Closed'],
});
const KINDS = { flood: ['内涝', 'Flood'], outbreak: ['疫情', 'Outbreak'], fire: ['火情', 'Fire'], power_cut: ['停电', 'Power cut'], water_cut: ['停水', 'Water cut'], other: ['其他', 'Other'] };
const PLEDGE = { pledged: ['已承诺', 'Pledged'], departed: ['已出发', 'Departed'], arrived: ['已到达', 'Arrived'], cancelled: ['已撤回', 'Withdrawn'] };

// The codes incident needs are written with (a typed 水泵 becomes `pump`, as the pledges expect).
const INCIDENT_CODES = ['people', 'pump'];

let selected = Number(new URLSearchParams(window.location.search).get('id')) || null;
let latest = null; // the selected incident as last read
let compounds = [];
let guards = [];

function field(id, key, input) {
  return el('div', { class: 'field' }, el('label', { for: id }, t(key)), input);
}

function raiseForm() {
  const form = el('form', { class: 'card', id: 'raise-form' }, el('h3', {}, t('inc.raise')),
    field('inc-compound', 'inc.compound', el('select', { id: 'inc-compound', name: 'compound_id' }, compounds.map((c) => el('option', { value: c.id }, c.name)))),
    field('inc-kind', 'inc.kind', el('select', { id: 'inc-kind', name: 'kind' }, Object.keys(KINDS).map((k) => el('option', { value: k }, label(KINDS, k))))),
    field('inc-place', 'inc.place', el('input', { id: 'inc-place', name: 'place', required: true, maxlength: 200 })),
    field('inc-needs', 'inc.needs', el('textarea', { id: 'inc-needs', name: 'needs', rows: 3, required: true }, `${itemName('people')} 6`)),
    field('inc-target', 'inc.target', el('input', { id: 'inc-target', name: 'target_minutes', type: 'number', min: 1, max: 1440, value: 30 })),
    el('button', { type: 'submit', class: 'primary' }, t('inc.submit')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = formData(form);
    const needs = data.needs.split('\n').map((line) => line.trim().split(/\s+/)).filter((p) => p[0])
      .map(([item, quantity]) => ({ item: itemCodeOf(item, INCIDENT_CODES), quantity: Number(quantity || 1) }));
    act(form.querySelector('[type=submit]'), async () => {
      const incident = await api('/incidents', { method: 'POST', body: {
        compound_id: Number(data.compound_id), kind: data.kind, place: data.place.trim(), needs, target_minutes: Number(data.target_minutes) } });
      selected = incident.id;
      toast(t('inc.raised'));
    }, refresh);
  });
  return form;
}

function clockText(incident) {
  const c = incident.clock;
  const elapsed = c.first_arrival_at ? c.seconds_to_first_arrival : (Date.now() - new Date(c.raised_at).getTime()) / 1000;
  return { text: duration(elapsed), overdue: !c.first_arrival_at && elapsed > c.target_minutes * 60 };
}

function tickClock() {
  const box = $('#dispatch-clock');
  if (!box || !latest) return;
  const { text, overdue } = clockText(latest);
  box.textContent = text;
  box.classList.toggle('overdue', overdue);
  $('#clock-state').textContent = overdue ? t('inc.overdue') : '';
}

function pledgeForm(incident) {
  const people = guards.map((g) => el('label', { class: 'row' }, el('input', { type: 'checkbox', name: `person-${g.id}`, value: g.id, class: 'check' }), g.display_name));
  const items = incident.needs.filter((n) => n.item !== 'people').map((n) =>
    field(`pledge-${n.item}`, null, el('input', { id: `pledge-${n.item}`, name: `item-${n.item}`, type: 'number', min: 0, max: n.requested, value: 0 })));
  items.forEach((node, i) => { node.querySelector('label').textContent = itemName(incident.needs.filter((n) => n.item !== 'people')[i].item); });
  const form = el('form', { class: 'card', id: 'pledge-form' }, el('h3', {}, t('inc.pledge')),
    guards.length ? el('fieldset', {}, el('legend', {}, t('inc.pledge.people')), people) : null, items,
    field('pledge-note', 'inc.pledge.note', el('input', { id: 'pledge-note', name: 'note', maxlength: 200 })),
    el('button', { type: 'submit', class: 'primary' }, t('inc.pledge.send')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = formData(form);
    const body = {
      people: Object.keys(data).filter((k) => k.startsWith('person-')).map((k) => Number(data[k])),
      items: Object.keys(data).filter((k) => k.startsWith('item-') && Number(data[k]) > 0).map((k) => ({ item: k.slice(5), quantity: Number(data[k]) })),
      note: data.note || '',
    };
    act(form.querySelector('[type=submit]'), () => api(`/incidents/${incident.id}/pledges`, { method: 'POST', body }), refresh);
  });
  return form;
}

function detail(incident) {
  const who = claims();
  const c = incident.clock;
  const mineCompound = compounds.some((x) => x.id === incident.compound_id);
  const moves = (p) => {
    const go = (move) => (e) => act(e.currentTarget, () => api(`/incident-pledges/${p.id}/${move}`, { method: 'POST' }), refresh);
    if (who.role !== 'staff' || p.status === 'arrived' || p.status === 'cancelled' || !p.can_move) return null;
    return el('span', { class: 'actions' },
      p.status === 'pledged' ? el('button', { type: 'button', onclick: go('depart') }, t('inc.depart')) : null,
      el('button', { type: 'button', onclick: go('arrive') }, t('inc.arrive')),
      el('button', { type: 'button', class: 'danger', onclick: go('cancel') }, t('inc.cancel')));
  };
  const summary = el('input', { name: 'summary', 'aria-label': t('inc.summary'), placeholder: t('inc.summary'), maxlength: 2000 });
  return el('section', { class: 'stack', id: 'incident', dataset: { id: incident.id } },
    el('div', { class: 'card' },
      el('h3', {}, `${label(KINDS, incident.kind)} · ${incident.compound_name} · ${incident.place}`),
      el('div', { class: 'row' },
        el('div', {}, el('div', { class: 'muted' }, t('inc.clock')),
          el('div', { id: 'dispatch-clock', class: 'dispatch-clock', role: 'timer', 'aria-live': 'off' })),
        el('div', { class: 'grow' },
          el('div', {}, `${clock(incident.raised_at, { date: true })} · ${t('inc.target.of', { m: c.target_minutes })}`),
          c.first_arrival_at ? el('div', {}, t('inc.first', { t: duration(c.seconds_to_first_arrival) }), ' ',
            el('span', { class: c.first_arrival_within_target ? 'badge green' : 'badge red' }, t(c.first_arrival_within_target ? 'inc.within' : 'inc.overdue'))) : null,
          c.needs_met_at ? el('div', {}, t('inc.met', { t: duration(c.seconds_to_needs_met) })) : null,
          el('strong', { id: 'clock-state', class: 'error' })),
        el('span', { class: 'badge blue' }, t(`inc.status.${incident.status}`))),
      incident.description ? el('p', {}, incident.description) : null),
    el('table', { class: 'list', id: 'needs' },
      el('thead', {}, el('tr', {}, ['inc.need', 'inc.requested', 'inc.pledged', 'inc.departed', 'inc.arrived', 'inc.missing'].map((k) => el('th', {}, t(k))))),
      el('tbody', {}, incident.needs.map((n) => el('tr', {}, el('td', {}, itemName(n.item)), el('td', {}, n.requested), el('td', {}, n.pledged),
        el('td', {}, n.departed), el('td', {}, n.arrived), el('td', {}, n.missing))))),
    el('div', { class: 'card', id: 'pledges' }, el('h3', {}, `${t('inc.pledges')} (${incident.pledges.length})`),
      incident.pledges.length ? el('ul', {}, incident.pledges.map((p) => el('li', { class: 'row pledge', dataset: { company: p.company_id } },
        el('strong', {}, p.company_name), el('span', { class: 'badge' }, label(PLEDGE, p.status)),
        el('span', { class: 'grow' }, [...p.items.map((i) => itemCount(i.item, i.quantity)), p.people.length ? itemCount('people', p.people.length) : null,
          p.people.map((x) => x.name).join('、'), p.note].filter(Boolean).join(' · ')),
        el('span', { class: 'muted' }, clock(p.pledged_at)), moves(p))))
        : el('p', { class: 'muted' }, t('inc.nopledge'))),
    incident.status === 'open' && who.role === 'staff' && !mineCompound ? pledgeForm(incident) : null,
    incident.status === 'open' && incident.can_close ? el('div', { class: 'row card' }, summary,
      el('button', { type: 'button', class: 'danger', onclick: (e) => summary.value.trim() && act(e.currentTarget,
        () => api(`/incidents/${incident.id}/close`, { method: 'POST', body: { summary: summary.value.trim() } }), refresh) }, t('inc.close'))) : null);
}

async function refresh() {
  const list = await api('/incidents', { query: { page_size: 30 } });
  if (!selected && list.items.length) selected = list.items[0].id;
  latest = selected ? await api(`/incidents/${selected}`) : null;
  const me = claims();
  if (latest) {
    for (const p of latest.pledges) p.can_move = me.role === 'staff' && String(p.company_id) === String(me.company_id ?? myCompany());
  }
  const listBox = el('section', { class: 'card' }, el('h3', {}, t('inc.list')),
    list.items.length ? el('table', { class: 'list', id: 'incident-list' }, el('tbody', {}, list.items.map((i) => el('tr', {
      class: 'incident-row', tabindex: 0, 'aria-selected': String(i.id === selected), dataset: { id: i.id },
      onclick: () => { selected = i.id; refresh(); }, onkeydown: (e) => { if (e.key === 'Enter') { selected = i.id; refresh(); } } },
    el('td', {}, label(KINDS, i.kind)), el('td', {}, i.compound_name), el('td', {}, clock(i.raised_at, { date: true })),
    el('td', {}, t(`inc.status.${i.status}`)), el('td', {}, i.missing ? t('inc.missing') + ' ' + i.missing : '')))))
      : el('p', { class: 'muted' }, t('inc.none')));
  const focused = document.activeElement;
  const keepForm = focused && focused.closest && focused.closest('form') && $('#incidents').contains(focused);
  if (keepForm) {
    // Someone is typing: refresh only the incident's figures, not the forms.
    const old = $('#incident');
    if (old && latest && Number(old.dataset.id) === latest.id) {
      const fresh = detail(latest);
      ['#needs', '#pledges'].forEach((sel) => old.querySelector(sel)?.replaceWith(fresh.querySelector(sel)));
    }
  } else {
    mount($('#incidents'), el('div', { class: 'grid-2' }, el('div', { class: 'stack' }, listBox, me.role === 'staff' || me.role === 'alliance_admin' ? raiseForm() : null),
      el('div', {}, latest ? detail(latest) : null)));
  }
  tickClock();
}

function myCompany() {
  return compounds[0]?.company_id;
}

let started = false;
startConsolePage('incidents', async ({ who }) => {
  if (started) { await refresh(); return; }
  started = true;
  compounds = await myCompounds();
  guards = who.role === 'staff' ? (await api('/guards', { query: { page_size: 100 } })).items : [];
  poll(refresh, 4000);
  setInterval(tickClock, 1000);
}, { needsCompound: false });
