// The operator console: live figures pushed every 2 s on /admin, charts of the
// last 10 minutes (uPlot, served locally), the connection table, kick, announce.
// Every user-supplied string is written with textContent, never as HTML.
(function () {
  "use strict";

  const HISTORY_SECONDS = 600;
  const socket = window.switchboardConnect("/admin");
  const $ = (id) => document.getElementById(id);

  // -- connection badge (static/js/socket.js) -----------------------------------
  const badge = window.switchboardBadge(socket, $("conn-badge"));
  socket.on("connect", () => refresh());
  socket.on("connect_error", (err) => {
    const code = err && err.data && err.data.code;
    if (code === "unauthorized") window.location = "/login?next=/admin";
    else if (code === "forbidden") badge.set("offline", "admins only");
  });

  // -- charts -------------------------------------------------------------------
  const series = { t: [], total: [], websocket: [], polling: [], eps: [] };

  function makeChart(el, lines) {
    const opts = {
      width: el.clientWidth || 500, height: 180,
      scales: { x: { time: true } },
      series: [{}, ...lines.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
      axes: [{}, { size: 50 }],
      legend: { show: true },
    };
    return new uPlot(opts, [[], ...lines.map(() => [])], el);
  }
  const connChart = makeChart($("chart-connections"), [
    ["total", "#4f46e5"], ["websocket", "#16a34a"], ["polling", "#d97706"],
  ]);
  const eventsChart = makeChart($("chart-events"), [["events/s", "#4f46e5"]]);
  window.addEventListener("resize", () => {
    connChart.setSize({ width: $("chart-connections").clientWidth, height: 180 });
    eventsChart.setSize({ width: $("chart-events").clientWidth, height: 180 });
  });

  function record(stats) {
    const now = Date.now() / 1000;
    series.t.push(now);
    series.total.push(stats.connections.total);
    series.websocket.push(stats.connections.by_transport.websocket);
    series.polling.push(stats.connections.by_transport.polling);
    series.eps.push(stats.events_per_sec);
    while (series.t.length && series.t[0] < now - HISTORY_SECONDS) {
      for (const key of Object.keys(series)) series[key].shift();
    }
    connChart.setData([series.t, series.total, series.websocket, series.polling]);
    eventsChart.setData([series.t, series.eps]);
  }

  // -- figures --------------------------------------------------------------------
  function fillTable(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows.map((cells) => {
      const tr = document.createElement("tr");
      for (const cell of cells) {
        const td = document.createElement("td");
        if (cell instanceof Node) td.append(cell); else td.textContent = String(cell);
        tr.append(td);
      }
      return tr;
    }));
  }

  function showStats(stats) {
    $("stat-total").textContent = stats.connections.total;
    $("stat-websocket").textContent = stats.connections.by_transport.websocket;
    $("stat-polling").textContent = stats.connections.by_transport.polling;
    $("stat-users").textContent = stats.users_online;
    $("stat-eps").textContent = stats.events_per_sec.toFixed(1);
    const errors = Object.entries(stats.errors_by_code).sort((a, b) => b[1] - a[1]);
    $("stat-errors").textContent = errors.reduce((n, [, c]) => n + c, 0);
    fillTable($("errors-table"), errors);
    fillTable($("rooms-table"), stats.rooms.map((r) => ["#" + r.name, r.online]));
    record(stats);
  }
  socket.on("stats", showStats);

  function kickButton(username) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small btn-danger kick";
    button.dataset.username = username;
    button.textContent = "Kick";
    button.addEventListener("click", () => {
      if (!window.confirm(`Disconnect every socket of ${username}?`)) return;
      socket.emit("kick", { username }, (reply) => {
        $("announce-status").textContent = reply.ok
          ? `${username}: ${reply.disconnected} socket(s) disconnected.`
          : reply.error.message;
        refresh();
      });
    });
    return button;
  }

  function showConnections(rows) {
    $("connections-count").textContent = `(${rows.length})`;
    const me = $("admin").dataset.username;
    fillTable($("connections-table"), rows.map((c) => [
      c.user.username, c.namespace, c.transport, c.address,
      new Date(c.since).toLocaleTimeString(), c.rooms.join(", "),
      c.user.username === me ? "" : kickButton(c.user.username),
    ]));
  }

  function refresh() {
    socket.emit("stats", {}, (reply) => reply.ok && showStats(reply));
    socket.emit("connections", {}, (reply) => reply.ok && showConnections(reply.connections));
  }
  setInterval(() => socket.connected && socket.emit("connections", {}, (reply) => {
    if (reply.ok) showConnections(reply.connections);
  }), 5000);

  // -- announce -------------------------------------------------------------------
  $("announce-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("announce-text").value.trim();
    if (!text) return;
    socket.emit("announce", { text }, (reply) => {
      $("announce-status").textContent = reply.ok ? "Announced to every chat user." : reply.error.message;
      if (reply.ok) $("announce-text").value = "";
    });
  });

  // -- Socket.IO Admin UI (SOCKETIO_ADMIN_UI) ----------------------------------------
  // The UI keeps its connection settings in localStorage (same origin as this
  // page): point it at this site and namespace so it connects without asking.
  const uiLink = $("socketio-ui-link");
  if (uiLink) {
    uiLink.addEventListener("click", () => {
      try {
        localStorage.setItem("server_url", window.location.origin);
        localStorage.setItem("namespace", uiLink.dataset.namespace);
        localStorage.setItem("path", "/socket.io");
      } catch (err) { /* storage blocked: the UI asks instead */ }
    });
  }
})();
