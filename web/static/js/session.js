/** Who is signed in (GET /auth/me), cached for the page's life, and what their roles let them see. */
import { api, getToken, setToken } from './api.js';

let me = null;

export async function loadMe(force = false) {
  if (!getToken()) {
    me = null;
    return null;
  }
  if (me && !force) return me;
  me = await api('/auth/me');
  return me;
}

export function currentUser() {
  return me;
}

export function forget() {
  me = null;
  setToken(null);
}

export async function signIn(username, password) {
  const r = await api('/auth/login', { json: { username, password } });
  setToken(r.token);
  me = r.user ?? null;
  if (!me) await loadMe(true);
  return me;
}

export async function signOut() {
  try {
    if (getToken()) await api('/auth/logout', { method: 'POST' });
  } finally {
    forget();
  }
}

/** Does the signed-in user hold this role (in this department, when given)? */
export function hasRole(role, department) {
  return (
    !!me &&
    (me.roles || []).some(
      (r) => r.role === role && (department === undefined || r.department === null || r.department === department),
    )
  );
}

export function hasAnyRole(roles) {
  return roles.some((r) => hasRole(r));
}

export function isPlatformAdmin() {
  return hasRole('platform-admin');
}

/** Departments where the user holds one of these roles; null when platform-wide. */
export function departmentsWith(roles) {
  if (!me) return [];
  const held = (me.roles || []).filter((r) => roles.includes(r.role));
  if (held.some((r) => r.department === null)) return null;
  return [...new Set(held.map((r) => r.department))];
}
