// The console is a client of the public JSON API: every action is an
// /api/v1 call automation could make too. With the session cookie, calls
// that change anything send the session's CSRF token.

let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

/** An API error: its stable code (translated by i18n), status and details. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code || (status >= 500 ? 'internal' : 'http_' + status);
    this.details = body?.error?.details;
  }
}

/** A call; `body` is sent as JSON, or as it is (a file) when `type` is given. */
export async function api(method, path, body, type) {
  const headers = {accept: 'application/json'};
  if (body !== undefined) headers['content-type'] = type || 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined || type ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, {error: {code: 'network', message: 'network'}});
  }
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch { data = null; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});

/** `path?key=value…` with the set values only. */
export function query(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
