/* What every page shares: connecting to its Socket.IO namespace, the
 * connection badge, and toasts.
 *
 * Transports: polling first, then upgrade to WebSocket where the network
 * allows; `?transport=polling` or `?transport=websocket` in the page URL
 * forces one (for locked-down networks and for tests).
 */
(function () {
  "use strict";

  function chosenTransports() {
    const wanted = new URLSearchParams(window.location.search).get("transport");
    if (wanted === "polling") return ["polling"];
    if (wanted === "websocket") return ["websocket"];
    return ["polling", "websocket"];
  }

  window.switchboardConnect = function (namespace) {
    return window.io(namespace, {
      transports: chosenTransports(),
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
  };

  /**
   * The header's connection badge: `data-state` (connected | reconnecting |
   * offline) and `data-transport` on the badge, `data-conn` on <body>, and its
   * text. Follows the socket by itself; returns `set(state, text?)` for pages
   * that know more (a refusal, say).
   */
  window.switchboardBadge = function (socket, badge, options) {
    const opts = options || {};
    const connectedLabel = opts.connectedLabel || "connected";
    const manager = socket.io;
    let everConnected = false;
    let transport = "";

    function set(state, text) {
      document.body.dataset.conn = state;
      if (!badge) return;
      badge.dataset.state = state;
      if (transport) badge.dataset.transport = transport;
      if (text) badge.textContent = "● " + text;
      else if (state === "connected") badge.textContent = "● " + connectedLabel + (transport ? " · " + transport : "");
      else if (state === "reconnecting") badge.textContent = everConnected ? "● reconnecting…" : "● connecting…";
      else badge.textContent = "● offline";
      badge.title = state === "offline" && opts.offlineTitle ? opts.offlineTitle : "";
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
  };

  /** A short message at the corner of the page; text only, never HTML. */
  window.switchboardToast = function (container, text, kind) {
    const node = document.createElement("div");
    node.className = "toast" + (kind ? " toast-" + kind : "");
    node.setAttribute("role", kind === "error" ? "alert" : "status");
    node.textContent = text;
    container.appendChild(node);
    while (container.children.length > 4) container.firstElementChild.remove();
    window.setTimeout(() => {
      node.classList.add("leaving");
      window.setTimeout(() => node.remove(), 400);
    }, 6000);
  };
})();
