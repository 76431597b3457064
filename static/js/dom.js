// Small DOM helpers; no framework. Text always goes in as text (never innerHTML).

/** document.querySelector */
export const $ = (selector, root = document) => root.querySelector(selector);
/** document.querySelectorAll as an array */
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/**
 * Make an element: el('button', {class: 'big', type: 'button', onclick: fn, dataset: {id: 1}}, 'text', child).
 * Attributes starting with "on" become listeners; children are nodes or strings (as text).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    if (child instanceof Node) noteMovedFocus(child);
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace an element's children; a field being typed in that is among them again keeps its focus and caret. */
export function mount(parent, ...children) {
  const focused = parent.contains(document.activeElement) ? focusOf(document.activeElement) : movedFocus;
  movedFocus = null;
  parent.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  if (focused && focused.node.isConnected && document.activeElement !== focused.node) {
    focused.node.focus({ preventScroll: true });
    if (focused.caret) focused.node.setSelectionRange(...focused.caret);
  }
}

// Pages keep a form being filled in across a refresh by moving it into the new content (`el` builds
// the new content around it, then `mount` puts it in place). Moving a node blurs it, and the next
// keystrokes went nowhere: a quantity typed as the supplies page refreshed was lost. So the field
// focused when `el` moved it is remembered until the next `mount` gives its focus back.
let movedFocus = null;

function noteMovedFocus(child) {
  const active = document.activeElement;
  if (active && active !== document.body && child.contains(active)) movedFocus = focusOf(active);
}

function focusOf(node) {
  return { node, caret: caretOf(node) };
}

function caretOf(node) {
  try { // number and date inputs have no text selection (null, or an error in some browsers)
    return typeof node.selectionStart === 'number' ? [node.selectionStart, node.selectionEnd, node.selectionDirection] : null;
  } catch { return null; }
}

/** Show or hide (the hidden attribute). */
export function show(node, visible = true) { node.hidden = !visible; }

/** A short message in the page's status line (role=status), cleared after ms (0 keeps it). */
export function toast(message, { kind = 'info', ms = 4000 } = {}) {
  let box = document.getElementById('toast');
  if (!box) {
    box = el('div', { id: 'toast', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(box._timer);
  if (ms) box._timer = setTimeout(() => { box.hidden = true; }, ms);
}

/** The form's fields as an object (FormData entries; empty strings kept). */
export function formData(form) { return Object.fromEntries(new FormData(form).entries()); }

/** Format an ISO time in the page's locale (HH:MM, or date and time when long). */
export function formatTime(iso, { date = false } = {}) {
  if (!iso) return '';
  const d = new Date(iso);
  const opts = date ? { dateStyle: 'short', timeStyle: 'short' } : { hour: '2-digit', minute: '2-digit' };
  return d.toLocaleString(document.documentElement.lang || 'zh-CN', opts);
}
