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
