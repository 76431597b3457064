// The property alliance: member companies and totals; compounds without a company of their own and
// who takes care of them (the alliance admin hands one over to a member company or ends it).
import { api } from '../api.js';
import { $, el, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { act, clock, label, startConsolePage } from './shell.js';

addStrings({
  'a.totals': ['{c} 家成员企业 · {p} 个小区 · {h} 户 · {s} 名员工 · {g} 名保安', '{c} member companies · {p} compounds · {h} households · {s} staff · {g} guards'],
  'a.members': ['成员企业', 'Member companies'], 'a.company': ['企业', 'Company'], 'a.state': ['状态', 'Membership'],
  'a.compounds': ['在管小区', 'Compounds'], 'a.households': ['户数', 'Households'], 'a.staff': ['员工', 'Staff'],
  'a.orphans': ['无物业小区的托管', 'Caretaking of compounds without a company'], 'a.runby': ['托管方', 'Run by'],
  'a.byalliance': ['联盟直管', 'The alliance'], 'a.handover': ['交由托管', 'Hand over'], 'a.end': ['结束托管', 'End'],
  'a.history': ['托管记录', 'History'], 'a.handed': ['已交由 {name} 托管', 'Handed over to {name}'], 'a.ended': ['托管已结束', 'Caretaking ended'],
  'a.caretaken': ['代管', 'caretaking'],
});
const MEMBERSHIP = { invited: ['已邀请', 'Invited'], active: ['正式成员', 'Active'], suspended: ['已暂停', 'Suspended'] };

async function render({ who }) {
  const summary = await api('/alliance');
  const admin = who.role === 'alliance_admin';
  const name = (id) => summary.companies.find((c) => c.id === id)?.name || '';
  const active = summary.companies.filter((c) => c.membership === 'active');
  const again = () => render({ who });
  const orphanRows = await Promise.all(summary.compounds_without_company.map(async (c) => {
    const history = admin ? (await api(`/alliance/compounds/${c.id}/caretaking`, { query: { page_size: 5 } })).items : [];
    const current = history.find((h) => h.active);
    const pick = el('select', { 'aria-label': `${c.name} ${t('a.handover')}` }, active.map((m) => el('option', { value: m.id }, m.name)));
    return el('tr', { dataset: { id: c.id } }, el('td', {}, c.name), el('td', {}, c.households),
      el('td', { class: 'runby' }, c.caretaker_company_id ? name(c.caretaker_company_id) : t('a.byalliance')),
      el('td', {}, history.map((h) => `${name(h.company_id)} ${clock(h.starts_at, { date: true })}${h.ended_at ? `–${clock(h.ended_at, { date: true })}` : ''}`).join(';')),
      admin ? el('td', { class: 'actions' },
        current ? el('button', { type: 'button', class: 'danger', onclick: (e) => act(e.currentTarget, async () => {
          await api(`/alliance/compounds/${c.id}/caretaking/${current.id}/end`, { method: 'POST', body: {} }); toast(t('a.ended'));
        }, again) }, t('a.end'))
          : [pick, el('button', { type: 'button', class: 'primary', onclick: (e) => act(e.currentTarget, async () => {
            await api(`/alliance/compounds/${c.id}/caretaking`, { method: 'POST', body: { company_id: Number(pick.value) } });
            toast(t('a.handed', { name: name(Number(pick.value)) }));
          }, again) }, t('a.handover'))]) : null);
  }));
  const tot = summary.totals;
  mount($('#alliance'),
    el('section', { class: 'card' }, el('h3', {}, [summary.name, summary.region].filter(Boolean).join(' · ')),
      el('p', {}, t('a.totals', { c: tot.member_companies, p: tot.compounds, h: tot.households, s: tot.staff, g: tot.guards }))),
    el('section', { class: 'card' }, el('h3', {}, t('a.members')),
      el('table', { class: 'list', id: 'members' }, el('thead', {}, el('tr', {}, ['a.company', 'a.state', 'a.compounds', 'a.households', 'a.staff'].map((k) => el('th', {}, t(k))))),
        el('tbody', {}, summary.companies.map((c) => el('tr', {}, el('td', {}, c.name), el('td', {}, label(MEMBERSHIP, c.membership)),
          el('td', {}, [...c.compounds.map((x) => x.name), ...c.caretaken_compounds.map((x) => `${x.name}(${t('a.caretaken')})`)].join('、')),
          el('td', {}, c.households), el('td', {}, c.staff)))))),
    el('section', { class: 'card' }, el('h3', {}, t('a.orphans')),
      orphanRows.length ? el('table', { class: 'list', id: 'orphans' }, el('thead', {}, el('tr', {},
        ['compound.pick', 'a.households', 'a.runby', 'a.history', ''].map((k) => el('th', {}, k ? t(k) : '')))), el('tbody', {}, orphanRows))
        : el('p', { class: 'muted' }, t('empty'))));
}

startConsolePage('alliance', render, { needsCompound: false });
