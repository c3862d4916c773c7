/* The quick switcher's choices (Ctrl+K / Cmd+K), without DOM: what can be
 * jumped to, and which of it matches what was typed, best first.
 *
 * Entries are rooms (public, private, DMs) and people one can message. A
 * person who already has a one-to-one DM is that DM, not a second entry.
 * The query matches names case-insensitively (NFKC, so full-width letters
 * match too); a leading "#" keeps only rooms, "@" only DMs and people. Better
 * matches first: the whole name, then its start, then the start of a word in
 * it, then anywhere in it, then its letters in order. Among equals, rooms with
 * unread messages, then rooms before people, then by name.
 *
 * switcher-dialog.js shows them; tests/js/switcher.test.js runs this under
 * `node --test`.
 */
import { displayName } from "./format.js";

export const MAX_RESULTS = 30;

const KIND_ORDER = { public: 0, private: 0, dm: 1, person: 2 };

export function normalise(text) {
  return String(text || "").normalize("NFKC").toLowerCase().trim();
}

/**
 * Everything one can jump to.
 * @param rooms   iterable of Room ({id, name, kind, members?, unread?, joined?})
 * @param people  iterable of User ({id, username, display_name?}) one can message;
 *                labelled by display name with the username beside it (both match)
 * @param me      {id, username}
 * @returns [{key, type: "room"|"person", kind, label, sigil, unread, roomId?, username?}]
 */
export function switcherEntries(rooms, people, me) {
  const entries = [];
  const withDm = new Set();
  for (const room of rooms) {
    if (!room || typeof room.id !== "number") continue;
    if (room.kind === "dm" && Array.isArray(room.members)) {
      const others = room.members.filter((u) => u.id !== me.id);
      if (others.length === 1) withDm.add(others[0].id);
    }
    entries.push({
      key: "room:" + room.id,
      type: "room",
      kind: room.kind,
      label: displayName(room, me),
      sigil: room.kind === "dm" ? "@" : "#",
      unread: Math.max(0, Number(room.unread) || 0),
      joined: room.joined !== false,
      roomId: room.id,
    });
  }
  const seen = new Set();
  for (const user of people) {
    if (!user || typeof user.id !== "number" || typeof user.username !== "string") continue;
    if (user.id === me.id || withDm.has(user.id) || seen.has(user.id)) continue;
    seen.add(user.id);
    entries.push({
      key: "person:" + user.id,
      type: "person",
      kind: "person",
      label: personLabel(user),
      sigil: "@",
      unread: 0,
      joined: true,
      username: user.username,
    });
  }
  return entries;
}

/** "Bob Вишня (@bob)", or "bob" when there is no other display name. */
export function personLabel(user) {
  const display = typeof user.display_name === "string" ? user.display_name.trim() : "";
  return display && display !== user.username ? display + " (@" + user.username + ")" : user.username;
}

/**
 * How well `name` matches `query` (both normalised): 0 best .. 4, or -1 for
 * no match. An empty query matches everything equally.
 */
export function matchScore(name, query) {
  if (!query) return 0;
  if (name === query) return 0;
  if (name.startsWith(query)) return 1;
  const at = name.indexOf(query);
  if (at > 0 && /[\s\-_.,:]/.test(name[at - 1])) return 2;
  if (at > 0) return 3;
  // The query's characters in order (a quick "gnrl" for general).
  let i = 0;
  for (const ch of name) {
    if (ch === query[i]) i += 1;
    if (i === query.length) return 4;
  }
  return -1;
}

/** The entries matching `query`, best first, at most `limit`. */
export function filterEntries(entries, query, limit = MAX_RESULTS) {
  let q = normalise(query);
  let only = null;
  if (q.startsWith("#")) only = "#";
  else if (q.startsWith("@")) only = "@";
  if (only) q = q.slice(1).trim();
  const scored = [];
  for (const entry of entries) {
    if (only && entry.sigil !== only) continue;
    const score = matchScore(normalise(entry.label), q);
    if (score >= 0) scored.push({ entry, score });
  }
  scored.sort((a, b) =>
    a.score - b.score ||
    (b.entry.unread > 0) - (a.entry.unread > 0) ||
    KIND_ORDER[a.entry.kind] - KIND_ORDER[b.entry.kind] ||
    normalise(a.entry.label).localeCompare(normalise(b.entry.label)) ||
    a.entry.key.localeCompare(b.entry.key));
  return scored.slice(0, limit).map((s) => s.entry);
}

/**
 * The selected index after a key: ArrowDown/ArrowUp (wrapping round at the
 * ends when `wrap`), Home/End to the ends; null for any other key. Used by the
 * switcher's list and by the room list's arrow keys (no wrap there).
 */
export function moveSelection(index, count, key, wrap = true) {
  if (count <= 0) return key === "ArrowDown" || key === "ArrowUp" || key === "Home" || key === "End" ? -1 : null;
  if (key === "ArrowDown") {
    if (index < 0) return 0;
    return index + 1 < count ? index + 1 : wrap ? 0 : count - 1;
  }
  if (key === "ArrowUp") {
    if (index < 0) return count - 1;
    return index > 0 ? index - 1 : wrap ? count - 1 : 0;
  }
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return null;
}
