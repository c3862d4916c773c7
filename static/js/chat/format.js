/* The chat page's small decisions that need no DOM: how a room is named and
 * ordered, how a time reads, when messages share a header, where a system
 * line sorts, what the tab title says. rooms.js and messages.js render what
 * these return; tests/js/chat_format.test.js runs them under `node --test`. */
import { t, formatDate } from "../lib/i18n.js";

/** Consecutive messages of one author within this window share a header. */
export const GROUP_WINDOW_MS = 5 * 60 * 1000;

/** A DM is named after the other people in it, by display name (the user alone: their own name). */
export function displayName(room, me) {
  if (room.kind === "dm" && Array.isArray(room.members)) {
    const shown = (u) => (typeof u.display_name === "string" && u.display_name.trim()) || u.username;
    const others = room.members.filter((u) => u.id !== me.id).map(shown);
    const self = room.members.find((u) => u.id === me.id);
    return others.length ? others.join(", ") : self ? shown(self) : me.username;
  }
  return room.name;
}

/** "@" for a DM, "#" otherwise (titles, labels: a private room reads as "#" there too). */
export function roomSigil(room) {
  return room.kind === "dm" ? "@" : "#";
}

/** "#general", "@bob": how a room is named in a sentence; the fallback name when the room is unknown. */
export function roomLabel(room, me, fallback) {
  if (room) return roomSigil(room) + displayName(room, me);
  return fallback ? "#" + fallback : t("another room");
}

/** The sidebar sorts rooms by this key (case-insensitive name). */
export function roomSortKey(room, me) {
  return displayName(room, me).toLowerCase();
}

/** The text of an unread badge: "0".."99", then "99+". */
export function unreadText(count) {
  const n = Math.max(0, Number(count) || 0);
  return n > 99 ? "99+" : String(n);
}

/** The tab title: "(3) #general · Switchboard", the unread total first. */
export function pageTitle(rooms, current, me) {
  let total = 0;
  for (const room of rooms) total += room.unread || 0;
  const base = (current ? roomSigil(current) + displayName(current, me) : t("Chat")) + " · Switchboard";
  return (total > 0 ? "(" + total + ") " : "") + base;
}

/** The room header's title and meta line. */
export function roomHeading(room, me) {
  const title = (room.kind === "dm" ? "@ " : room.kind === "private" ? "" : "# ") + displayName(room, me);
  const parts = [room.kind === "public" ? t("public room") : room.kind === "private" ? t("private room") : t("direct message")];
  if (Array.isArray(room.members)) {
    const count = room.members.length;
    parts.push(count === 1 ? t("1 member") : t("{count} members", { count }));
  }
  return { title, meta: parts.join(" · ") };
}

/**
 * Texts for a timestamp: `time` (hh:mm), `short` (hh:mm today, else with the
 * date), `full` (date and time); all "" for a bad timestamp. In the page's
 * language (lib/i18n.js) and the browser's time zone; `now` is injectable for tests.
 */
export function formatTime(iso, now = new Date()) {
  const d = new Date(iso);
  if (iso === undefined || iso === null || iso === "" || Number.isNaN(d.getTime())) return { short: "", time: "", full: "" };
  const time = formatDate(d, { hour: "2-digit", minute: "2-digit" });
  const sameDay = d.toDateString() === now.toDateString();
  const short = sameDay ? time : formatDate(d, { month: "short", day: "numeric" }) + " " + time;
  return { short, time, full: formatDate(d, { dateStyle: "medium", timeStyle: "medium" }) };
}

/** One of 8 avatar colours, stable per name. */
export function avatarClass(name) {
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return "avatar-c" + (h % 8);
}

/** The avatar's letter: the first character (a whole code point), upper-cased. */
export function initial(name) {
  return Array.from(String(name || "?"))[0].toUpperCase();
}

/**
 * Does `cur` continue `prev` (same author, a few minutes apart, neither
 * deleted)? Both are {authorId, ts, deleted}; prev is null for the first.
 */
export function continues(prev, cur) {
  if (!prev || !cur) return false;
  const gap = Date.parse(cur.ts) - Date.parse(prev.ts);
  return prev.authorId === cur.authorId && gap >= 0 && gap < GROUP_WINDOW_MS && !prev.deleted && !cur.deleted;
}

/**
 * Where the index-th system line of a room sorts among messages (which sort by
 * seq): just after the message it followed, in the order the lines came.
 */
export function systemSortKey(after, index) {
  return after + 0.5 + index / 1e6;
}

/** A client_id (UUID v4); `crypto.randomUUID` needs a secure context, plain http on a LAN address is not one. */
export function newClientId(crypto = globalThis.crypto) {
  if (crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
}
