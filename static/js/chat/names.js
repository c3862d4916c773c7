/* How people are named on the chat page, without a DOM: the display name
 * (any script, chosen by the user: always text, never HTML), the username as
 * the fallback and as the second line. The freshest copy of a user wins:
 * `known` (id -> User) holds what users:list, room members and user:updated
 * said last, events that carry only {id, username} (presence, typing) are
 * named from it. tests/js/chat_names.test.js runs these under `node --test`.
 */

/** The freshest copy of `user` (by id) in `known`, else `user` itself. */
export function freshest(user, known) {
  if (!user) return user;
  const cached = known && typeof user.id === "number" ? known.get(user.id) : undefined;
  return cached || user;
}

/** The name to show: the display name, else the username, else "unknown". */
export function nameOf(user, known) {
  const u = freshest(user, known);
  if (!u) return "unknown";
  const display = typeof u.display_name === "string" ? u.display_name.trim() : "";
  return display || u.username || "unknown";
}

/** The username to show beside a display name ("@bob"), or "" when the two are the same. */
export function secondaryOf(user, known) {
  const u = freshest(user, known);
  if (!u || !u.username) return "";
  return nameOf(u) === u.username ? "" : "@" + u.username;
}

/** Sort people by shown name, case-insensitively, then by username. */
export function comparePeople(a, b, known) {
  return nameOf(a, known).localeCompare(nameOf(b, known), undefined, { sensitivity: "base" }) ||
    String(a.username).localeCompare(String(b.username));
}

/**
 * Merge a User into `known` (only the User fields the server sends; an
 * `online` flag from users:list is kept apart by the caller). Returns true
 * when something shown changed (name, username, avatar, status).
 */
export function remember(known, user) {
  if (!user || typeof user.id !== "number" || typeof user.username !== "string") return false;
  const prev = known.get(user.id);
  const next = Object.assign({}, prev || {}, user);
  delete next.online;
  known.set(user.id, next);
  if (!prev) return true;
  return prev.display_name !== next.display_name || prev.username !== next.username ||
    prev.avatar_url !== next.avatar_url || prev.status !== next.status;
}

/**
 * The avatar URL to load, or null: only a path on this site ("/avatars/..."),
 * never another origin ("//evil", "https:"), a "javascript:" or "data:" URL,
 * or a backslash trick ("/\\evil") some browsers read as another host.
 */
export function safeAvatarUrl(url) {
  if (typeof url !== "string" || url.length > 512) return null;
  if (!url.startsWith("/") || url.startsWith("//") || url.includes("\\")) return null;
  return url;
}

/** Does `user` match the search text `q` (part of the username or the display name)? */
export function matches(user, q) {
  const needle = String(q || "").trim().toLowerCase();
  if (!needle) return true;
  return String(user.username || "").toLowerCase().includes(needle) ||
    String(user.display_name || "").toLowerCase().includes(needle);
}
