// The full-screen answer at the gate: green / yellow / orange / red, the status in large text and
// the reason under it. Tap, Enter/Escape or the timer closes it.
import { el } from '../dom.js';
import { t } from '../i18n.js';

let overlay = null;
let timer = null;
let returnFocus = null;

/**
 * Show an answer: {color, status_text, message, subject: {name, household}, direction}.
 * Returns the overlay element (data-color, data-reason for tests and styles).
 */
export function showAnswer(reply, { ms = 6000, note = '' } = {}) {
  hideAnswer();
  returnFocus = document.activeElement;
  const subject = reply.subject || {};
  overlay = el('div', {
    class: `answer answer-${reply.color || 'red'}`, role: 'alertdialog', 'aria-modal': 'true',
    'aria-labelledby': 'answer-status', tabindex: '-1', dataset: { color: reply.color || 'red', reason: reply.reason || '' },
  },
  el('p', { id: 'answer-status', class: 'answer-status' }, reply.status_text || ''),
  el('p', { class: 'answer-reason' }, reply.message || ''),
  subject.name ? el('p', { class: 'answer-subject' }, [subject.name, subject.household].filter(Boolean).join(' · ')) : null,
  note ? el('p', { class: 'answer-note' }, note) : null,
  el('button', { type: 'button', class: 'answer-close big', onclick: hideAnswer }, t('answer.close')));
  overlay.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideAnswer(); });
  document.body.append(overlay);
  overlay.querySelector('.answer-close').focus();
  if (ms) timer = setTimeout(hideAnswer, ms);
  return overlay;
}

/** Close the answer, if one is shown. */
export function hideAnswer() {
  clearTimeout(timer);
  if (!overlay) return;
  overlay.remove();
  overlay = null;
  // Back where the guard was typing (the keyboard user is not left at the top of the page).
  if (returnFocus?.isConnected) returnFocus.focus();
}

export const ANSWER_STRINGS = {
  'answer.close': ['继续(点击关闭)', 'Continue (tap to close)'],
};
