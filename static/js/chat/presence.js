/* Who is here: the typing indicator (sent throttled, shown with expiry) and
 * the list of people online in the shown room. Text only (textContent). */
import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

const TYPING_SEND_EVERY_MS = 3000;
const TYPING_EXPIRE_MS = 5000;

/**
 * @param o.el      {typing: element}
 * @param o.me      {id}
 * @param o.socket  the page's socket (typing goes out as a volatile emit: no ack)
 * @param o.currentRoom () => id of the shown room, or null
 */
export function createTyping({ el, me, socket, currentRoom, nameOf = (u) => u.username }) {
  /** Room id -> Map(user id -> {user, timer}) of people typing. */
  const typingBy = new Map();
  let sentAt = 0;
  let active = false;
  let room = null;

  function note() {
    const current = currentRoom();
    if (current === null || !socket.connected) return;
    const now = Date.now();
    if (active && room === current && now - sentAt < TYPING_SEND_EVERY_MS) return;
    active = true;
    room = current;
    sentAt = now;
    socket.volatile.emit("typing", { room: current, typing: true });
  }

  function stop() {
    if (!active) return;
    active = false;
    sentAt = 0;
    if (socket.connected && room !== null) socket.volatile.emit("typing", { room, typing: false });
  }

  function set(roomId, user, isTyping) {
    if (!user || user.id === me.id) return;
    let people = typingBy.get(roomId);
    if (!people) {
      people = new Map();
      typingBy.set(roomId, people);
    }
    const prev = people.get(user.id);
    if (prev) window.clearTimeout(prev.timer);
    if (isTyping) {
      const timer = window.setTimeout(() => {
        people.delete(user.id);
        if (roomId === currentRoom()) render();
      }, TYPING_EXPIRE_MS);
      people.set(user.id, { user, timer });
    } else {
      people.delete(user.id);
    }
    if (roomId === currentRoom()) render();
  }

  /** The connection dropped: nobody is known to be typing, and neither are we. */
  function disconnected() {
    for (const people of typingBy.values()) for (const p of people.values()) window.clearTimeout(p.timer);
    typingBy.clear();
    render();
    active = false;
  }

  function render() {
    const people = typingBy.get(currentRoom());
    const names = people ? Array.from(people.values(), (p) => nameOf(p.user)) : [];
    let text = "";
    if (names.length === 1) text = t("{name} is typing…", { name: names[0] });
    else if (names.length === 2) text = t("{first} and {second} are typing…", { first: names[0], second: names[1] });
    else if (names.length > 2) text = t("{count} people are typing…", { count: names.length });
    el.typing.textContent = text;
    el.typing.classList.toggle("active", names.length > 0);
  }

  return { note, stop, set, disconnected, render };
}

/**
 * @param o.el     {online: <ul>, onlineCount}
 * @param o.me     {id}
 * @param o.openDm (username) => void
 * @param o.nameOf (user) => the name shown (the display name; the username by default)
 */
export function createOnlineList({ el, me, openDm, nameOf = (u) => u.username }) {
  /** Users online in the shown room: id -> User. */
  const users = new Map();

  function render() {
    const sorted = Array.from(users.values()).sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
    el.online.replaceChildren(...sorted.map((user) => {
      const mine = user.id === me.id;
      return h("li", {
        className: "online-user" + (mine ? "" : " clickable"),
        dataset: { userId: String(user.id), username: user.username },
        tabIndex: mine ? undefined : 0,
        title: mine ? undefined : t("Direct message {name}", { name: nameOf(user) + " (@" + user.username + ")" }),
        onClick: mine ? undefined : () => openDm(user.username),
        onKeydown: mine ? undefined : (ev) => { if (ev.key === "Enter") openDm(user.username); },
      },
      h("span", { className: "presence-dot", "aria-hidden": "true" }),
      h("span", { className: "online-name" }, mine ? t("{name} (you)", { name: nameOf(user) }) : nameOf(user)));
    }));
    el.onlineCount.textContent = sorted.length ? String(sorted.length) : "";
  }

  return { users, render };
}
