/* Switchboard chat page: the wiring.
 *
 * An ES module, no build step, on the shared layer static/js/lib/
 * (connection, rpc, storage, toasts). The page is split by concern, each
 * part a factory that gets the shared state `ctx` and reaches the others
 * through it when called:
 *   rooms.js     room list, unread badges, title, room header, open/join, DMs
 *   messages.js  message cache, history, sync, rendering, edit/delete, scroll, read marks
 *   composer.js  sending through the outbox, pending messages, drafts, typing note
 *   presence.js  typing indicator and who is online
 *   people.js    names and avatars of users (user:updated), the People dialog
 *   newroom.js   the New room dialog (public or private, first members)
 *   roomsettings.js  room settings (rename, topic, members, leave, archive),
 *                room:updated / room:removed, the archived room's read-only state
 *   reading.js   day separators, the "New" line, Arrow-Up to edit
 * and the DOM-free cores sync.js (rev/gap), outbox.js (queue, sending loop),
 * format.js (names, times, grouping), names.js (display names) and days.js
 * (day separators, the "New" line), tested with node --test. This file
 * connects the socket, routes server events to those parts and starts the
 * page. Talks to the /chat Socket.IO namespace as described in
 * docs/protocol.md (PROTOCOL.md section 4).
 *
 * Safety rule of the page: user data (names, message text, room names,
 * server error messages) reaches the DOM only through textContent or
 * attributes (lib/dom.js h()), never through innerHTML.
 *
 * localStorage keys are per user id: switchboard.{outbox,drafts,rooms,lastRoom}.<id>.
 */
import { connect } from "../lib/connection.js";
import { caller } from "../lib/rpc.js";
import { createStore } from "../lib/storage.js";
import { toast as showToast } from "../lib/toast.js";
import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { createTyping, createOnlineList } from "./presence.js";
import { createRooms, LAST_ROOM_KEY, ROOMS_KEY } from "./rooms.js";
import { createMessages, timeElement } from "./messages.js";
import { createComposer, OUTBOX_KEY, DRAFTS_KEY } from "./composer.js";
import { switcherEntries } from "./switcher.js";
import { createSwitcher } from "./switcher-dialog.js";
import { createPeople } from "./people.js";
import { createNewRoom } from "./newroom.js";
import { createRoomSettings } from "./roomsettings.js";
import { createReading } from "./reading.js";

main();

