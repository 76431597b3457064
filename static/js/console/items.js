// Item and need codes as people read them: the supplies catalogue's standard items (masks, pumps ...)
// and the incident need codes (people, pump ...), in Chinese and English, with their units. Every
// page that shows a code uses this one map; a code it does not know (an item the alliance admin
// added) shows the catalogue's own name, or the code itself.
import { addStrings, t } from '../i18n.js';

// code: [zh, en, zh unit, en unit]. Singular and plural codes both occur (incidents say `pump`, the
// supplies catalogue says `pumps`): both are listed, so either reads the same.
const ITEMS = {
  people: ['人员', 'People', '人', 'people'],
  guards: ['保安', 'Guards', '人', 'people'],
  workers: ['工作人员', 'Workers', '人', 'people'],
  volunteers: ['志愿者', 'Volunteers', '人', 'people'],
  masks: ['口罩', 'Masks', '只', 'pcs'],
  disinfectant: ['消毒液', 'Disinfectant', '瓶', 'bottles'],
  gloves: ['手套', 'Gloves', '副', 'pairs'],
  thermometers: ['体温枪', 'Thermometers', '把', 'pcs'],
  pumps: ['水泵', 'Pumps', '台', 'units'],
  sandbags: ['沙袋', 'Sandbags', '个', 'bags'],
};
const ALIASES = { guard: 'guards', worker: 'workers', volunteer: 'volunteers', mask: 'masks', thermometer: 'thermometers', pump: 'pumps', sandbag: 'sandbags' };

const strings = {};
for (const [code, [zh, en, zhUnit, enUnit]] of Object.entries(ITEMS)) {
  strings[`item.${code}`] = [zh, en];
  strings[`unit.${code}`] = [zhUnit, enUnit];
}
addStrings(strings);

const canonical = (code) => (ITEMS[code] ? code : ALIASES[code]);

/** Whether the code is one this map names. */
export function knownItem(code) { return Boolean(canonical(code)); }

/** An item or need code in the page's language (`pump` -> 水泵 / Pumps); else fallback, else the code. */
export function itemName(code, fallback) {
  const key = canonical(code);
  return key ? t(`item.${key}`) : (fallback || code);
}

/** The unit an item is counted in (只 / pcs); else fallback (the catalogue's unit), else ''. */
export function itemUnit(code, fallback) {
  const key = canonical(code);
  return key ? t(`unit.${key}`) : (fallback || '');
}

/** An item (a catalogue row {code, name, unit}) as "口罩 (只)". */
export function itemOption(item) { return `${itemName(item.code, item.name)} (${itemUnit(item.code, item.unit)})`; }

/** A count of an item: "水泵×2". */
export function itemCount(code, quantity, fallback) { return `${itemName(code, fallback)}×${quantity}`; }

/** A quantity with its unit: "500 只". */
export function itemAmount(item, quantity) { return `${quantity} ${itemUnit(item.code, item.unit)}`.trim(); }

/**
 * The code a person typed, in either language or as a code: "水泵" -> "pump" when `codes` (the codes
 * the form expects, in order of preference) has it, else the map's own code; an unknown word as typed.
 */
export function itemCodeOf(text, codes = []) {
  const word = text.trim();
  const lower = word.toLowerCase();
  const key = canonical(lower) || Object.keys(ITEMS).find((code) => ITEMS[code][0] === word || ITEMS[code][1].toLowerCase() === lower);
  if (!key) return lower;
  return codes.find((code) => canonical(code) === key) || key;
}
