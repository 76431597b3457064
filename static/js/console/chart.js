// Charts for the console with the vendored ECharts 'simple' build (bar and line only), drawn on a
// canvas; tooltips in rich text so nothing needs an inline style the CSP would refuse.
import '../../vendor/echarts/echarts.simple.min.js';

const { echarts } = globalThis;

/**
 * Draw (or redraw) today's check-ins per gate per hour as stacked bars into container.
 * counts: [{gate_name, hour, allowed, denied}], labels: {allowed, denied, hour}.
 */
export function hourlyChart(container, counts, labels) {
  const chart = echarts.getInstanceByDom(container) || echarts.init(container, null, { renderer: 'canvas' });
  const hours = [...Array(24).keys()];
  const gates = [...new Set(counts.map((c) => c.gate_name))];
  const series = gates.map((gate) => ({
    name: gate, type: 'bar', stack: 'checkins',
    data: hours.map((h) => counts.filter((c) => c.gate_name === gate && c.hour === h)
      .reduce((sum, c) => sum + c.allowed + c.denied, 0)),
  }));
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: 'Noto Sans CJK SC, sans-serif' },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    xAxis: { type: 'category', data: hours.map((h) => `${h}`), name: labels.hour },
    yAxis: { type: 'value', minInterval: 1 },
    series,
  }, true);
  return chart;
}

/**
 * Draw (or redraw) bars into container: one bar per series at each label, stacked when asked,
 * horizontal for long names (companies). series: [{name, values, color?}]; values may hold null.
 * options: {horizontal, stack, max, unit ('%' shows 0.75 as 75%), axisName}.
 */
export function barChart(container, labels, series, { horizontal = false, stack = false, max, unit = '', axisName } = {}) {
  const chart = echarts.getInstanceByDom(container) || echarts.init(container, null, { renderer: 'canvas' });
  const shown = (v) => (v === null || v === undefined ? null : unit === '%' ? Math.round(v * 1000) / 10 : v);
  const format = (v) => `${v}${unit}`;
  const text = { fontSize: 13, color: '#222' };
  // Every label when they fit (about 40 px each); else every n-th from the first (00, 04, 08 ... on a phone).
  const room = Math.max(4, Math.floor((container.clientWidth || 600) / 40));
  const every = labels.length > room ? Math.ceil(labels.length / room) - 1 : 0;
  const category = { type: 'category', data: labels, inverse: horizontal,
    axisLabel: horizontal ? { ...text, width: 104, overflow: 'truncate' } : { ...text, interval: every } };
  const value = { type: 'value', max: unit === '%' ? 100 : max, minInterval: unit ? undefined : 1, name: axisName,
    nameTextStyle: text, axisLabel: { ...text, formatter: format } };
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: 'Noto Sans CJK SC, sans-serif', fontSize: 13 },
    grid: { left: horizontal ? 116 : 48, right: 44, top: axisName && !horizontal ? 30 : 20, bottom: 32 },
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? category : value,
    series: series.map((s) => ({
      name: s.name, type: 'bar', stack: stack ? 'all' : undefined, itemStyle: s.color ? { color: s.color } : undefined,
      barMaxWidth: 36, data: s.values.map(shown),
      // Values on the bars (not on stacks, nor zeros: the table under the chart has every figure).
      label: { show: !stack && labels.length <= 12, position: horizontal ? 'right' : 'top', ...text,
        formatter: (p) => (p.value ? format(p.value) : '') },
    })),
  }, true);
  return chart;
}
