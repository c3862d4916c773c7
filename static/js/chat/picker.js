/* A people picker: a search box over the directory (users:list, by part of
 * a username or display name), the matches as a list to add from, and the
 * people chosen as removable chips. Used by the new-room dialog (the first
 * members of a private room) and the room settings (invite). Text only.
 *
 * createPicker(ctx, {id, label, exclude}) -> {node, chosen(), clear(), focus()}
 *   exclude: () => Set of user ids not to offer (members already, yourself)
 */
import { t } from "../lib/i18n.js";
import { h } from "../lib/dom.js";
import { errorText, isLost } from "../lib/rpc.js";

const SEARCH_DELAY_MS = 200;

export function createPicker(ctx, { id, label, exclude = () => new Set() }) {
  const chosen = new Map(); // user id -> User
  const input = h("input", {
    type: "search", id: id + "-q", className: "sb-input picker-q", maxLength: 64,
    placeholder: t("Search by name"), autocomplete: "off", spellcheck: "false",
    "aria-controls": id + "-results",
  });
  const results = h("ul", { id: id + "-results", className: "picker-results", "aria-label": t("Matches") });
  const chips = h("ul", { className: "picker-chosen", "aria-label": t("Chosen") });
  const status = h("p", { className: "sb-hint picker-status", role: "status" });
  const node = h("div", { className: "picker", id },
    h("label", { for: input.id, className: "sb-label" }, label),
    input, chips, results, status);

  let timer = null;
  let asked = 0;

  function renderChips() {
    chips.replaceChildren(...Array.from(chosen.values(), (user) => h("li", {
      className: "picker-chip", dataset: { username: user.username },
    },
    h("span", { className: "picker-chip-name" }, ctx.people.nameOf(user)),
    h("button", {
      type: "button", className: "picker-chip-remove", "aria-label": t("Remove {name}", { name: ctx.people.nameOf(user) }),
      onClick: () => {
        chosen.delete(user.id);
        renderChips();
        search();
      },
    }, "×"))));
    chips.hidden = chosen.size === 0;
  }

  async function search() {
    const mine = ++asked;
    const q = input.value.trim();
    const ack = await ctx.call("users:list", { q });
    if (mine !== asked) return;
    if (!ack.ok) {
      status.textContent = isLost(ack) ? t("No connection.") : errorText(ack, t("Could not search."));
      results.replaceChildren();
      return;
    }
    const skip = exclude();
    const users = (ack.users || []).filter((u) => !skip.has(u.id) && !chosen.has(u.id));
    for (const user of ack.users || []) ctx.people.remember(user);
    results.replaceChildren(...users.map((user) => h("li", { className: "picker-result", dataset: { username: user.username } },
      ctx.people.avatar(user, "avatar-small"),
      ctx.people.nameBlock(user),
      ctx.people.dot(user.online),
      h("button", {
        type: "button", className: "btn btn-small picker-add", "aria-label": t("Add {name}", { name: ctx.people.nameOf(user) }),
        onClick: () => {
          chosen.set(user.id, user);
          renderChips();
          search();
          input.focus();
        },
      }, t("Add")))));
    status.textContent = users.length ? (ack.has_more ? t("More match: type more of the name.") : "") : (q ? t("Nobody matches.") : t("Nobody else to add."));
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, SEARCH_DELAY_MS);
  });
  input.addEventListener("keydown", (ev) => {
    // Enter in the search box adds the only match rather than submitting the form.
    if (ev.key === "Enter") {
      ev.preventDefault();
      const only = results.querySelectorAll(".picker-add");
      if (only.length === 1) only[0].click();
    }
  });
  renderChips();

  return {
    node,
    chosen: () => Array.from(chosen.values()),
    clear() {
      chosen.clear();
      input.value = "";
      results.replaceChildren();
      status.textContent = "";
      renderChips();
    },
    refresh: search,
    focus: () => input.focus(),
  };
}
