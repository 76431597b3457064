// The console's start page: sign in with a password, then the home section.
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { renderSignIn } from '../signin.js';
import { $ } from '../dom.js';

addStrings({
  'console.title': ['物业防疫 · 管理台', 'Wuye · Staff console'],
  'console.welcome': ['欢迎', 'Welcome'],
  'console.placeholder': ['管理台页面正在建设中。', 'The console pages are being built.'],
});

function showHome(who) {
  $('#signin').hidden = true;
  $('#home').hidden = false;
  $('[data-sign-out]').hidden = false;
  $('#who').hidden = false;
  $('#who').textContent = `${t('signin.as')}${who.role}`;
}

const who = initPage();
if (who) showHome(who);
else renderSignIn($('#signin'), { mode: 'password', onSignedIn: showHome });
