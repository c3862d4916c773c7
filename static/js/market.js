/* Switchboard market page: live quotes, a live chart and paper trading.
 *
 * Plain browser JavaScript, no build step. The chart is uPlot, installed
 * from npm and served from static/vendor (no CDN: the page works on a
 * closed network). Talks to the /market Socket.IO namespace
 * (docs/protocol.md section 5, docs/market.md).
 *
 * Safety: data from the server reaches the DOM only through textContent
 * and attributes, never innerHTML.
 *
 * Money: amounts arrive as decimal strings ("101.25"). This page turns them
 * into whole cents (integers) and back, so even the displayed value and
 * P/L of a position are computed without floating-point money.
 */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const root = $("market");
  if (!root || typeof window.io !== "function") return;

  const MAX_POINTS = 240; // chart history per symbol (4 minutes at 1 s)
  const MAX_ACTIVITY = 40;
  const MAX_QUANTITY = 10000;
  const CALL_TIMEOUT_MS = 20000;
  const LOST = "disconnected";
  const SYMBOL_KEY = "switchboard.marketSymbol";

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

  // ---------------------------------------------------------------------
  // Money as whole cents
  // ---------------------------------------------------------------------
  const MONEY_RE = /^(-?)(\d{1,12})(?:\.(\d{1,2}))?$/;

  /** "101.25" -> 10125; null when not an amount. */
  function cents(text) {
    const m = MONEY_RE.exec(String(text == null ? "" : text).trim());
    if (!m) return null;
    const value = Number(m[2]) * 100 + Number((m[3] || "").padEnd(2, "0"));
    return m[1] === "-" ? -value : value;
  }

  /** 10125 -> "101.25" (with thousands separators when group is true). */
  function fmt(c, group) {
    if (c == null) return "—";
    const neg = c < 0;
    const abs = Math.abs(c);
    let whole = String(Math.floor(abs / 100));
    if (group) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const frac = String(abs % 100).padStart(2, "0");
    return (neg ? "-" : "") + whole + "." + frac;
  }

  function signed(c) {
    return (c > 0 ? "+" : "") + fmt(c, true);
  }

  function pct(part, whole) {
    if (!whole) return "0.00";
    const v = Math.round((part * 10000) / whole) / 100;
    return (v > 0 ? "+" : "") + v.toFixed(2);
  }

  function trend(node, value) {
    node.classList.toggle("up", value > 0);
    node.classList.toggle("down", value < 0);
  }

  function timeOf(ts) {
    const d = new Date(ts);
    return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  // ---------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------
  /** symbol -> {quote, row, cells, history: [{t, c}]} */
  const board = new Map();
  let symbols = [];
  let selected = null;
  let cashCents = null;
  let realizedCents = null;
  /** positions: symbol -> {quantity, costCents, avgCents} */
  let positions = new Map();
  /** open orders and recent trades from the last portfolio */
  let trades = [];
  let pendingOrder = null; // an order sent but not answered (resent on reconnect, same client_id)
  let portfolioTimer = null;

  // ---------------------------------------------------------------------
  // Socket
  // ---------------------------------------------------------------------
  const socket = window.switchboardConnect("/market");

  /** Emit with an ack; resolves with the ack, or {ok:false, error:{code:"disconnected"}}. */
  function call(event, payload) {
    return new Promise((resolve) => {
      socket.timeout(CALL_TIMEOUT_MS).emit(event, payload, (err, ack) => {
        if (err) resolve({ ok: false, error: { code: LOST, message: "No answer from the server." } });
        else resolve(ack && typeof ack === "object" ? ack : { ok: false, error: { code: "internal", message: "Bad reply." } });
      });
    });
  }

  function errorText(ack, fallback) {
    return (ack && ack.error && ack.error.message) || fallback || "Something went wrong.";
  }

  window.switchboardBadge(socket, el.badge, { connectedLabel: "live" });

  socket.on("connect", onConnected);

  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") window.setTimeout(() => socket.connect(), 1000);
  });

  socket.on("connect_error", (err) => {
    const data = err && err.data;
    if (data && data.code === "unauthorized") {
      window.location.assign("/login?next=/market");
      return;
    }
    if (data && data.message) toast(data.message, "error");
    if (!socket.active) window.setTimeout(() => socket.connect(), 5000);
  });

  window.addEventListener("online", () => {
    if (!socket.connected) socket.connect();
  });

  socket.on("quote", (quote) => applyQuote(quote, true));
  socket.on("trade:update", (trade) => {
    noteTrade(trade);
    schedulePortfolio();
  });
  socket.on("market:activity", addActivity);
  socket.on("error", (err) => toast(errorText({ error: err }), "error"));

  async function onConnected() {
    const listed = await call("symbols", {});
    if (!listed.ok) {
      if (listed.error.code !== LOST) toast(errorText(listed), "error");
      return;
    }
    setSymbols(listed.symbols);
    const sub = await call("subscribe", { symbols: symbols });
    if (sub.ok) {
      for (const q of sub.quotes) applyQuote(q, false);
    } else if (sub.error.code !== LOST) {
      toast(errorText(sub), "error");
    }
    await refreshPortfolio();
    if (pendingOrder) sendOrder(pendingOrder);
  }

  // ---------------------------------------------------------------------
  // The board
  // ---------------------------------------------------------------------
  function setSymbols(list) {
    symbols = list.slice();
    const stored = window.localStorage ? window.localStorage.getItem(SYMBOL_KEY) : null;
    for (const sym of symbols) {
      if (board.has(sym)) continue;
      const row = document.createElement("tr");
      row.dataset.symbol = sym;
      row.tabIndex = 0;
      const cells = {};
      for (const key of ["symbol", "price", "change", "pct", "volume"]) {
        const td = document.createElement("td");
        td.className = "mk-" + key + (key === "symbol" ? "" : " num");
        if (key === "volume") td.classList.add("mk-hide-narrow");
        td.textContent = key === "symbol" ? sym : "—";
        row.appendChild(td);
        cells[key] = td;
      }
      row.addEventListener("click", () => select(sym));
      row.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          select(sym);
        }
      });
      el.quoteRows.appendChild(row);
      board.set(sym, { quote: null, row: row, cells: cells, history: [] });
      const opt = document.createElement("option");
      opt.value = sym;
      opt.textContent = sym;
      el.symbol.appendChild(opt);
    }
    if (selected === null) select(symbols.includes(stored) ? stored : symbols[0]);
  }

  function applyQuote(q, live) {
    const entry = board.get(q.symbol);
    if (!entry) return;
    const price = cents(q.price);
    const change = cents(q.change);
    if (price === null) return;
    const prev = entry.quote ? cents(entry.quote.price) : null;
    // A snapshot older than, or the same as, what we already show (reconnects) is ignored.
    if (entry.quote && (q.ts < entry.quote.ts || (q.ts === entry.quote.ts && q.price === entry.quote.price))) return;
    entry.quote = q;
    entry.history.push({ t: Date.parse(q.ts) || Date.now(), c: price });
    if (entry.history.length > MAX_POINTS) entry.history.splice(0, entry.history.length - MAX_POINTS);
    const c = entry.cells;
    c.price.textContent = fmt(price, true);
    c.change.textContent = signed(change);
    c.pct.textContent = (change > 0 ? "+" : "") + q.change_pct + "%";
    c.volume.textContent = Number(q.volume).toLocaleString();
    trend(c.change, change);
    trend(c.pct, change);
    if (live && prev !== null && prev !== price) flash(c.price, price > prev ? "flash-up" : "flash-down");
    el.boardMeta.textContent = "updated " + timeOf(q.ts);
    if (q.symbol === selected) {
      renderChartHeader();
      drawChart();
    }
    if (positions.has(q.symbol)) renderPositions();
    updateEstimate();
  }

  function flash(node, cls) {
    node.classList.remove("flash-up", "flash-down");
    void node.offsetWidth; // restart the animation
    node.classList.add(cls);
  }

  function select(sym) {
    if (!board.has(sym)) return;
    selected = sym;
    for (const [s, entry] of board) entry.row.classList.toggle("selected", s === sym);
    el.symbol.value = sym;
    if (window.localStorage) window.localStorage.setItem(SYMBOL_KEY, sym);
    renderChartHeader();
    drawChart();
    updateEstimate();
  }

  // ---------------------------------------------------------------------
  // The chart
  // ---------------------------------------------------------------------
  function renderChartHeader() {
    const entry = board.get(selected);
    el.chartSymbol.textContent = selected || "—";
    if (!entry || !entry.quote) {
      el.chartPrice.textContent = "";
      el.chartChange.textContent = "";
      return;
    }
    const change = cents(entry.quote.change);
    el.chartPrice.textContent = fmt(cents(entry.quote.price), true);
    el.chartChange.textContent = signed(change) + " (" + (change > 0 ? "+" : "") + entry.quote.change_pct + "%)";
    trend(el.chartChange, change);
  }

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  // uPlot (from npm, vendored into static/vendor): rebuilt when the size or
  // the up/down colour changes, otherwise only handed new data.
  let plot = null;
  let plotKey = "";

  function drawChart() {
    const entry = board.get(selected);
    const points = entry ? entry.history : [];
    el.chartEmpty.hidden = points.length > 1;
    const rect = el.chartBox.getBoundingClientRect();
    const w = Math.max(200, Math.floor(rect.width));
    const h = Math.max(120, Math.floor(rect.height));
    const open = entry && entry.quote ? cents(entry.quote.price) - cents(entry.quote.change) : null;
    const last = points.length ? points[points.length - 1].c : null;
    const up = open === null || last === null ? true : last >= open;
    const line = up ? cssVar("--mk-up", "#16a34a") : cssVar("--mk-down", "#dc2626");
    const data = [
      points.map((p) => p.t / 1000),
      points.map((p) => p.c / 100), // display only: money math stays in cents
      points.map(() => (open === null ? null : open / 100)),
    ];
    const key = [w, h, line, selected].join("|");
    if (plot && key === plotKey) {
      plot.setData(data);
      return;
    }
    if (plot) plot.destroy();
    plotKey = key;
    const grid = { stroke: cssVar("--border", "#e2e5eb"), width: 1 };
    plot = new uPlot({
      width: w,
      height: h,
      legend: { show: false },
      cursor: { show: true, points: { show: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: cssVar("--muted", "#6b7280"), grid, ticks: grid, space: 90,
          values: (u, ticks) => ticks.map((t) => timeOf(t * 1000)) },
        { side: 1, size: 64, stroke: cssVar("--muted", "#6b7280"), grid, ticks: grid,
          values: (u, ticks) => ticks.map((v) => fmt(Math.round(v * 100), false)) },
      ],
      series: [
        {},
        { label: selected, stroke: line, width: 2, points: { show: false },
          fill: up ? "rgba(22,163,74,0.12)" : "rgba(220,38,38,0.12)" },
        { label: "open", stroke: cssVar("--muted", "#6b7280"), width: 1, dash: [4, 4],
          points: { show: false } },
      ],
    }, data, el.chart);
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(drawChart, 100);
  });

  // ---------------------------------------------------------------------
  // The trade ticket
  // ---------------------------------------------------------------------
  function side() {
    const checked = el.form.querySelector('input[name="side"]:checked');
    return checked ? checked.value : "BUY";
  }

  function showError(node, text) {
    node.textContent = text;
    node.hidden = false;
  }

  function hideError(node) {
    node.hidden = true;
    node.textContent = "";
  }

  function readQuantity() {
    const raw = el.quantity.value.trim();
    if (raw === "") return { error: "Enter how many shares." };
    if (!/^\d+$/.test(raw)) return { error: "Quantity must be a whole number of shares, like 10." };
    const n = Number(raw);
    if (n < 1 || n > MAX_QUANTITY) return { error: "Quantity must be from 1 to " + MAX_QUANTITY.toLocaleString() + "." };
    return { value: n };
  }

  function readLimit() {
    const raw = el.limit.value.trim();
    if (raw === "") return { error: "Enter the limit price, like 101.25." };
    if (!/^(0|[1-9]\d{0,9})(\.\d{1,2})?$/.test(raw)) return { error: "The limit price is a number with at most 2 decimals, like 101.25." };
    const c = cents(raw);
    if (c <= 0) return { error: "The limit price must be more than 0." };
    return { value: fmt(c, false), cents: c };
  }

  function updateTicket() {
    const isLimit = el.type.value === "limit";
    el.limitField.hidden = !isLimit;
    const s = side();
    el.submit.textContent = (s === "BUY" ? "Buy " : "Sell ") + (el.symbol.value || "");
    el.submit.classList.toggle("is-sell", s === "SELL");
    updateEstimate();
  }

  function updateEstimate() {
    const q = readQuantity();
    const entry = board.get(el.symbol.value);
    let price = null;
    if (el.type.value === "limit") {
      const l = readLimit();
      price = l.error ? null : l.cents;
    } else if (entry && entry.quote) {
      price = cents(entry.quote.price);
    }
    if (q.error || price === null) {
      el.estimate.textContent = "";
      return;
    }
    const total = price * q.value;
    let text = (side() === "BUY" ? "Costs about " : "Brings about ") + fmt(total, true);
    if (side() === "BUY" && cashCents !== null && total > cashCents) text += " — more than your cash";
    if (side() === "SELL") {
      const pos = positions.get(el.symbol.value);
      const held = pos ? pos.quantity : 0;
      if (q.value > held) text += " — you hold " + held;
    }
    el.estimate.textContent = text;
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  el.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    hideError(el.quantityError);
    hideError(el.limitError);
    hideError(el.tradeError);
    el.tradeResult.hidden = true;
    const q = readQuantity();
    let ok = true;
    if (q.error) {
      showError(el.quantityError, q.error);
      ok = false;
    }
    const order = { symbol: el.symbol.value, side: side(), quantity: q.value, type: el.type.value, client_id: newClientId() };
    if (order.type === "limit") {
      const l = readLimit();
      if (l.error) {
        showError(el.limitError, l.error);
        ok = false;
      } else {
        order.limit_price = l.value;
      }
    }
    if (!board.has(order.symbol)) {
      showError(el.tradeError, "Pick a symbol.");
      ok = false;
    }
    if (!ok) return;
    sendOrder(order);
  });

  async function sendOrder(order) {
    pendingOrder = order;
    el.submit.disabled = true;
    const ack = await call("trade", order);
    el.submit.disabled = false;
    if (!ack.ok && ack.error.code === LOST) {
      showError(el.tradeError, "No answer yet: the order is sent again (safely) when the connection is back.");
      return;
    }
    pendingOrder = null;
    if (!ack.ok) {
      showError(el.tradeError, errorText(ack));
      return;
    }
    noteTrade(ack.trade);
    showResult(ack.trade);
    schedulePortfolio();
  }

  function describe(t) {
    const verb = t.side === "BUY" ? "Bought" : "Sold";
    if (t.status === "filled") return verb + " " + t.quantity + " " + t.symbol + " at " + t.price + ".";
    if (t.status === "open") return "Order placed: " + t.side.toLowerCase() + " " + t.quantity + " " + t.symbol + " at " + t.limit_price + " or better.";
    if (t.status === "cancelled") return "Cancelled: " + t.side.toLowerCase() + " " + t.quantity + " " + t.symbol + ".";
    return "Rejected: " + (t.reason || "the order could not be placed.");
  }

  function showResult(t) {
    el.tradeResult.textContent = describe(t);
    el.tradeResult.dataset.status = t.status;
    el.tradeResult.hidden = false;
  }

  el.type.addEventListener("change", updateTicket);
  el.symbol.addEventListener("change", () => {
    select(el.symbol.value);
    updateTicket();
  });
  for (const radio of el.form.querySelectorAll('input[name="side"]')) radio.addEventListener("change", updateTicket);
  el.quantity.addEventListener("input", () => {
    hideError(el.quantityError);
    updateEstimate();
  });
  el.limit.addEventListener("input", () => {
    hideError(el.limitError);
    updateEstimate();
  });

  // ---------------------------------------------------------------------
  // Portfolio: cash, positions, open orders, my trades
  // ---------------------------------------------------------------------
  function schedulePortfolio() {
    window.clearTimeout(portfolioTimer);
    portfolioTimer = window.setTimeout(refreshPortfolio, 120);
  }

  async function refreshPortfolio() {
    const ack = await call("portfolio", {});
    if (!ack.ok) {
      if (ack.error.code !== LOST) toast(errorText(ack), "error");
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
    updateEstimate();
  }

  /** A trade we heard about (ack or trade:update): keep the lists current until the next portfolio. */
  function noteTrade(t) {
    const i = trades.findIndex((x) => x.id === t.id);
    if (i >= 0) trades[i] = t;
    else trades.unshift(t);
    renderOrders();
  }

  function renderPositions() {
    el.positionRows.textContent = "";
    let valueCents = 0;
    let unrealized = 0;
    let complete = true;
    const held = Array.from(positions.entries()).sort((a, b) => a[0].localeCompare(b[0]));
    for (const [sym, p] of held) {
      const entry = board.get(sym);
      const last = entry && entry.quote ? cents(entry.quote.price) : null;
      const value = last === null ? null : last * p.quantity;
      const pnl = value === null ? null : value - p.costCents;
      if (value === null) complete = false;
      else {
        valueCents += value;
        unrealized += pnl;
      }
      const row = document.createElement("tr");
      row.dataset.symbol = sym;
      const cellsText = [sym, String(p.quantity), fmt(p.avgCents, true), fmt(last, true), fmt(value, true)];
      cellsText.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i > 0) td.className = "num";
        row.appendChild(td);
      });
      const pl = document.createElement("td");
      pl.className = "num mk-pnl";
      pl.textContent = pnl === null ? "—" : signed(pnl) + " (" + pct(pnl, p.costCents) + "%)";
      if (pnl !== null) trend(pl, pnl);
      row.appendChild(pl);
      el.positionRows.appendChild(row);
    }
    el.positionsEmpty.hidden = held.length > 0;
    el.cash.textContent = fmt(cashCents, true);
    el.realized.textContent = realizedCents === null ? "—" : signed(realizedCents);
    trend(el.realized, realizedCents || 0);
    if (cashCents !== null && complete) {
      el.equity.textContent = fmt(cashCents + valueCents, true);
      el.unrealized.textContent = signed(unrealized);
      trend(el.unrealized, unrealized);
    } else {
      el.equity.textContent = "—";
      el.unrealized.textContent = "—";
    }
  }

  function renderOrders() {
    el.orderRows.textContent = "";
    const open = trades.filter((t) => t.status === "open").sort((a, b) => a.id - b.id);
    for (const t of open) {
      const row = document.createElement("tr");
      row.dataset.id = String(t.id);
      for (const [text, cls] of [[t.symbol, ""], [t.side, t.side === "BUY" ? "mk-buy" : "mk-sell"], [String(t.quantity), "num"], [t.limit_price, "num"]]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        row.appendChild(td);
      }
      const td = document.createElement("td");
      td.className = "mk-actions";
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "btn btn-small mk-cancel";
      btn.textContent = "Cancel";
      btn.addEventListener("click", () => cancelOrder(t.id, btn));
      td.appendChild(btn);
      row.appendChild(td);
      el.orderRows.appendChild(row);
    }
    el.ordersEmpty.hidden = open.length > 0;

    el.myTrades.textContent = "";
    for (const t of trades.filter((x) => x.status !== "open").slice(0, 12)) {
      const li = document.createElement("li");
      li.className = "mk-item mk-status-" + t.status;
      const what = document.createElement("span");
      what.className = "mk-item-text";
      what.textContent = describe(t);
      const when = document.createElement("time");
      when.className = "mk-item-time";
      when.textContent = timeOf(t.ts);
      li.append(what, when);
      el.myTrades.appendChild(li);
    }
  }

  async function cancelOrder(id, btn) {
    btn.disabled = true;
    const ack = await call("cancel", { id: id });
    btn.disabled = false;
    if (!ack.ok) {
      toast(errorText(ack), "error");
      schedulePortfolio();
      return;
    }
    noteTrade(ack.trade);
    showResult(ack.trade);
  }

  // ---------------------------------------------------------------------
  // Activity
  // ---------------------------------------------------------------------
  function addActivity(a) {
    const li = document.createElement("li");
    li.className = "mk-item";
    const sideNode = document.createElement("span");
    sideNode.className = a.side === "BUY" ? "mk-buy" : "mk-sell";
    sideNode.textContent = a.side;
    const what = document.createElement("span");
    what.className = "mk-item-text";
    what.textContent = " " + a.quantity + " " + a.symbol + " @ " + a.price;
    const when = document.createElement("time");
    when.className = "mk-item-time";
    when.textContent = timeOf(a.ts);
    li.append(sideNode, what, when);
    el.activity.prepend(li);
    while (el.activity.children.length > MAX_ACTIVITY) el.activity.lastElementChild.remove();
    el.activityEmpty.hidden = true;
  }

  // ---------------------------------------------------------------------
  // Toasts and start
  // ---------------------------------------------------------------------
  function toast(text, kind) {
    window.switchboardToast(el.toasts, text, kind);
  }

  updateTicket();
  renderPositions();
  renderOrders();
  drawChart();
})();
