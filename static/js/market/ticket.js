/* The trade ticket: validation with clear messages (money.js), the estimate,
 * and sending an order. An order that got no answer is kept and sent again on
 * the next connect with the same client_id: the server fills it at most once. */
import { $, showError, hideError } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { isLost, errorText } from "../lib/rpc.js";
import { format, times, parseLimit, parseQuantity } from "./money.js";
import { describe } from "./portfolio.js";
import { summarize } from "./review.js";

const MAX_QUANTITY = 10000;
const REVIEW_KEY = "marketReview"; // switchboard.marketReview.<userId>

function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * @param opts.board, opts.portfolio  board.js, portfolio.js
 * @param opts.rpc  lib/rpc.js caller
 * @param opts.store  lib/storage.js store of this user ("Review before placing" is kept there)
 */
export function createTicket(el, { board, portfolio, rpc, store }) {
  let pendingOrder = null; // sent, not answered (resent on reconnect, same client_id)

  function side() {
    const checked = el.form.querySelector('input[name="side"]:checked');
    return checked ? checked.value : "BUY";
  }

  const readQuantity = () => parseQuantity(el.quantity.value, MAX_QUANTITY);
  const readLimit = () => parseLimit(el.limit.value);

  function update() {
    el.limitField.hidden = el.type.value !== "limit";
    const s = side();
    const symbol = el.symbol.value || "";
    el.submit.textContent = s === "BUY" ? t("Buy {symbol}", { symbol }) : t("Sell {symbol}", { symbol });
    el.submit.classList.toggle("is-sell", s === "SELL");
    updateEstimate();
  }

  function updateEstimate() {
    const q = readQuantity();
    let price = null;
    if (el.type.value === "limit") {
      const l = readLimit();
      price = l.error ? null : l.cents;
    } else {
      price = board.lastPrice(el.symbol.value);
    }
    if (q.error || price === null) {
      el.estimate.textContent = "";
      return;
    }
    const total = times(price, q.value);
    const cash = portfolio.cash();
    const amount = format(total, true);
    let text = side() === "BUY" ? t("Costs about {amount}", { amount }) : t("Brings about {amount}", { amount });
    if (side() === "BUY" && cash !== null && total > cash) text += " " + t("— more than your cash");
    if (side() === "SELL") {
      const held = portfolio.held(el.symbol.value);
      if (q.value > held) text += " " + t("— you hold {count}", { count: held });
    }
    el.estimate.textContent = text;
  }

  function showResult(trade) {
    el.tradeResult.textContent = describe(trade);
    el.tradeResult.dataset.status = trade.status;
    el.tradeResult.hidden = false;
  }

  async function send(order) {
    pendingOrder = order;
    el.submit.disabled = true;
    const ack = await rpc("trade", order);
    el.submit.disabled = false;
    if (isLost(ack)) {
      showError(el.tradeError, t("No answer yet: the order is sent again (safely) when the connection is back."));
      return;
    }
    pendingOrder = null;
    if (!ack.ok) {
      showError(el.tradeError, errorText(ack));
      return;
    }
    portfolio.noteTrade(ack.trade);
    showResult(ack.trade);
    portfolio.schedule();
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
      showError(el.tradeError, t("Pick a symbol."));
      ok = false;
    }
    if (ok) place(order);
  });
  el.type.addEventListener("change", update);
  el.symbol.addEventListener("change", () => {
    board.select(el.symbol.value);
    update();
  });
  for (const radio of el.form.querySelectorAll('input[name="side"]')) radio.addEventListener("change", update);
  el.quantity.addEventListener("input", () => {
    hideError(el.quantityError);
    updateEstimate();
  });
  el.limit.addEventListener("input", () => {
    hideError(el.limitError);
    updateEstimate();
  });

  // -- the optional review step: a summary with Confirm / Back before sending --
  const review = {
    toggle: $("trade-review"),
    box: $("review"),
    confirm: $("review-confirm"),
    back: $("review-back"),
  };
  let reviewing = null; // the order on show, not sent yet

  function place(order) {
    if (review.toggle && review.toggle.checked) openReview(order);
    else send(order);
  }

  function openReview(order) {
    const s = summarize(order, board.lastPrice(order.symbol), portfolio.cash());
    const sideLabel = el.form.querySelector('label[for="side-' + order.side.toLowerCase() + '"]');
    const sideValue = $("review-side");
    sideValue.textContent = sideLabel ? sideLabel.textContent : s.side; // the page's own (translated) word
    sideValue.className = s.side === "BUY" ? "mk-buy" : "mk-sell";
    $("review-quantity").textContent = s.quantity;
    $("review-symbol").textContent = s.symbol;
    for (const node of review.box.querySelectorAll("[data-type]")) node.hidden = node.dataset.type !== s.type;
    for (const node of review.box.querySelectorAll("[data-side]")) node.hidden = node.dataset.side !== s.side;
    $("review-limit-row").hidden = s.type !== "limit";
    $("review-limit").textContent = s.limit;
    $("review-estimate").textContent = s.estimate;
    $("review-over").hidden = !s.over;
    reviewing = order;
    el.submit.hidden = true;
    review.box.hidden = false;
    review.confirm.focus();
  }

  function closeReview(focusSubmit) {
    reviewing = null;
    review.box.hidden = true;
    el.submit.hidden = false;
    if (focusSubmit) el.submit.focus();
  }

  if (review.toggle) {
    review.toggle.checked = Boolean(store && store.get(REVIEW_KEY, false) === true);
    review.toggle.addEventListener("change", () => {
      if (store) store.set(REVIEW_KEY, review.toggle.checked);
    });
    review.confirm.addEventListener("click", () => {
      const order = reviewing;
      closeReview(true);
      if (order) send(order); // the client_id made at submit: a retry stays the same order
    });
    review.back.addEventListener("click", () => closeReview(true));
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && reviewing) {
        ev.preventDefault();
        closeReview(true);
      }
    });
    // Changing the order while it is on review takes it off review: what is confirmed is what is shown.
    for (const kind of ["input", "change"]) {
      el.form.addEventListener(kind, () => { if (reviewing) closeReview(false); });
    }
  }

  return {
    update,
    updateEstimate,
    showResult,
    /** After a reconnect: the unanswered order again, same client_id. */
    resend: () => { if (pendingOrder) send(pendingOrder); },
  };
}
