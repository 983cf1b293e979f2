// The admin API as the console calls it: the session cookie (same origin
// only), the session's CSRF token on every change, and one error shape —
// an ApiError with the API's `error` text verbatim and its `details`.
// A 401 anywhere sends the app back to its sign-in view.

import { t } from './i18n.js';

/** The signed-in session: {name, read_only, csrf, time_zone}, or null. */
export let session = null;

let onUnauthorized = () => {};

/** The app's handler for a 401 (shows the sign-in view). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export function setSession(value) {
  session = value;
}

/** The service's today in the brand's time zone (its clock may not be the
 * browser's: another zone, or a service replaying a past day), as a local
 * Date for the date inputs; the browser's today when the session has none. */
export function serviceToday() {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec((session && session.today) || '');
  return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : new Date();
}

export class ApiError extends Error {
  constructor(status, message, details, path) {
    super(message);
    this.status = status;
    this.details = details || [];
    this.path = path;
  }

  /** True when the server has no such endpoint (not when it says the thing asked for is unknown). */
  get missingEndpoint() {
    return this.status === 404 && this.noBody;
  }
}

/**
 * Calls the API: `api('/api/v1/runs', {method: 'POST', body: {...}})`.
 * Resolves to the JSON answer (null for 204); rejects with an ApiError.
 */
export async function api(path, { method = 'GET', body, signal, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && session && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, t('err.network', { path }), [String(e && e.message ? e.message : e)], path);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (response.ok) return json;
  if (response.status === 401 && !quiet401) onUnauthorized();
  if (json && typeof json.error === 'string') {
    throw new ApiError(response.status, json.error, json.details, path);
  }
  // No JSON error: the server has no such route (yet) or a proxy answered.
  const error = new ApiError(
    response.status,
    response.status === 404 ? t('err.missing', { path: path.split('?')[0] }) : t('err.http', { status: response.status, path }),
    [],
    path,
  );
  error.noBody = true;
  throw error;
}

/** `?a=1&b=x` from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') search.set(k, v);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The path segment of an id, escaped; `.` and `..` too, which a URL would otherwise resolve away. */
export function seg(id) {
  const text = encodeURIComponent(id);
  return text === '.' || text === '..' ? text.replace(/\./g, '%2E') : text;
}
