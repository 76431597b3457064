// District statistics (today's figures, aggregates only) of the alliance, a company or a compound:
// pictures first (gate traffic per hour and per gate, temperatures, delivery and response times,
// guard coverage, supplies, a bar per company or compound), each with its figures as a small table
// under it; drill-down alliance → company → compound, kept in the address (?level=company&id=3) so
// the browser's Back works; CSV and Excel exports of what is shown (audited by the server).
import { api } from '../api.js';
import { $, el, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { barChart } from './chart.js';
import { act, clock, download, myCompounds, startConsolePage } from './shell.js';
import { breakdownCharts, breakdownTable, fmt, households, todayCharts } from './statistics-figures.js';

addStrings({
  's.alliance': ['全联盟', 'Alliance'], 's.company': ['企业', 'Company'], 's.compound': ['小区', 'Compound'],
  's.scope': ['统计范围', 'Statistics scope'],
  's.asof': ['今日({day})数据,截至 {time}', 'Today ({day}), as of {time}'],
  's.csv': ['导出 CSV', 'Export CSV'], 's.xlsx': ['导出 Excel', 'Export Excel'], 's.saved': ['已下载 {name}', 'Downloaded {name}'],
  's.tiles': ['概况', 'At a glance'],
  's.t.checkins': ['今日出入', 'Check-ins today'], 's.t.denied': ['今日拦截', 'Refused today'],
  's.t.fevers': ['今日发热', 'Fevers today'], 's.t.quarantines': ['居家隔离中', 'In home quarantine'],
  's.t.open_deliveries': ['待完成送菜', 'Open deliveries'], 's.t.deliver': ['送达中位时长', 'Median time to deliver'],
  's.t.coverage': ['今日排班覆盖率', 'Guard coverage today'], 's.t.incidents': ['近30天应急事件', 'Incidents, 30 days'],
  's.t.arrival': ['首批到达中位时长', 'Median first arrival'], 's.t.households': ['住户登记覆盖率', 'Households registered'],
  's.t.companies': ['物业企业', 'Companies'], 's.t.compounds': ['项目(住宅)', 'Compounds (residential)'],
  's.t.staff': ['物业人员 / 保安', 'Staff / guards'], 's.t.residents': ['居民', 'Residents'],
  's.min': ['{n} 分钟', '{n} min'],
  's.tablebelow': ['数据见下表', 'figures in the table below'],
});

const PATHS = {
  alliance: () => '/statistics/alliance',
  company: (id) => `/statistics/companies/${id}`,
  compound: (id) => `/statistics/compounds/${id}`,
};

let state = null; // {who, compound, view: {level, id}, compounds, companies: {id: name}, items: {code: name}}
let drawn = [];

function viewFromAddress() {
  const q = new URLSearchParams(window.location.search);
  const level = q.get('level');
  const id = Number(q.get('id'));
  if (level === 'alliance' && state.who.role === 'alliance_admin') return { level };
  if ((level === 'company' || level === 'compound') && id > 0) return { level, id };
  return null;
}

function defaultView() {
  if (state.who.role === 'alliance_admin') return { level: 'alliance' };
  return state.compound ? { level: 'compound', id: state.compound.id } : { level: 'company', id: Number(Object.keys(state.companies)[0]) };
}

/** Open a view (a drill-down step) and remember it in the address. */
function go(view) {
  state.view = view;
  const query = view.level === 'alliance' ? 'level=alliance' : `level=${view.level}&id=${view.id}`;
  window.history.pushState(null, '', `?${query}`);
  return draw();
}

function crumbs(answer) {
  const { level, id } = state.view;
  const steps = [];
  if (state.who.role === 'alliance_admin') steps.push([t('s.alliance'), { level: 'alliance' }]);
  const companyId = level === 'company' ? id : state.compounds.find((c) => c.id === id)?.company_id;
  if (level !== 'alliance' && companyId) steps.push([state.companies[companyId] || t('s.company'), { level: 'company', id: companyId }]);
  if (level === 'compound') steps.push([answer.scope.name, state.view]);
  if (level === 'alliance') steps[0][0] = answer.scope.name;
  return el('nav', { class: 'crumbs', 'aria-label': t('s.scope') }, el('ol', {}, steps.map(([name, view], i) => el('li', {},
    i === steps.length - 1 ? el('strong', { 'aria-current': 'page' }, name)
      : el('button', { type: 'button', class: 'link', onclick: () => go(view) }, name)))));
}

function exportButtons(answer) {
  const { level } = state.view;
  const path = level === 'alliance' ? '/statistics/alliance/export' : `${PATHS[level](state.view.id)}/export`;
  const save = (format, ext) => (e) => {
    const name = `statistics-${level}-${answer.scope.id}-${answer.day}.${ext}`;
    act(e.currentTarget, () => download(`${path}?format=${format}`, name), () => toast(t('s.saved', { name })));
  };
  return el('div', { class: 'actions' },
    el('button', { type: 'button', id: 'export-csv', onclick: save('csv', 'csv') }, t('s.csv')),
    el('button', { type: 'button', id: 'export-xlsx', onclick: save('xlsx', 'xlsx') }, t('s.xlsx')));
}

function tile(key, value, id) {
  return el('div', { class: 'tile', dataset: { figure: id } }, el('span', { class: 'tile-label' }, t(key)), el('strong', {}, value));
}

function tiles(a) {
  const minutes = (v) => (v === null || v === undefined ? '—' : t('s.min', { n: v }));
  const org = a.organisation;
  const list = [
    tile('s.t.checkins', fmt(a.gate.checkins), 'checkins'), tile('s.t.denied', fmt(a.gate.denied), 'denied'),
    tile('s.t.fevers', fmt(a.health.fevers), 'fevers'), tile('s.t.quarantines', fmt(a.health.active_quarantines), 'quarantines'),
    tile('s.t.open_deliveries', fmt(a.delivery.open_deliveries), 'open_deliveries'),
    tile('s.t.deliver', minutes(a.delivery.median_minutes_to_deliver), 'deliver'),
    tile('s.t.coverage', fmt(a.roster.roster_coverage, '%'), 'roster_coverage'),
  ];
  if (a.incidents) {
    list.push(tile('s.t.incidents', fmt(a.incidents.incidents_30_days), 'incidents'),
      tile('s.t.arrival', minutes(a.incidents.median_minutes_to_first_arrival), 'arrival'));
  }
  list.push(tile('s.t.households', households(org), 'households'));
  if (org.companies !== null && state.view.level === 'alliance') list.push(tile('s.t.companies', fmt(org.companies), 'companies'));
  if (state.view.level !== 'compound') list.push(tile('s.t.compounds', `${fmt(org.compounds)}(${fmt(org.residential_compounds)})`, 'compounds'));
  list.push(tile('s.t.residents', fmt(org.residents), 'residents'));
  if (org.staff !== null) list.push(tile('s.t.staff', `${fmt(org.staff)} / ${fmt(org.guards)}`, 'staff'));
  return el('section', { class: 'tiles', 'aria-label': t('s.tiles') }, list);
}

/** A chart card: its title, the picture (role=img) and the same figures as a small table. */
function chartCard(spec) {
  const box = el('div', { class: `chart${spec.tall ? ' tall' : ''}`, role: 'img', 'aria-label': `${spec.title}(${t('s.tablebelow')})` });
  const rows = spec.rows || spec.labels.map((label, i) => [label, ...spec.series.map((s) => fmt(s.values[i], spec.unit))]);
  const table = el('table', { class: 'list figures' },
    el('caption', { class: 'visually-hidden' }, spec.title),
    el('thead', {}, el('tr', {}, [spec.head, ...spec.series.map((s) => s.name)].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((row) => el('tr', {}, row.map((cell, i) => (i ? el('td', {}, cell) : el('th', { scope: 'row' }, cell)))))));
  const legend = spec.series.length > 1 ? el('ul', { class: 'legend', 'aria-hidden': 'true' },
    spec.series.map((s) => el('li', {}, el('span', { class: `swatch ${s.tone}` }), s.name))) : null;
  drawn.push(() => barChart(box, spec.labels, spec.series, spec));
  return el('section', { class: 'card chart-card', id: spec.id }, el('h3', {}, spec.title),
    spec.note ? el('p', { class: 'muted' }, spec.note) : null, legend, box, table);
}

async function draw() {
  const { level, id } = state.view;
  const answer = await api(PATHS[level](id));
  drawn.forEach((chart) => chart?.dispose?.());
  drawn = [];
  const breakdown = answer.companies || answer.compounds;
  const open = (row) => (answer.companies ? (row.id ? () => go({ level: 'company', id: row.id }) : null) : () => go({ level: 'compound', id: row.id }));
  mount($('#statistics'),
    el('div', { class: 'scope-bar' }, crumbs(answer),
      el('p', { class: 'muted grow', id: 'as-of' }, t('s.asof', { day: answer.day, time: clock(answer.as_of, { zone: answer.timezone }) })),
      exportButtons(answer)),
    tiles(answer),
    el('div', { class: 'chart-grid' }, todayCharts(answer, state.items, level).map(chartCard)),
    breakdown ? el('div', { class: 'chart-grid' }, breakdownCharts(answer, breakdown).map(chartCard)) : null,
    breakdown ? breakdownTable(answer, breakdown, open) : null);
  drawn = drawn.map((paint) => paint());
}

function resize() { drawn.forEach((chart) => chart?.resize?.()); }

startConsolePage('statistics', async ({ who, compound }) => {
  if (!state) {
    const [compounds, companies, items] = await Promise.all([
      myCompounds(), api('/companies', { query: { page_size: 100 } }), api('/supplies/items').catch(() => [])]);
    state = { who, compound, compounds, companies: Object.fromEntries(companies.items.map((c) => [c.id, c.name])),
      items: Object.fromEntries((items.items || items).map((i) => [i.code, i.name])) };
    state.view = viewFromAddress() || defaultView();
    window.history.replaceState(null, '', window.location.href);
    window.addEventListener('popstate', () => { state.view = viewFromAddress() || defaultView(); draw(); });
    window.addEventListener('resize', resize);
  } else if (compound && compound.id !== state.compound?.id) {
    state.compound = compound; // picked in the compound picker: open that compound
    await go({ level: 'compound', id: compound.id });
    return;
  }
  await draw();
});
