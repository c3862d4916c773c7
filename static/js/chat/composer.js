/* The composer: sending through the outbox, pending messages, per-room
 * drafts, the growing text box, the typing note.
 *
 * Nothing typed is lost. Every message goes through the outbox (the queue
 * and the sending loop are chat/outbox.js): shown as pending, saved in
 * localStorage with its client_id, sent one at a time in the order typed (so
 * they get their seq in that order), and removed only when the server
 * answers with the stored message, `duplicate: true` included (a retry of
 * something already stored), or refuses it for good (bad_request,
 * too_large, forbidden, not_found: the text goes back into that room's
 * composer). With no answer within SEND_TIMEOUT_MS the same client_id goes
 * again; after a disconnect, on the next connect; after a reload, saved
 * entries come back as pending and are sent once the socket connects. The
 * server stores a (user, client_id) once, so none of these retries can
 * double a message. Each room's unsent draft is saved too.
 *
 * Part of the chat page (main.js wires it): `ctx` is the page's shared state
 * and the other parts (ctx.rooms, ctx.messages), looked up when called.
 */
import { h, showError, hideError } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { restore, withEntry, withoutEntry, Queue, createSender, SEND_TIMEOUT_MS } from "./outbox.js";
import { newClientId } from "./format.js";
import { messageFrame } from "./messages.js";

export const OUTBOX_KEY = "outbox";
export const DRAFTS_KEY = "drafts";

export function createComposer(ctx) {
  const { el, me, store, socket, call, toast, state } = ctx;
  /**
   * The outbox: client_id -> {clientId, room, roomName, text, raw, ts, attempt, el},
   * in the order typed, until acknowledged (mirrored in localStorage).
   */
  const queue = new Queue(); // chat/outbox.js: one in flight, holds
  const pending = queue.entries;

  // -- pending messages -----------------------------------------------------
  function buildPending(p) {
    const headerExtra = [];
    if (p.room !== state.currentRoom) {
      headerExtra.push(h("span", { className: "message-time pending-room" }, t("to {room}", { room: ctx.rooms.roomLabel(p.room, p.roomName) })));
    }
    headerExtra.push(h("span", { className: "message-time pending-status" }, socket.connected ? t("sending…") : t("waiting for connection…")));
    const self = { id: me.id, username: me.username };
    const { node } = messageFrame({ author: ctx.people.nameOf(self), avatar: ctx.people.avatar(self), text: p.text, headerExtra });
    node.classList.add("pending", "mine");
    Object.assign(node.dataset, { clientId: p.clientId, room: String(p.room), sort: "Infinity" });
    return node;
  }

  /** Show the pending messages of the shown room (before any room is shown: all of them). */
  function renderPending() {
    for (const p of pending.values()) {
      if (p.room === state.currentRoom || state.currentRoom === null) {
        p.el = buildPending(p);
        el.pendingList.appendChild(p.el);
      } else {
        p.el = null;
      }
    }
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
    if (p.room === state.currentRoom) {
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
      toast(t("Not sent to {room}: {reason} (“{snippet}” is back in that room's composer)",
        { room: ctx.rooms.roomLabel(p.room, p.roomName), reason, snippet }), "error");
    }
  }

  /** The connection dropped: what was in flight goes again (same client_id) on the next connect. */
  function disconnected() {
    queue.lost();
    for (const p of pending.values()) setPendingStatus(p, t("waiting for connection…"));
  }

  // -- the outbox in localStorage (merged by client_id: tabs do not overwrite each other)
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
    publicRoom: (roomId) => ctx.rooms.isPublic(roomId),
    stored: (p, message) => {
      settlePending(p);
      ctx.messages.apply(message, "ack");
    },
    failed: (p, reason) => failPending(p, reason),
    status: (p, text) => setPendingStatus(p, text),
  });

  function sendMessage() {
    const raw = el.composer.value;
    const text = raw.trim();
    if (!text || state.currentRoom === null) return;
    hideError(el.composerError);
    const room = ctx.rooms.rooms.get(state.currentRoom);
    const p = {
      clientId: newClientId(),
      room: state.currentRoom,
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
    ctx.messages.scrollToBottom();
    el.composer.value = "";
    saveDraft();
    autoGrow();
    ctx.typing.stop();
    sender.pump();
  }

  // -- drafts: the composer's unsent text, per room, survives a reload ------
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
    if (el.composer.value.trim()) ctx.typing.note();
    else ctx.typing.stop();
  });
  el.composer.addEventListener("blur", () => ctx.typing.stop());

  return {
    queue,
    pending,
    pump: () => sender.pump(),
    renderPending,
    resolvePendingFor,
    disconnected,
    restoreOutbox,
    switchDraft,
    pruneDrafts,
    autoGrow,
  };
}
