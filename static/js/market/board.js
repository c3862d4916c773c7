/* The quote board and the chart of the selected symbol.
 *
 * Rows are built with lib/dom.js (text only); the chart is uPlot's ESM build
 * from static/vendor (no CDN: the page works on a closed network). Prices are
 * kept as BigInt cents (money.js); the chart gets plain numbers for drawing only.
 */
import uPlot from "../../vendor/uPlot.esm.js";
import { h, trend, clockTime } from "../lib/dom.js";
import { t, formatNumber } from "../lib/i18n.js";
import { cents, format, signed, minus, toChartNumber, chartLabel } from "./money.js";
import { addPoint, mergeHistory } from "./history.js";

const SYMBOL_KEY = "marketSymbol"; // switchboard.marketSymbol.<userId>

/**
 * @param el     the page's elements (main.js)
 * @param opts.store    lib/storage.js store of this user
 * @param opts.onSelect (symbol) => void, after the selection changed
 * @param opts.onQuote  (symbol) => void, after a symbol's price changed
 */
export function createBoard(el, { store, onSelect, onQuote }) {
  /** symbol -> {quote, row, cells, history: [{t, c}]} */
  const board = new Map();
  let selected = null;
  let plot = null;
  let plotKey = "";

  function setSymbols(list) {
    for (const sym of list) {
      if (board.has(sym)) continue;
      const cells = {};
      for (const key of ["symbol", "price", "change", "pct", "volume"]) {
        cells[key] = h("td", { className: "mk-" + key + (key === "symbol" ? "" : " num") + (key === "volume" ? " mk-hide-narrow" : "") },
          key === "symbol" ? sym : "—");
      }
      const row = h("tr", {
        dataset: { symbol: sym },
        tabIndex: 0,
        onClick: () => select(sym),
        onKeydown: (ev) => {
          if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            select(sym);
          }
        },
      }, cells.symbol, cells.price, cells.change, cells.pct, cells.volume);
      el.quoteRows.appendChild(row);
      board.set(sym, { quote: null, row, cells, history: [] });
      el.symbol.appendChild(h("option", { value: sym }, sym));
    }
    if (selected === null && list.length) {
      const stored = store.get(SYMBOL_KEY);
      select(list.includes(stored) ? stored : list[0]);
    }
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
    addPoint(entry.history, { t: Date.parse(q.ts) || Date.now(), c: price }); // ten minutes, one point a second
    const c = entry.cells;
    c.price.textContent = format(price, true);
    c.change.textContent = signed(change);
    c.pct.textContent = (change > 0n ? "+" : "") + q.change_pct + "%";
    c.volume.textContent = formatNumber(Number(q.volume));
    trend(c.change, change);
    trend(c.pct, change);
    if (live && prev !== null && prev !== price) flash(c.price, price > prev ? "flash-up" : "flash-down");
    el.boardMeta.textContent = t("updated {time}", { time: clockTime(q.ts) });
    if (q.symbol === selected) {
      renderChartHeader();
      drawChart();
    }
    if (onQuote) onQuote(q.symbol);
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
    store.set(SYMBOL_KEY, sym);
    renderChartHeader();
    drawChart();
    if (onSelect) onSelect(sym);
  }

  /** The server's history ({symbol: [[ts_ms, price], ...]}) into the charts (history.js). */
  function loadHistory(quotes) {
    for (const [sym, points] of Object.entries(quotes || {})) {
      const entry = board.get(sym);
      if (entry) mergeHistory(entry.history, points, cents);
    }
    drawChart();
  }

  /** The last price of a symbol in cents, null before its first quote. */
  function lastPrice(sym) {
    const entry = board.get(sym);
    return entry && entry.quote ? cents(entry.quote.price) : null;
  }

  // -- the chart ---------------------------------------------------------
  function renderChartHeader() {
    const entry = board.get(selected);
    el.chartSymbol.textContent = selected || "—";
    if (!entry || !entry.quote) {
      el.chartPrice.textContent = "";
      el.chartChange.textContent = "";
      return;
    }
    const change = cents(entry.quote.change);
    el.chartPrice.textContent = format(cents(entry.quote.price), true);
    el.chartChange.textContent = signed(change) + " (" + (change > 0n ? "+" : "") + entry.quote.change_pct + "%)";
    trend(el.chartChange, change);
  }

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  // Rebuilt when the size or the up/down colour changes, otherwise only handed new data.
  function drawChart() {
    const entry = board.get(selected);
    const points = entry ? entry.history : [];
    el.chartEmpty.hidden = points.length > 1;
    // What is drawn, for tests and tools: how many points, since when (ms).
    el.chart.dataset.points = String(points.length);
    el.chart.dataset.from = points.length ? String(points[0].t) : "";
    const rect = el.chartBox.getBoundingClientRect();
    const w = Math.max(200, Math.floor(rect.width));
    const h2 = Math.max(120, Math.floor(rect.height));
    const open = entry && entry.quote ? minus(cents(entry.quote.price), cents(entry.quote.change)) : null;
    const last = points.length ? points[points.length - 1].c : null;
    const up = open === null || last === null ? true : last >= open;
    const line = up ? cssVar("--mk-up", "#16a34a") : cssVar("--mk-down", "#dc2626");
    const openUnits = toChartNumber(open);
    const data = [
      points.map((p) => p.t / 1000),
      points.map((p) => toChartNumber(p.c)), // display only: money math stays in cents
      points.map(() => openUnits),
    ];
    const key = [w, h2, line, selected].join("|");
    if (plot && key === plotKey) {
      plot.setData(data);
      return;
    }
    if (plot) plot.destroy();
    plotKey = key;
    const grid = { stroke: cssVar("--border", "#e2e5eb"), width: 1 };
    plot = new uPlot({
      width: w,
      height: h2,
      legend: { show: false },
      cursor: { show: true, points: { show: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: cssVar("--muted", "#6b7280"), grid, ticks: grid, space: 90,
          values: (u, ticks) => ticks.map((tick) => clockTime(tick * 1000)) },
        { side: 1, size: 64, stroke: cssVar("--muted", "#6b7280"), grid, ticks: grid,
          values: (u, ticks) => ticks.map(chartLabel) },
      ],
      series: [
        {},
        { label: selected, stroke: line, width: 2, points: { show: false },
          fill: up ? "rgba(22,163,74,0.12)" : "rgba(220,38,38,0.12)" },
        { label: t("open"), stroke: cssVar("--muted", "#6b7280"), width: 1, dash: [4, 4],
          points: { show: false } },
      ],
    }, data, el.chart);
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(drawChart, 100);
  });

  return {
    setSymbols,
    applyQuote,
    loadHistory,
    select,
    lastPrice,
    has: (sym) => board.has(sym),
    symbols: () => Array.from(board.keys()),
    drawChart,
  };
}
