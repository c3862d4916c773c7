/* Reading aids of the message list: a day separator before the first
 * message of each day (the browser's time zone), a "New" line where the read
 * mark was when the room was opened (it stays while the room is shown), and
 * Arrow-Up in an empty composer to edit one's last message.
 *
 * Where the markers go is decided by chat/days.js (no DOM, node-tested);
 * this module draws them into #message-list after messages.js rendered it
 * (messages.js calls decorate() / decorateSoon()). Markers carry a data-sort
 * just below the message they precede, so messages.js's ordered inserts
 * step over them.
 *
 * Part of the chat page (main.js wires it): `ctx` is the page's shared state.
 */
import { t } from "../lib/i18n.js";
import { h } from "../lib/dom.js";
import { markers, readMarkOf } from "./days.js";

const NEAR_BOTTOM_PX = 120;

export function createReading(ctx) {
  const { el, state } = ctx;
  /** The read mark of the shown room as it was when the room was opened. */
  let mark = { room: null, seq: null, fixed: false, shown: false };
  let queued = false;

  function markSeq() {
    const roomId = state.currentRoom;
    if (mark.room !== roomId) mark = { room: roomId, seq: null, fixed: false, shown: false };
    // Fixed once the room's first page is there: from then on reading it
    // moves the server's mark, not this line.
    if (!mark.fixed && ctx.messages.isLoaded(roomId)) {
      mark.seq = readMarkOf(ctx.rooms.rooms.get(roomId));
      mark.fixed = true;
    }
    return mark.fixed ? mark.seq : null;
  }

  /** Redraw the markers of the shown room's list. */
  function decorate() {
    const list = el.list;
    for (const node of list.querySelectorAll(".day-separator, .new-line")) node.remove();
    const nodes = Array.from(list.querySelectorAll(".message[data-seq]"));
    const items = nodes.map((node) => ({ seq: Number(node.dataset.seq), ts: node.dataset.ts }));
    for (const m of markers(items, markSeq())) {
      const before = nodes[m.before];
      const seq = Number(before.dataset.seq);
      const node = m.type === "day"
        ? h("div", { className: "day-separator", role: "separator", dataset: { sort: String(seq - 0.2), day: m.key } },
          h("span", { className: "day-label" }, m.label === "Today" ? t("Today") : m.label === "Yesterday" ? t("Yesterday") : m.label))
        : h("div", { className: "new-line", role: "separator", "aria-label": t("New messages"), dataset: { sort: String(seq - 0.1) } },
          h("span", { className: "new-label" }, t("New")));
      before.before(node);
      before.classList.remove("continued"); // a marker starts a new header
    }
  }

  /**
   * messages.js opened a room and scrolled to its latest message: when the
   * first unread one is above the view, start from the "New" line instead
   * (once per opening).
   */
  function opened(roomId) {
    markSeq();
    if (mark.room !== roomId || mark.shown) return;
    const line = el.list.querySelector(".new-line");
    if (!line) return;
    mark.shown = true;
    const s = el.scroller;
    const above = line.getBoundingClientRect().top - s.getBoundingClientRect().top;
    if (above < 0) {
      s.scrollTop += above - 8;
      el.jump.hidden = false; // newer messages below
    }
  }

  /** decorate() once after a burst of inserts (live messages, a page of history). */
  function decorateSoon() {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      const s = el.scroller;
      const atBottom = s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
      decorate();
      if (atBottom) s.scrollTop = s.scrollHeight;
    });
  }

  // -- Arrow-Up in an empty composer: edit your last message ----------------------
  el.composer.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowUp" || ev.shiftKey || ev.altKey || ev.ctrlKey || ev.metaKey || ev.isComposing) return;
    if (el.composer.value !== "" || el.composer.disabled) return;
    const mine = el.list.querySelectorAll(".message.mine:not(.deleted):not(.pending)");
    const last = mine[mine.length - 1];
    const edit = last && last.querySelector(".message-edit");
    if (!edit) return;
    ev.preventDefault();
    edit.click();
    last.scrollIntoView({ block: "nearest" });
    // When the editor closes (saved or cancelled), back to the composer.
    const watcher = new MutationObserver(() => {
      if (el.list.querySelector(".message-editor")) return;
      watcher.disconnect();
      const active = document.activeElement;
      if (!active || active === document.body || !active.isConnected) el.composer.focus({ preventScroll: true });
    });
    watcher.observe(el.list, { childList: true, subtree: true });
    const stopWatching = () => watcher.disconnect();
    document.addEventListener("switchboard:room-opened", stopWatching, { once: true });
  });

  return { decorate, decorateSoon, opened };
}
