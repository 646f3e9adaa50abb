// The session (from the URL fragment) and the v1 API, called with it as a bearer token.
//
// The token arrives as `#session=hkp_...`. It is moved into sessionStorage (this tab only) and the fragment
// is replaced by a route at once, so it does not linger in the address bar, the history or a shared link.
// Routes (`#/events/evt_...`) can then be shared within the session.

const STORAGE_KEY = "hookline-portal-session";
let memoryToken = null;

export class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function decodeClaims(token) {
  const encoded = token.slice(4).split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
  const claims = JSON.parse(atob(encoded + "=".repeat((4 - (encoded.length % 4)) % 4)));
  if (typeof claims.t !== "string" || !Array.isArray(claims.s) || typeof claims.e !== "number") {
    throw new Error("not a portal session");
  }
  return { tenant: claims.t, scopes: new Set(claims.s), expiresAt: new Date(claims.e * 1000) };
}

function stored() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled (a sandboxed iframe, say): the session lives in memory only
  }
}

function store(token) {
  memoryToken = token;
  try {
    sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // memory only
  }
}

// The session of this tab: {token, tenant, scopes, expiresAt}, or null when there is none.
export function readSession() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fresh = location.hash.startsWith("#session=") ? fragment.get("session") : null;
  if (fresh) {
    store(fresh);
    history.replaceState(null, "", location.pathname + location.search + "#/");
  }
  const token = fresh || memoryToken || stored();
  if (!token || !token.startsWith("hkp_")) return null;
  try {
    return { token, ...decodeClaims(token) };
  } catch {
    return null;
  }
}

export function createClient(session, onUnauthorized) {
  const base = new URL("tenants/" + encodeURIComponent(session.tenant), location.href);

  async function call(method, path, body) {
    const url = new URL(base.pathname + path, location.origin);
    const headers = { Authorization: "Bearer " + session.token, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new ApiFailure(0, "network", "The service could not be reached. Check your connection and try again.");
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      if (response.status === 401) onUnauthorized(error.message);
      throw new ApiFailure(response.status, error.code || "error", describe(response.status, error.message));
    }
    return data;
  }

  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body === undefined ? {} : body),
    patch: (path, body) => call("PATCH", path, body),
    del: (path) => call("DELETE", path),
  };
}

function describe(status, message) {
  const text = message ? message.charAt(0).toUpperCase() + message.slice(1) : "";
  if (status === 403) return "This portal link does not allow that. " + text;
  if (status === 404) return "Not found: it may have been deleted. " + text;
  if (status === 409) return "That cannot be done right now. " + text;
  if (status === 429 || status >= 500) return "The service is busy or failed; try again in a moment. " + text;
  return text || "The request failed (HTTP " + status + ").";
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? "?" + text : "";
}
