/* Switchboard chat page.
 *
 * An ES module, no build step, on the shared layer static/js/lib/
 * (connection, rpc, storage, toasts); the rev/gap bookkeeping is chat/sync.js
 * and the outbox's queue and decisions chat/outbox.js (both DOM-free, tested
 * with node --test). Talks to the /chat Socket.IO
 * namespace as described in docs/protocol.md (PROTOCOL.md section 4).
 *
 * Safety rule of this file: user data (names, message text, room names,
 * server error messages) reaches the DOM only through textContent or
 * attributes, never through innerHTML.
 *
 * Consistency model: messages are keyed by id and ordered by seq; applying
 * the same message twice replaces it (a higher or equal rev wins). The
 * rev up to which every change was seen is tracked per room, so every
 * (re)connect (and any gap in live revs) asks `sync` for what was missed.
 *
 * Nothing typed is lost: messages wait in an outbox (shown as pending,
 * saved in localStorage with their client_id) until the server acknowledges
 * them, and each room's unsent draft is saved too; both survive a reload.
 * localStorage keys are per user id: switchboard.{outbox,drafts,rooms,lastRoom}.<id>.
 */
import { connect } from "../lib/connection.js";
import { caller, isLost, errorText } from "../lib/rpc.js";
import { createStore } from "../lib/storage.js";
import { toast as showToast } from "../lib/toast.js";
import { showError, hideError } from "../lib/dom.js";
import { advance, noteRev, hasGap, applyById, syncRooms as syncAndApply } from "./sync.js";
import { restore, withEntry, withoutEntry, Queue, createSender, SEND_TIMEOUT_MS } from "./outbox.js";
import { createTyping, createOnlineList } from "./presence.js";

main();

