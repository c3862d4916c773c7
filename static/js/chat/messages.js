/* The messages of the shown room: the per-room cache, history paging, sync
 * after (re)connects and gaps (chat/sync.js), rendering, edit and delete,
 * scrolling, read marks.
 *
 * Consistency model: messages are keyed by id and ordered by seq; applying
 * the same message twice replaces it (a higher or equal rev wins). The rev up
 * to which every change was seen is tracked per room (docs/protocol.md
 * section 19), so every (re)connect, and any gap in live revs, asks `sync`
 * for what was missed.
 *
 * Part of the chat page (main.js wires it): `ctx` is the page's shared state
 * and the other parts (ctx.rooms, ctx.composer), looked up when called.
 */
import { errorText, isLost } from "../lib/rpc.js";
import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { advance, noteRev, hasGap, applyById, syncRooms as syncAndApply } from "./sync.js";
import { formatTime, avatarClass, initial, continues, systemSortKey } from "./format.js";

const PAGE_SIZE = 50;
const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 120;
const GAP_WAIT_MS = 600;

/** A <time> for `iso`: `which` of formatTime's texts shown, the full one as its title. */
export function timeElement(className, iso, which) {
  const texts = formatTime(iso);
  return h("time", { className, dateTime: iso || "", title: texts.full }, texts[which]);
}

/**
 * The frame every message is drawn in, stored or pending: avatar gutter,
 * header (author, then `headerExtra` nodes), text. Returns the <article> and
 * its parts so callers add their own bits.
 */
export function messageFrame({ author, text, gutterExtra = null, headerExtra = [], avatar = null }) {
  const header = h("div", { className: "message-header" }, h("span", { className: "message-author" }, author), headerExtra);
  const textNode = h("div", { className: "message-text" }, text);
  const body = h("div", { className: "message-body" }, header, textNode);
  const gutter = h("div", { className: "message-gutter" },
    avatar || h("div", { className: "avatar " + avatarClass(author), "aria-hidden": "true" }, initial(author)),
    gutterExtra);
  const node = h("article", { className: "message" }, gutter, body);
  return { node, body, header, text: textNode };
}

