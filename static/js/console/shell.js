// The console's frame shared by its pages: sign-in check, the page menu, the compound picker,
// polling, and small helpers (status labels, PDF downloads). Pages call startConsolePage().
import { api, claims, getTokens } from '../api.js';
import { $, el, mount, toast } from '../dom.js';
import { addStrings, lang, t } from '../i18n.js';
import { initPage } from '../page.js';

addStrings({
  'console.title': ['物业防疫 · 管理台', 'Wuye · Staff console'],
  'nav.home': ['首页', 'Home'],
  'nav.board': ['门岗看板', 'Gate board'],
  'nav.deliveries': ['送菜队列', 'Deliveries'],
  'nav.roster': ['排班', 'Roster'],
  'nav.incidents': ['应急互助', 'Incidents'],
  'nav.quarantine': ['居家隔离', 'Quarantine'],
  'nav.households': ['住户管理', 'Households'],
  'nav.supplies': ['防疫物资', 'Supplies'],
  'nav.alliance': ['物业联盟', 'Alliance'],
  'nav.print': ['打印与导出', 'Print & export'],
  'nav.visitors': ['访客', 'Visitors'],
  'nav.exposure': ['密接排查', 'Exposure look-up'],
  'nav.statistics': ['统计', 'Statistics'],
  'nav.rankings': ['排名', 'Rankings'],
  'nav.label': ['管理台页面', 'Console pages'],
  'compound.pick': ['小区', 'Compound'],
  'compound.none': ['没有可管理的小区', 'No compound to manage'],
  'empty': ['暂无', 'None'],
  'done': ['已完成', 'Done'],
});

export const PAGES = ['board', 'deliveries', 'roster', 'incidents', 'quarantine', 'households', 'visitors', 'supplies',
  'alliance', 'statistics', 'rankings', 'exposure', 'print'];
// The pages each role can use (the API decides; this only keeps the menu honest).
const ROLE_PAGES = {
  alliance_admin: ['roster', 'incidents', 'supplies', 'alliance', 'statistics', 'rankings', 'exposure'],
  resident: ['visitors'],
};
const ROLES = { staff: ['物业员工', 'Staff'], alliance_admin: ['联盟管理员', 'Alliance admin'], guard: ['保安', 'Guard'], resident: ['住户', 'Resident'] };

/** The console pages the signed-in role can use. */
export function pagesFor(role) { return ROLE_PAGES[role] || PAGES; }

/** The role's name in the page's language. */
export function roleName(role) { return label(ROLES, role); }
const COMPOUND = 'wuye.console.compound';

/** The menu of console pages, the current one marked. */
function renderNav(current) {
  const nav = $('#nav');
  if (!nav) return;
  mount(nav, el('ul', {},
    [['home', '/console/'], ...pagesFor(claims()?.role).map((p) => [p, `/console/${p}`])].map(([name, href]) => el('li', {},
      el('a', { href, 'data-i18n': `nav.${name}`, 'aria-current': name === current ? 'page' : null }, t(`nav.${name}`))))));
  nav.setAttribute('aria-label', t('nav.label'));
}

/** The compounds in the user's scope (first page of 100); `runs`: only those the user runs as staff. */
export async function myCompounds({ runs = false } = {}) {
  return (await api('/compounds', { query: { page_size: 100, ...(runs ? { runs: true } : {}) } })).items;
}

/** The compound picked last (kept in localStorage), or the first one. */
export function pickedCompound(compounds) {
  const kept = Number(localStorage.getItem(COMPOUND));
  return compounds.find((c) => c.id === kept) || compounds[0] || null;
}

