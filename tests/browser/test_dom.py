"""`static/js/dom.js` in a real Chromium: what every page builds on."""

from __future__ import annotations

MOUNT_TWICE = """async ([type, wrapped]) => {
  const { el, mount } = await import('/static/js/dom.js');
  const box = el('div', { id: 'box' });
  document.body.append(box);
  const input = el('input', { id: 'field', type });
  const form = el('form', {}, input);
  mount(box, el('p', {}, 'before'), form);
  input.focus();
  input.value = '12';
  if (type === 'text') input.setSelectionRange(1, 1);
  // A page's refresh keeps the form being filled in: put in place as it is, or inside new content
  // built around it first (which moves it out of the page before `mount` runs).
  if (wrapped) mount(box, el('div', { class: 'grid-2' }, el('p', {}, 'after the refresh'), form));
  else mount(box, el('p', {}, 'after the refresh'), form);
  return document.activeElement === input && input.isConnected;
}"""


def test_a_refresh_that_keeps_a_form_keeps_the_field_being_typed_in(world, open_page):
    """The console's supply form lost a quantity typed while the page refreshed after the previous entry:
    moving the kept form blurred the field, and the keystrokes went nowhere."""
    page = open_page("desktop")
    page.goto("/console/")
    for wrapped in (False, True):
        assert page.evaluate(MOUNT_TWICE, ["text", wrapped]) is True
        page.keyboard.type("3")
        assert page.locator("#field").input_value() == "132"  # the caret stayed between 1 and 2
        page.evaluate("document.getElementById('box').remove()")
        assert page.evaluate(MOUNT_TWICE, ["number", wrapped]) is True
        page.keyboard.type("0")
        assert page.locator("#field").input_value() == "120"
        page.evaluate("document.getElementById('box').remove()")
