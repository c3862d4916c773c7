/* The account page's avatar: the picture goes to POST /api/avatar (the
 * multipart field "file", with the session cookie and X-CSRFToken, like the
 * other /api calls of a page) and the new one is shown at once from the
 * answer's avatar_url (a new ?v= per picture, so no cached old one).
 * Display name and status are a plain form (POST /account/profile): it works
 * without this script. Text only, through textContent. */
import { $, showError, hideError } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

/** What to show for an upload's answer: {ok, user} or {ok: false, message}. */
export async function uploadAvatar(file, csrf, doFetch = globalThis.fetch) {
  const body = new FormData();
  body.append("file", file);
  let response;
  try {
    response = await doFetch("/api/avatar", {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    });
  } catch (_) {
    return { ok: false, message: t("The server could not be reached.") };
  }
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (response.ok && data && data.user) return { ok: true, user: data.user };
  const message = data && data.error && typeof data.error.message === "string" ? data.error.message : null;
  return { ok: false, message: message || t("The server answered {status}.", { status: response.status }) };
}

export function startAvatar(csrf) {
  const form = $("avatar-form");
  if (!form) return;
  const errorBox = $("avatar-error");
  const status = $("avatar-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    hideError(errorBox);
    const file = $("avatar-file").files[0];
    if (!file) {
      showError(errorBox, t("Choose a picture first."));
      return;
    }
    const button = $("avatar-upload");
    button.disabled = true;
    status.textContent = t("Uploading…");
    const reply = await uploadAvatar(file, csrf);
    button.disabled = false;
    if (!reply.ok) {
      status.textContent = "";
      showError(errorBox, reply.message);
      return;
    }
    const img = $("profile-avatar");
    img.src = reply.user.avatar_url;
    img.hidden = false;
    status.textContent = t("Avatar updated.");
    form.reset();
  });
}
