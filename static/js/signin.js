// The sign-in form: password (staff, alliance admins) or a WeChat code (residents, guards;
// `dev:<openid>` is accepted by the server in development only).
import { signInWithPassword, signInWithWeChat } from './api.js';
import { el } from './dom.js';
import { t } from './i18n.js';

/**
 * Render a sign-in form into container. mode: 'password' or 'wechat'. onSignedIn(claims) runs after
 * a successful sign-in. The form's error line has role=alert.
 */
export function renderSignIn(container, { mode = 'password', onSignedIn }) {
  const error = el('p', { class: 'error', role: 'alert', hidden: true });
  const fields = mode === 'password'
    ? [field('username', 'signin.username', 'text', 'username'), field('password', 'signin.password', 'password', 'current-password')]
    : [field('code', 'signin.dev', 'text', 'off')];
  const form = el('form', { class: 'signin card', novalidate: true },
    el('h2', { 'data-i18n': 'signin.title' }, t('signin.title')),
    ...fields, error,
    el('button', { type: 'submit', class: 'primary big', 'data-i18n': 'signin.submit' }, t('signin.submit')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = Object.fromEntries(new FormData(form).entries());
    try {
      const who = mode === 'password'
        ? await signInWithPassword(data.username.trim(), data.password)
        : await signInWithWeChat(data.code.trim());
      onSignedIn?.(who);
    } catch (err) {
      error.textContent = `${t('signin.failed')}: ${err.message}`;
      error.hidden = false;
    }
  });
  container.replaceChildren(form);
  return form;
}

function field(name, key, type, autocomplete) {
  const id = `signin-${name}`;
  return el('div', { class: 'field' },
    el('label', { for: id, 'data-i18n': key }, t(key)),
    el('input', { id, name, type, autocomplete, required: true }));
}
