/* The account page: the avatar (profile.js), and personal access tokens through /api/tokens (session
 * cookie + X-CSRFToken). A new token's secret is shown once, in a read-only
 * field with a Copy button; the table lists name, created, last used and
 * expiry, with Revoke. Text only, through textContent (lib/dom.js h()). */
import { api, csrfToken } from "../lib/api.js";
import { $, h, showError, hideError } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { createBody, rowCells, isExpired } from "./tokens.js";
import { startAvatar } from "./profile.js";

const root = $("account");
if (root) start();

function start() {
  const csrf = csrfToken();
  startAvatar(csrf);
  const table = $("tokens-table");
  const errorBox = $("token-error");

  function render(tokens) {
    table.tBodies[0].replaceChildren(...tokens.map((token) => {
      const cells = rowCells(token);
      return h("tr", { dataset: { tokenId: token.id } },
        cells.map((text, i) => h("td", { className: i === 3 && isExpired(token) ? "expired" : null }, text)),
        h("td", null, h("button", {
          type: "button", className: "btn btn-small btn-danger token-revoke",
          dataset: { tokenId: token.id }, "aria-label": t("Revoke {name}", { name: token.name }),
          onClick: () => revoke(token),
        }, t("Revoke"))));
    }));
    table.hidden = tokens.length === 0;
    $("tokens-empty").hidden = tokens.length !== 0;
  }

  async function load() {
    const reply = await api("/api/tokens", { csrf });
    if (reply.ok) render(reply.data.tokens);
    else showError(errorBox, reply.error.message);
  }

  async function revoke(token) {
    if (!window.confirm(t("Revoke “{name}”? Scripts using it stop working at once.", { name: token.name }))) return;
    const reply = await api(`/api/tokens/${token.id}`, { method: "DELETE", csrf });
    if (!reply.ok) showError(errorBox, reply.error.message);
    else hideError(errorBox);
    await load();
  }

  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    hideError(errorBox);
    const body = createBody($("token-name").value, $("token-expiry").value);
    if (!body.name) {
      showError(errorBox, t("Give the token a name."));
      return;
    }
    const button = $("token-create");
    button.disabled = true;
    const reply = await api("/api/tokens", { method: "POST", body, csrf });
    button.disabled = false;
    if (!reply.ok) {
      showError(errorBox, reply.error.message);
      return;
    }
    $("token-name").value = "";
    $("token-secret-value").value = reply.data.token;
    $("token-copy-status").textContent = "";
    $("token-secret").hidden = false;
    $("token-secret-value").select();
    await load();
  });

  $("token-copy").addEventListener("click", async () => {
    const field = $("token-secret-value");
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch (_) {
      field.select();
      try { copied = document.execCommand("copy"); } catch (_) { copied = false; }
    }
    $("token-copy-status").textContent = copied ? t("Copied.") : t("Select the text and copy it.");
  });

  load();
}
