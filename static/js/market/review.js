/* The "review order" step's summary: DOM-free.
 *
 * What the ticket shows before an order is sent when "Review before placing"
 * is on: the order as it will be sent, and the estimated amount in money
 * formatting (money.js, BigInt cents). The labels are in the template (so
 * they are translated with the page); this gives the values only.
 * tests/js/review.test.js runs it under `node --test`.
 */
import { cents, format, times } from "./money.js";

/**
 * @param order  the trade payload about to be sent ({symbol, side, quantity, type, limit_price?})
 * @param lastCents  the symbol's last price in cents (null before its first quote)
 * @param cashCents  the account's cash in cents (null when not known yet)
 * @returns {symbol, side, quantity, type, limit, estimate, over}: text values;
 *   `estimate` is the limit (or last price) x quantity, "—" when unknown;
 *   `over` is true for a BUY estimated above the cash.
 */
export function summarize(order, lastCents, cashCents) {
  const limit = order.type === "limit" ? order.limit_price : null;
  const price = limit !== null ? cents(limit) : lastCents;
  const total = price === null || price === undefined ? null : times(price, order.quantity);
  return {
    symbol: order.symbol,
    side: order.side,
    quantity: String(order.quantity),
    type: order.type,
    limit: limit === null ? "—" : format(price, true),
    estimate: format(total, true),
    over: order.side === "BUY" && total !== null && cashCents !== null && cashCents !== undefined && total > cashCents,
  };
}
