// Today's gate board of a compound: check-ins per gate per hour (chart), who is on duty at each
// gate, open alerts to acknowledge, visitors inside. Refreshed every 15 seconds.
import { api } from '../api.js';
import { $, el, mount } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { hourlyChart } from './chart.js';
import { act, clock, label, poll, startConsolePage } from './shell.js';

addStrings({
  'board.chart': ['今日各门每小时出入人次', 'Check-ins per gate per hour today'],
  'board.hour': ['时', 'hour'],
  'board.total': ['今日出入 {n} 人次,其中拒绝 {d}', '{n} check-ins today, {d} refused'],
  'board.duty': ['在岗人员', 'On duty'],
  'board.alerts': ['待处理告警', 'Open alerts'],
  'board.visitors': ['在园访客', 'Visitors inside'],
  'board.ack': ['确认处理', 'Acknowledge'],
  'board.late': ['迟到', 'late'],
  'board.notin': ['未打卡', 'not clocked in'],
  'board.lent': ['借调', 'lent'],
  'board.closed': ['(已关闭)', '(closed)'],
});

const ALERT_KINDS = {
  fever: ['体温异常', 'Fever'], missed_report: ['未按时上报', 'Missed report'], returnee: ['返乡人员', 'Returnee'],
  welfare: ['关爱求助', 'Welfare'], coverage_gap: ['门岗缺人', 'Coverage gap'], pass_reuse: ['通行证重复使用', 'Pass reused'],
  low_stock: ['物资不足', 'Low stock'],
};

let stop = null;

async function refresh(compound) {
  const [gates, hourly, alerts, visitors] = await Promise.all([
    api(`/compounds/${compound.id}/gates`, { query: { page_size: 100 } }),
    api(`/compounds/${compound.id}/checkins/hourly`),
    api('/alerts', { query: { compound_id: compound.id, open: true, page_size: 50 } }),
    api(`/compounds/${compound.id}/visitors/inside`, { query: { page_size: 50 } }),
  ]);
  const duty = await Promise.all(gates.items.map((g) => api(`/gates/${g.id}/on-duty`)));
  const board = $('#board');
  let chartBox = $('#hourly-chart');
  if (!chartBox) {
    mount(board,
      el('section', { class: 'card' }, el('h3', { id: 'chart-title' }), el('p', { id: 'chart-total', class: 'muted' }),
        el('div', { id: 'hourly-chart', class: 'chart', role: 'img' })),
      el('div', { class: 'grid-3' },
        el('section', { class: 'card', id: 'duty' }), el('section', { class: 'card', id: 'alerts' }),
        el('section', { class: 'card', id: 'visitors' })));
    chartBox = $('#hourly-chart');
  }
  $('#chart-title').textContent = t('board.chart');
  const total = hourly.counts.reduce((s, c) => s + c.allowed + c.denied, 0);
  const denied = hourly.counts.reduce((s, c) => s + c.denied, 0);
  $('#chart-total').textContent = t('board.total', { n: total, d: denied });
  chartBox.setAttribute('aria-label', `${t('board.chart')}: ${t('board.total', { n: total, d: denied })}`);
  hourlyChart(chartBox, hourly.counts, { hour: t('board.hour') });

  mount($('#duty'), el('h3', {}, t('board.duty')), gates.items.map((gate, i) => el('div', {},
    el('strong', {}, gate.name, gate.is_open ? '' : t('board.closed')),
    duty[i].items.length ? el('ul', {}, duty[i].items.map((d) => el('li', {},
      `${d.guard_name} ${clock(d.starts_at)}–${clock(d.ends_at)} `,
      d.lent ? el('span', { class: 'badge orange' }, t('board.lent')) : null,
      d.clocked_in_at ? (d.late ? el('span', { class: 'badge red' }, t('board.late')) : null)
        : el('span', { class: 'badge' }, t('board.notin')))))
      : el('p', { class: 'muted' }, t('empty')))));

  mount($('#alerts'), el('h3', {}, `${t('board.alerts')} (${alerts.total})`),
    alerts.items.length ? el('ul', {}, alerts.items.map((a) => el('li', { class: 'row' },
      el('span', { class: 'badge red' }, label(ALERT_KINDS, a.kind)), el('span', { class: 'grow' }, clock(a.created_at)),
      el('button', { type: 'button', onclick: (e) => act(e.currentTarget,
        () => api(`/alerts/${a.id}/acknowledge`, { method: 'POST', body: {} }), () => refresh(compound)) }, t('board.ack')))))
      : el('p', { class: 'muted' }, t('empty')));

  mount($('#visitors'), el('h3', {}, `${t('board.visitors')} (${visitors.total})`),
    visitors.items.length ? el('ul', {}, visitors.items.map((v) => el('li', {}, `${v.name} · ${v.purpose || ''}`)))
      : el('p', { class: 'muted' }, t('empty')));
}

startConsolePage('board', ({ compound }) => {
  if (stop) stop();
  $('#board').replaceChildren();
  if (!compound) return;
  stop = poll(() => refresh(compound), 15_000);
});
