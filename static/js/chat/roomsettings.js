/* A room's settings, from the room header: its name and topic (its creator
 * or an admin may change them: `room:update`), the members of a private room
 * (invite anyone from the directory; the creator or an admin may remove
 * them: `room:remove`), leaving, archiving and unarchiving (`room:archive`).
 *
 * Also what the header and composer show for a room: the topic, and for an
 * archived room a read-only note instead of a composer. And the two events
 * that change a room under the reader: `room:updated` (a new name, topic,
 * archived or not) and `room:removed` (this user was taken out of a private
 * room: it goes from the list, and if it was open the page moves to another
 * room and says why).
 *
 * Part of the chat page (main.js wires it): `ctx` is the page's shared state.
 */
import { t } from "../lib/i18n.js";
import { h, showError, hideError } from "../lib/dom.js";
import { errorText } from "../lib/rpc.js";
import { createDialog, field } from "./dialog.js";
import { createPicker } from "./picker.js";

export function createRoomSettings(ctx) {
  const { el, me, socket, call, toast, state } = ctx;
  const dialog = createDialog({ id: "room-settings", title: t("Room settings"), className: "room-settings-dialog" });
  /** The room the dialog shows, while it is open. */
  let shownRoom = null;
  /** The archived room last shown (its section was opened for it). */
  let archivedShown = null;

  const canManage = (room) => !!room && room.kind !== "dm" && (me.isAdmin || room.created_by === me.id);
  const label = (room) => ctx.rooms.roomLabel(room.id, room.name);

  // -- the header and the composer for the shown room --------------------------------
  /** Called by rooms.renderHeader for the shown room. */
  function renderRoom(room) {
    el.roomTopic.textContent = room.topic || "";
    el.roomTopic.hidden = !room.topic;
    el.roomTopic.title = room.topic || "";
    el.roomSettingsButton.hidden = room.kind === "dm";
    const archived = !!room.archived;
    el.app.dataset.archived = archived ? "true" : "false";
    el.composer.disabled = archived;
    el.send.disabled = archived;
    el.archivedNote.hidden = !archived;
    // The shown archived room is in view in the list (once: the reader may close the section).
    if (archived && archivedShown !== room.id) el.archivedSection.open = true;
    archivedShown = archived ? room.id : null;
    el.archivedNote.textContent = archived
      ? (canManage(room) ? t("This room is archived: it is read-only. Unarchive it in the room settings to write here again.") : t("This room is archived: it is read-only."))
      : "";
    if (shownRoom === room.id && dialog.isOpen) renderDialog();
  }

  // -- the dialog ---------------------------------------------------------------------
  /*
   * The dialog follows the room live (renames, archive, members joining or
   * leaving, new display names), but what the reader is typing stays: each
   * part keeps its elements and is redrawn only when what it shows changed,
   * and the name/topic form not at all once edited (until it is saved).
   */
  let view = null; // {roomId, aboutBox, membersBox, actionsBox, about, members}

  function section(title, ...children) {
    return h("section", { className: "sb-section" }, h("h3", { className: "sb-section-title" }, title), children);
  }

  function aboutSection(room) {
    if (!canManage(room) || room.archived) {
      return section(t("About"),
        h("p", { className: "sb-readonly", id: "rs-name-text" }, label(room)),
        room.topic ? h("p", { className: "sb-readonly rs-topic-text" }, room.topic) : h("p", { className: "sb-hint" }, t("No topic.")),
        !canManage(room) ? h("p", { className: "sb-hint" }, t("Only the room's creator or an admin can change these.")) : null);
    }
    const name = h("input", { type: "text", id: "rs-name", className: "sb-input", maxLength: 64, value: room.name, autocomplete: "off", spellcheck: "false" });
    const topic = h("input", { type: "text", id: "rs-topic", className: "sb-input", maxLength: 250, value: room.topic || "", autocomplete: "off" });
    const error = h("p", { className: "inline-error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", className: "btn btn-primary btn-small", id: "rs-save" }, t("Save"));
    const form = h("form", { className: "sb-form", id: "rs-about", novalidate: true },
      field(t("Name"), name), field(t("Topic"), topic), error, h("div", { className: "sb-actions" }, save));
    form.addEventListener("input", () => {
      if (view && view.about) view.about.dirty = true;
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      hideError(error);
      const current = ctx.rooms.rooms.get(room.id) || room;
      const payload = { room: room.id };
      if (name.value.trim() !== current.name) payload.name = name.value.trim();
      if (topic.value.trim() !== (current.topic || "")) payload.topic = topic.value.trim();
      if (!("name" in payload) && !("topic" in payload)) return;
      save.disabled = true;
      const ack = await call("room:update", payload);
      save.disabled = false;
      if (!ack.ok) return showError(error, errorText(ack, t("Could not save.")));
      if (view && view.about) view.about.dirty = false;
      ctx.rooms.upsert(ack.room);
      toast(t("Saved."));
    });
    return section(t("About"), form);
  }

  function memberItems(room) {
    const members = Array.isArray(room.members) ? room.members.slice() : [];
    members.sort((a, b) => ctx.people.nameOf(a).localeCompare(ctx.people.nameOf(b)));
    const manage = canManage(room);
    return members.map((user) => h("li", { className: "member", dataset: { username: user.username, userId: String(user.id) } },
      ctx.people.avatar(user, "avatar-small"),
      ctx.people.nameBlock(user),
      user.id === room.created_by ? h("span", { className: "member-tag" }, t("creator")) : null,
      user.id === me.id ? h("span", { className: "member-tag" }, t("you")) : null,
      manage && user.id !== me.id && !room.archived
        ? h("button", {
          type: "button", className: "btn btn-small btn-ghost member-remove",
          "aria-label": t("Remove {name}", { name: ctx.people.nameOf(user) }),
          onClick: () => removeMember(room, user),
        }, t("Remove"))
        : null));
  }

  /** The invite part of a private room's members: a picker, kept while the dialog is open. */
  function inviteBlock(roomId) {
    const picker = createPicker(ctx, {
      id: "rs-invite", label: t("Invite people"),
      exclude: () => new Set((ctx.rooms.rooms.get(roomId)?.members || []).map((u) => u.id)),
    });
    const error = h("p", { className: "inline-error", role: "alert", hidden: true });
    const send = h("button", { type: "button", className: "btn btn-primary btn-small", id: "rs-invite-send" }, t("Invite"));
    send.addEventListener("click", async () => {
      hideError(error);
      const chosen = picker.chosen();
      if (!chosen.length) return showError(error, t("Pick someone to invite first."));
      send.disabled = true;
      const failed = [];
      for (const user of chosen) {
        const ack = await call("room:invite", { room: roomId, username: user.username });
        if (ack.ok) ctx.rooms.memberJoined(roomId, user);
        else failed.push(ctx.people.nameOf(user) + ": " + errorText(ack, t("could not invite")));
      }
      send.disabled = false;
      picker.clear();
      if (failed.length) showError(error, failed.join(" · "));
      renderDialog();
    });
    return { node: h("div", { className: "sb-form" }, picker.node, error, h("div", { className: "sb-actions" }, send)), picker };
  }

  function renderMembers(room) {
    if (room.kind !== "private") {
      view.membersBox.replaceChildren();
      view.members = null;
      return;
    }
    if (!view.members) {
      const title = h("h3", { className: "sb-section-title" });
      const list = h("ul", { className: "member-list", id: "rs-members", "aria-label": "Members" });
      const inviteBox = h("div");
      view.members = { title, list, inviteBox, invite: null };
      view.membersBox.replaceChildren(h("section", { className: "sb-section" }, title, list, inviteBox));
    }
    const m = view.members;
    m.title.textContent = t("Members ({count})", { count: Array.isArray(room.members) ? room.members.length : 0 });
    m.list.replaceChildren(...memberItems(room));
    if (room.archived && m.invite) {
      m.inviteBox.replaceChildren();
      m.invite = null;
    } else if (!room.archived && !m.invite) {
      m.invite = inviteBlock(room.id);
      m.inviteBox.replaceChildren(m.invite.node);
    }
  }

  function actionsSection(room) {    const buttons = [];
    if (canManage(room)) {
      buttons.push(h("button", {
        type: "button", className: "btn btn-small", id: "rs-archive",
        onClick: () => setArchived(room, !room.archived),
      }, room.archived ? t("Unarchive") : t("Archive")));
    }
    if (room.kind !== "dm" && room.joined !== false) {
      buttons.push(h("button", { type: "button", className: "btn btn-small btn-danger", id: "rs-leave", onClick: () => leave(room) }, t("Leave room")));
    }
    if (!buttons.length) return null;
    return section(t("Room"),
      room.archived ? h("p", { className: "sb-hint" }, t("Archived: read-only, listed under Archived.")) : h("p", { className: "sb-hint" },
        room.kind === "private" ? t("Leaving a private room: you need an invite to come back.") : t("Archiving makes the room read-only for everyone.")),
      h("div", { className: "sb-actions sb-actions-start" }, buttons));
  }

  function renderDialog() {
    const room = ctx.rooms.rooms.get(shownRoom);
    if (!room) {
      dialog.close();
      return;
    }
    dialog.setTitle(t("Settings · {room}", { room: label(room) }));
    if (!view || view.roomId !== room.id) {
      const part = () => h("div", { className: "sb-part" });
      view = { roomId: room.id, aboutBox: part(), membersBox: part(), actionsBox: part(), about: null, members: null };
      dialog.body.replaceChildren(view.aboutBox, view.membersBox, view.actionsBox);
    }
    // About: redrawn when who may edit changed, or the name/topic changed and nothing is typed.
    const mode = String(canManage(room)) + String(!!room.archived);
    const content = room.name + "\n" + (room.topic || "");
    const a = view.about;
    if (!a || a.mode !== mode || (a.content !== content && !a.dirty)) {
      view.aboutBox.replaceChildren(aboutSection(room));
      view.about = { mode, content, dirty: false };
    }
    renderMembers(room);
    // The buttons: redrawn, focus kept on the same one.
    const focusId = view.actionsBox.contains(document.activeElement) ? document.activeElement.id : null;
    const actions = actionsSection(room);
    view.actionsBox.replaceChildren(...(actions ? [actions] : []));
    if (focusId) {
      const again = document.getElementById(focusId);
      if (again) again.focus();
    }
  }

  function open(roomId = state.currentRoom) {
    if (!ctx.rooms.rooms.has(roomId)) return;
    shownRoom = roomId;
    view = null; // a fresh dialog: the room as it is now
    renderDialog();
    dialog.open();
  }

  async function removeMember(room, user) {
    if (!window.confirm(t("Remove {name} from {room}?", { name: ctx.people.nameOf(user), room: label(room) }))) return;
    const ack = await call("room:remove", { room: room.id, username: user.username });
    if (!ack.ok) return toast(errorText(ack, t("Could not remove them.")), "error");
    ctx.rooms.memberLeft(room.id, user);
    renderDialog();
  }

  async function setArchived(room, archived) {
    const ack = await call("room:archive", { room: room.id, archived });
    if (!ack.ok) return toast(errorText(ack, t("Could not change the room.")), "error");
    ctx.rooms.upsert(ack.room);
    renderDialog();
  }

  /** Show another room than `roomId` (it was left or taken away). */
  function goElsewhere(roomId) {
    if (state.currentRoom !== roomId) return;
    let next = null;
    for (const room of ctx.rooms.rooms.values()) {
      if (room.id === roomId || room.archived || room.joined === false) continue;
      if (room.kind === "public" && room.name === "general") {
        next = room.id;
        break;
      }
      if (next === null) next = room.id;
    }
    if (next !== null) ctx.rooms.openRoom(next);
  }

  async function leave(room) {
    if (!window.confirm(t("Leave {room}?", { room: label(room) }))) return;
    const ack = await call("room:leave", { room: room.id });
    if (!ack.ok) return toast(errorText(ack, t("Could not leave the room.")), "error");
    dialog.close();
    goElsewhere(room.id);
    ctx.rooms.left(room.id);
    toast(t("You left {room}.", { room: label(room) }));
  }

  // -- events -------------------------------------------------------------------------
  socket.on("room:updated", (room) => {
    if (!room || typeof room.id !== "number") return;
    const known = ctx.rooms.rooms.get(room.id);
    // A private room one is not in says nothing here (the server sends it to members only).
    if (!known && room.kind !== "public") return;
    const wasArchived = !!(known && known.archived);
    ctx.rooms.upsert(room);
    if (state.currentRoom === room.id && wasArchived !== !!room.archived) {
      toast(room.archived ? t("{room} was archived: it is read-only now.", { room: label(room) }) : t("{room} is no longer archived.", { room: label(room) }));
    }
  });

  socket.on("room:removed", (data) => {
    if (!data || typeof data.room !== "number") return;
    const room = ctx.rooms.rooms.get(data.room);
    const name = room ? label(room) : t("a room");
    const wasOpen = state.currentRoom === data.room;
    if (shownRoom === data.room) dialog.close();
    ctx.rooms.left(data.room);
    toast(wasOpen ? t("You were removed from {room}; it is no longer shown.", { room: name }) : t("You were removed from {room}.", { room: name }), wasOpen ? "error" : undefined);
  });

  // Member changes of the room whose settings are open: after main.js updated the list.
  const later = () => window.setTimeout(() => { if (dialog.isOpen) renderDialog(); }, 0);
  socket.on("member:joined", later);
  socket.on("member:left", (data) => {
    later();
    // The members who stay see who removed whom (names as text).
    if (data && data.removed && data.user && typeof data.room === "number") {
      const name = ctx.people.nameOf(data.user);
      ctx.messages.addSystemLine(data.room, data.by
        ? t("{name} was removed by {by}.", { name, by: ctx.people.nameOf(data.by) })
        : t("{name} was removed.", { name }));
    }
  });
  ctx.people.onChange(later);

  el.roomSettingsButton.addEventListener("click", () => open());

  return { open, renderRoom, goElsewhere };
}
