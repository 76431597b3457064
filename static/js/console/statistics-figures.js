// Which pictures the statistics page draws from a statistics answer: chart specs (title, labels,
// series, the table's rows) for today's areas and for the breakdown per company or compound, and
// the breakdown table with its drill-down buttons. Only the series the answer holds are drawn.
import { el } from '../dom.js';
import { addStrings, lang, t } from '../i18n.js';

addStrings({
  'f.hourly': ['今日每小时出入人次', 'Check-ins per hour today'], 'f.hour': ['时段', 'Hour'],
  'f.allowed': ['放行', 'Allowed'], 'f.denied': ['拦截', 'Refused'], 'f.total': ['合计', 'Total'],
  'f.gates': ['今日各出入口出入人次', 'Check-ins per gate today'], 'f.gate': ['出入口', 'Gate'],
  'f.health': ['今日测温与发热', 'Temperatures today'], 'f.figure': ['项目', 'Figure'], 'f.count': ['人次', 'Count'],
  'f.readings': ['测温', 'Readings'], 'f.high': ['体温偏高(≥37.3℃)', 'High (≥37.3 °C)'], 'f.fevers': ['确认发热', 'Fevers'],
  'f.times': ['送达与应急响应时长(中位数)', 'Delivery and response times (median)'], 'f.minutes': ['分钟', 'Minutes'],
  'f.times.note': ['送菜:近 7 天送达的请求;应急:近 30 天的事件。', 'Deliveries: delivered in the last 7 days; incidents: the last 30 days.'],
  'f.deliver': ['送菜送达', 'Delivery'], 'f.arrival': ['应急首批到达', 'First arrival'], 'f.needs': ['应急需求满足', 'All needs met'],
  'f.roster': ['今日门岗排班覆盖:{rate}', 'Guard coverage today: {rate}'], 'f.places': ['岗位数', 'Places'],
  'f.required': ['需排岗位', 'Required'], 'f.filled': ['已排岗位', 'Filled'], 'f.rate': ['覆盖率', 'Coverage'],
  'f.supplies': ['防疫物资库存', 'Supplies on hand'], 'f.item': ['物资', 'Item'], 'f.quantity': ['数量', 'Quantity'],
  'f.by.coverage': ['各{who}住户登记覆盖率', 'Households registered per {who}'],
  'f.by.checkins': ['各{who}今日出入与发热', 'Check-ins and fevers per {who} today'],
  'f.by.times': ['各{who}送达与首批到达时长(中位数)', 'Delivery and first-arrival times per {who} (median)'],
  'f.by.roster': ['各{who}今日排班覆盖率', 'Guard coverage per {who} today'],
  'f.rate.roster': ['排班覆盖率', 'Guard coverage'], 'f.company': ['企业', 'company'], 'f.compound': ['小区', 'compound'],
  'f.registered': ['已登记户数', 'Registered'], 'f.households': ['总户数', 'Total'],
  'f.checkins': ['出入', 'Check-ins'], 'f.table': ['各{who}数据', 'Figures per {who}'], 'f.open': ['查看', 'Open'],
  'f.quarantines': ['隔离中', 'Quarantined'], 'f.open_deliveries': ['待送菜', 'Open deliveries'],
  'f.incidents': ['应急事件', 'Incidents'], 'f.nocompany': ['无物业企业', 'No company'],
  'f.total.missing': ['{n} 个项目未填总户数', 'total unknown at {n} compounds'],
  'f.total.unknown': ['已登记 {n} 户,总户数未填', '{n} registered, total unknown'],
});

// The bars' colours (the legend under a chart names them by the same tone: css/statistics.css).
const TONES = { green: '#0a7a2f', red: '#b3141b', blue: '#0b5cad', orange: '#a84300', grey: '#6b6b6b' };
const tone = (name) => ({ tone: name, color: TONES[name] });

/** A figure as text: '—' when unknown, a share as a percentage when unit is '%'. */
export function fmt(value, unit = '') {
  if (value === null || value === undefined) return '—';
  if (unit === '%') return `${Math.round(value * 1000) / 10}%`;
  return typeof value === 'number' ? value.toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN') : String(value);
}

function hourly(gate) {
  const hours = gate.by_hour;
  const busy = hours.filter((h) => h.allowed + h.denied);
  const two = (n) => String(n).padStart(2, '0');
  return {
    id: 'chart-hourly', title: t('f.hourly'), head: t('f.hour'), tall: false,
    labels: hours.map((h) => two(h.hour)), stack: true,
    series: [{ name: t('f.allowed'), values: hours.map((h) => h.allowed), ...tone('green') },
      { name: t('f.denied'), values: hours.map((h) => h.denied), ...tone('red') }],
    // The table lists the hours with traffic only, and the day's total.
    rows: [...busy.map((h) => [`${two(h.hour)}:00–${two(h.hour + 1)}:00`, fmt(h.allowed), fmt(h.denied)]),
      [t('f.total'), fmt(gate.allowed), fmt(gate.denied)]],
  };
}