function main() {
  const $ = (id) => document.getElementById(id);
  const app = $("app");
  if (!app) return;
  const me = {
    id: Number(app.dataset.userId),
    username: app.dataset.username || "",
    displayName: app.dataset.displayName || app.dataset.username || "",
    isAdmin: app.dataset.isAdmin === "true",
  };

  /** localStorage may be disabled or full: the page then works without it. Keys are per user. */
  const store = createStore(me.id);

  const el = {
    app,
    badge: $("conn-badge"),
    roomList: $("room-list"),
    dmList: $("dm-list"),
    dmSection: $("dm-section"),
    newRoomForm: $("new-room-form"),
    newRoomName: $("new-room-name"),
    newRoomCreate: $("new-room-create"),
    newRoomError: $("new-room-error"),
    newRoomMore: $("new-room-more"),
    archivedSection: $("archived-section"),
    archivedList: $("archived-list"),
    archivedCount: $("archived-count"),
    openPeople: $("open-people"),
    newMessage: $("new-message"),
    roomTopic: $("room-topic"),
    roomSettingsButton: $("room-settings-button"),
    archivedNote: $("archived-note"),
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

  const toast = (text, kind) => showToast(el.toasts, text, kind);

  const { socket } = connect("/chat", {
    badge: el.badge,
    offlineTitle: t("No connection; messages you send wait and go out when it is back."),
    loginNext: "/chat",
    notify: toast,
    // Logging out on a shared computer must not leave this user's unsent
    // messages, drafts or room list for the next person to read.
    beforeLogout: () => store.clear([OUTBOX_KEY, DRAFTS_KEY, ROOMS_KEY, LAST_ROOM_KEY]),
  });

  /**
   * The shared state. `call` emits with an ack (lib/rpc.js) and never
   * rejects: with no answer it resolves {ok: false, error: {code: "timeout" |
   * "disconnected"}}, and the connect handler redoes whatever matters.
   */
  const state = { currentRoom: null, openToken: 0 };
  const ctx = {
    el, me, store, socket, toast, state,
    call: caller(socket),
    /** Users known to be members of the shown room (for presence events). */
    knownMembers: new Set(),
  };
  // People first: every other part names users through it (display names).
  ctx.people = createPeople(ctx);
  const nameOf = (user) => ctx.people.nameOf(user);
  ctx.typing = createTyping({ el, me, socket, currentRoom: () => state.currentRoom, nameOf });
  /** People seen online this session (presence, online lists) and from users:list: whom the quick switcher offers. */
  const seenOnline = new Map();
  const directory = new Map();
  ctx.onlineList = createOnlineList({ el, me, openDm: (username) => ctx.rooms.openDm(username), nameOf });
  ctx.online = ctx.onlineList.users;
  ctx.seenOnline = seenOnline;
  const rooms = ctx.rooms = createRooms(ctx);
  const messages = ctx.messages = createMessages(ctx);
  const composer = ctx.composer = createComposer(ctx);
  ctx.roomSettings = createRoomSettings(ctx);
  ctx.reading = createReading(ctx);
  const newRoom = createNewRoom(ctx);
  el.newRoomMore.addEventListener("click", () => newRoom.open(el.newRoomName.value.trim()));
  el.openPeople.addEventListener("click", () => ctx.people.open("people"));
  el.newMessage.addEventListener("click", () => ctx.people.open("message"));

  // ---------------------------------------------------------------------
  // (Re)connect: rooms, the open room, sync, unsent messages
  // ---------------------------------------------------------------------
  socket.on("connect", async () => {
    const first = state.currentRoom === null;
    composer.pump(); // unsent messages go first; their client_id makes resending safe
    await rooms.refresh();
    if (first) {
      const target = rooms.pickStart();
      if (target !== null) await rooms.openRoom(target);
    } else if (rooms.rooms.has(state.currentRoom)) {
      if (messages.isLoaded(state.currentRoom)) {
        await rooms.joinCurrent();
        await messages.syncAll();
        messages.scheduleRead();
      } else {
        await messages.syncAll();
        await rooms.openRoom(state.currentRoom); // its first page never arrived: load it now
      }
    } else {
      await messages.syncAll();
      const target = rooms.pickStart();
      if (target !== null) await rooms.openRoom(target);
    }
  });

  socket.on("disconnect", () => {
    ctx.typing.disconnected();
    // Whatever was in flight gets no answer now: the next connect sends it
    // again with the same client_id. A close by the server itself (logout
    // elsewhere, maximum age, kick) is retried once by lib/connection.js.
    composer.disconnected();
  });

  // ---------------------------------------------------------------------
  // Server -> client events
  // ---------------------------------------------------------------------
  socket.on("message", (message) => {
    if (!message || typeof message.room !== "number") return;
    const roomId = message.room;
    messages.apply(message, "live");
    messages.noteLiveRev(roomId, message.rev);
    if (message.author) ctx.typing.set(roomId, message.author, false);
    const mine = message.author && message.author.id === me.id;
    const visible = document.visibilityState !== "hidden";
    if (roomId === state.currentRoom && messages.has(roomId) && visible) {
      messages.scheduleRead();
    } else if (!mine && rooms.rooms.has(roomId)) {
      // Unread counts are "last_seq - read mark": a message can only raise it.
      if (messages.isUnread(roomId, message.seq)) rooms.bumpUnread(roomId);
    }
    rooms.noteSeq(roomId, message.seq);
  });

  function onChanged(message) {
    if (!message || typeof message.room !== "number") return;
    messages.apply(message, "live");
    messages.noteLiveRev(message.room, message.rev);
  }
  socket.on("message:edited", onChanged);
  socket.on("message:deleted", onChanged);

  socket.on("room:read", (data) => {
    if (!data || typeof data.room !== "number") return;
    messages.noteRead(data.room, data.seq);
    rooms.setUnread(data.room, data.unread);
  });

  socket.on("room:added", (room) => {
    if (room && typeof room.id === "number") rooms.upsert(room);
  });

  // This user left the room in another tab (or on another device).
  socket.on("room:left", (data) => {
    if (data && typeof data.room === "number") rooms.left(data.room);
  });

  /** Ask the server again who is online here (room:join is idempotent). */
  let onlineRefreshTimer = null;
  function refreshOnlineSoon() {
    window.clearTimeout(onlineRefreshTimer);
    onlineRefreshTimer = window.setTimeout(() => {
      if (socket.connected && state.currentRoom !== null) rooms.joinCurrent();
    }, 400);
  }


  socket.on("presence", (data) => {
    if (!data || !data.user) return;
    const user = data.user;
    if (data.status === "online") seenOnline.set(user.id, user);
    else if (data.status === "offline") seenOnline.delete(user.id);
    if (data.status === "offline") {
      ctx.typing.set(state.currentRoom, user, false);
      if (ctx.online.delete(user.id)) ctx.onlineList.render();
    } else if (data.status === "online") {
      if (ctx.knownMembers.has(user.id)) {
        ctx.online.set(user.id, user);
        ctx.onlineList.render();
      } else {
        refreshOnlineSoon();
      }
    }
  });

  socket.on("member:joined", (data) => {
    if (!data || !data.user) return;
    rooms.memberJoined(data.room, data.user);
    if (data.room !== state.currentRoom) return;
    ctx.knownMembers.add(data.user.id);
    // A public-room join comes from a connected user; an invite may not, so
    // the server has the final word.
    ctx.online.set(data.user.id, data.user);
    ctx.onlineList.render();
    refreshOnlineSoon();
  });

  socket.on("member:left", (data) => {
    if (!data || !data.user) return;
    rooms.memberLeft(data.room, data.user);
    if (data.room !== state.currentRoom) return;
    ctx.knownMembers.delete(data.user.id);
    ctx.typing.set(data.room, data.user, false);
    if (ctx.online.delete(data.user.id)) ctx.onlineList.render();
  });

  socket.on("typing", (data) => {
    if (!data || typeof data.room !== "number") return;
    ctx.typing.set(data.room, data.user, !!data.typing);
  });

  socket.on("system", (data) => {
    if (!data || typeof data.text !== "string") return;
    if (data.room === null || data.room === undefined) banner(data.text, data.ts);
    else messages.addSystemLine(data.room, data.text, data.ts);
  });

  socket.on("error", (data) => {
    if (!data) return;
    const text = data.message || data.code || t("Error");
    toast(data.event ? text + " (" + data.event + ")" : text, "error");
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      messages.scheduleRead();
      if (socket.connected && Date.now() - rooms.lastRefresh > 30000) rooms.refresh();
    }
  });

  // ---------------------------------------------------------------------
  // Keyboard: the quick switcher (Ctrl+K / Cmd+K), Esc
  // ---------------------------------------------------------------------
  /**
   * People one can message: the members of existing DMs, everyone seen online
   * this session (in the online list of any room shown, or by presence), and
   * whoever `users:list` returns where the server has it (asked when the
   * switcher opens; an older server answers bad_request and that is all).
   */
  function people() {
    const out = new Map();
    for (const user of directory.values()) out.set(user.id, user);
    for (const user of seenOnline.values()) out.set(user.id, user);
    for (const user of ctx.online.values()) out.set(user.id, user);
    for (const room of rooms.rooms.values()) {
      if (room.kind === "dm" && Array.isArray(room.members)) for (const user of room.members) out.set(user.id, user);
    }
    // The freshest copy of each (display names: chat/people.js).
    return Array.from(out.values(), (user) => ctx.people.known.get(user.id) || user);
  }

  async function loadDirectory() {
    if (!socket.connected) return;
    const ack = await ctx.call("users:list", {});
    if (!ack.ok || !Array.isArray(ack.users)) return;
    directory.clear();
    for (const user of ack.users) {
      if (!user || typeof user.id !== "number") continue;
      directory.set(user.id, user);
      ctx.people.remember(user);
    }
    switcher.refresh();
  }

  const switcher = createSwitcher({
    entries: () => switcherEntries(rooms.rooms.values(), people(), me),
    openRoom: (roomId) => rooms.openRoom(roomId),
    openDm: (username) => rooms.openDm(username),
    after: () => el.composer.focus({ preventScroll: true }),
    opened: loadDirectory,
  });

  // Esc closes what is open: the switcher (its own handler), a drawer or the
  // nav menu (lib/menu.js), else the message being edited. Seen in the
  // capture phase, before those close, so one Esc closes one thing.
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape" || ev.defaultPrevented || switcher.isOpen) return;
    if (document.querySelector(".is-open, dialog[open]")) return; // a drawer, or a dialog (it closes itself)
    messages.cancelEdit();
  }, true);

  // ---------------------------------------------------------------------
  // Announcements and flashes
  // ---------------------------------------------------------------------
  function closeButton(onClick, className) {
    return h("button", { type: "button", className, "aria-label": t("Dismiss"), onClick }, "×");
  }

  function banner(text, ts) {
    const node = h("div", { className: "banner system-banner", role: "status" },
      h("strong", { className: "banner-label" }, t("Announcement")),
      h("span", { className: "banner-text" }, text),
      ts ? timeElement("banner-time", ts, "short") : h("time", { className: "banner-time" }),
      closeButton(() => node.remove(), "banner-close"));
    el.banners.appendChild(node);
    while (el.banners.children.length > 3) el.banners.firstElementChild.remove();
  }

  for (const flash of document.querySelectorAll(".flash")) {
    flash.appendChild(closeButton(() => {
      const list = flash.parentNode;
      flash.remove();
      if (list && !list.children.length) list.remove();
    }, "flash-close"));
  }

  // ---------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------
  ctx.onlineList.render();
  // What an earlier page left: unsent messages, the room list, the last room
  // and its draft. Shown at once, even with no connection; sent and
  // refreshed when the socket connects.
  composer.restoreOutbox();
  rooms.restore();
  const startRoom = rooms.pickStart();
  if (startRoom !== null) rooms.openRoom(startRoom);
  else messages.render();
  composer.autoGrow();

  // For tests and debugging: read-only view of what the page holds.
  window.switchboard = Object.freeze({
    socket: socket,
    get currentRoom() {
      return state.currentRoom;
    },
    maxRev(roomId) {
      const cache = messages.caches.get(roomId);
      return cache ? cache.maxRev : null;
    },
    syncedRev(roomId) {
      const cache = messages.caches.get(roomId);
      return cache ? cache.syncedRev : null;
    },
    /** The outbox, oldest first: [{clientId, room, text}]. */
    outbox() {
      return Array.from(composer.pending.values(), (p) => ({ clientId: p.clientId, room: p.room, text: p.text }));
    },
  });
}
