/* People on the chat page: the names and pictures shown for users, kept
 * fresh by `user:updated`, and the People dialog (the directory, with who is
 * online, and "Message" to open a DM with anyone, online or not).
 *
 * Display names are text chosen by users: they reach the DOM through
 * textContent only (lib/dom.js h()), never as HTML. Avatars are <img> of a
 * path on this site (the server serves them to logged-in users only); a user
 * without one keeps the coloured initial.
 *
 * Part of the chat page (main.js wires it): `ctx` is the page's shared state.
 */
import { t } from "../lib/i18n.js";
import { h } from "../lib/dom.js";
import { errorText, isLost } from "../lib/rpc.js";
import { avatarClass, initial } from "./format.js";
import { nameOf as nameFrom, secondaryOf, remember as rememberIn, comparePeople, safeAvatarUrl } from "./names.js";
import { createDialog } from "./dialog.js";

const SEARCH_DELAY_MS = 200;

export function createPeople(ctx) {
  const { me, socket, call } = ctx;
  /** User id -> the freshest User seen (users:list, members, messages, user:updated). */
  const known = new Map();
  /** Called after a user's name or picture changed (room settings re-render). */
  const listeners = new Set();

  const nameOf = (user) => nameFrom(user, known);
  remember({ id: me.id, username: me.username, display_name: me.displayName || me.username });

  function remember(user) {
    return rememberIn(known, user);
  }

  /** An avatar URL is used only when it is a path on this site. */
  function avatarUrl(user) {
    const u = user && typeof user.id === "number" ? known.get(user.id) || user : user;
    return safeAvatarUrl(u && u.avatar_url);
  }

  /** The picture of a user: their avatar, else the coloured initial of their shown name. */
  function avatar(user, extraClass = "") {
    const url = avatarUrl(user);
    const cls = "avatar" + (extraClass ? " " + extraClass : "");
    if (url) return h("img", { className: cls + " avatar-img", src: url, alt: "", "aria-hidden": "true", loading: "lazy" });
    const key = (user && user.username) || "?";
    return h("div", { className: cls + " " + avatarClass(key), "aria-hidden": "true" }, initial(nameOf(user)));
  }

  /** The name, then the username when it differs ("Robert · @bob"). */
  function nameBlock(user) {
    const second = secondaryOf(user, known);
    const fresh = known.get(user.id) || user;
    return h("span", { className: "person-names" },
      h("span", { className: "person-name" }, nameOf(user)),
      second ? h("span", { className: "person-username" }, second) : null,
      fresh.status ? h("span", { className: "person-status" }, fresh.status) : null);
  }

  function dot(online) {
    return h("span", {
      className: "presence-dot" + (online ? "" : " offline"),
      role: "img",
      "aria-label": online ? t("online") : t("offline"),
      title: online ? t("online") : t("offline"),
    });
  }

  // -- user:updated: the new name and picture everywhere they are shown ----------
  function updated(user) {
    if (!user || typeof user.id !== "number") return;
    if (user.id === me.id && typeof user.display_name === "string") {
      me.displayName = user.display_name;
      // The top bar (base.html) names the user too: its first text node.
      const top = document.getElementById("current-user");
      if (top && top.firstChild && top.firstChild.nodeType === Node.TEXT_NODE) top.firstChild.textContent = nameFrom(user) + " ";
    }
    if (!remember(user)) return;
    const rooms = ctx.rooms;
    for (const room of rooms.rooms.values()) {
      if (!Array.isArray(room.members)) continue;
      const i = room.members.findIndex((u) => u.id === user.id);
      if (i === -1) continue;
      room.members[i] = Object.assign({}, room.members[i], user);
      rooms.upsert(room); // the DM's name in the list, the header
    }
    if (ctx.online.has(user.id)) {
      ctx.online.set(user.id, Object.assign({}, ctx.online.get(user.id), user));
      ctx.onlineList.render();
    }
    ctx.typing.render();
    for (const node of ctx.el.list.querySelectorAll(".message[data-author-id='" + user.id + "']")) {
      const name = node.querySelector(".message-author");
      if (name) name.textContent = nameOf(user);
      const old = node.querySelector(".message-gutter .avatar");
      if (old) old.replaceWith(avatar(user));
    }
    for (const fn of listeners) fn(user);
  }

  socket.on("user:updated", updated);

  // -- the People dialog ------------------------------------------------------------
  const search = h("input", {
    type: "search", id: "people-q", className: "sb-input", maxLength: 64,
    placeholder: t("Search by name"), autocomplete: "off", spellcheck: "false",
    "aria-label": t("Search people"), "aria-controls": "people-list",
  });
  const list = h("ul", { id: "people-list", className: "people-list", "aria-label": t("People") });
  const status = h("p", { className: "sb-hint", role: "status" });
  const dialog = createDialog({ id: "people-dialog", title: t("People"), className: "people-dialog" });
  dialog.body.append(search, status, list);

  let timer = null;
  let asked = 0;

  async function load() {
    const mine = ++asked;
    const ack = await call("users:list", { q: search.value.trim() });
    if (mine !== asked) return;
    if (!ack.ok) {
      status.textContent = isLost(ack) ? t("No connection: the directory loads when it is back.") : errorText(ack, t("Could not load the directory."));
      return;
    }
    const users = (ack.users || []).filter((u) => u && typeof u.id === "number");
    for (const user of users) remember(user);
    // Online first, then by name.
    users.sort((a, b) => (Number(!!b.online) - Number(!!a.online)) || comparePeople(a, b, known));
    list.replaceChildren(...users.map(personItem));
    const online = users.filter((u) => u.online).length;
    const counts = { count: users.length, online };
    status.textContent = users.length
      ? (ack.has_more ? t("{count} people, {online} online (type more of a name to see others)", counts) : t("{count} people, {online} online", counts))
      : t("Nobody matches.");
  }

  function personItem(user) {
    const mine = user.id === me.id;
    return h("li", { className: "person", dataset: { userId: String(user.id), username: user.username, online: user.online ? "true" : "false" } },
      avatar(user, "avatar-small"),
      nameBlock(user),
      dot(user.online),
      h("button", {
        type: "button", className: "btn btn-small person-message",
        "aria-label": (mine ? t("Notes to yourself") : t("Message {name}", { name: nameOf(user) })),
        onClick: async () => {
          dialog.close();
          await ctx.rooms.openDm(user.username);
        },
      }, mine ? t("Notes") : t("Message")));
  }

  search.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, SEARCH_DELAY_MS);
  });

  /** Open the directory; "message" mode is the same list titled "New message". */
  function open(mode = "people") {
    dialog.setTitle(mode === "message" ? t("New message") : t("People"));
    search.value = "";
    list.replaceChildren();
    status.textContent = t("Loading…");
    dialog.open(search);
    load();
  }

  return {
    known, nameOf, remember, avatar, nameBlock, dot, updated, open,
    onChange: (fn) => listeners.add(fn),
    get dialogOpen() { return dialog.isOpen; },
  };
}