/** Today's areas of one scope: traffic per hour (and per gate for a compound), health, times, coverage, supplies. */
export function todayCharts(a, items, level) {
  const specs = [hourly(a.gate)];
  if (level === 'compound' && a.gate.by_gate.length) {
    specs.push({ id: 'chart-gates', title: t('f.gates'), head: t('f.gate'), stack: true, labels: a.gate.by_gate.map((g) => g.name),
      series: [{ name: t('f.allowed'), values: a.gate.by_gate.map((g) => g.allowed), ...tone('green') },
        { name: t('f.denied'), values: a.gate.by_gate.map((g) => g.denied), ...tone('red') }] });
  }
  specs.push({ id: 'chart-health', title: t('f.health'), head: t('f.figure'),
    labels: [t('f.readings'), t('f.high'), t('f.fevers')],
    series: [{ name: t('f.count'), values: [a.health.readings, a.health.high_readings, a.health.fevers], ...tone('orange') }] });
  const times = [[t('f.deliver'), a.delivery.median_minutes_to_deliver]];
  if (a.incidents) {
    times.push([t('f.arrival'), a.incidents.median_minutes_to_first_arrival], [t('f.needs'), a.incidents.median_minutes_to_needs_met]);
  }
  specs.push({ id: 'chart-times', title: t('f.times'), note: t('f.times.note'), head: t('f.figure'), axisName: t('f.minutes'),
    labels: times.map(([name]) => name), series: [{ name: t('f.minutes'), values: times.map(([, v]) => v), ...tone('blue') }] });
  const r = a.roster;
  specs.push({ id: 'chart-roster', title: t('f.roster', { rate: fmt(r.roster_coverage, '%') }), head: t('f.figure'),
    labels: [t('f.required'), t('f.filled')],
    series: [{ name: t('f.places'), values: [r.places_required, r.places_filled], ...tone('green') }],
    rows: [[t('f.required'), fmt(r.places_required)], [t('f.filled'), fmt(r.places_filled)], [t('f.rate'), fmt(r.roster_coverage, '%')]] });
  const stock = Object.entries(a.supplies?.on_hand || {});
  if (stock.length) {
    specs.push({ id: 'chart-supplies', title: t('f.supplies'), head: t('f.item'), labels: stock.map(([code]) => items[code] || code),
      series: [{ name: t('f.quantity'), values: stock.map(([, n]) => n), ...tone('blue') }] });
  }
  return specs;
}

const rowName = (row) => row.name || t('f.nocompany');

/** Coverage with its households: "30%(3/10)", or how many are registered when the total is unknown. */
export function households(org) {
  if (org.coverage === null || org.coverage === undefined) return t('f.total.unknown', { n: fmt(org.households_registered) });
  if (org.compounds_without_total) return `${fmt(org.coverage, '%')}(${t('f.total.missing', { n: org.compounds_without_total })})`;
  return `${fmt(org.coverage, '%')}(${fmt(org.households_registered)}/${fmt(org.households_total)})`;
}

/** The breakdown of an alliance (per company) or a company (per compound) as bars, longest names on the left. */
export function breakdownCharts(a, rows) {
  const who = t(a.companies ? 'f.company' : 'f.compound');
  const labels = rows.map(rowName);
  const pick = (section, key) => rows.map((row) => row[section]?.[key] ?? null);
  const common = { labels, horizontal: true, head: who };
  return [
    { ...common, id: 'chart-by-coverage', title: t('f.by.coverage', { who }), unit: '%',
      series: [{ name: t('f.rate'), values: pick('organisation', 'coverage'), ...tone('blue') }],
      rows: rows.map((row) => [rowName(row), households(row.organisation)]) },
    { ...common, id: 'chart-by-checkins', title: t('f.by.checkins', { who }),
      series: [{ name: t('f.checkins'), values: pick('gate', 'checkins'), ...tone('green') },
        { name: t('f.fevers'), values: pick('health', 'fevers'), ...tone('red') }] },
    { ...common, id: 'chart-by-times', title: t('f.by.times', { who }), axisName: t('f.minutes'),
      series: [{ name: t('f.deliver'), values: pick('delivery', 'median_minutes_to_deliver'), ...tone('blue') },
        ...(a.incidents ? [{ name: t('f.arrival'), values: pick('incidents', 'median_minutes_to_first_arrival'), ...tone('orange') }] : [])] },
    { ...common, id: 'chart-by-roster', title: t('f.by.roster', { who }), unit: '%',
      series: [{ name: t('f.rate'), values: pick('roster', 'roster_coverage'), ...tone('grey') }] },
  ];
}

/** Every row of the breakdown with its headline figures, and a button to drill down into it. */
export function breakdownTable(a, rows, open) {
  const who = t(a.companies ? 'f.company' : 'f.compound');
  const columns = [
    [t('f.rate'), (r) => fmt(r.organisation.coverage, '%')], [t('f.checkins'), (r) => fmt(r.gate.checkins)],
    [t('f.denied'), (r) => fmt(r.gate.denied)], [t('f.fevers'), (r) => fmt(r.health.fevers)],
    [t('f.quarantines'), (r) => fmt(r.health.active_quarantines)], [t('f.open_deliveries'), (r) => fmt(r.delivery.open_deliveries)],
    [t('f.deliver'), (r) => fmt(r.delivery.median_minutes_to_deliver)], [t('f.rate.roster'), (r) => fmt(r.roster.roster_coverage, '%')],
  ];
  if (a.incidents) columns.push([t('f.incidents'), (r) => fmt(r.incidents?.incidents_30_days)], [t('f.arrival'), (r) => fmt(r.incidents?.median_minutes_to_first_arrival)]);
  return el('section', { class: 'card' }, el('h3', {}, t('f.table', { who })),
    el('div', { class: 'table-scroll' }, el('table', { class: 'list', id: 'breakdown' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, who), columns.map(([h]) => el('th', { scope: 'col' }, h)), el('th', {}))),
      el('tbody', {}, rows.map((row) => {
        const drill = open(row);
        return el('tr', { dataset: { id: row.id ?? '' } }, el('th', { scope: 'row' }, rowName(row)), columns.map(([, f]) => el('td', {}, f(row))),
          el('td', {}, drill ? el('button', { type: 'button', class: 'link', onclick: drill, 'aria-label': `${t('f.open')} ${rowName(row)}` }, t('f.open')) : null));
      })))));
}
