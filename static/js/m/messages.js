// The in-app inbox (站内消息): every notification lands here, whether or not WeChat delivered it.
import { api } from '../api.js';
import { $, el, formatTime } from '../dom.js';
import { addStrings, t } from '../i18n.js';
import { initPage } from '../page.js';
import { MENU_STRINGS } from './common.js';

addStrings({
  ...MENU_STRINGS,
  'messages.title': ['消息', 'Messages'],
  'messages.unread': ['未读 {n} 条', '{n} unread'],
  'messages.none': ['暂无消息', 'No messages'],
  'messages.readall': ['全部标为已读', 'Mark all read'],
  'messages.read': ['标为已读', 'Mark read'],
});

async function markRead(id) {
  await api(`/me/messages/${id}/read`, { method: 'POST' });
  await loadMessages();
}

function item(message) {
  const parts = [el('strong', {}, message.title), el('p', {}, message.body),
    el('span', { class: 'muted' }, formatTime(message.created_at))];
  if (!message.read) {
    const button = el('button', { type: 'button' }, t('messages.read'));
    button.addEventListener('click', () => markRead(message.id));
    parts.push(button);
  }
  return el('li', { class: message.read ? 'read' : 'unread', 'data-id': String(message.id) }, ...parts);
}

async function loadMessages() {
  const body = await api('/me/messages', { query: { page_size: 50 } });
  $('#unread').textContent = t('messages.unread', { n: body.unread });
  $('#unread').className = `status-banner ${body.unread ? 'yellow' : 'green'}`;
  const list = $('#messages');
  list.replaceChildren(...(body.items.length ? body.items.map(item) : [el('li', { class: 'muted' }, t('messages.none'))]));
}

async function main() {
  const who = initPage();
  if (!who) { window.location.replace('/m/?next=/m/messages'); return; }
  $('#read-all').addEventListener('click', async () => {
    await api('/me/messages/read-all', { method: 'POST' });
    await loadMessages();
  });
  await loadMessages().catch((err) => { $('#messages-error').textContent = err.message; $('#messages-error').hidden = false; });
}

main();
