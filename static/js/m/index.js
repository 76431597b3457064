// The mobile start page: sign in (a WeChat code; dev:<openid> in development), then the menu by role.
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { renderSignIn } from '../signin.js';
import { $ } from '../dom.js';
import { MENU_STRINGS } from './common.js';

addStrings(MENU_STRINGS);

function showMenu(who) {
  const next = new URLSearchParams(window.location.search).get('next');
  if (next && next.startsWith('/m/') && !next.startsWith('//')) { window.location.replace(next); return; }
  $('#signin').hidden = true;
  $('#resident-menu').hidden = who.role !== 'resident';
  $('#guard-menu').hidden = who.role !== 'guard';
  $('[data-sign-out]').hidden = false;
  $('#who').hidden = false;
  $('#who').textContent = `${t('signin.as')}${t(`role.${who.role}`)}`;
}

const who = initPage();
if (who) showMenu(who);
else renderSignIn($('#signin'), { mode: 'wechat', onSignedIn: showMenu });
