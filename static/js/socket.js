/* What every page shares: connecting to its Socket.IO namespace, and toasts.
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
