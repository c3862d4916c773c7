/* Cash, positions, open orders, my recent trades, and the market's activity feed.
 * Values and P/L are BigInt cents (money.js): no float ever touches money. */
import { h, trend, clockTime } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { isLost, errorText } from "../lib/rpc.js";
import { cents, format, signed, times, sum, minus, percent } from "./money.js";
import { addFill, loadFills } from "./history.js";

/** One line about a trade, for the ticket's result and the trade list. */
export function describe(trade) {
  const p = { quantity: trade.quantity, symbol: trade.symbol, price: trade.price, limit: trade.limit_price };
  const buy = trade.side === "BUY";
  if (trade.status === "filled") return buy ? t("Bought {quantity} {symbol} at {price}.", p) : t("Sold {quantity} {symbol} at {price}.", p);
  if (trade.status === "open") {
    return buy ? t("Order placed: buy {quantity} {symbol} at {limit} or better.", p)
      : t("Order placed: sell {quantity} {symbol} at {limit} or better.", p);
  }
  if (trade.status === "cancelled") return buy ? t("Cancelled: buy {quantity} {symbol}.", p) : t("Cancelled: sell {quantity} {symbol}.", p);
  // The reason is stored with the trade, in English (the server's words at the time).
  return t("Rejected: {reason}", { reason: trade.reason || t("the order could not be placed.") });
}

/**
 * @param opts.board   board.js (last prices)
 * @param opts.rpc     lib/rpc.js caller of the page's socket
 * @param opts.notify  toast
 * @param opts.onChange () => void after cash or positions changed (the ticket's estimate)
 * @param opts.onResult (trade) => void for a cancel's answer (the ticket's result line)
 */
export function createPortfolio(el, { board, rpc, notify, onChange, onResult }) {
  let cashCents = null;
  let realizedCents = null;
  /** symbol -> {quantity, costCents, avgCents} */
  let positions = new Map();
  /** open orders and recent trades from the last portfolio, updated as trades come */
  let trades = [];
  let timer = null;

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 120);
  }

  async function refresh() {
    const ack = await rpc("portfolio", {});
    if (!ack.ok) {
      if (!isLost(ack)) notify(errorText(ack), "error");
      return;
    }
    cashCents = cents(ack.cash);
    realizedCents = cents(ack.realized_pnl);
    positions = new Map();
    for (const p of ack.positions) {
      positions.set(p.symbol, { quantity: p.quantity, costCents: cents(p.cost), avgCents: cents(p.avg_price) });
    }
    trades = ack.trades.slice();
    renderPositions();
    renderOrders();
    if (onChange) onChange();
  }

  /** A trade we heard about (ack or trade:update): keep the lists current until the next portfolio. */
  function noteTrade(trade) {
    const i = trades.findIndex((x) => x.id === trade.id);
    if (i >= 0) trades[i] = trade;
    else trades.unshift(trade);
    renderOrders();
  }

  function renderPositions() {
    let valueCents = 0n;
    let unrealized = 0n;
    let complete = true;
    const held = Array.from(positions.entries()).sort((a, b) => a[0].localeCompare(b[0]));
    const rows = held.map(([sym, p]) => {
      const last = board.lastPrice(sym);
      const value = times(last, p.quantity);
      const pnl = minus(value, p.costCents);
      if (value === null) complete = false;
      else {
        valueCents += value;
        unrealized += pnl;
      }
      const pl = h("td", { className: "num mk-pnl" },
        pnl === null ? "—" : signed(pnl) + " (" + percent(pnl, p.costCents) + "%)");
      if (pnl !== null) trend(pl, pnl);
      return h("tr", { dataset: { symbol: sym } },
        h("td", null, sym),
        h("td", { className: "num" }, String(p.quantity)),
        h("td", { className: "num" }, format(p.avgCents, true)),
        h("td", { className: "num" }, format(last, true)),
        h("td", { className: "num" }, format(value, true)),
        pl);
    });
    el.positionRows.replaceChildren(...rows);
    el.positionsEmpty.hidden = held.length > 0;
    el.cash.textContent = format(cashCents, true);
    el.realized.textContent = realizedCents === null ? "—" : signed(realizedCents);
    trend(el.realized, realizedCents === null ? 0n : realizedCents);
    if (cashCents !== null && complete) {
      el.equity.textContent = format(sum(cashCents, valueCents), true);
      el.unrealized.textContent = signed(unrealized);
      trend(el.unrealized, unrealized);
    } else {
      el.equity.textContent = "—";
      el.unrealized.textContent = "—";
    }
  }

  function renderOrders() {
    const open = trades.filter((x) => x.status === "open").sort((a, b) => a.id - b.id);
    el.orderRows.replaceChildren(...open.map((o) => {
      const btn = h("button", { type: "button", className: "btn btn-small mk-cancel" }, t("Cancel"));
      btn.addEventListener("click", () => cancelOrder(o.id, btn));
      return h("tr", { dataset: { id: String(o.id) } },
        h("td", null, o.symbol),
        h("td", { className: o.side === "BUY" ? "mk-buy" : "mk-sell" }, o.side === "BUY" ? t("BUY") : t("SELL")),
        h("td", { className: "num" }, String(o.quantity)),
        h("td", { className: "num" }, o.limit_price),
        h("td", { className: "mk-actions" }, btn));
    }));
    el.ordersEmpty.hidden = open.length > 0;
    el.myTrades.replaceChildren(...trades.filter((x) => x.status !== "open").slice(0, 12).map((x) =>
      h("li", { className: "mk-item mk-status-" + x.status },
        h("span", { className: "mk-item-text" }, describe(x)),
        h("time", { className: "mk-item-time" }, clockTime(x.ts)))));
  }

  async function cancelOrder(id, btn) {
    btn.disabled = true;
    const ack = await rpc("cancel", { id });
    btn.disabled = false;
    if (!ack.ok) {
      notify(errorText(ack), "error");
      schedule();
      return;
    }
    noteTrade(ack.trade);
    if (onResult) onResult(ack.trade);
  }

  // The market's last fills, newest first (history.js keeps them like the server does).
  const fills = [];

  // A live fill adds one item (the list is aria-live: only the new one is read out).
  function addActivity(a) {
    addFill(fills, a);
    if (fills[0] !== a) return; // already listed
    el.activity.prepend(activityItem(a));
    while (el.activity.children.length > fills.length) el.activity.lastElementChild.remove();
    el.activityEmpty.hidden = true;
  }

  /** The server's last fills (on every connect), with those that `arrived` live meanwhile. */
  function loadActivity(list, arrived) {
    loadFills(fills, list, arrived);
    renderActivity();
  }

  function activityItem(a) {
    return h("li", { className: "mk-item" },
      h("span", { className: a.side === "BUY" ? "mk-buy" : "mk-sell" }, a.side === "BUY" ? t("BUY") : t("SELL")),
      h("span", { className: "mk-item-text" }, " " + a.quantity + " " + a.symbol + " @ " + a.price),
      h("time", { className: "mk-item-time" }, clockTime(a.ts)));
  }

  function renderActivity() {
    el.activity.replaceChildren(...fills.map(activityItem));
    el.activityEmpty.hidden = fills.length > 0;
  }

  return {
    refresh,
    schedule,
    noteTrade,
    renderPositions,
    renderOrders,
    addActivity,
    loadActivity,
    holds: (sym) => positions.has(sym),
    held: (sym) => (positions.has(sym) ? positions.get(sym).quantity : 0),
    cash: () => cashCents,
  };
}
