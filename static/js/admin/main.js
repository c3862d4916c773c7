/* The operator console: live figures pushed every 2 s on /admin, charts of
 * the last 10 minutes (uPlot's ESM build, served locally), the connection
 * table, kick, announce. ES module on static/js/lib/ (connection, rpc, dom).
 * Every user-supplied string is written with textContent, never as HTML. */
import uPlot from "../../vendor/uPlot.esm.js";
import { connect } from "../lib/connection.js";
import { caller, errorText } from "../lib/rpc.js";
import { browserStorage } from "../lib/storage.js";
import { $, h, clockTime } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { startAccounts } from "./accounts.js";

const HISTORY_SECONDS = 600;
const root = $("admin");
if (root) start(root);

function start(root) {
  const { socket } = connect("/admin", {
    badge: $("conn-badge"),
    loginNext: "/admin",
    onRefused(data, badge) {
      if (data.code !== "forbidden") return false;
      badge.set("offline", t("admins only"));
      return !data.retry_after; // a kick's block ends (retry then); not being an admin does not
    },
  });
  const rpc = caller(socket);
  socket.on("connect", () => refresh());
  startAccounts(rpc, socket, root.dataset.username);

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
    [t("total"), "#4f46e5"], [t("websocket"), "#16a34a"], [t("polling"), "#d97706"],
  ]);
  const eventsChart = makeChart($("chart-events"), [[t("events/s"), "#4f46e5"]]);
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
    table.tBodies[0].replaceChildren(...rows.map((cells) =>
      h("tr", null, cells.map((cell) => h("td", null, cell instanceof Node ? cell : String(cell))))));
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
    return h("button", {
      type: "button",
      className: "btn btn-small btn-danger kick",
      dataset: { username },
      onClick: async () => {
        if (!window.confirm(t("Disconnect every socket of {username}?", { username }))) return;
        const reply = await rpc("kick", { username });
        $("announce-status").textContent = reply.ok
          ? t("{username}: {count} socket(s) disconnected.", { username, count: reply.disconnected })
          : errorText(reply);
        refresh();
      },
    }, t("Kick"));
  }

  function showConnections(rows) {
    $("connections-count").textContent = `(${rows.length})`;
    const me = root.dataset.username;
    fillTable($("connections-table"), rows.map((c) => [
      c.user.username, c.namespace, c.transport, c.address,
      clockTime(c.since), c.rooms.join(", "),
      c.user.username === me ? "" : kickButton(c.user.username),
    ]));
  }

  async function refreshConnections() {
    const reply = await rpc("connections", {});
    if (reply.ok) showConnections(reply.connections);
  }

  async function refresh() {
    const stats = await rpc("stats", {});
    if (stats.ok) showStats(stats);
    await refreshConnections();
  }
  setInterval(() => socket.connected && refreshConnections(), 5000);

  // -- announce -------------------------------------------------------------------
  $("announce-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("announce-text").value.trim();
    if (!text) return;
    const reply = await rpc("announce", { text });
    $("announce-status").textContent = reply.ok ? t("Announced to every chat user.") : errorText(reply);
    if (reply.ok) $("announce-text").value = "";
  });

  // -- Socket.IO Admin UI (SOCKETIO_ADMIN_UI) ----------------------------------------
  // The UI keeps its connection settings in localStorage under its own keys
  // (same origin as this page): point it at this site and namespace so it
  // connects without asking. Not per user: they are the UI's keys, not ours.
  const uiLink = $("socketio-ui-link");
  if (uiLink) {
    uiLink.addEventListener("click", () => {
      const storage = browserStorage();
      try {
        storage.setItem("server_url", window.location.origin);
        storage.setItem("namespace", uiLink.dataset.namespace);
        storage.setItem("path", "/socket.io");
      } catch (_) { /* storage blocked: the UI asks instead */ }
    });
  }
}
