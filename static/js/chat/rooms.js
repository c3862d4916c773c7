/* The room list: the sidebar (rooms and DMs, unread badges), the tab title,
 * the room header, opening and joining a room, opening a DM, creating a room.
 *
 * The list is kept in localStorage too, so that a reload without a
 * connection still shows the sidebar and the last room: pending messages
 * appear under their room and new ones can be typed into the outbox.
 * rooms:list replaces it on every connect.
 *
 * Part of the chat page (main.js wires it): `ctx` is the page's shared state
 * and the other parts (ctx.messages, ctx.composer), looked up when called.
 */
import { errorText, isLost } from "../lib/rpc.js";
import { h, showError, hideError } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { moveSelection } from "./switcher.js";
import { displayName as nameOf, roomLabel as labelOf, roomSortKey, unreadText, pageTitle, roomHeading } from "./format.js";

export const LAST_ROOM_KEY = "lastRoom";
export const ROOMS_KEY = "rooms";

export function createRooms(ctx) {
  const { el, me, store, socket, call, toast, state } = ctx;
  /** Room id -> Room (as the server last described it). */
  const rooms = new Map();
  /** Room id -> sidebar <li>. */
  const items = new Map();
  let lastRefresh = 0;
  let saveTimer = null;

  const displayName = (room) => nameOf(room, me);

  function roomLabel(roomId, fallback) {
    return labelOf(rooms.get(roomId), me, fallback);
  }

  function isPublic(roomId) {
    const room = rooms.get(roomId);
    return !!room && room.kind === "public";
  }

  /*
   * Keyboard: the two lists (rooms, then DMs) are one listbox-like stop in
   * the Tab order (a roving tabindex: the shown room, else the first, has
   * tabindex 0, the rest -1). Up/Down move between rooms, Home/End to the
   * ends, Enter or Space opens the one focused.
   */
  let tabStop = null;

  function allItems() {
    // Archived rooms (listed apart) only while their section is open.
    const archived = el.archivedSection.open ? el.archivedList.children : [];
    return [...el.roomList.children, ...el.dmList.children, ...archived];
  }

  function setTabStop(li) {
    tabStop = li || null;
    for (const item of allItems()) item.tabIndex = item === tabStop ? 0 : -1;
  }

  /** After the list changed: keep the stop where it was if it is still listed, else the shown room, else the first. */
  function fixTabStop() {
    const listed = allItems();
    if (tabStop && listed.includes(tabStop)) return setTabStop(tabStop);
    setTabStop(items.get(state.currentRoom) || listed[0]);
  }

  function onListKey(ev) {
    const li = ev.target.closest("li.room");
    if (!li) return;
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      openRoom(Number(li.dataset.roomId));
      return;
    }
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    const listed = allItems();
    const next = moveSelection(listed.indexOf(li), listed.length, ev.key, false);
    if (next === null || next < 0) return;
    ev.preventDefault();
    setTabStop(listed[next]);
    listed[next].focus();
  }
  el.roomList.addEventListener("keydown", onListKey);
  el.dmList.addEventListener("keydown", onListKey);
  el.archivedList.addEventListener("keydown", onListKey);

  function buildItem(roomId) {
    return h("li", {
      className: "room",
      tabIndex: -1,
      role: "option",
      "aria-selected": "false",
      onClick: () => openRoom(roomId),
    },
    h("span", { className: "room-icon", "aria-hidden": "true" }),
    h("span", { className: "room-name" }),
    h("span", { className: "unread" }));
  }

  function upsert(room) {
    const merged = Object.assign({}, rooms.get(room.id) || {}, room);
    if (Array.isArray(room.members)) for (const u of room.members) ctx.people.remember(u);
    rooms.set(room.id, merged);
    let li = items.get(room.id);
    if (!li) {
      li = buildItem(room.id);
      items.set(room.id, li);
    }
    li.dataset.roomId = String(merged.id);
    li.dataset.roomName = merged.name;
    li.dataset.kind = merged.kind;
    li.dataset.archived = merged.archived ? "true" : "false";
    li.classList.toggle("not-joined", merged.joined === false);
    // Private rooms get a lock drawn by the stylesheet (no emoji font needed).
    li.querySelector(".room-icon").textContent = merged.kind === "dm" ? "@" : merged.kind === "private" ? "" : "#";
    li.querySelector(".room-name").textContent = displayName(merged);
    li.title = merged.kind === "public" && merged.joined === false ? t("{name} (not joined yet)", { name: merged.name }) : merged.name;
    place(li, merged);
    setUnread(room.id, merged.unread || 0);
    if (room.id === state.currentRoom) renderHeader();
    saveSoon();
  }

  /** Archived rooms are listed apart (their own section, closed by default). */
  function showSections() {
    el.dmSection.hidden = el.dmList.children.length === 0;
    el.archivedSection.hidden = el.archivedList.children.length === 0;
    el.archivedCount.textContent = String(el.archivedList.children.length);
  }

  function place(li, room) {
    const list = room.archived ? el.archivedList : room.kind === "dm" ? el.dmList : el.roomList;
    const key = roomSortKey(room, me);
    let before = null;
    for (const other of list.children) {
      if (other === li) continue;
      const otherRoom = rooms.get(Number(other.dataset.roomId));
      if (otherRoom && roomSortKey(otherRoom, me) > key) {
        before = other;
        break;
      }
    }
    if (li.parentNode !== list || li.nextSibling !== before) list.insertBefore(li, before);
    showSections();
    fixTabStop();
  }

  function remove(id) {
    rooms.delete(id);
    ctx.messages.forget(id);
    const li = items.get(id);
    if (li) li.remove();
    items.delete(id);
    showSections();
    fixTabStop();
    saveSoon();
  }

  function saveSoon() {
    if (saveTimer !== null) return;
    saveTimer = window.setTimeout(() => {
      saveTimer = null;
      const list = [];
      for (const r of rooms.values()) {
        list.push({
          id: r.id, name: r.name, kind: r.kind, joined: r.joined,
          topic: r.topic, archived: r.archived, created_by: r.created_by,
          members: r.members, unread: r.unread || 0, last_seq: r.last_seq, last_rev: r.last_rev,
        });
      }
      store.set(ROOMS_KEY, list);
    }, 300);
  }

  function restore() {
    const list = store.get(ROOMS_KEY, []);
    if (!Array.isArray(list)) return;
    for (const room of list) {
      if (room && typeof room.id === "number" && typeof room.name === "string" && typeof room.kind === "string") {
        upsert(room);
      }
    }
  }

  async function refresh() {
    lastRefresh = Date.now();
    // The rooms in use, and the archived ones (listed apart: a second call).
    const [ack, archived] = await Promise.all([call("rooms:list", {}), call("rooms:list", { archived: true })]);
    if (!ack.ok) {
      if (!isLost(ack)) toast(errorText(ack, t("Could not load the rooms.")), "error");
      return;
    }
    const seen = new Set();
    const found = (ack.rooms || []).concat(archived.ok ? archived.rooms || [] : []);
    // Without an answer about archived rooms, keep the ones listed.
    if (!archived.ok) for (const r of rooms.values()) if (r.archived) seen.add(r.id);
    for (const room of found) {
      seen.add(room.id);
      upsert(room);
    }
    for (const id of Array.from(rooms.keys())) {
      if (!seen.has(id)) remove(id);
    }
    ctx.composer.pruneDrafts(seen);
    saveSoon();
  }

  function pickStart() {
    const saved = Number(store.get(LAST_ROOM_KEY, 0));
    if (saved && rooms.has(saved)) return saved;
    for (const room of rooms.values()) {
      if (room.name === "general" && room.kind === "public" && !room.archived) return room.id;
    }
    for (const room of rooms.values()) if (!room.archived) return room.id;
    const first = rooms.keys().next();
    return first.done ? null : first.value;
  }

  function setUnread(roomId, count) {
    const room = rooms.get(roomId);
    if (room) room.unread = count;
    const li = items.get(roomId);
    if (!li) return;
    const badge = li.querySelector(".unread");
    const n = Math.max(0, Number(count) || 0);
    badge.textContent = unreadText(n);
    badge.dataset.count = String(n);
    badge.hidden = n === 0;
    li.classList.toggle("has-unread", n > 0);
    updateTitle();
  }

  /** A live message raised the unread count of a room not being read. */
  function bumpUnread(roomId) {
    const room = rooms.get(roomId);
    if (room) setUnread(roomId, (room.unread || 0) + 1);
  }

  function updateTitle() {
    document.title = pageTitle(rooms.values(), rooms.get(state.currentRoom), me);
  }

  function renderHeader() {
    const room = rooms.get(state.currentRoom);
    if (!room) return;
    const heading = roomHeading(room, me);
    el.roomTitle.textContent = heading.title;
    el.roomTitle.dataset.kind = room.kind;
    el.roomMeta.textContent = heading.meta;
    el.composer.placeholder = t("Message {room}", { room: labelOf(room, me) });
    ctx.roomSettings.renderRoom(room); // topic, settings button, archived: read-only
    updateTitle();
  }

  /** Show a room: at once from what is cached, then join it and load or sync its messages. */
  async function openRoom(roomId) {
    if (!rooms.has(roomId)) return;
    // On a phone the room was picked in a drawer: lib/menu.js closes it.
    document.dispatchEvent(new CustomEvent("switchboard:room-opened"));
    const token = ++state.openToken;
    if (state.currentRoom !== roomId) {
      ctx.typing.stop();
      const previous = items.get(state.currentRoom);
      if (previous) previous.classList.remove("active");
      state.currentRoom = roomId;
      el.app.dataset.roomId = String(roomId);
      const li = items.get(roomId);
      for (const item of items.values()) {
        item.setAttribute("aria-selected", item === li ? "true" : "false");
        if (item !== li) item.removeAttribute("aria-current");
      }
      if (li) {
        li.classList.add("active");
        li.setAttribute("aria-current", "true");
        setTabStop(li);
      }
      store.set(LAST_ROOM_KEY, roomId);
      ctx.composer.switchDraft(roomId);
      ctx.online.clear();
      ctx.knownMembers.clear();
      ctx.onlineList.render();
      ctx.typing.render();
      renderHeader();
      hideError(el.composerError);
      ctx.messages.render();
    }
    if (!socket.connected) return; // the connect handler opens it

    const joined = await joinCurrent();
    if (token !== state.openToken || !joined) return;
    await ctx.messages.load(roomId, token);
  }

  /** The shown room is gone (left, deleted, no longer allowed): show another. */
  function leaveCurrent() {
    state.currentRoom = null;
    const next = pickStart();
    if (next !== null) openRoom(next);
  }

  /** room:join the shown room: membership, the online list, fresh room data. */
  async function joinCurrent() {
    const roomId = state.currentRoom;
    const ack = await call("room:join", { room: roomId });
    if (roomId !== state.currentRoom) return false;
    if (isLost(ack)) return false;
    if (!ack.ok) {
      toast(errorText(ack, t("Could not open the room.")), "error");
      if (ack.error && (ack.error.code === "not_found" || ack.error.code === "forbidden")) {
        remove(roomId);
        leaveCurrent();
      }
      return false;
    }
    if (ack.room) {
      upsert(ack.room);
      // Changes up to the room's rev at join time are in the history we
      // load next (which always returns the current state of a message).
      ctx.messages.noteJoinRev(roomId, ack.room.last_rev);
      if (Array.isArray(ack.room.members)) for (const u of ack.room.members) ctx.knownMembers.add(u.id);
    }
    ctx.online.clear();
    for (const user of ack.online || []) {
      ctx.people.remember(user);
      ctx.online.set(user.id, user);
      ctx.seenOnline.set(user.id, user);
      ctx.knownMembers.add(user.id);
    }
    ctx.onlineList.render();
    return true;
  }

  async function openDm(username) {
    const ack = await call("dm:open", { username: username });
    if (!ack.ok) {
      toast(errorText(ack, t("Could not open the conversation.")), "error");
      return;
    }
    upsert(ack.room);
    openRoom(ack.room.id);
  }

  /** A member joined or left a room: its member list (and header) follow. */
  function memberJoined(roomId, user) {
    const room = rooms.get(roomId);
    if (room && Array.isArray(room.members) && !room.members.some((u) => u.id === user.id)) {
      room.members.push(user);
      if (roomId === state.currentRoom) renderHeader();
    }
  }

  function memberLeft(roomId, user) {
    const room = rooms.get(roomId);
    if (room && Array.isArray(room.members)) {
      room.members = room.members.filter((u) => u.id !== user.id);
      if (roomId === state.currentRoom) renderHeader();
    }
  }

  /** This user left a room elsewhere: a public room stays listed but not joined; others go. */
  function left(roomId) {
    const room = rooms.get(roomId);
    if (!room) return;
    if (room.kind === "public") {
      upsert({ ...room, joined: false });
      return;
    }
    remove(roomId);
    if (state.currentRoom === roomId) leaveCurrent();
  }

  /** A message arrived: the room's last_seq follows. */
  function noteSeq(roomId, seq) {
    const room = rooms.get(roomId);
    if (room && seq > (room.last_seq || 0)) room.last_seq = seq;
  }

  // -- the new-room form ----------------------------------------------------
  el.newRoomForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = el.newRoomName.value.trim();
    hideError(el.newRoomError);
    if (!name) {
      showError(el.newRoomError, t("Give the room a name."));
      return;
    }
    el.newRoomCreate.disabled = true;
    const ack = await call("room:create", { name: name, kind: "public" });
    el.newRoomCreate.disabled = false;
    if (!ack.ok) {
      showError(el.newRoomError, errorText(ack, t("Could not create the room.")));
      return;
    }
    el.newRoomName.value = "";
    upsert(ack.room);
    openRoom(ack.room.id);
  });
  el.newRoomName.addEventListener("input", () => hideError(el.newRoomError));

  return {
    rooms,
    get lastRefresh() { return lastRefresh; },
    displayName,
    roomLabel,
    isPublic,
    upsert,
    remove,
    restore,
    refresh,
    pickStart,
    setUnread,
    bumpUnread,
    noteSeq,
    renderHeader,
    openRoom,
    joinCurrent,
    openDm,
    memberJoined,
    memberLeft,
    left,
  };
}
