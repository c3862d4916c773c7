/* A modal dialog for the chat page's forms (new room, room settings,
 * people): a native <dialog> opened with showModal(), so the page behind is
 * inert, focus stays inside and Esc closes it (the browser does that, and
 * gives focus back to where it was). Built with h(): text only.
 *
 * createDialog({id, title}) -> {dialog, body, heading, open(), close(), isOpen}
 * `body` is where the caller puts its content; `onClose` runs after closing.
 */
import { t } from "../lib/i18n.js";
import { h } from "../lib/dom.js";

export function createDialog({ id, title, className = "", onClose = () => {} }) {
  const headingId = id + "-title";
  const heading = h("h2", { className: "sb-dialog-title", id: headingId }, title);
  const closeButton = h("button", { type: "button", className: "sb-dialog-close", "aria-label": t("Close") }, "×");
  const body = h("div", { className: "sb-dialog-body" });
  // The padding is on an inner element: a click on the <dialog> itself is a
  // click on the backdrop, and closes it.
  const dialog = h("dialog", { id, className: "sb-dialog " + className, "aria-labelledby": headingId },
    h("div", { className: "sb-dialog-inner" },
      h("div", { className: "sb-dialog-header" }, heading, closeButton),
      body));
  document.body.appendChild(dialog);

  let returnFocus = null;

  function open(focus) {
    if (!dialog.open) {
      returnFocus = document.activeElement;
      dialog.showModal();
    }
    const target = focus || body.querySelector("input:not([disabled]), textarea, button:not([disabled])");
    if (target) target.focus();
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  closeButton.addEventListener("click", close);
  // Esc closes this dialog (the browser's own cancel) and nothing else: not
  // the drawer under it, not an edit in progress (page-wide Esc handlers).
  dialog.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") ev.stopPropagation();
  });
  dialog.addEventListener("click", (ev) => {
    if (ev.target === dialog) close();
  });
  dialog.addEventListener("close", () => {
    onClose();
    if (returnFocus && returnFocus.isConnected && typeof returnFocus.focus === "function") {
      returnFocus.focus({ preventScroll: true });
    }
    returnFocus = null;
  });

  return {
    dialog, body, heading, open, close,
    get isOpen() { return dialog.open; },
    setTitle(text) { heading.textContent = text; },
  };
}

/** A form row: <label> and the control, with an optional hint below. */
export function field(labelText, control, hint) {
  if (!control.id) throw new Error("field(): the control needs an id");
  return h("div", { className: "sb-field" },
    h("label", { for: control.id }, labelText),
    control,
    hint ? h("p", { className: "sb-hint" }, hint) : null);
}
