/* The quick switcher: Ctrl+K (Cmd+K on a Mac) opens a dialog with a text box
 * that filters rooms and people (chat/switcher.js decides what matches); the
 * arrow keys move the selection, Enter jumps to the room or opens the DM, a
 * click does the same, Esc closes it and gives focus back.
 *
 * A modal <dialog> (showModal: the page behind is inert, focus stays inside)
 * with the ARIA combobox pattern: the text box keeps focus and names the
 * selected option with aria-activedescendant. Built here, text only (h()).
 *
 * @param o.entries  () => the entries to choose from (switcherEntries(...))
 * @param o.openRoom (roomId) => void
 * @param o.openDm   (username) => void
 * @param o.after    () => void: after a jump (focus the composer)
 * @param o.opened   () => void: the dialog opened (fetch more people, then refresh())
 */
import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { filterEntries, moveSelection } from "./switcher.js";

export function createSwitcher({ entries, openRoom, openDm, after, opened = () => {} }) {
  const input = h("input", {
    type: "text",
    id: "switcher-input",
    className: "switcher-input",
    role: "combobox",
    "aria-expanded": "true",
    "aria-controls": "switcher-list",
    "aria-autocomplete": "list",
    "aria-label": t("Room or person"),
    placeholder: t("Jump to a room or person…"),
    autocomplete: "off",
    spellcheck: "false",
    maxLength: 100,
  });
  const list = h("ul", { id: "switcher-list", className: "switcher-list", role: "listbox", "aria-label": t("Matches") });
  const empty = h("p", { className: "switcher-empty", hidden: true }, t("Nothing matches."));
  const hint = h("p", { className: "switcher-hint" },
    t("↑ ↓ to choose · Enter to open · Esc to close · # rooms only · @ people only"));
  // The box's padding is on an inner element, so that a click on the dialog
  // element itself is a click on the backdrop.
  const dialog = h("dialog", { id: "switcher", className: "switcher", "aria-label": t("Jump to a room or person") },
    h("div", { className: "switcher-body" }, input, list, empty, hint));
  document.body.appendChild(dialog);

  let shown = [];
  let selected = -1;
  let returnFocus = null;

  function render() {
    shown = filterEntries(entries(), input.value);
    selected = shown.length ? 0 : -1;
    list.replaceChildren(...shown.map((entry, i) => h("li", {
      id: "switcher-option-" + i,
      className: "switcher-option",
      role: "option",
      "aria-selected": "false",
      dataset: { key: entry.key, type: entry.type },
      onClick: () => choose(i),
      // Keep focus in the text box when an option is clicked.
      onMousedown: (ev) => ev.preventDefault(),
    },
    h("span", { className: "switcher-sigil", "aria-hidden": "true" }, entry.sigil),
    h("span", { className: "switcher-label" }, entry.label),
    entry.type === "person" ? h("span", { className: "switcher-note" }, t("message")) : null,
    entry.type === "room" && !entry.joined ? h("span", { className: "switcher-note" }, t("join")) : null,
    entry.unread > 0 ? h("span", { className: "switcher-unread" }, String(entry.unread > 99 ? "99+" : entry.unread)) : null)));
    empty.hidden = shown.length > 0;
    select(selected);
  }

  function select(i) {
    selected = i;
    list.querySelectorAll("[aria-selected=true]").forEach((o) => o.setAttribute("aria-selected", "false"));
    const option = i >= 0 ? list.children[i] : null;
    if (option) {
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(i) {
    const entry = shown[i];
    if (!entry) return;
    close(false);
    if (entry.type === "room") openRoom(entry.roomId);
    else openDm(entry.username);
    after();
  }

  function open() {
    if (dialog.open) return;
    returnFocus = document.activeElement;
    input.value = "";
    render();
    dialog.showModal();
    input.focus();
    opened();
  }

  /** The entries changed while open: filter again, keeping the selection if it is still listed. */
  function refresh() {
    if (!dialog.open) return;
    const key = shown[selected] ? shown[selected].key : null;
    render();
    const again = shown.findIndex((e) => e.key === key);
    if (again >= 0) select(again);
  }

  function close(refocus = true) {
    if (!dialog.open) return;
    dialog.close();
    if (refocus && returnFocus && returnFocus.isConnected) returnFocus.focus();
    returnFocus = null;
  }

  input.addEventListener("input", render);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const next = moveSelection(selected, shown.length, ev.key);
      if (next !== null) select(next);
    } else if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      choose(selected);
    }
  });
  // Esc: this dialog only (a drawer open behind it stays open).
  dialog.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      close();
    }
  });
  dialog.addEventListener("cancel", (ev) => {
    ev.preventDefault();
    close();
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  dialog.addEventListener("click", (ev) => {
    if (ev.target === dialog) close();
  });

  document.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey && (ev.key === "k" || ev.key === "K")) {
      ev.preventDefault();
      if (dialog.open) close();
      else open();
    }
  });

  return { open, close, refresh, get isOpen() { return dialog.open; } };
}
