/* Calls to the site's HTTP API (docs/protocol.md section 10) from a page:
 * the session cookie plus the X-CSRFToken header (the page's
 * <meta name="csrf-token">). Resolves, never rejects, to one envelope:
 * {ok: true, status, data} or {ok: false, status, error: {code, message}}.
 *
 * No DOM here (the token is passed in): tests/js/api.test.js runs it under
 * `node --test` with a stub fetch.
 */
import { t } from "./i18n.js";

/**
 * @param {string} path  "/api/tokens"
 * @param {object} [o]
 * @param {string} [o.method]  GET (default), POST, DELETE
 * @param {object} [o.body]    sent as JSON
 * @param {string} [o.csrf]    the page's CSRF token
 * @param {Function} [o.fetch] for tests; default: the global fetch
 */
export async function api(path, o = {}) {
  const doFetch = o.fetch || globalThis.fetch;
  const headers = { Accept: "application/json" };
  if (o.csrf) headers["X-CSRFToken"] = o.csrf;
  if (o.body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await doFetch(path, {
      method: o.method || "GET",
      headers,
      credentials: "same-origin",
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
  } catch (_) {
    return { ok: false, status: 0, error: { code: "network", message: t("The server could not be reached.") } };
  }
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch (_) { data = null; }
  }
  if (response.ok) return { ok: true, status: response.status, data };
  const error = data && data.error && typeof data.error === "object" ? data.error : null;
  return {
    ok: false,
    status: response.status,
    error: error || { code: "internal", message: t("The server answered {status}.", { status: response.status }) },
  };
}

/** The page's CSRF token (from <meta name="csrf-token">), "" when missing. */
export function csrfToken(doc = globalThis.document) {
  const meta = doc && doc.querySelector('meta[name="csrf-token"]');
  return (meta && meta.getAttribute("content")) || "";
}
