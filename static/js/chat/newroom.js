/* The "New room" dialog: a name, an optional topic, public or private, and
 * for a private room its first members, picked from the directory
 * (chat/picker.js). `room:create` with `kind` and `members`. The sidebar's
 * quick form still makes a public room in one step; its "More options" opens
 * this dialog with the name typed so far.
 *
 * Part of the chat page (main.js wires it): `ctx` is the page's shared state.
 */
import { t } from "../lib/i18n.js";
import { h, showError, hideError } from "../lib/dom.js";
import { errorText } from "../lib/rpc.js";
import { createDialog, field } from "./dialog.js";
import { createPicker } from "./picker.js";

export function createNewRoom(ctx) {
  const { me, call } = ctx;
  const dialog = createDialog({ id: "new-room-dialog", title: t("New room"), className: "new-room-dialog" });
  const name = h("input", { type: "text", id: "nr-name", className: "sb-input", maxLength: 64, required: true, autocomplete: "off", spellcheck: "false" });
  const topic = h("input", { type: "text", id: "nr-topic", className: "sb-input", maxLength: 250, autocomplete: "off" });
  const radio = (value, text, hint) => h("label", { className: "sb-radio" },
    h("input", { type: "radio", name: "nr-kind", value, id: "nr-kind-" + value, checked: value === "public" ? "checked" : false }),
    h("span", {}, h("strong", {}, text), h("span", { className: "sb-hint" }, hint)));
  const kinds = h("fieldset", { className: "sb-fieldset" },
    h("legend", {}, t("Who can see it")),
    radio("public", t("Public"), t("Anyone on this server can find and join it.")),
    radio("private", t("Private"), t("Only the members you add or invite later.")));
  const picker = createPicker(ctx, {
    id: "nr-members", label: t("Members"),
    exclude: () => new Set([me.id]),
  });
  picker.node.hidden = true;
  const error = h("p", { className: "inline-error", role: "alert", hidden: true });
  const create = h("button", { type: "submit", className: "btn btn-primary", id: "nr-create" }, t("Create room"));
  const cancel = h("button", { type: "button", className: "btn btn-ghost", onClick: () => dialog.close() }, t("Cancel"));
  const form = h("form", { className: "sb-form", id: "new-room-dialog-form", autocomplete: "off", novalidate: true },
    field(t("Name"), name), field(t("Topic (optional)"), topic), kinds, picker.node, error,
    h("div", { className: "sb-actions" }, cancel, create));
  dialog.body.appendChild(form);

  const kind = () => (form.querySelector("input[name=nr-kind]:checked") || {}).value || "public";

  kinds.addEventListener("change", () => {
    picker.node.hidden = kind() !== "private";
    if (!picker.node.hidden) picker.refresh();
  });
  name.addEventListener("input", () => hideError(error));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    hideError(error);
    const roomName = name.value.trim();
    if (!roomName) {
      showError(error, t("Give the room a name."));
      name.focus();
      return;
    }
    const payload = { name: roomName, kind: kind(), topic: topic.value.trim() };
    if (payload.kind === "private") payload.members = picker.chosen().map((u) => u.username);
    create.disabled = true;
    const ack = await call("room:create", payload);
    create.disabled = false;
    if (!ack.ok) {
      showError(error, errorText(ack, t("Could not create the room.")));
      return;
    }
    dialog.close();
    ctx.el.newRoomName.value = ""; // the sidebar's quick form, where the name may have come from
    ctx.rooms.upsert(ack.room);
    ctx.rooms.openRoom(ack.room.id);
  });

  /** Open the dialog, with the name typed in the sidebar if any. */
  function open(initialName = "") {
    form.reset();
    picker.clear();
    picker.node.hidden = true;
    hideError(error);
    name.value = initialName;
    dialog.open(name);
  }

  return { open };
}
