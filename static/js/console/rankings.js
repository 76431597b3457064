// Residents' satisfaction rankings of the alliance's companies in a period (a month): the averages
// as bars, first place on top, the same figures in a table, the companies with too few ratings
// listed apart (not ranked); CSV and Excel exports (audited by the server).
import { api } from '../api.js';
import { $, el, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { barChart } from './chart.js';
import { act, download, startConsolePage } from './shell.js';
import { fmt } from './statistics-figures.js';

addStrings({
  'r.period': ['月份', 'Month'], 'r.show': ['查看', 'Show'],
  'r.chart': ['{period} 物业服务满意度排名(平均分,满分 5 分)', 'Satisfaction ranking {period} (average score out of 5)'],
  'r.rank': ['名次', 'Rank'], 'r.company': ['物业企业', 'Company'], 'r.average': ['平均分', 'Average'],
  'r.ratings': ['评价数', 'Ratings'], 'r.kinds': ['其中', 'Of which'],
  'r.kind.period': ['月度评价', 'monthly'], 'r.kind.incident': ['应急', 'incidents'], 'r.kind.delivery': ['送菜', 'deliveries'],
  'r.none': ['本期还没有企业达到排名所需的评价数。', 'No company has enough ratings to be ranked in this period.'],
  'r.unranked': ['评价不足 {n} 条,暂不排名', 'Fewer than {n} ratings: not ranked'],
  'r.csv': ['导出 CSV', 'Export CSV'], 'r.xlsx': ['导出 Excel', 'Export Excel'], 'r.saved': ['已下载 {name}', 'Downloaded {name}'],
});

let period = null;
let chart = null;

function kinds(row) {
  return Object.entries(row.by_kind || {}).map(([kind, n]) => `${t(`r.kind.${kind}`)} ${n}`).join(' · ');
}

function table(id, rows, ranked) {
  const head = [...(ranked ? ['r.rank'] : []), 'r.company', 'r.average', 'r.ratings', 'r.kinds'];
  return el('table', { class: 'list', id },
    el('thead', {}, el('tr', {}, head.map((k) => el('th', { scope: 'col' }, t(k))))),
    el('tbody', {}, rows.map((r) => el('tr', { class: r.rank === 1 ? 'rank-1' : null, dataset: { id: r.company_id } },
      ranked ? el('td', {}, r.rank) : null, el('th', { scope: 'row' }, r.name), el('td', {}, fmt(r.average)),
      el('td', {}, r.ratings), el('td', {}, kinds(r))))));
}

async function render() {
  const body = await api('/ratings/rankings', { query: period ? { period } : {} });
  period = body.period;
  const picker = el('input', { id: 'period', type: 'month', value: /^\d{4}-\d{2}$/.test(period) ? period : '', required: true });
  const save = (format) => (e) => {
    const name = `ranking-${period}.${format}`;
    act(e.currentTarget, () => download(`/ratings/rankings/export?period=${period}&format=${format}`, name), () => toast(t('r.saved', { name })));
  };
  const box = el('div', { class: 'chart tall', id: 'ranking-chart', role: 'img', 'aria-label': t('r.chart', { period }) });
  chart?.dispose();
  chart = null;
  mount($('#rankings'),
    el('form', { class: 'period-bar', onsubmit: (e) => { e.preventDefault(); period = picker.value || null; render(); } },
      el('div', { class: 'field' }, el('label', { for: 'period' }, t('r.period')), picker),
      el('button', { type: 'submit', class: 'primary' }, t('r.show')),
      el('span', { class: 'grow' }),
      el('button', { type: 'button', id: 'export-csv', onclick: save('csv') }, t('r.csv')),
      el('button', { type: 'button', id: 'export-xlsx', onclick: save('xlsx') }, t('r.xlsx'))),
    el('section', { class: 'card' }, el('h3', {}, t('r.chart', { period })),
      body.ranked.length ? [box, table('ranked', body.ranked, true)] : el('p', { class: 'muted' }, t('r.none'))),
    body.unranked.length ? el('section', { class: 'card' }, el('h3', {}, t('r.unranked', { n: body.min_ratings })),
      table('unranked', body.unranked, false)) : null);
  if (body.ranked.length) {
    box.style.height = `${Math.max(200, 60 + body.ranked.length * 44)}px`;
    chart = barChart(box, body.ranked.map((r) => `${r.rank}. ${r.name}`),
      [{ name: t('r.average'), values: body.ranked.map((r) => r.average), color: '#0b5cad' }], { horizontal: true, max: 5 });
  }
}

window.addEventListener('resize', () => chart?.resize());
startConsolePage('rankings', render, { needsCompound: false });
