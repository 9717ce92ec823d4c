// The REST API under /api/v1: the session cookie travels by itself, changes carry the CSRF token, and every
// failure becomes an ApiError with the server's {"error": {"id", "message", "details"}}.

const BASE = "/api/v1";
const SAFE = new Set(["GET", "HEAD"]);
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, id, message, details = {}, retryAfter = null) {
    super(message);
    this.status = status;
    this.id = id;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export function setCsrfToken(token) {
  csrfToken = token;
}

// The CSRF header for requests made outside `request` (text and file bodies: raw.js).
export const csrfHeaders = () => (csrfToken ? { "X-CSRF-Token": csrfToken } : {});

export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (exc) {
    throw new ApiError(0, "network_error", String(exc.message || exc));
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const retry = Number(response.headers.get("Retry-After")) || null;
    throw new ApiError(
      response.status,
      error.id || `http_${response.status}`,
      error.message || response.statusText,
      error.details || {},
      retry,
    );
  }
  return data;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body = {}) => request("POST", path, body),
  patch: (path, body) => request("PATCH", path, body),
  put: (path, body) => request("PUT", path, body),
  del: (path) => request("DELETE", path),
};

// A workspace's path prefix; `ws` is its sid or name.
export const wsPath = (ws, rest = "") => `/workspaces/${encodeURIComponent(ws)}${rest}`;

// Every item of a paged list (the UI's lists are small: a page of 1000 covers them).
export async function all(path) {
  const join = path.includes("?") ? "&" : "?";
  return (await api.get(`${path}${join}page_size=1000`)).items;
}

export async function login(username, password) {
  const answer = await api.post("/auth/login", { username, password });
  setCsrfToken(answer.csrf_token);
  return answer.user;
}

export async function me() {
  const answer = await api.get("/auth/me");
  setCsrfToken(answer.csrf_token);
  return answer.user;
}

export async function logout() {
  try {
    await api.post("/auth/logout");
  } finally {
    setCsrfToken(null);
  }
}
