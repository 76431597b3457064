// Shared by the mobile pages: the menu's strings and the signed-in guard of a page.
import { claims } from '../api.js';

export const MENU_STRINGS = {
  'menu.pass': ['我的通行码', 'My pass'],
  'menu.checkin': ['扫场所码登记', 'Check in at a gate'],
  'menu.temperature': ['体温上报', 'Report temperature'],
  'menu.delivery': ['代购代送', 'Deliveries'],
  'menu.messages': ['消息', 'Messages'],
  'menu.trips': ['返回登记', 'Trip declaration'],
  'menu.guard': ['门岗扫码', 'Gate scanner'],
  'role.resident': ['居民', 'resident'],
  'role.guard': ['保安', 'guard'],
  'role.staff': ['物业客服', 'staff'],
  'role.alliance_admin': ['联盟管理员', 'alliance admin'],
};

/** The claims when signed in with the given role; otherwise send the person to /m/ to sign in. */
export function requireRole(role) {
  const who = claims();
  if (!who || who.role !== role) {
    window.location.replace(`/m/?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
    return null;
  }
  return who;
}

/** The name as the guard's screen shows it (server.plumbing.masking.mask_name): 王秀兰 -> 王**. */
export function maskName(name) {
  if (!name) return '';
  return name[0] + '*'.repeat(Math.max(1, name.length - 1));
}
