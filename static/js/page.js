// What every page does on load: translate, wire the language switch and the sign-out button.
import { applyI18n, bindLangSwitch } from './i18n.js';
import { claims, signOut } from './api.js';

/** Translate the page and wire [data-lang-switch] and [data-sign-out] buttons. Returns the claims or null. */
export function initPage() {
  document.querySelectorAll('[data-lang-switch]').forEach(bindLangSwitch);
  document.querySelectorAll('[data-sign-out]').forEach((button) => {
    button.addEventListener('click', async () => { await signOut(); window.location.reload(); });
  });
  applyI18n();
  return claims();
}
