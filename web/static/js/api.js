/**
 * The one way pages talk to the API: adds the bearer token, turns problem+json answers into
 * ApiError, and signals an expired session once so the router can send the user to sign in.
 */

const TOKEN_KEY = 'certflow.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  /** status 0: the request did not reach the server. */
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
  get errors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
  get detail() {
    return typeof this.problem.detail === 'string' ? this.problem.detail : '';
  }
  get requestId() {
    return this.problem.requestId || '';
  }
}

function url(path, query) {
  const u = new URL(`/api/v1${path}`, location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '' || v === false) continue;
      u.searchParams.set(k, String(v));
    }
  }
  return u;
}

/**
 * api('/tasks', { query: { view: 'mine' } }) → parsed JSON (or a Blob for PDFs and other files).
 * Options: method, json (sent as JSON), body + type (sent raw, e.g. a DOCX), query, raw (the Response).
 */
export async function api(path, opts = {}) {
  const {
    method = opts.json !== undefined || opts.body !== undefined ? 'POST' : 'GET',
    json,
    body,
    type,
    query,
    raw = false,
    accept,
  } = opts;
  const headers = { accept: accept || 'application/json, application/problem+json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let payload = body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(json);
  } else if (body !== undefined) {
    headers['content-type'] = type || 'application/octet-stream';
  }
  let res;
  try {
    res = await fetch(url(path, query), { method, headers, body: payload });
  } catch (err) {
    throw new ApiError(0, { title: 'Network error', detail: String(err && err.message ? err.message : err) });
  }
  if (!res.ok) {
    let problem;
    try {
      const text = await res.text();
      problem = text ? JSON.parse(text) : {};
    } catch {
      problem = {};
    }
    if (res.status === 401 && token && path !== '/auth/login') {
      setToken(null);
      window.dispatchEvent(new CustomEvent('certflow:session-ended', { detail: { reason: 'expired' } }));
    }
    throw new ApiError(res.status, problem);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const ct = res.headers.get('content-type') || '';
  if (ct.includes('json')) return res.json();
  return res.blob();
}

/** The items of a list answer, whether it is `{items: [...]}` or a bare array. */
export function itemsOf(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.items)) return body.items;
  return [];
}
