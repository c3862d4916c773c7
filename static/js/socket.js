/* Connecting a page to its Socket.IO namespace, the same way on every page.
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
})();