async function renderCompoundPicker(onChange) {
  const box = $('#compound-picker');
  // The picker offers what the user runs: the alliance admin sees every compound elsewhere (statistics,
  // the alliance page) but acts as staff only where no company runs it.
  const compounds = await myCompounds({ runs: claims()?.role === 'alliance_admin' });
  const current = pickedCompound(compounds);
  if (!box) return current;
  if (!compounds.length) { mount(box, el('span', { 'data-i18n': 'compound.none' }, t('compound.none'))); return null; }
  const select = el('select', { id: 'compound', name: 'compound' },
    compounds.map((c) => el('option', { value: c.id, selected: c.id === current.id }, c.name)));
  select.addEventListener('change', () => {
    localStorage.setItem(COMPOUND, select.value);
    onChange(compounds.find((c) => c.id === Number(select.value)));
  });
  mount(box, el('label', { for: 'compound', 'data-i18n': 'compound.pick' }, t('compound.pick')), select);
  return current;
}

/**
 * Start a console page: translate, require a sign-in (else back to /console/), draw the menu and
 * the compound picker (when the page has #compound-picker), then render({who, compound}); render
 * runs again when the compound or the language changes.
 */
export async function startConsolePage(name, render, { needsCompound = true } = {}) {
  const who = initPage();
  if (!who) { window.location.replace(`/console/?next=${encodeURIComponent(window.location.pathname)}`); return; }
  $('[data-sign-out]')?.removeAttribute('hidden');
  const whoBox = $('#who');
  const showWho = () => { if (whoBox) { whoBox.hidden = false; whoBox.textContent = `${t('signin.as')}${roleName(who.role)}`; } };
  showWho();
  renderNav(name);
  let compound = null;
  const run = async () => {
    try { await render({ who, compound }); } catch (err) { showError(err); }
  };
  try {
    compound = needsCompound ? await renderCompoundPicker((c) => { compound = c; run(); }) : null;
  } catch (err) { showError(err); return; }
  document.addEventListener('wuye:lang', () => { showWho(); renderNav(name); run(); });
  await run();
}

/** An error from the API as a toast (the server's message is in the page's language). */
export function showError(err) {
  toast(err?.offline ? t('error.network') : (err?.message || t('error.generic')), { kind: 'error', ms: 6000 });
}

/**
 * Run fn now and then every ms milliseconds while the page is visible; returns a stop function.
 * A run still going is not started again.
 */
export function poll(fn, ms) {
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try { await fn(); } catch (err) { showError(err); } finally { busy = false; }
  };
  tick();
  const timer = setInterval(tick, ms);
  return () => clearInterval(timer);
}

/** Run an action from a button: disable it meanwhile, toast errors, then call after(). */
export async function act(button, action, after) {
  button.disabled = true;
  try {
    await action();
    if (after) await after();
  } catch (err) { showError(err); } finally { button.disabled = false; }
}

/** A time as HH:MM (or date and time) in the page's language, in Beijing time by default. */
export function clock(iso, { date = false, zone = 'Asia/Shanghai' } = {}) {
  if (!iso) return '';
  const opts = { timeZone: zone, hour: '2-digit', minute: '2-digit', hour12: false };
  if (date) Object.assign(opts, { month: '2-digit', day: '2-digit' });
  return new Date(iso).toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN', opts);
}

/** Seconds as H:MM:SS (or M:SS). */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600); const m = Math.floor((s % 3600) / 60); const r = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

/** A label from a {code: [zh, en]} map (the code itself when unknown). */
export function label(map, code) {
  const pair = map[code];
  return pair ? pair[lang() === 'en' ? 1 : 0] : code;
}

/** Fetch a file the API serves (PDF, CSV) with the token and save it under filename. */
export async function download(path, filename, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Bearer ${getTokens()?.access_token}`, 'Accept-Language': lang() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch { /* not JSON */ }
    throw Object.assign(new Error(data.message || `HTTP ${response.status}`), { status: response.status });
  }
  const url = URL.createObjectURL(await response.blob());
  const link = el('a', { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return response;
}

/** The current user's claims (re-exported for pages). */
export { claims };

/** Monday of the week containing day (YYYY-MM-DD in local time). */
export function mondayOf(day = new Date()) {
  const d = new Date(day);
  d.setHours(12, 0, 0, 0);
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

/** A YYYY-MM-DD day plus n days. */
export function addDays(isoDay, n) {
  const d = new Date(`${isoDay}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
