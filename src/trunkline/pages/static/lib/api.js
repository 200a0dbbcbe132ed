// The REST client every page shares: the login session (a bearer token kept in this
// tab's sessionStorage) and JSON requests that turn error bodies into ApiError.

const SESSION_KEY = "trunkline.session";

export class ApiError extends Error {
  constructor(status, errorId, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errorId = errorId;
    this.details = details;
  }
}

/** The stored session {token, user_id, name, role, agent_id, expires_at}, or null. */
export function currentSession() {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw);
    if (!session.token || session.expires_at * 1000 <= Date.now()) {
      sessionStorage.removeItem(SESSION_KEY);
      return null;
    }
    return session;
  } catch {
    sessionStorage.removeItem(SESSION_KEY);
    return null;
  }
}

const ROLE_RANK = { agent: 0, supervisor: 1, admin: 2 };

export function hasRole(session, role) {
  return session !== null && (ROLE_RANK[session.role] ?? -1) >= ROLE_RANK[role];
}

export async function login(username, password) {
  const session = await request("POST", "/api/v1/auth/login", {
    body: { username, password },
    anonymous: true,
  });
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export async function logout() {
  try {
    if (currentSession()) await request("POST", "/api/v1/auth/logout");
  } finally {
    forgetSession();
  }
}

/** Drop the token and tell the page (it shows the login form again). */
export function forgetSession() {
  sessionStorage.removeItem(SESSION_KEY);
  window.dispatchEvent(new CustomEvent("trunkline:logged-out"));
}

/**
 * One API call. `body` is sent as JSON; `raw: true` returns the Response itself (CSV,
 * NDJSON). A 401 forgets the session, since the token is gone or expired.
 */
export async function request(method, path, { body, query, raw = false, anonymous = false } = {}) {
  const headers = { Accept: "application/json" };
  if (!anonymous) {
    const session = currentSession();
    if (!session) {
      forgetSession();
      throw new ApiError(401, "unauthenticated", "please log in");
    }
    headers.Authorization = `Bearer ${session.token}`;
  }
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === "") continue;
      for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
    }
    const text = params.toString();
    if (text) url += (url.includes("?") ? "&" : "?") + text;
  }
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, "network_error", "the server cannot be reached", { cause: String(err) });
  }
  if (!response.ok) {
    let error = { error_id: "http_error", message: response.statusText, details: {} };
    try {
      error = await response.json();
    } catch {
      // not JSON: keep the status text
    }
    if (response.status === 401 && !anonymous) forgetSession();
    throw new ApiError(response.status, error.error_id, error.message, error.details);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  get: (path, query) => request("GET", path, { query }),
  post: (path, body) => request("POST", path, { body }),
  put: (path, body) => request("PUT", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
  delete: (path) => request("DELETE", path),
};
