// The console's start page: sign in with a password, then the page menu and the WeChat binding
// (a one-time code to enter in the mini-program so alerts reach the staff member's WeChat).
import { api, claims } from '../api.js';
import { $, el, mount } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { renderSignIn } from '../signin.js';
import { act, clock, pagesFor, roleName } from './shell.js';

addStrings({
  'console.welcome': ['欢迎', 'Welcome'],
  'wechat.title': ['绑定微信接收告警', 'Bind WeChat for alerts'],
  'wechat.how': ['点击“获取绑定码”,在微信“物业”小程序“我的 → 绑定管理台账号”中输入该码(10 分钟内有效)。',
    'Press “Get a bind code” and enter it in the Wuye mini-program under “Me → Bind console account” (valid 10 minutes).'],
  'wechat.getcode': ['获取绑定码', 'Get a bind code'],
  'wechat.bound': ['已绑定微信', 'WeChat is bound'],
  'wechat.unbound': ['尚未绑定微信', 'WeChat is not bound'],
  'wechat.expires': ['有效期至 {time}', 'Valid until {time}'],
});

function renderLinks() {
  mount($('#home-links'), pagesFor(claims()?.role).map((p) => el('a', { class: 'button', href: `/console/${p}`, 'data-i18n': `nav.${p}` }, t(`nav.${p}`))));
}

async function renderWeChat() {
  try {
    const state = await api('/me/wechat');
    $('#wechat-state').textContent = t(state?.bound ? 'wechat.bound' : 'wechat.unbound');
  } catch { $('#wechat-state').textContent = ''; }
}

function showHome(who) {
  const next = new URLSearchParams(window.location.search).get('next');
  if (next && /^\/console\/[a-z0-9-]+$/.test(next)) { window.location.assign(next); return; }
  $('#signin').hidden = true;
  $('#home').hidden = false;
  $('[data-sign-out]').hidden = false;
  $('#who').hidden = false;
  $('#who').textContent = `${t('signin.as')}${roleName(who.role)}`;
  renderLinks();
  renderWeChat();
}

$('#bind-button').addEventListener('click', (event) => act(event.currentTarget, async () => {
  const answer = await api('/me/wechat/bind-code', { method: 'POST' });
  const box = $('#bind-code');
  box.textContent = answer.code;
  box.hidden = false;
  $('#wechat-state').textContent = t('wechat.expires', { time: clock(answer.expires_at) });
}));
document.addEventListener('wuye:lang', () => {
  if ($('#home').hidden) return;
  renderLinks();
  $('#who').textContent = `${t('signin.as')}${roleName(claims()?.role)}`;
});

const who = initPage();
if (who) showHome(who);
else renderSignIn($('#signin'), { mode: 'password', onSignedIn: showHome });
