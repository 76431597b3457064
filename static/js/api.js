// The pages' one way to /api/v1: bearer token from localStorage, one refresh on 401, the server's
// error shape as ApiError, Accept-Language from the page's language.
import { lang } from './i18n.js';

const BASE = '/api/v1';
const TOKENS = 'wuye.tokens';

/** An answer other than 2xx: status, reason (stable code), message (for people), errors (fields). */
export class ApiError extends Error {
  constructor(status, body = {}) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.reason = body.reason || (status === 0 ? 'network' : 'error');
    this.errors = body.errors || null;
    this.body = body;
  }

  /** True when the request never reached the server (offline, DNS, refused). */
  get offline() { return this.status === 0; }
}

/** The stored token pair ({access_token, refresh_token}) or null. */
export function getTokens() {
  try { return JSON.parse(localStorage.getItem(TOKENS)); } catch { return null; }
}

/** Store a token pair as /auth/* answers it. */
export function setTokens(pair) {
  localStorage.setItem(TOKENS, JSON.stringify({ access_token: pair.access_token, refresh_token: pair.refresh_token }));
}

export function clearTokens() { localStorage.removeItem(TOKENS); }

/** The access token's claims ({sub, role, ...}) without verifying it, or null when signed out. */
export function claims() {
  const pair = getTokens();
  if (!pair) return null;
  try {
    const part = pair.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(decodeURIComponent(escape(atob(part))));
  } catch { return null; }
}

let refreshing = null;

async function refresh() {
  const pair = getTokens();
  if (!pair?.refresh_token) return false;
  refreshing ??= fetch(`${BASE}/auth/refresh`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Accept-Language': lang() },
    body: JSON.stringify({ refresh_token: pair.refresh_token }),
  }).then(async (r) => {
    if (!r.ok) { clearTokens(); return false; }
    setTokens(await r.json());
    return true;
  }).catch(() => false).finally(() => { refreshing = null; });
  return refreshing;
}

/**
 * Call the API. path is under /api/v1 ('/me/pass'); options: method, body (JSON), query (object),
 * headers, idempotencyKey, auth (default true). Resolves to the JSON body (null for 204), or
 * rejects with ApiError (status 0 when offline).
 */
export async function api(path, { method = 'GET', body, query, headers = {}, idempotencyKey, auth = true } = {}) {
  let url = BASE + path;
  if (query) {
    const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null));
    if ([...q].length) url += `?${q}`;
  }
  const send = () => {
    const h = { Accept: 'application/json', 'Accept-Language': lang(), ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (idempotencyKey) h['Idempotency-Key'] = idempotencyKey;
    const token = auth && getTokens()?.access_token;
    if (token) h.Authorization = `Bearer ${token}`;
    return fetch(url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  let response;
  try {
    response = await send();
    if (response.status === 401 && auth && await refresh()) response = await send();
  } catch (err) {
    throw new ApiError(0, { reason: 'network', message: String(err) });
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!response.ok) throw new ApiError(response.status, data || {});
  return data;
}

/** Staff and alliance admins: sign in with a password and keep the tokens. */
export async function signInWithPassword(username, password) {
  setTokens(await api('/auth/password', { method: 'POST', body: { username, password }, auth: false }));
  return claims();
}

/** Residents and guards: sign in with a WeChat code (`dev:<openid>` works in development only). */
export async function signInWithWeChat(code) {
  setTokens(await api('/auth/wechat', { method: 'POST', body: { code }, auth: false }));
  return claims();
}

/** End the session on the server (best effort) and forget the tokens. */
export async function signOut() {
  try { await api('/auth/logout', { method: 'POST' }); } catch { /* signed out locally anyway */ }
  clearTokens();
}

/** A random id for client_id / Idempotency-Key. */
export function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
