/* What the token table shows, without the DOM (tests/js/tokens.test.js). */
import { t } from "../lib/i18n.js";

/** The /api/tokens body for the form's values: expiry "0" means never (null). */
export function createBody(name, expiry) {
  const seconds = Number.parseInt(expiry, 10);
  return { name: String(name || "").trim(), expires_in: seconds > 0 ? seconds : null };
}

/** "2026-12-02" style day of an ISO time, "never" for null, "–" for a bad one. */
export function day(iso, empty = t("never")) {
  if (!iso) return empty;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "–";
  return d.toISOString().slice(0, 10);
}

/** Has this token expired at `now` (ms)? */
export function isExpired(token, now = Date.now()) {
  return !!token.expires_at && new Date(token.expires_at).getTime() <= now;
}

/** One table row's cells: [name, created, last used, expires (or "expired …")]. */
export function rowCells(token, now = Date.now()) {
  return [
    token.name,
    day(token.created_at, "–"),
    day(token.last_used_at, t("never")),
    isExpired(token, now) ? t("expired {day}", { day: day(token.expires_at) }) : day(token.expires_at, t("never")),
  ];
}