export function createMessages(ctx) {
  const { el, me, socket, call, toast, state } = ctx;
  /**
   * Room id -> cache of a room whose messages were loaded: {messages:
   * Map<id, Message>, maxRev, syncedRev, seenRevs, hasMore, loaded,
   * loadingOlder, systemLines: [{text, ts, after}], ...}
   */
  const caches = new Map();
  /** Message id -> element, for the room shown. */
  const messageEls = new Map();
  /** Room id -> highest seq we told the server we read. */
  const readSent = new Map();
  let readTimer = null;

  // -- the cache and history ------------------------------------------------
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

  /** room:join answered with the room's rev: the first page loaded next covers it. */
  function noteJoinRev(roomId, rev) {
    const cache = caches.get(roomId);
    if ((!cache || !cache.loaded) && typeof rev === "number") ensureCache(roomId).joinRev = rev;
  }

  function forget(roomId) {
    caches.delete(roomId);
  }

  function dropCache(roomId) {
    caches.delete(roomId);
    if (roomId === state.currentRoom) el.list.replaceChildren();
  }

  function absorbHistory(roomId, ack, initial) {
    const cache = ensureCache(roomId);
    cache.hasMore = !!ack.has_more;
    if (initial) {
      cache.loaded = true;
      // History was read after room:join answered, so it reflects every
      // change up to the room's rev at join time; later ones come live.
      cache.syncedRev = Math.max(cache.syncedRev, cache.joinRev || 0);
      cache.maxRev = Math.max(cache.maxRev, cache.syncedRev);
    }
    for (const message of ack.messages || []) apply(message, "history");
    if (initial) {
      advance(cache);
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

  /** The room was just joined (rooms.openRoom): load its first page, or sync what is cached. */
  async function load(roomId, token) {
    let cache = caches.get(roomId);
    if (!cache || !cache.loaded) {
      cache = ensureCache(roomId);
      el.scroller.dataset.state = "loading";
      setHistoryStatus(t("Loading…"));
      const ack = await call("history", { room: roomId, limit: PAGE_SIZE });
      if (token !== state.openToken) {
        if (ack.ok) absorbHistory(roomId, ack, true);
        return;
      }
      if (!ack.ok) {
        setHistoryStatus("");
        if (!isLost(ack)) toast(errorText(ack, t("Could not load the messages.")), "error");
        return;
      }
      absorbHistory(roomId, ack, true);
      render();
      scrollToBottom();
      ctx.reading.opened(roomId); // up to the "New" line if it is out of view
      await fillViewport(roomId, token);
    } else {
      render();
      scrollToBottom();
      ctx.reading.opened(roomId);
      await syncRooms([roomId]);
    }
    if (token !== state.openToken) return;
    el.scroller.dataset.state = "ready";
    scheduleRead();
  }

  /** Is the first page of this room loaded (else a reconnect must load it, not sync it)? */
  function isLoaded(roomId) {
    const cache = caches.get(roomId);
    return !!(cache && cache.loaded);
  }

  async function loadOlder() {
    const roomId = state.currentRoom;
    const cache = caches.get(roomId);
    if (!cache || !cache.loaded || !cache.hasMore || cache.loadingOlder || !socket.connected) return;
    const before = minSeq(cache);
    if (!Number.isFinite(before)) return;
    cache.loadingOlder = true;
    setHistoryStatus(t("Loading older messages…"));
    const ack = await call("history", { room: roomId, before_seq: before, limit: PAGE_SIZE });
    cache.loadingOlder = false;
    if (!ack.ok) {
      updateHistoryStatus();
      if (!isLost(ack)) toast(errorText(ack, t("Could not load older messages.")), "error");
      return;
    }
    if (roomId !== state.currentRoom) {
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
      if (token !== state.openToken || !cache || !cache.hasMore) return;
      if (el.scroller.scrollHeight > el.scroller.clientHeight + NEAR_TOP_PX) return;
      await loadOlder();
    }
  }

  function setHistoryStatus(text) {
    el.historyStatus.textContent = text;
  }

  function updateHistoryStatus() {
    const cache = caches.get(state.currentRoom);
    if (!cache || !cache.loaded) {
      return setHistoryStatus(socket.connected ? t("Loading…") : t("Waiting for the connection to load messages…"));
    }
    if (cache.hasMore) return setHistoryStatus(t("Scroll up for older messages"));
    const room = ctx.rooms.rooms.get(state.currentRoom);
    if (!room) return setHistoryStatus("");
    setHistoryStatus(room.kind === "dm" ? t("This is the beginning of your conversation.")
      : t("This is the beginning of {room}.", { room: "#" + ctx.rooms.displayName(room) }));
  }

  // -- sync (chat/sync.js) --------------------------------------------------
  /** `sync` every room whose messages are loaded (on every (re)connect). */
  function syncAll() {
    const ids = [];
    for (const [id, cache] of caches) if (cache.loaded) ids.push(id);
    return syncRooms(ids);
  }

  /** Sync the given rooms from their syncedRev, page by page, until has_more is false. */
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
      outcome = await syncAndApply(call, states, (message) => apply(message, "sync"));
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

  /** If revs are still missing after a short wait (they may just be late), sync. */
  function checkGap(roomId) {
    const cache = caches.get(roomId);
    if (!cache || !cache.loaded || !hasGap(cache) || cache.gapTimer || cache.syncing) return;
    cache.gapTimer = window.setTimeout(() => {
      cache.gapTimer = null;
      if (caches.get(roomId) !== cache || !hasGap(cache) || cache.syncing) return;
      if (socket.connected) syncRooms([roomId]);
    }, GAP_WAIT_MS);
  }

  // -- applying and rendering -----------------------------------------------
  /**
   * Apply a Message from any source (history, live event, sync, ack).
   * Idempotent: the same id replaces the earlier copy unless that one is newer.
   */
  function apply(message, source) {
    if (!message || typeof message.id !== "number") return;
    const roomId = message.room;
    ctx.composer.resolvePendingFor(message);
    const cache = caches.get(roomId);
    if (!cache) return;
    if (typeof message.rev === "number" && message.rev > cache.maxRev) cache.maxRev = message.rev;
    // A change to a message older than the loaded window is skipped: when the
    // reader scrolls up, history returns its current state anyway.
    if (source !== "history" && cache.loaded && cache.hasMore && message.seq < minSeq(cache)) return;
    if (!applyById(cache.messages, message)) return; // an older rev than what we have
    if (roomId === state.currentRoom) renderOne(message);
  }

  /** Draw the shown room from scratch: its messages, system lines and pending messages. */
  function render() {
    messageEls.clear();
    el.list.replaceChildren();
    el.pendingList.replaceChildren();
    el.jump.hidden = true;
    const cache = caches.get(state.currentRoom);
    if (cache) {
      const items = [];
      for (const m of cache.messages.values()) items.push({ sort: m.seq, m });
      cache.systemLines.forEach((line, i) => items.push({ sort: systemSortKey(line.after, i), line }));
      items.sort((a, b) => a.sort - b.sort);
      const frag = document.createDocumentFragment();
      let prev = null;
      for (const item of items) {
        let node;
        if (item.m) {
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
    ctx.reading.decorate(); // day separators, the "New" line (chat/reading.js)
    ctx.composer.renderPending();
    updateHistoryStatus();
    el.scroller.dataset.state = cache && cache.loaded ? "ready" : "loading";
  }

  /** Insert `node` (sort key `sort`) into the list in order; most go at the end, so walk back from there. */
  function insertSorted(node, sort) {
    let before = null;
    let cursor = el.list.lastElementChild;
    while (cursor && Number(cursor.dataset.sort) > sort) {
      before = cursor;
      cursor = cursor.previousElementSibling;
    }
    el.list.insertBefore(node, before);
  }

  /** Insert or replace one message element of the shown room, in seq order. */
  function renderOne(message) {
    const atBottom = isNearBottom();
    const node = buildMessage(message);
    const old = messageEls.get(message.id);
    if (old) old.replaceWith(node);
    else insertSorted(node, message.seq);
    messageEls.set(message.id, node);
    setGrouping(node, node.previousElementSibling);
    if (node.nextElementSibling) setGrouping(node.nextElementSibling, node);
    ctx.reading.decorateSoon();
    if (!old) {
      if (atBottom || (message.author && message.author.id === me.id)) scrollToBottom();
      else if (isAfterView(node)) el.jump.hidden = false;
    }
  }

  function buildMessage(m) {
    // The display name (chat/people.js: the freshest copy), text only.
    const author = m.author ? ctx.people.nameOf(m.author) : t("unknown");
    const mine = !!(m.author && m.author.id === me.id);
    const frame = messageFrame({
      author,
      avatar: m.author ? ctx.people.avatar(m.author) : null,
      text: m.deleted ? t("message deleted") : m.text,
      gutterExtra: timeElement("message-hovertime", m.ts, "time"),
      headerExtra: [timeElement("message-time", m.ts, "short")],
    });
    const node = frame.node;
    if (m.author && m.author.username) frame.header.firstElementChild.title = "@" + m.author.username;
    Object.assign(node.dataset, {
      id: String(m.id),
      seq: String(m.seq),
      rev: String(m.rev),
      sort: String(m.seq),
      authorId: String(m.author ? m.author.id : ""),
      ts: m.ts || "",
    });
    if (m.client_id) node.dataset.clientId = m.client_id;
    node.classList.toggle("mine", mine);
    node.classList.toggle("deleted", !!m.deleted);
    node.classList.toggle("edited", !!(m.edited_ts && !m.deleted));
    if (m.deleted) frame.text.classList.add("message-deleted");
    if (m.edited_ts && !m.deleted) {
      // Beside the text, not inside it: .message-text holds exactly m.text.
      frame.body.appendChild(h("span", { className: "message-edited", title: t("Edited {time}", { time: formatTime(m.edited_ts).full }) }, t("(edited)")));
    }
    const canEdit = mine && !m.deleted;
    const canDelete = !m.deleted && (mine || me.isAdmin);
    if (canEdit || canDelete) {
      node.appendChild(h("div", { className: "message-actions" },
        canEdit && h("button", { type: "button", className: "message-action message-edit", onClick: () => startEdit(node, m) }, t("Edit")),
        canDelete && h("button", { type: "button", className: "message-action message-delete", onClick: () => deleteMessage(m) }, t("Delete"))));
    }
    return node;
  }

  function groupingData(node) {
    return { authorId: node.dataset.authorId, ts: node.dataset.ts, deleted: node.classList.contains("deleted") };
  }

  /** Consecutive messages of one author within a few minutes share a header. */
  function setGrouping(node, prev) {
    if (!node || !node.classList.contains("message") || node.classList.contains("pending")) return;
    const prevIsMessage = prev && prev.classList.contains("message") && !prev.classList.contains("system-line");
    node.classList.toggle("continued", !!prevIsMessage && continues(groupingData(prev), groupingData(node)));
  }

  function buildSystemLine(line, sort) {
    return h("div", { className: "system-line", dataset: { sort: String(sort) } },
      h("span", { className: "system-text" }, line.text),
      timeElement("message-time", line.ts, "short"));
  }

  /** A `system` event for a room: kept in its cache (after the last message), shown if it is the shown room. */
  function addSystemLine(roomId, text, ts) {
    const cache = caches.get(roomId);
    if (!cache) return;
    const line = { text, ts: ts || new Date().toISOString(), after: maxSeq(cache) };
    cache.systemLines.push(line);
    if (roomId !== state.currentRoom) return;
    const atBottom = isNearBottom();
    const sort = systemSortKey(line.after, cache.systemLines.length - 1);
    const node = buildSystemLine(line, sort);
    insertSorted(node, sort);
    if (node.nextElementSibling) setGrouping(node.nextElementSibling, node);
    if (atBottom) scrollToBottom();
  }

  // -- edit and delete ------------------------------------------------------
  /** The message being edited: {close} (Esc anywhere cancels it). */
  let editing = null;

  function startEdit(node, m) {
    if (node.querySelector(".message-editor")) return;
    const text = node.querySelector(".message-text");
    const area = h("textarea", { "aria-label": t("Edit message"), rows: Math.min(8, Math.max(1, m.text.split("\n").length)) });
    area.value = m.text;
    const save = h("button", { type: "submit", className: "btn btn-small btn-primary" }, t("Save"));
    const err = h("p", { className: "inline-error", role: "alert", hidden: true });
    const close = () => {
      editor.remove();
      text.hidden = false;
      if (editing && editing.node === node) editing = null;
    };
    const cancel = h("button", { type: "button", className: "btn btn-small btn-ghost", onClick: close }, t("Cancel"));
    const editor = h("form", { className: "message-editor" }, area, save, cancel, err);
    text.hidden = true;
    text.after(editor);
    editing = { node, close };
    area.focus();
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
      apply(ack.message, "ack");
    });
  }

  async function deleteMessage(m) {
    if (!window.confirm(t("Delete this message?"))) return;
    const ack = await call("message:delete", { id: m.id });
    if (!ack.ok) toast(errorText(ack, t("Could not delete the message.")), "error");
  }

  // -- scrolling ------------------------------------------------------------
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

  // -- read marks -----------------------------------------------------------
  function scheduleRead() {
    window.clearTimeout(readTimer);
    readTimer = window.setTimeout(sendRead, 150);
  }

  async function sendRead() {
    const roomId = state.currentRoom;
    const cache = caches.get(roomId);
    if (!cache || !cache.loaded || !socket.connected) return;
    if (document.visibilityState === "hidden") return;
    const seq = maxSeq(cache);
    const room = ctx.rooms.rooms.get(roomId);
    const already = readSent.get(roomId) || 0;
    if (seq <= already && !(room && room.unread > 0)) return;
    readSent.set(roomId, Math.max(seq, already));
    const ack = await call("read", { room: roomId, seq: seq });
    if (ack.ok && typeof ack.unread === "number") ctx.rooms.setUnread(roomId, ack.unread);
  }

  /** Another tab or device read up to `seq`. */
  function noteRead(roomId, seq) {
    if (typeof seq === "number") readSent.set(roomId, Math.max(readSent.get(roomId) || 0, seq));
  }

  /** A live message in a room: is it above what this user has read? */
  function isUnread(roomId, seq) {
    return seq > (readSent.get(roomId) || 0);
  }

  /** Is this room's cache there (its messages are being shown or loaded)? */
  function has(roomId) {
    return caches.has(roomId);
  }

  return {
    caches,
    has,
    isLoaded,
    noteJoinRev,
    forget,
    load,
    syncAll,
    noteLiveRev,
    apply,
    render,
    addSystemLine,
    scrollToBottom,
    scheduleRead,
    noteRead,
    isUnread,
    /** Esc: cancel the edit in progress; false when there was none. */
    cancelEdit() {
      if (!editing || !editing.node.isConnected) return false;
      editing.close();
      return true;
    },
  };
}
