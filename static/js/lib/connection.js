/* The one Socket.IO connection of a page, and everything around it:
 *
 * - the socket, from the vendored ESM build (static/vendor/, no CDN);
 *   transports: polling first, then the upgrade to WebSocket; `?transport=polling`
 *   or `?transport=websocket` in the page URL forces one (locked-down networks, tests);
 * - the header's badge: `data-state` (connected | reconnecting | offline) and
 *   `data-transport` on #conn-badge, `data-conn` on <body>, and its text;
 * - refusals (connect_error with data.code, docs/protocol.md section 2):
 *   `unauthorized` goes to /login; any other is retried after backoff.js's
 *   delay (the server's retry_after when given), because socket.io-client
 *   does not retry a refusal by itself;
 * - a kick: `forbidden` with reason "kicked" shows "An administrator
 *   disconnected you; retrying at HH:MM:SS" (#kicked-notice, and the badge)
 *   and tries again when the block ends (kicked.js);
 * - a socket the server closed on purpose (logout elsewhere, maximum age,
 *   kick) is tried once more: a valid session comes back, an ended one gets
 *   `unauthorized` and goes to /login;
 * - logout hang-up: the header's logout form disconnects first, then posts.
 *   The server's logout cuts every socket of the session; a page still
 *   polling at that moment gets "400 Session is disconnected" answers
 *   (console errors, and a reconnect attempt) before the next page loads.
 */
import { io } from "../../vendor/socket.io.esm.min.js";
import { retryDelay, SERVER_CLOSE_MS } from "./backoff.js";
import { isKicked, kickedRetry } from "./kicked.js";
import { t } from "./i18n.js";

export function chosenTransports(search = window.location.search) {
  const wanted = new URLSearchParams(search).get("transport");
  if (wanted === "polling") return ["polling"];
  if (wanted === "websocket") return ["websocket"];
  return ["polling", "websocket"];
}

/**
 * @param {string} namespace  "/chat", "/market", "/admin"
 * @param {object} [o]
 * @param {HTMLElement} [o.badge]      the #conn-badge element
 * @param {string} [o.connectedLabel]  badge text when connected (default: "connected", translated)
 * @param {string} [o.offlineTitle]    badge tooltip when offline
 * @param {string} [o.loginNext]       where /login sends back to (default: this path)
 * @param {(text: string, kind?: string) => void} [o.notify]  shows a refusal's message (a toast)
 * @param {(data: object, badge) => boolean} [o.onRefused]  page-specific refusals;
 *        returns true when it handled one and no retry must be scheduled
 * @param {() => void} [o.beforeLogout]  wipe the user's stored data, say
 * @param {HTMLFormElement} [o.logoutForm] default: #logout-form
 * @returns {{socket, badge: {set(state, text?)}, hangUp(): Promise<void>}}
 */
export function connect(namespace, o = {}) {
  const socket = io(namespace, {
    transports: chosenTransports(),
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  const badge = connectionBadge(socket, o.badge, o);
  let retryTimer = null;
  let refusals = 0; // in a row, for the doubling

  function retryIn(ms) {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(() => {
      if (!socket.connected) socket.connect();
    }, ms);
  }

  socket.on("connect", () => {
    refusals = 0;
    window.clearTimeout(retryTimer);
    kickedNotice(null);
  });

  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") retryIn(SERVER_CLOSE_MS + Math.floor(Math.random() * 500));
  });

  socket.on("connect_error", (err) => {
    const data = (err && err.data) || {};
    if (data.code === "unauthorized") {
      window.location.assign("/login?next=" + (o.loginNext || window.location.pathname));
      return;
    }
    if (isKicked(data)) {
      const retry = kickedRetry(data.retry_after);
      kickedNotice(retry.text);
      badge.set("offline", t("disconnected by an administrator"));
      retryIn(retry.ms);
      return;
    }
    if (o.onRefused && data.code && o.onRefused(data, badge)) return;
    if (data.message && o.notify) o.notify(data.message, "error");
    // A network error leaves the socket active (the manager retries by
    // itself); a refusal does not.
    if (!socket.active) retryIn(retryDelay({ code: data.code, retryAfter: data.retry_after, attempt: refusals++ }));
  });

  window.addEventListener("online", () => {
    if (!socket.connected) socket.connect();
  });

  const hangUp = () => hangUpSocket(socket);
  const form = o.logoutForm || document.getElementById("logout-form");
  if (form) {
    let leaving = false;
    form.addEventListener("submit", (ev) => {
      if (leaving) return;
      ev.preventDefault();
      leaving = true;
      window.clearTimeout(retryTimer);
      if (o.beforeLogout) {
        try { o.beforeLogout(); } catch (_) { /* logging out matters more */ }
      }
      hangUp().then(() => form.submit()); // form.submit(): no second submit event
    });
  }

  return { socket, badge, hangUp };
}

/** Show (text) or remove (null) the page's "an administrator disconnected you" line. */
function kickedNotice(text) {
  let node = document.getElementById("kicked-notice");
  if (!text) {
    if (node) node.remove();
    return;
  }
  if (!node) {
    node = document.createElement("p");
    node.id = "kicked-notice";
    node.className = "kicked-notice";
    node.setAttribute("role", "alert");
    document.body.insertBefore(node, document.body.children[1] || null);
  }
  node.textContent = text;
}

/**
 * Disconnect cleanly. Polling sends its close packet in a POST: wait for it
 * ("drain"), at most 800 ms; a WebSocket close frame goes out at once.
 */
export function hangUpSocket(socket) {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        resolve();
      }
    };
    const engine = socket.io && socket.io.engine;
    const transport = engine && engine.transport;
    const polling = !!(transport && transport.name === "polling" && socket.connected);
    if (polling) transport.once("drain", finish);
    socket.disconnect();
    window.setTimeout(finish, polling ? 800 : 0);
  });
}

/**
 * The badge follows the socket by itself; `set(state, text?)` is for pages
 * that know more (a refusal, say).
 */
export function connectionBadge(socket, node, opts = {}) {
  const connectedLabel = opts.connectedLabel || t("connected");
  const manager = socket.io;
  let everConnected = false;
  let transport = "";

  function set(state, text) {
    document.body.dataset.conn = state;
    if (!node) return;
    node.dataset.state = state;
    if (transport) node.dataset.transport = transport;
    if (text) node.textContent = "● " + text;
    else if (state === "connected") node.textContent = "● " + connectedLabel + (transport ? " · " + transport : "");
    else if (state === "reconnecting") node.textContent = "● " + (everConnected ? t("reconnecting…") : t("connecting…"));
    else node.textContent = "● " + t("offline");
    node.title = state === "offline" && opts.offlineTitle ? opts.offlineTitle : "";
  }
  const lost = () => set(navigator.onLine === false ? "offline" : "reconnecting");
  function refreshTransport() {
    const engine = manager.engine;
    if (engine && engine.transport && engine.transport.name) transport = engine.transport.name;
    if (socket.connected) set("connected");
  }

  manager.on("open", () => { if (manager.engine) manager.engine.on("upgrade", refreshTransport); });
  manager.on("reconnect_attempt", lost);
  manager.on("reconnect", refreshTransport);
  socket.on("connect", () => { everConnected = true; refreshTransport(); });
  socket.on("disconnect", lost);
  socket.on("connect_error", lost);
  window.addEventListener("offline", () => set("offline"));
  window.addEventListener("online", () => (socket.connected ? set("connected") : lost()));
  lost();
  return { set };
}
