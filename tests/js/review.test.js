// The "review order" summary (static/js/market/review.js).
import test from "node:test";
import assert from "node:assert/strict";
import { summarize } from "../../static/js/market/review.js";

const CASH = 10000000n; // 100,000.00

test("a market order is estimated at the last price, in money formatting", () => {
  assert.deepEqual(summarize({ symbol: "ACME", side: "BUY", quantity: 1200, type: "market" }, 10125n, CASH), {
    symbol: "ACME", side: "BUY", quantity: "1200", type: "market", limit: "—", estimate: "121,500.00", over: true,
  });
  assert.equal(summarize({ symbol: "ACME", side: "BUY", quantity: 10, type: "market" }, 10125n, CASH).over, false);
});

test("a limit order is estimated at its limit, exactly (no float)", () => {
  const s = summarize({ symbol: "GLOBX", side: "SELL", quantity: 3, type: "limit", limit_price: "0.10" }, 5000n, CASH);
  assert.equal(s.limit, "0.10");
  assert.equal(s.estimate, "0.30"); // 3 x 0.10 as a float would be 0.30000000000000004
  assert.equal(s.over, false); // a sale never needs cash
});

test("without a price or the cash the estimate is unknown, never a guess", () => {
  const s = summarize({ symbol: "INITK", side: "BUY", quantity: 5, type: "market" }, null, null);
  assert.equal(s.estimate, "—");
  assert.equal(s.over, false);
});
