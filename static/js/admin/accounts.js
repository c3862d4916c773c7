/* The admin's users table (disable/enable, grant/revoke admin) and invite
 * links (create with uses and days, QR code, revoke), over /admin events
 * `users`, `user:disable`, `user:admin`, `invites`, `invite:create`,
 * `invite:revoke`. Text only, through textContent (lib/dom.js h()). */
import { errorText } from "../lib/rpc.js";
import { $, h } from "../lib/dom.js";
import { t, formatDate } from "../lib/i18n.js";

function when(iso) {
  if (!iso) return t("never");
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "–" : formatDate(d, { dateStyle: "medium", timeStyle: "short" });
}

/** An invite's status ("active", "used", "expired", "revoked") in the page's language. */
function statusText(status) {
  switch (status) {
    case "active": return t("active");
    case "used": return t("used");
    case "expired": return t("expired");
    case "revoked": return t("revoked");
    default: return status;
  }
}

export function startAccounts(rpc, socket, me) {
  const usersStatus = $("users-status");
  const inviteStatus = $("invite-status");

  function button(label, className, onClick, data) {
    return h("button", { type: "button", className: "btn btn-small " + className, dataset: data, onClick }, label);
  }

  async function act(event, payload, done) {
    const reply = await rpc(event, payload);
    usersStatus.textContent = reply.ok ? done(reply.user) : errorText(reply);
    await loadUsers();
  }

  function userRow(u) {
    const self = u.username === me;
    const actions = self ? [] : [
      button(u.disabled ? t("Enable") : t("Disable"), u.disabled ? "" : "btn-danger user-disable", () => {
        if (!u.disabled && !window.confirm(t("Disable {name}? Every session, token and socket of theirs ends now.", { name: u.username }))) return;
        act("user:disable", { username: u.username, disabled: !u.disabled },
          (x) => (x.disabled ? t("{name} is disabled.", { name: x.username }) : t("{name} is enabled.", { name: x.username })));
      }, { username: u.username, action: "disable" }),
      button(u.admin ? t("Revoke admin") : t("Make admin"), "user-admin", () => {
        act("user:admin", { username: u.username, admin: !u.admin },
          (x) => (x.admin ? t("{name} is now an admin.", { name: x.username }) : t("{name} is no longer an admin.", { name: x.username })));
      }, { username: u.username, action: "admin" }),
    ];
    return h("tr", { dataset: { username: u.username } },
      h("td", null, u.username), h("td", null, u.admin ? t("yes") : "–"), h("td", null, u.disabled ? t("yes") : "–"),
      h("td", null, u.connections ? t("online") : when(u.last_seen)), h("td", null, String(u.connections)),
      h("td", null, h("span", { className: "actions" }, actions)));
  }

  async function loadUsers() {
    const reply = await rpc("users", {});
    if (!reply.ok) return;
    $("users-count").textContent = `(${reply.users.length})`;
    $("users-table").tBodies[0].replaceChildren(...reply.users.map(userRow));
  }

  function inviteRow(inv) {
    return h("tr", { dataset: { code: inv.code, status: inv.status } },
      h("td", null, h("a", { href: inv.url, className: "invite-code", rel: "noreferrer" }, inv.code)),
      h("td", null, `${inv.uses}/${inv.max_uses}`), h("td", null, when(inv.expires_at)), h("td", null, statusText(inv.status)),
      h("td", null, inv.status === "active" ? button(t("Revoke"), "btn-danger invite-revoke", async () => {
        const reply = await rpc("invite:revoke", { code: inv.code });
        inviteStatus.textContent = reply.ok ? t("Link revoked.") : errorText(reply);
        await loadInvites();
      }, { code: inv.code }) : ""));
  }

  async function loadInvites() {
    const reply = await rpc("invites", {});
    if (reply.ok) $("invites-table").tBodies[0].replaceChildren(...reply.invites.map(inviteRow));
  }

  $("invite-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const uses = Number.parseInt($("invite-uses").value, 10);
    const days = Number.parseInt($("invite-days").value, 10);
    const reply = await rpc("invite:create", { uses, days });
    if (!reply.ok) {
      inviteStatus.textContent = errorText(reply);
      return;
    }
    inviteStatus.textContent = t("Link created: send it to the person you invite.");
    $("invite-link").value = reply.invite.url;
    $("invite-qr").src = reply.invite.qr_url;
    $("invite-new").hidden = false;
    await loadInvites();
  });

  socket.on("connect", () => { loadUsers(); loadInvites(); });
  setInterval(() => socket.connected && loadUsers(), 10000);
}