function main() {

  // ---------------------------------------------------------------------
  // Constants and page data
  // ---------------------------------------------------------------------
  const PAGE_SIZE = 50;
  const GROUP_WINDOW_MS = 5 * 60 * 1000;
  const NEAR_TOP_PX = 80;
  const NEAR_BOTTOM_PX = 120;

  const $ = (id) => document.getElementById(id);
  const app = $("app");
  if (!app) {
    return;
  }
  const me = {
    id: Number(app.dataset.userId),
    username: app.dataset.username || "",
    isAdmin: app.dataset.isAdmin === "true",
  };

  // ---------------------------------------------------------------------
  // Local storage (per user: several accounts may use one browser)
  // ---------------------------------------------------------------------
  // Names of this user's keys: switchboard.<name>.<user id> (lib/storage.js).
  const LAST_ROOM_KEY = "lastRoom";
  const OUTBOX_KEY = "outbox";
  const DRAFTS_KEY = "drafts";
  const ROOMS_KEY = "rooms";

  /** localStorage may be disabled or full: the page then works without it. */
  const store = createStore(me.id);

  const el = {
    badge: $("conn-badge"),
    roomList: $("room-list"),
    dmList: $("dm-list"),
    dmSection: $("dm-section"),
    newRoomForm: $("new-room-form"),
    newRoomName: $("new-room-name"),
    newRoomCreate: $("new-room-create"),
    newRoomError: $("new-room-error"),
    banners: $("banners"),
    roomTitle: $("room-title"),
    roomMeta: $("room-meta"),
    scroller: $("messages"),
    historyStatus: $("history-status"),
    list: $("message-list"),
    pendingList: $("pending-list"),
    jump: $("jump-latest"),
    typing: $("typing"),
    composerForm: $("composer-form"),
    composer: $("composer"),
    send: $("send"),
    composerError: $("composer-error"),
    online: $("online"),
    onlineCount: $("online-count"),
    toasts: $("toasts"),
  };

  // ---------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------
  /** Room id -> Room (as the server last described it). */
  const rooms = new Map();
  /** Room id -> sidebar <li>. */
  const roomItems = new Map();
  /**
   * Room id -> cache of a room whose messages were loaded:
   * {messages: Map<id, Message>, maxRev, hasMore, loaded, loadingOlder,
   *  systemLines: [{text, ts, after}]}
   */
  const caches = new Map();
  /**
   * The outbox: client_id -> {clientId, room, roomName, text, raw, ts, attempt, el},
   * in the order typed, until acknowledged (mirrored in localStorage).
   */
  const queue = new Queue(); // chat/outbox.js: one in flight, holds
  const pending = queue.entries;
  /** Room id -> highest seq we told the server we read. */
  const readSent = new Map();

  let currentRoom = null; // id of the room shown
  let openToken = 0; // guards against out-of-order room switches
  /** Users known to be members of the shown room (for presence events). */
  const knownMembers = new Set();
  let readTimer = null;
  let onlineRefreshTimer = null;
  let lastRoomsRefresh = 0;

  // ---------------------------------------------------------------------
  // Socket
  // ---------------------------------------------------------------------
  const { socket } = connect("/chat", {
    badge: el.badge,
    offlineTitle: "No connection; messages you send wait and go out when it is back.",
    loginNext: "/chat",
    notify: toast,
    // Logging out on a shared computer must not leave this user's unsent
    // messages, drafts or room list for the next person to read.
    beforeLogout: () => store.clear([OUTBOX_KEY, DRAFTS_KEY, ROOMS_KEY, LAST_ROOM_KEY]),
  });

  /**
   * Emit with an ack (lib/rpc.js); resolves with the ack envelope and never
   * rejects. With no answer it resolves {ok: false, error: {code: "timeout" |
   * "disconnected"}}: the connect handler redoes whatever matters, so callers
   * stay quiet about those (`lost(ack)`).
   */
  const call = caller(socket);
  const lost = isLost;

  // chat/presence.js: the typing indicator and who is online in the shown room.
  const typing = createTyping({ el, me, socket, currentRoom: () => currentRoom });
  const onlineList = createOnlineList({ el, me, openDm: (username) => openDm(username) });
  const online = onlineList.users;

  socket.on("connect", () => onConnected());

  socket.on("disconnect", () => {
    typing.disconnected();
    // Whatever was in flight gets no answer now: the next connect sends it
    // again with the same client_id.
    queue.lost();
    for (const p of pending.values()) setPendingStatus(p, "waiting for connection…");
    // A close by the server itself (logout elsewhere, maximum age, kick) is
    // retried once by lib/connection.js.
  });

  // ---------------------------------------------------------------------
  // (Re)connect: rooms, the open room, sync, unsent messages
  // ---------------------------------------------------------------------
  async function onConnected() {
    const first = currentRoom === null;
    pumpOutbox(); // unsent messages go first; their client_id makes resending safe
    await refreshRooms();
    if (first) {
      const target = pickStartRoom();
      if (target !== null) await openRoom(target);
    } else if (rooms.has(currentRoom)) {
      const cache = caches.get(currentRoom);
      if (cache && cache.loaded) {
        await joinCurrent();
        await syncAll();
        scheduleRead();
      } else {
        await syncAll();
        await openRoom(currentRoom); // its first page never arrived: load it now
      }
    } else {
      await syncAll();
      const target = pickStartRoom();
      if (target !== null) await openRoom(target);
    }
  }

  async function refreshRooms() {
    lastRoomsRefresh = Date.now();
    const ack = await call("rooms:list", {});
    if (!ack.ok) {
      if (!lost(ack)) toast(errorText(ack, "Could not load the rooms."), "error");
      return;
    }
    const seen = new Set();
    for (const room of ack.rooms || []) {
      seen.add(room.id);
      upsertRoom(room);
    }
    for (const id of Array.from(rooms.keys())) {
      if (!seen.has(id)) removeRoom(id);
    }
    pruneDrafts(seen);
    saveRoomsSoon();
  }

  function pickStartRoom() {
    const saved = Number(store.get(LAST_ROOM_KEY, 0));
    if (saved && rooms.has(saved)) return saved;
    for (const room of rooms.values()) {
      if (room.name === "general" && room.kind === "public") return room.id;
    }
    const firstRoom = rooms.keys().next();
    return firstRoom.done ? null : firstRoom.value;
  }

  /*
   * Revs and sync (docs/protocol.md section 19). Per loaded room we keep
   * `syncedRev`: every change up to it has been seen. It is NOT simply the
   * highest rev seen: broadcasts of concurrent changes may arrive out of rev
   * order, and after a reconnect the first live event can be newer than what
   * was missed. Live events above syncedRev + 1 wait in `seenRevs` until the
   * revs below them arrive; if a gap stays open, `sync` from syncedRev fills it.
   */

  /** `sync` every room whose messages are loaded (on every (re)connect). */
  function syncAll() {
    const ids = [];
    for (const [id, cache] of caches) if (cache.loaded) ids.push(id);
    return syncRooms(ids);
  }

  function syncOne(roomId) {
    return syncRooms([roomId]);
  }

  /** Sync the given rooms from their syncedRev, page by page, until has_more is false (chat/sync.js). */
  async function syncRooms(ids) {
    const states = new Map();
    for (const id of ids) {
      const cache = caches.get(id);
      if (!cache || !cache.loaded) continue;
      states.set(id, cache);
      cache.syncing += 1;
    }
    if (!states.size) return;
    let outcome;
    try {
      outcome = await syncAndApply(call, states, (message) => applyMessage(message, "sync"));
    } finally {
      for (const cache of states.values()) cache.syncing = Math.max(0, cache.syncing - 1);
    }
    if (outcome.status === "lost") return; // the next connect syncs again
    if (outcome.status === "refused") {
      // One room may have become unreadable: sync the others one by one.
      if (states.size > 1) for (const id of states.keys()) await syncRooms([id]);
      else dropCache(states.keys().next().value);
      return;
    }
    for (const id of states.keys()) checkGap(id);
  }

  /** A live event carried `rev`: advance syncedRev, or note a gap. */
  function noteLiveRev(roomId, rev) {
    const cache = caches.get(roomId);
    if (!cache || typeof rev !== "number") return;
    // While history is loading only note it: syncedRev starts at the join rev.
    noteRev(cache, rev, cache.loaded);
    if (cache.loaded) checkGap(roomId);
  }

  /** cache carries the sync state ({syncedRev, seenRevs}) of chat/sync.js. */
  function advanceRev(cache) {
    advance(cache);
  }

  /** If revs are still missing after a short wait (they may just be late), sync. */
  function checkGap(roomId) {
    const cache = caches.get(roomId);
    if (!cache || !cache.loaded || !hasGap(cache) || cache.gapTimer || cache.syncing) return;
    cache.gapTimer = window.setTimeout(() => {
      cache.gapTimer = null;
      if (caches.get(roomId) !== cache || !hasGap(cache) || cache.syncing) return;
      if (socket.connected) syncRooms([roomId]);
    }, 600);
  }

  function dropCache(roomId) {
    caches.delete(roomId);
    if (roomId === currentRoom) {
      el.list.replaceChildren();
    }
  }

  // ---------------------------------------------------------------------
  // Room list
  // ---------------------------------------------------------------------
  function displayName(room) {
    if (room.kind === "dm" && Array.isArray(room.members)) {
      const others = room.members.filter((u) => u.id !== me.id).map((u) => u.username);
      return others.length ? others.join(", ") : me.username;
    }
    return room.name;
  }

  function upsertRoom(room) {
    const prev = rooms.get(room.id);
    const merged = Object.assign({}, prev || {}, room);
    rooms.set(room.id, merged);
    let li = roomItems.get(room.id);
    if (!li) {
      li = document.createElement("li");
      li.className = "room";
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      const icon = document.createElement("span");
      icon.className = "room-icon";
      icon.setAttribute("aria-hidden", "true");
      const name = document.createElement("span");
      name.className = "room-name";
      const badge = document.createElement("span");
      badge.className = "unread";
      li.append(icon, name, badge);
      li.addEventListener("click", () => openRoom(room.id));
      li.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          openRoom(room.id);
        }
      });
      roomItems.set(room.id, li);
    }
    li.dataset.roomId = String(merged.id);
    li.dataset.roomName = merged.name;
    li.dataset.kind = merged.kind;
    li.classList.toggle("not-joined", merged.joined === false);
    // Private rooms get a lock drawn by the stylesheet (no emoji font needed).
    li.querySelector(".room-icon").textContent = merged.kind === "dm" ? "@" : merged.kind === "private" ? "" : "#";
    li.querySelector(".room-name").textContent = displayName(merged);
    li.title = merged.kind === "public" && merged.joined === false ? merged.name + " (not joined yet)" : merged.name;
    placeRoomItem(li, merged);
    setUnread(room.id, merged.unread || 0);
    if (room.id === currentRoom) renderRoomHeader();
    saveRoomsSoon();
  }

  function placeRoomItem(li, room) {
    const list = room.kind === "dm" ? el.dmList : el.roomList;
    const key = displayName(room).toLowerCase();
    let before = null;
    for (const other of list.children) {
      if (other === li) continue;
      const otherRoom = rooms.get(Number(other.dataset.roomId));
      if (otherRoom && displayName(otherRoom).toLowerCase() > key) {
        before = other;
        break;
      }
    }
    if (li.parentNode !== list || li.nextSibling !== before) list.insertBefore(li, before);
    el.dmSection.hidden = el.dmList.children.length === 0;
  }

  function removeRoom(id) {
    rooms.delete(id);
    caches.delete(id);
    const li = roomItems.get(id);
    if (li) li.remove();
    roomItems.delete(id);
    el.dmSection.hidden = el.dmList.children.length === 0;
    saveRoomsSoon();
  }

  /*
   * The room list is kept in localStorage too, so that a reload without a
   * connection still shows the sidebar and the last room: pending messages
   * appear under their room and new ones can be typed into the outbox.
   * rooms:list replaces it on every connect.
   */
  let saveRoomsTimer = null;

  function saveRoomsSoon() {
    if (saveRoomsTimer !== null) return;
    saveRoomsTimer = window.setTimeout(() => {
      saveRoomsTimer = null;
      const list = [];
      for (const r of rooms.values()) {
        list.push({
          id: r.id, name: r.name, kind: r.kind, joined: r.joined,
          members: r.members, unread: r.unread || 0, last_seq: r.last_seq, last_rev: r.last_rev,
        });
      }
      store.set(ROOMS_KEY, list);
    }, 300);
  }

  function restoreRooms() {
    const list = store.get(ROOMS_KEY, []);
    if (!Array.isArray(list)) return;
    for (const room of list) {
      if (room && typeof room.id === "number" && typeof room.name === "string" && typeof room.kind === "string") {
        upsertRoom(room);
      }
    }
  }

  function setUnread(roomId, count) {
    const room = rooms.get(roomId);
    if (room) room.unread = count;
    const li = roomItems.get(roomId);
    if (!li) return;
    const badge = li.querySelector(".unread");
    const n = Math.max(0, Number(count) || 0);
    badge.textContent = String(n > 99 ? "99+" : n);
    badge.dataset.count = String(n);
    badge.hidden = n === 0;
    li.classList.toggle("has-unread", n > 0);
    updateTitle();
  }

  function updateTitle() {
    let total = 0;
    for (const room of rooms.values()) total += room.unread || 0;
    const room = rooms.get(currentRoom);
    const base = room ? (room.kind === "dm" ? "@" : "#") + displayName(room) + " · Switchboard" : "Chat · Switchboard";
    document.title = (total > 0 ? "(" + total + ") " : "") + base;
  }

  function renderRoomHeader() {
    const room = rooms.get(currentRoom);
    if (!room) return;
    el.roomTitle.textContent = (room.kind === "dm" ? "@ " : room.kind === "private" ? "" : "# ") + displayName(room);
    el.roomTitle.dataset.kind = room.kind;
    const parts = [];
    parts.push(room.kind === "public" ? "public room" : room.kind === "private" ? "private room" : "direct message");
    if (Array.isArray(room.members)) parts.push(room.members.length + (room.members.length === 1 ? " member" : " members"));
    el.roomMeta.textContent = parts.join(" · ");
    el.composer.placeholder = "Message " + (room.kind === "dm" ? "@" : "#") + displayName(room);
    updateTitle();
  }

  // ---------------------------------------------------------------------
  // Opening a room
  // ---------------------------------------------------------------------
  async function openRoom(roomId) {
    if (!rooms.has(roomId)) return;
    // On a phone the room was picked in a drawer: lib/menu.js closes it.
    document.dispatchEvent(new CustomEvent("switchboard:room-opened"));
    const token = ++openToken;
    if (currentRoom !== roomId) {
      stopTyping();
      const previous = roomItems.get(currentRoom);
      if (previous) previous.classList.remove("active");
      currentRoom = roomId;
      app.dataset.roomId = String(roomId);
      const li = roomItems.get(roomId);
      if (li) {
        li.classList.add("active");
        li.setAttribute("aria-current", "true");
      }
      for (const item of roomItems.values()) if (item !== li) item.removeAttribute("aria-current");
      store.set(LAST_ROOM_KEY, roomId);
      switchDraft(roomId);
      online.clear();
      knownMembers.clear();
      renderOnline();
      renderTyping();
      renderRoomHeader();
      hideError(el.composerError);
      renderMessages();
    }
    if (!socket.connected) return; // the connect handler opens it

    const joined = await joinCurrent();
    if (token !== openToken || !joined) return;

    let cache = caches.get(roomId);
    if (!cache || !cache.loaded) {
      cache = ensureCache(roomId);
      el.scroller.dataset.state = "loading";
      setHistoryStatus("Loading…");
      const ack = await call("history", { room: roomId, limit: PAGE_SIZE });
      if (token !== openToken) {
        if (ack.ok) absorbHistory(roomId, ack, true);
        return;
      }
      if (!ack.ok) {
        setHistoryStatus("");
        if (!lost(ack)) toast(errorText(ack, "Could not load the messages."), "error");
        return;
      }
      absorbHistory(roomId, ack, true);
      renderMessages();
      scrollToBottom();
      await fillViewport(roomId, token);
    } else {
      renderMessages();
      scrollToBottom();
      await syncOne(roomId);
    }
    if (token !== openToken) return;
    el.scroller.dataset.state = "ready";
    scheduleRead();
  }

  /** room:join the shown room: membership, the online list, fresh room data. */
  async function joinCurrent() {
    const roomId = currentRoom;
    const ack = await call("room:join", { room: roomId });
    if (roomId !== currentRoom) return false;
    if (lost(ack)) return false;
    if (!ack.ok) {
      toast(errorText(ack, "Could not open the room."), "error");
      if (ack.error && (ack.error.code === "not_found" || ack.error.code === "forbidden")) {
        removeRoom(roomId);
        currentRoom = null;
        const next = pickStartRoom();
        if (next !== null) openRoom(next);
      }
      return false;
    }
    if (ack.room) {
      upsertRoom(ack.room);
      const cache = caches.get(roomId);
      // Changes up to the room's rev at join time are in the history we
      // load next (which always returns the current state of a message).
      if ((!cache || !cache.loaded) && typeof ack.room.last_rev === "number") {
        ensureCache(roomId).joinRev = ack.room.last_rev;
      }
      if (Array.isArray(ack.room.members)) for (const u of ack.room.members) knownMembers.add(u.id);
    }
    online.clear();
    for (const user of ack.online || []) {
      online.set(user.id, user);
      knownMembers.add(user.id);
    }
    renderOnline();
    return true;
  }

  function ensureCache(roomId) {
    let cache = caches.get(roomId);
    if (!cache) {
      cache = {
        messages: new Map(),
        maxRev: 0, // highest rev seen (informational)
        syncedRev: 0, // every change up to this rev has been seen
        seenRevs: new Set(), // live revs above syncedRev + 1, waiting for the gap to close
        syncing: 0,
        gapTimer: null,
        joinRev: 0,
        hasMore: false,
        loaded: false,
        loadingOlder: false,
        systemLines: [],
      };
      caches.set(roomId, cache);
    }
    return cache;
  }

  function absorbHistory(roomId, ack, initial) {
    const cache = ensureCache(roomId);
    if (initial) {
      cache.hasMore = !!ack.has_more;
      cache.loaded = true;
      // History was read after room:join answered, so it reflects every
      // change up to the room's rev at join time; later ones come live.
      cache.syncedRev = Math.max(cache.syncedRev, cache.joinRev || 0);
      cache.maxRev = Math.max(cache.maxRev, cache.syncedRev);
    } else {
      cache.hasMore = !!ack.has_more;
    }
    for (const message of ack.messages || []) applyMessage(message, "history");
    if (initial) {
      advanceRev(cache);
      checkGap(roomId);
    }
  }

  function minSeq(cache) {
    let min = Infinity;
    for (const m of cache.messages.values()) if (m.seq < min) min = m.seq;
    return min;
  }

  function maxSeq(cache) {
    let max = 0;
    for (const m of cache.messages.values()) if (m.seq > max) max = m.seq;
    return max;
  }

  async function loadOlder() {
    const roomId = currentRoom;
    const cache = caches.get(roomId);
    if (!cache || !cache.loaded || !cache.hasMore || cache.loadingOlder || !socket.connected) return;
    const before = minSeq(cache);
    if (!Number.isFinite(before)) return;
    cache.loadingOlder = true;
    setHistoryStatus("Loading older messages…");
    const ack = await call("history", { room: roomId, before_seq: before, limit: PAGE_SIZE });
    cache.loadingOlder = false;
    if (!ack.ok) {
      updateHistoryStatus();
      if (!lost(ack)) toast(errorText(ack, "Could not load older messages."), "error");
      return;
    }
    if (roomId !== currentRoom) {
      absorbHistory(roomId, ack, false);
      return;
    }
    // Keep what the reader looks at in place while older messages go above.
    const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
    absorbHistory(roomId, ack, false);
    updateHistoryStatus();
    el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom;
  }

  /** Load older pages until the list can scroll (or there is nothing more). */
  async function fillViewport(roomId, token) {
    for (let i = 0; i < 20; i += 1) {
      const cache = caches.get(roomId);
      if (token !== openToken || !cache || !cache.hasMore) return;
      if (el.scroller.scrollHeight > el.scroller.clientHeight + NEAR_TOP_PX) return;
      await loadOlder();
    }
  }

  function setHistoryStatus(text) {
    el.historyStatus.textContent = text;
  }

  function updateHistoryStatus() {
    const cache = caches.get(currentRoom);
    if (!cache || !cache.loaded) {
      return setHistoryStatus(socket.connected ? "Loading…" : "Waiting for the connection to load messages…");
    }
    if (cache.hasMore) return setHistoryStatus("Scroll up for older messages");
    const room = rooms.get(currentRoom);
    setHistoryStatus(room ? "This is the beginning of " + (room.kind === "dm" ? "your conversation." : "#" + displayName(room) + ".") : "");
  }

  // ---------------------------------------------------------------------
  // Messages
  // ---------------------------------------------------------------------
  /** Message id -> element, for the room shown. */
  const messageEls = new Map();

  /**
   * Apply a Message from any source (history, live event, sync, ack).
   * Idempotent: the same id replaces the earlier copy unless that one is newer.
   */
  function applyMessage(message, source) {
    if (!message || typeof message.id !== "number") return;
    const roomId = message.room;
    resolvePendingFor(message);
    const cache = caches.get(roomId);
    if (!cache) return;
    if (typeof message.rev === "number" && message.rev > cache.maxRev) cache.maxRev = message.rev;
    // A change to a message older than the loaded window is skipped: when the
    // reader scrolls up, history returns its current state anyway.
    if (source !== "history" && cache.loaded && cache.hasMore && message.seq < minSeq(cache)) return;
    if (!applyById(cache.messages, message)) return; // an older rev than what we have
    if (roomId === currentRoom) renderOne(message);
  }

  function renderMessages() {
    messageEls.clear();
    el.list.replaceChildren();
    el.pendingList.replaceChildren();
    el.jump.hidden = true;
    const cache = caches.get(currentRoom);
    if (cache) {
      const sorted = Array.from(cache.messages.values()).sort((a, b) => a.seq - b.seq);
      const frag = document.createDocumentFragment();
      let prev = null;
      const items = [];
      for (const m of sorted) items.push({ kind: "m", sort: m.seq, m: m });
      cache.systemLines.forEach((line, i) => items.push({ kind: "s", sort: line.after + 0.5 + i / 1e6, line: line }));
      items.sort((a, b) => a.sort - b.sort);
      for (const item of items) {
        let node;
        if (item.kind === "m") {
          node = buildMessage(item.m);
          messageEls.set(item.m.id, node);
        } else {
          node = buildSystemLine(item.line, item.sort);
        }
        frag.appendChild(node);
        setGrouping(node, prev);
        prev = node;
      }
      el.list.appendChild(frag);
    }
    for (const p of pending.values()) {
      // Before any room is shown (no connection yet), every pending message.
      if (p.room === currentRoom || currentRoom === null) {
        p.el = buildPending(p);
        el.pendingList.appendChild(p.el);
      } else {
        p.el = null;
      }
    }
    updateHistoryStatus();
    el.scroller.dataset.state = cache && cache.loaded ? "ready" : "loading";
  }

  /** Insert or replace one message element of the shown room, in seq order. */
  function renderOne(message) {
    const atBottom = isNearBottom();
    const node = buildMessage(message);
    const old = messageEls.get(message.id);
    if (old) {
      old.replaceWith(node);
    } else {
      let before = null;
      // Most messages are new ones at the end: walk back from the end.
      let cursor = el.list.lastElementChild;
      while (cursor && sortKey(cursor) > message.seq) {
        before = cursor;
        cursor = cursor.previousElementSibling;
      }
      el.list.insertBefore(node, before);
    }
    messageEls.set(message.id, node);
    setGrouping(node, node.previousElementSibling);
    if (node.nextElementSibling) setGrouping(node.nextElementSibling, node);
    if (!old) {
      if (atBottom || (message.author && message.author.id === me.id)) scrollToBottom();
      else if (isAfterView(node)) el.jump.hidden = false;
    }
  }

  function sortKey(node) {
    return Number(node.dataset.sort);
  }

  function avatarClass(name) {
    let h = 0;
    for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return "avatar-c" + (h % 8);
  }

  /** A <time> for ``iso``: ``which`` of formatTime's texts shown, the full one as its title. */
  function timeElement(className, iso, which) {
    const t = formatTime(iso);
    const el = document.createElement("time");
    el.className = className;
    el.dateTime = iso || "";
    el.textContent = t[which];
    el.title = t.full;
    return el;
  }

  function formatTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return { short: "", time: "", full: "" };
    const now = new Date();
    const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const sameDay = d.toDateString() === now.toDateString();
    const short = sameDay ? time : d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
    return { short: short, time: time, full: d.toLocaleString() };
  }

  function buildAvatar(name) {
    const avatar = document.createElement("div");
    avatar.className = "avatar " + avatarClass(name);
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = Array.from(String(name || "?"))[0].toUpperCase();
    return avatar;
  }

  function buildMessage(m) {
    const author = (m.author && m.author.username) || "unknown";
    const node = document.createElement("article");
    node.className = "message";
    node.dataset.id = String(m.id);
    node.dataset.seq = String(m.seq);
    node.dataset.rev = String(m.rev);
    node.dataset.sort = String(m.seq);
    node.dataset.authorId = String(m.author ? m.author.id : "");
    node.dataset.ts = m.ts || "";
    if (m.client_id) node.dataset.clientId = m.client_id;
    if (m.author && m.author.id === me.id) node.classList.add("mine");
    if (m.deleted) node.classList.add("deleted");
    if (m.edited_ts && !m.deleted) node.classList.add("edited");

    const gutter = document.createElement("div");
    gutter.className = "message-gutter";
    gutter.appendChild(buildAvatar(author));
    gutter.appendChild(timeElement("message-hovertime", m.ts, "time"));

    const body = document.createElement("div");
    body.className = "message-body";
    const header = document.createElement("div");
    header.className = "message-header";
    const who = document.createElement("span");
    who.className = "message-author";
    who.textContent = author;
    header.append(who, timeElement("message-time", m.ts, "short"));

    const text = document.createElement("div");
    text.className = "message-text";
    if (m.deleted) {
      text.classList.add("message-deleted");
      text.textContent = "message deleted";
    } else {
      text.textContent = m.text;
    }
    body.append(header, text);
    if (m.edited_ts && !m.deleted) {
      // Beside the text, not inside it: .message-text holds exactly m.text.
      const edited = document.createElement("span");
      edited.className = "message-edited";
      edited.textContent = "(edited)";
      edited.title = "Edited " + formatTime(m.edited_ts).full;
      body.appendChild(edited);
    }
    node.append(gutter, body);

    const canEdit = m.author && m.author.id === me.id && !m.deleted;
    const canDelete = !m.deleted && ((m.author && m.author.id === me.id) || me.isAdmin);
    if (canEdit || canDelete) {
      const actions = document.createElement("div");
      actions.className = "message-actions";
      if (canEdit) {
        const edit = document.createElement("button");
        edit.type = "button";
        edit.className = "message-action message-edit";
        edit.textContent = "Edit";
        edit.addEventListener("click", () => startEdit(node, m));
        actions.appendChild(edit);
      }
      if (canDelete) {
        const del = document.createElement("button");
        del.type = "button";
        del.className = "message-action message-delete";
        del.textContent = "Delete";
        del.addEventListener("click", () => deleteMessage(m));
        actions.appendChild(del);
      }
      node.appendChild(actions);
    }
    return node;
  }

  /** Consecutive messages of one author within a few minutes share a header. */
  function setGrouping(node, prev) {
    if (!node || !node.classList.contains("message") || node.classList.contains("pending")) return;
    let continued = false;
    if (prev && prev.classList.contains("message") && !prev.classList.contains("system-line")) {
      const sameAuthor = prev.dataset.authorId === node.dataset.authorId;
      const gap = Date.parse(node.dataset.ts) - Date.parse(prev.dataset.ts);
      continued = sameAuthor && gap >= 0 && gap < GROUP_WINDOW_MS &&
        !prev.classList.contains("deleted") && !node.classList.contains("deleted");
    }
    node.classList.toggle("continued", continued);
  }

  function startEdit(node, m) {
    if (node.querySelector(".message-editor")) return;
    const text = node.querySelector(".message-text");
    const editor = document.createElement("form");
    editor.className = "message-editor";
    const area = document.createElement("textarea");
    area.value = m.text;
    area.rows = Math.min(8, Math.max(1, m.text.split("\n").length));
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "btn btn-small btn-primary";
    save.textContent = "Save";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-small btn-ghost";
    cancel.textContent = "Cancel";
    const err = document.createElement("p");
    err.className = "inline-error";
    err.hidden = true;
    editor.append(area, save, cancel, err);
    text.hidden = true;
    text.after(editor);
    area.focus();
    const close = () => {
      editor.remove();
      text.hidden = false;
    };
    cancel.addEventListener("click", close);
    area.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") close();
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        editor.requestSubmit();
      }
    });
    editor.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const value = area.value.trim();
      if (!value) return;
      if (value === m.text) return close();
      save.disabled = true;
      const ack = await call("message:edit", { id: m.id, text: value });
      save.disabled = false;
      if (!ack.ok) {
        err.textContent = errorText(ack);
        err.hidden = false;
        return;
      }
      applyMessage(ack.message, "ack");
    });
  }

  async function deleteMessage(m) {
    if (!window.confirm("Delete this message?")) return;
    const ack = await call("message:delete", { id: m.id });
    if (!ack.ok) toast(errorText(ack, "Could not delete the message."), "error");
  }

  function buildSystemLine(line, sort) {
    const node = document.createElement("div");
    node.className = "system-line";
    node.dataset.sort = String(sort);
    const text = document.createElement("span");
    text.className = "system-text";
    text.textContent = line.text;
    node.append(text, timeElement("message-time", line.ts, "short"));
    return node;
  }

  // -- scrolling -----------------------------------------------------------
  function isNearBottom() {
    const s = el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  function isAfterView(node) {
    return node.offsetTop > el.scroller.scrollTop + el.scroller.clientHeight;
  }

  function scrollToBottom() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
    el.jump.hidden = true;
  }

  el.scroller.addEventListener("scroll", () => {
    if (el.scroller.scrollTop < NEAR_TOP_PX) loadOlder();
    if (isNearBottom()) {
      el.jump.hidden = true;
      scheduleRead();
    }
  }, { passive: true });
  el.jump.addEventListener("click", () => {
    scrollToBottom();
    scheduleRead();
  });

  // ---------------------------------------------------------------------
  // Read marks and unread badges
  // ---------------------------------------------------------------------
  function scheduleRead() {
    window.clearTimeout(readTimer);
    readTimer = window.setTimeout(sendRead, 150);
  }

  async function sendRead() {
    const roomId = currentRoom;
    const cache = caches.get(roomId);
    if (!cache || !cache.loaded || !socket.connected) return;
    if (document.visibilityState === "hidden") return;
    const seq = maxSeq(cache);
    const room = rooms.get(roomId);
    const already = readSent.get(roomId) || 0;
    if (seq <= already && !(room && room.unread > 0)) return;
    readSent.set(roomId, Math.max(seq, already));
    const ack = await call("read", { room: roomId, seq: seq });
    if (ack.ok && typeof ack.unread === "number") setUnread(roomId, ack.unread);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      scheduleRead();
      if (socket.connected && Date.now() - lastRoomsRefresh > 30000) refreshRooms();
    }
  });

  // ---------------------------------------------------------------------
  // Composer: sending with client ids, pending until acknowledged
  // ---------------------------------------------------------------------
  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    // randomUUID needs a secure context; plain http on a LAN address is not one.
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function roomLabel(roomId, fallback) {
    const room = rooms.get(roomId);
    if (room) return (room.kind === "dm" ? "@" : "#") + displayName(room);
    return fallback ? "#" + fallback : "another room";
  }

  function buildPending(p) {
    const node = document.createElement("article");
    node.className = "message pending mine";
    node.dataset.clientId = p.clientId;
    node.dataset.room = String(p.room);
    node.dataset.sort = "Infinity";
    const gutter = document.createElement("div");
    gutter.className = "message-gutter";
    gutter.appendChild(buildAvatar(me.username));
    const body = document.createElement("div");
    body.className = "message-body";
    const header = document.createElement("div");
    header.className = "message-header";
    const who = document.createElement("span");
    who.className = "message-author";
    who.textContent = me.username;
    header.appendChild(who);
    if (p.room !== currentRoom) {
      const where = document.createElement("span");
      where.className = "message-time pending-room";
      where.textContent = "to " + roomLabel(p.room, p.roomName);
      header.appendChild(where);
    }
    const status = document.createElement("span");
    status.className = "message-time pending-status";
    status.textContent = socket.connected ? "sending…" : "waiting for connection…";
    header.appendChild(status);
    const text = document.createElement("div");
    text.className = "message-text";
    text.textContent = p.text;
    body.append(header, text);
    node.append(gutter, body);
    return node;
  }

  function sendMessage() {
    const raw = el.composer.value;
    const text = raw.trim();
    if (!text || currentRoom === null) return;
    hideError(el.composerError);
    const room = rooms.get(currentRoom);
    const p = {
      clientId: newClientId(),
      room: currentRoom,
      roomName: room ? room.name : "",
      text: text,
      raw: raw,
      ts: new Date().toISOString(),
      attempt: 0,
      el: null,
    };
    queue.add(p);
    outboxSave(p);
    p.el = buildPending(p);
    el.pendingList.appendChild(p.el);
    scrollToBottom();
    el.composer.value = "";
    saveDraft();
    autoGrow();
    stopTyping();
    pumpOutbox();
  }

  // ---------------------------------------------------------------------
  // The outbox: pending messages, kept until acknowledged
  // ---------------------------------------------------------------------
  /*
   * Every message goes through the outbox: shown as pending, saved in
   * localStorage with its client_id, sent one at a time in the order typed
   * (so they get their seq in that order), and removed only when the server
   * answers with the stored message, `duplicate: true` included (a retry of
   * something already stored), or refuses it for good (bad_request,
   * too_large, forbidden, not_found: the text goes back into that room's
   * composer, nothing typed is lost). With no answer within SEND_TIMEOUT_MS
   * the same client_id goes again; after a disconnect, on the next connect;
   * after a reload, saved entries come back as pending and are sent once the
   * socket connects. The server stores a (user, client_id) once, so none of
   * these retries can double a message.
   */
  /** Entries in localStorage, merged by client_id so several tabs do not overwrite each other. */
  function outboxRead() {
    const list = store.get(OUTBOX_KEY, []);
    return Array.isArray(list) ? list : [];
  }

  function outboxSave(p) {
    store.set(OUTBOX_KEY, withEntry(outboxRead(), p));
  }

  function outboxForget(clientId) {
    const kept = withoutEntry(outboxRead(), clientId);
    if (kept !== null) store.set(OUTBOX_KEY, kept);
  }

  /** At start: what an earlier page (or another tab) left unsent. */
  function restoreOutbox() {
    for (const e of restore(outboxRead())) {
      if (pending.has(e.clientId)) continue;
      queue.add({ ...e, raw: e.text, attempt: 0, el: null });
    }
  }

  // chat/outbox.js: the sending loop; the page supplies the socket and the showing.
  const sender = createSender({
    queue,
    connected: () => socket.connected,
    emit: (payload, answer) => socket.timeout(SEND_TIMEOUT_MS).emit("message:send", payload, answer),
    join: (roomId) => call("room:join", { room: roomId }),
    publicRoom: (roomId) => isPublicRoom(roomId),
    stored: (p, message) => {
      settlePending(p);
      applyMessage(message, "ack");
    },
    failed: (p, reason) => failPending(p, reason),
    status: (p, text) => setPendingStatus(p, text),
  });

  /** Send the oldest pending message, if connected and nothing is in flight. */
  function pumpOutbox() {
    sender.pump();
  }

  function isPublicRoom(roomId) {
    const room = rooms.get(roomId);
    return !!room && room.kind === "public";
  }

  function setPendingStatus(p, text) {
    if (!p.el) return;
    const status = p.el.querySelector(".pending-status");
    if (status) status.textContent = text;
  }

  /** The message left the outbox (stored, or refused for good). */
  function settlePending(p) {
    queue.settle(p.clientId);
    outboxForget(p.clientId);
    if (p.el) p.el.remove();
    p.el = null;
  }

  /** A stored message arrived (ack, live event, sync): drop the pending copy it stands for. */
  function resolvePendingFor(message) {
    if (!message.client_id || !message.author || message.author.id !== me.id) return;
    const p = pending.get(message.client_id);
    if (p) settlePending(p);
  }

  function failPending(p, reason) {
    settlePending(p);
    const raw = p.raw || p.text;
    if (p.room === currentRoom) {
      // Keep the text so nothing typed is lost.
      if (!el.composer.value.trim()) {
        el.composer.value = raw;
      } else if (el.composer.value.indexOf(p.text) === -1) {
        el.composer.value = raw + "\n" + el.composer.value;
      }
      saveDraft();
      autoGrow();
      showError(el.composerError, reason);
      el.composer.focus();
    } else {
      // Back into that room's draft, and say where it went.
      const drafts = readDrafts();
      const prev = drafts[String(p.room)] || "";
      if (prev.indexOf(p.text) === -1) {
        drafts[String(p.room)] = prev.trim() ? raw + "\n" + prev : raw;
        store.set(DRAFTS_KEY, drafts);
      }
      const snippet = p.text.length > 40 ? p.text.slice(0, 40) + "…" : p.text;
      toast("Not sent to " + roomLabel(p.room, p.roomName) + ": " + reason + " (“" + snippet + "” is back in that room's composer)", "error");
    }
  }

  // ---------------------------------------------------------------------
  // Drafts: the composer's unsent text, per room, survives a reload
  // ---------------------------------------------------------------------
  let draftRoom = null; // the room whose draft the composer holds

  function readDrafts() {
    const drafts = store.get(DRAFTS_KEY, {});
    return drafts && typeof drafts === "object" && !Array.isArray(drafts) ? drafts : {};
  }

  function saveDraft() {
    if (draftRoom === null) return;
    const drafts = readDrafts();
    const key = String(draftRoom);
    const value = el.composer.value;
    if (value.trim()) {
      if (drafts[key] === value) return;
      drafts[key] = value;
    } else {
      if (!(key in drafts)) return;
      delete drafts[key];
    }
    store.set(DRAFTS_KEY, drafts);
  }

  /** The composer now writes to roomId: keep the old room's text, show the new one's. */
  function switchDraft(roomId) {
    if (draftRoom === roomId) return;
    const carried = draftRoom === null ? el.composer.value : "";
    saveDraft();
    draftRoom = roomId;
    const saved = readDrafts()[String(roomId)];
    if (typeof saved === "string" && saved) {
      el.composer.value = saved;
    } else {
      el.composer.value = carried; // typed before any room was shown: keep it
      saveDraft();
    }
    autoGrow();
  }

  function pruneDrafts(roomIds) {
    const drafts = readDrafts();
    let changed = false;
    for (const key of Object.keys(drafts)) {
      if (!roomIds.has(Number(key)) || typeof drafts[key] !== "string") {
        delete drafts[key];
        changed = true;
      }
    }
    if (changed) store.set(DRAFTS_KEY, drafts);
  }

  function autoGrow() {
    // CSSOM changes are allowed by the page's CSP (style attributes are not).
    el.composer.style.height = "auto";
    el.composer.style.height = Math.min(el.composer.scrollHeight + 2, 240) + "px";
  }

  el.composerForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    sendMessage();
    el.composer.focus();
  });
  el.composer.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      sendMessage();
    }
  });
  el.composer.addEventListener("input", () => {
    autoGrow();
    saveDraft();
    if (!el.composerError.hidden && el.composer.value.trim() === "") hideError(el.composerError);
    if (el.composer.value.trim()) noteTyping();
    else stopTyping();
  });
  el.composer.addEventListener("blur", stopTyping);

  // ---------------------------------------------------------------------
  // Typing and who is online (chat/presence.js)
  // ---------------------------------------------------------------------
  // Function declarations (hoisted): listeners bound above already name them.
  function renderOnline() { onlineList.render(); }
  function renderTyping() { typing.render(); }
  function noteTyping() { typing.note(); }
  function stopTyping() { typing.stop(); }
  function setTyping(roomId, user, isTyping) { typing.set(roomId, user, isTyping); }

  /** Ask the server again who is online here (room:join is idempotent). */
  function refreshOnlineSoon() {
    window.clearTimeout(onlineRefreshTimer);
    onlineRefreshTimer = window.setTimeout(() => {
      if (socket.connected && currentRoom !== null) joinCurrent();
    }, 400);
  }

  async function openDm(username) {
    const ack = await call("dm:open", { username: username });
    if (!ack.ok) {
      toast(errorText(ack, "Could not open the conversation."), "error");
      return;
    }
    upsertRoom(ack.room);
    openRoom(ack.room.id);
  }

  // ---------------------------------------------------------------------
  // New room
  // ---------------------------------------------------------------------
  el.newRoomForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = el.newRoomName.value.trim();
    hideError(el.newRoomError);
    if (!name) {
      showError(el.newRoomError, "Give the room a name.");
      return;
    }
    el.newRoomCreate.disabled = true;
    const ack = await call("room:create", { name: name, kind: "public" });
    el.newRoomCreate.disabled = false;
    if (!ack.ok) {
      showError(el.newRoomError, errorText(ack, "Could not create the room."));
      return;
    }
    el.newRoomName.value = "";
    upsertRoom(ack.room);
    openRoom(ack.room.id);
  });
  el.newRoomName.addEventListener("input", () => hideError(el.newRoomError));

  // ---------------------------------------------------------------------
  // Server -> client events
  // ---------------------------------------------------------------------
  socket.on("message", (message) => {
    if (!message || typeof message.room !== "number") return;
    const roomId = message.room;
    applyMessage(message, "live");
    noteLiveRev(roomId, message.rev);
    if (message.author) setTyping(roomId, message.author, false);
    const mine = message.author && message.author.id === me.id;
    const visible = document.visibilityState !== "hidden";
    if (roomId === currentRoom && caches.has(roomId) && visible) {
      scheduleRead();
    } else if (!mine && rooms.has(roomId)) {
      const room = rooms.get(roomId);
      // Unread counts are "last_seq - read mark": a message can only raise it.
      const readTo = readSent.get(roomId) || 0;
      if (message.seq > readTo) setUnread(roomId, (room.unread || 0) + 1);
    }
    const room = rooms.get(roomId);
    if (room && message.seq > (room.last_seq || 0)) room.last_seq = message.seq;
  });

  function onChanged(message) {
    if (!message || typeof message.room !== "number") return;
    applyMessage(message, "live");
    noteLiveRev(message.room, message.rev);
  }
  socket.on("message:edited", onChanged);
  socket.on("message:deleted", onChanged);

  socket.on("room:read", (data) => {
    if (!data || typeof data.room !== "number") return;
    if (typeof data.seq === "number") readSent.set(data.room, Math.max(readSent.get(data.room) || 0, data.seq));
    setUnread(data.room, data.unread);
  });

  socket.on("room:added", (room) => {
    if (room && typeof room.id === "number") upsertRoom(room);
  });

  // This user left the room in another tab (or on another device): a public
  // room stays listed but no longer joined; a private room or DM is gone.
  socket.on("room:left", (data) => {
    if (!data || typeof data.room !== "number") return;
    const room = rooms.get(data.room);
    if (!room) return;
    if (room.kind === "public") {
      upsertRoom({ ...room, joined: false });
      return;
    }
    removeRoom(data.room);
    if (currentRoom === data.room) {
      currentRoom = null;
      const next = pickStartRoom();
      if (next !== null) openRoom(next);
    }
  });

  socket.on("presence", (data) => {
    if (!data || !data.user) return;
    const user = data.user;
    if (data.status === "offline") {
      setTyping(currentRoom, user, false);
      if (online.delete(user.id)) renderOnline();
    } else if (data.status === "online") {
      if (knownMembers.has(user.id)) {
        online.set(user.id, user);
        renderOnline();
      } else {
        refreshOnlineSoon();
      }
    }
  });

  socket.on("member:joined", (data) => {
    if (!data || !data.user) return;
    const room = rooms.get(data.room);
    if (room && Array.isArray(room.members) && !room.members.some((u) => u.id === data.user.id)) {
      room.members.push(data.user);
      if (data.room === currentRoom) renderRoomHeader();
    }
    if (data.room !== currentRoom) return;
    knownMembers.add(data.user.id);
    // A public-room join comes from a connected user; an invite may not, so
    // the server has the final word.
    online.set(data.user.id, data.user);
    renderOnline();
    refreshOnlineSoon();
  });

  socket.on("member:left", (data) => {
    if (!data || !data.user) return;
    const room = rooms.get(data.room);
    if (room && Array.isArray(room.members)) {
      room.members = room.members.filter((u) => u.id !== data.user.id);
      if (data.room === currentRoom) renderRoomHeader();
    }
    if (data.room !== currentRoom) return;
    knownMembers.delete(data.user.id);
    setTyping(data.room, data.user, false);
    if (online.delete(data.user.id)) renderOnline();
  });

  socket.on("typing", (data) => {
    if (!data || typeof data.room !== "number") return;
    setTyping(data.room, data.user, !!data.typing);
  });

  socket.on("system", (data) => {
    if (!data || typeof data.text !== "string") return;
    if (data.room === null || data.room === undefined) {
      banner(data.text, data.ts);
      return;
    }
    const cache = caches.get(data.room);
    if (!cache) return;
    const line = { text: data.text, ts: data.ts || new Date().toISOString(), after: maxSeq(cache) };
    cache.systemLines.push(line);
    if (data.room === currentRoom) {
      const atBottom = isNearBottom();
      const sort = line.after + 0.5 + (cache.systemLines.length - 1) / 1e6;
      const node = buildSystemLine(line, sort);
      let before = null;
      let cursor = el.list.lastElementChild;
      while (cursor && sortKey(cursor) > sort) {
        before = cursor;
        cursor = cursor.previousElementSibling;
      }
      el.list.insertBefore(node, before);
      if (node.nextElementSibling) setGrouping(node.nextElementSibling, node);
      if (atBottom) scrollToBottom();
    }
  });

  socket.on("error", (data) => {
    if (!data) return;
    const text = data.message || data.code || "Error";
    toast(data.event ? text + " (" + data.event + ")" : text, "error");
  });

  // ---------------------------------------------------------------------
  // Banners, toasts, inline errors
  // ---------------------------------------------------------------------
  function banner(text, ts) {
    const node = document.createElement("div");
    node.className = "banner system-banner";
    node.setAttribute("role", "status");
    const label = document.createElement("strong");
    label.className = "banner-label";
    label.textContent = "Announcement";
    const body = document.createElement("span");
    body.className = "banner-text";
    body.textContent = text;
    const time = document.createElement("time");
    time.className = "banner-time";
    if (ts) {
      time.dateTime = ts;
      time.textContent = formatTime(ts).short;
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "banner-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => node.remove());
    node.append(label, body, time, close);
    el.banners.appendChild(node);
    while (el.banners.children.length > 3) el.banners.firstElementChild.remove();
  }

  function toast(text, kind) {
    showToast(el.toasts, text, kind);
  }

  // ---------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------
  for (const flash of document.querySelectorAll(".flash")) {
    const close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => {
      const list = flash.parentNode;
      flash.remove();
      if (list && !list.children.length) list.remove();
    });
    flash.appendChild(close);
  }
  renderOnline();
  // What an earlier page left: unsent messages, the room list, the last room
  // and its draft. Shown at once, even with no connection; sent and
  // refreshed when the socket connects.
  restoreOutbox();
  restoreRooms();
  const startRoom = pickStartRoom();
  if (startRoom !== null) openRoom(startRoom);
  else renderMessages();
  autoGrow();

  // For tests and debugging: read-only view of what the page holds.
  window.switchboard = Object.freeze({
    socket: socket,
    get currentRoom() {
      return currentRoom;
    },
    maxRev(roomId) {
      const cache = caches.get(roomId);
      return cache ? cache.maxRev : null;
    },
    syncedRev(roomId) {
      const cache = caches.get(roomId);
      return cache ? cache.syncedRev : null;
    },
    /** The outbox, oldest first: [{clientId, room, text}]. */
    outbox() {
      return Array.from(pending.values(), (p) => ({ clientId: p.clientId, room: p.room, text: p.text }));
    },
  });
}
