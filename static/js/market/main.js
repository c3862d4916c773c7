/* Switchboard market page: live quotes, a live chart and paper trading.
 *
 * ES modules, no build step. Talks to the /market Socket.IO namespace
 * (docs/protocol.md section 5, docs/market.md) through static/js/lib/
 * (connection, rpc, storage, toasts); board.js, portfolio.js and ticket.js
 * hold the page's parts, money.js the cents arithmetic.
 *
 * Safety: data from the server reaches the DOM only through textContent
 * and attributes (lib/dom.js), never innerHTML.
 */
import { connect } from "../lib/connection.js";
import { caller, isLost, errorText } from "../lib/rpc.js";
import { createStore } from "../lib/storage.js";
import { $ } from "../lib/dom.js";
import { toaster } from "../lib/toast.js";
import { t } from "../lib/i18n.js";
import { createBoard } from "./board.js";
import { createPortfolio } from "./portfolio.js";
import { createTicket } from "./ticket.js";

const root = $("market");
if (root) start(root);

function start(root) {
  const el = {
    badge: $("conn-badge"),
    boardMeta: $("board-meta"),
    quoteRows: $("quote-rows"),
    chart: $("chart"),
    chartBox: $("chart-box"),
    chartEmpty: $("chart-empty"),
    chartSymbol: $("chart-symbol"),
    chartPrice: $("chart-price"),
    chartChange: $("chart-change"),
    form: $("trade-form"),
    symbol: $("trade-symbol"),
    quantity: $("trade-quantity"),
    quantityError: $("quantity-error"),
    type: $("trade-type"),
    limitField: $("limit-field"),
    limit: $("trade-limit"),
    limitError: $("limit-error"),
    estimate: $("trade-estimate"),
    submit: $("trade-submit"),
    tradeError: $("trade-error"),
    tradeResult: $("trade-result"),
    cash: $("cash"),
    equity: $("equity"),
    unrealized: $("unrealized"),
    realized: $("realized"),
    positionRows: $("position-rows"),
    positionsEmpty: $("positions-empty"),
    orderRows: $("order-rows"),
    ordersEmpty: $("orders-empty"),
    myTrades: $("my-trades"),
    activity: $("activity"),
    activityEmpty: $("activity-empty"),
    toasts: $("toasts"),
  };
  const notify = toaster(el.toasts);
  const store = createStore(root.dataset.userId);
  const { socket } = connect("/market", {
    badge: el.badge,
    connectedLabel: t("live"),
    loginNext: "/market",
    notify,
  });
  const rpc = caller(socket);

  // The parts call each other through these late-bound references.
  let portfolio = null;
  let ticket = null;
  const board = createBoard(el, {
    store,
    onSelect: () => ticket && ticket.update(),
    onQuote: (sym) => {
      if (portfolio && portfolio.holds(sym)) portfolio.renderPositions();
      if (ticket) ticket.updateEstimate();
    },
  });
  portfolio = createPortfolio(el, {
    board,
    rpc,
    notify,
    onChange: () => ticket && ticket.updateEstimate(),
    onResult: (trade) => ticket && ticket.showResult(trade),
  });
  ticket = createTicket(el, { board, portfolio, rpc, store });

  socket.on("connect", onConnected);
  socket.on("quote", (quote) => board.applyQuote(quote, true));
  socket.on("trade:update", (trade) => {
    portfolio.noteTrade(trade);
    portfolio.schedule();
  });
  let arrived = null; // live fills while an `activity` call is on its way
  socket.on("market:activity", (a) => {
    if (arrived) arrived.push(a);
    portfolio.addActivity(a);
  });
  socket.on("error", (err) => notify(errorText({ error: err }), "error"));

  async function onConnected() {
    const listed = await rpc("symbols", {});
    if (!listed.ok) {
      if (!isLost(listed)) notify(errorText(listed), "error");
      return;
    }
    board.setSymbols(listed.symbols);
    const sub = await rpc("subscribe", { symbols: board.symbols() });
    if (sub.ok) {
      for (const q of sub.quotes) board.applyQuote(q, false);
    } else if (!isLost(sub)) {
      notify(errorText(sub), "error");
    }
    await loadRecent();
    await portfolio.refresh();
    ticket.resend();
  }

  /** The chart's last ten minutes and the last fills, as the server keeps them (a reload looks the same). */
  async function loadRecent() {
    const hist = await rpc("history", { symbols: board.symbols() });
    if (hist.ok) board.loadHistory(hist.quotes);
    else if (!isLost(hist)) notify(errorText(hist), "error");
    arrived = [];
    const recent = await rpc("activity", {});
    if (recent.ok) portfolio.loadActivity(recent.fills, arrived);
    else if (!isLost(recent)) notify(errorText(recent), "error");
    arrived = null;
  }

  ticket.update();
  portfolio.renderPositions();
  portfolio.renderOrders();
  board.drawChart();
}
