// Chinese by default, English on request. Pages mark text with data-i18n="key" (textContent),
// data-i18n-placeholder / -aria-label / -title / -alt for attributes; scripts call t(key).
// A page adds its own strings with addStrings({key: [zh, en]}) before applyI18n().
const KEY = 'wuye.lang';
const strings = {
  'app.name': ['物业防疫', 'Wuye'],
  'lang.switch': ['English', '中文'],
  'lang.switch.label': ['切换语言', 'Switch language'],
  'signin.title': ['登录', 'Sign in'],
  'signin.username': ['用户名', 'Username'],
  'signin.password': ['密码', 'Password'],
  'signin.submit': ['登录', 'Sign in'],
  'signin.out': ['退出登录', 'Sign out'],
  'signin.as': ['已登录:', 'Signed in as '],
  'signin.dev': ['开发环境登录(dev:openid)', 'Development sign-in (dev:openid)'],
  'signin.failed': ['登录失败', 'Sign-in failed'],
  'error.network': ['网络不可用,请稍后重试', 'The network is unavailable; try again later'],
  'error.generic': ['出错了,请重试', 'Something went wrong; please retry'],
  'loading': ['加载中…', 'Loading…'],
  'back': ['返回', 'Back'],
};

/** The current language: 'zh' (default) or 'en'. */
export function lang() {
  return localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';
}

/** Switch the language and re-translate the page. */
export function setLang(value) {
  localStorage.setItem(KEY, value === 'en' ? 'en' : 'zh');
  applyI18n();
}

/** Register a page's strings: {key: [zh, en]}. */
export function addStrings(more) {
  Object.assign(strings, more);
}

/** The text of a key in the current language; {name} placeholders are filled from vars. */
export function t(key, vars = {}) {
  const pair = strings[key];
  let text = pair ? pair[lang() === 'en' ? 1 : 0] : key;
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** Translate every marked element under root, and set <html lang>. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  for (const attr of ['placeholder', 'aria-label', 'title', 'alt']) {
    root.querySelectorAll(`[data-i18n-${attr}]`).forEach((el) => {
      el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`)));
    });
  }
  document.dispatchEvent(new CustomEvent('wuye:lang', { detail: lang() }));
}

/** Wire a button as the 中文/English switch. */
export function bindLangSwitch(button) {
  button.addEventListener('click', () => setLang(lang() === 'en' ? 'zh' : 'en'));
}
