// Printing and exports of a compound: gate posters (PDF), household invite slips (PDF), a day's
// temperature readings (CSV for Excel, or .xlsx). Files are fetched with the token and saved.
import { $, el, mount, toast } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { act, download, startConsolePage } from './shell.js';

addStrings({
  'p.posters': ['出入口海报', 'Gate posters'], 'p.posters.how': ['每个出入口一张 A4 海报,含扫码登记二维码。', 'One A4 poster per gate with its check-in QR.'],
  'p.slips': ['住户邀请码', 'Household invite slips'], 'p.slips.how': ['每户一张邀请码(每页 8 张),住户扫码绑定。', 'One slip per household (8 to a page) for residents to bind.'],
  'p.temps': ['体温记录导出', 'Temperature export'], 'p.temps.how': ['导出某一天的体温记录(导出会记入审计日志)。', 'Export one day of readings (exports are audited).'],
  'p.pdf': ['下载 PDF', 'Download PDF'], 'p.csv': ['导出 CSV', 'Export CSV'], 'p.xlsx': ['导出 Excel', 'Export Excel'],
  'p.day': ['日期', 'Day'], 'p.saved': ['已下载 {name}', 'Downloaded {name}'],
});

startConsolePage('print', ({ compound }) => {
  if (!compound) return;
  const saved = (name) => () => toast(t('p.saved', { name }));
  const day = el('input', { id: 'p-day', type: 'date', value: new Date().toLocaleDateString('en-CA') });
  const file = (path, name, options) => (e) => act(e.currentTarget, () => download(path, name, options), saved(name));
  mount($('#print'),
    el('section', { class: 'card' }, el('h3', {}, t('p.posters')), el('p', {}, t('p.posters.how')),
      el('button', { type: 'button', id: 'posters', class: 'primary', onclick: file(`/compounds/${compound.id}/posters.pdf`, `posters-${compound.id}.pdf`) }, t('p.pdf'))),
    el('section', { class: 'card' }, el('h3', {}, t('p.slips')), el('p', {}, t('p.slips.how')),
      el('button', { type: 'button', id: 'slips', class: 'primary', onclick: file(`/compounds/${compound.id}/invite-slips`, `invite-slips-${compound.id}.pdf`, { method: 'POST', body: {} }) }, t('p.pdf'))),
    el('section', { class: 'card' }, el('h3', {}, t('p.temps')), el('p', {}, t('p.temps.how')),
      el('div', { class: 'field' }, el('label', { for: 'p-day' }, t('p.day')), day),
      el('div', { class: 'actions' },
        el('button', { type: 'button', id: 'csv', onclick: (e) => file(`/compounds/${compound.id}/temperatures/export?day=${day.value}`, `temperatures-${day.value}.csv`)(e) }, t('p.csv')),
        el('button', { type: 'button', id: 'xlsx', onclick: (e) => file(`/compounds/${compound.id}/temperatures/export.xlsx?day=${day.value}`, `temperatures-${day.value}.xlsx`)(e) }, t('p.xlsx')))));
});
