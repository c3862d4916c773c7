// Money in BigInt cents (static/js/market/money.js): parsing, formatting, arithmetic.
import test from "node:test";
import assert from "node:assert/strict";
import {
  cents, format, signed, times, sum, minus, percent, parseLimit, parseQuantity, chartLabel,
} from "../../static/js/market/money.js";

test("decimal strings become exact cents", () => {
  assert.equal(cents("101.25"), 10125n);
  assert.equal(cents("101.2"), 10120n);
  assert.equal(cents("101"), 10100n);
  assert.equal(cents("-0.05"), -5n);
  assert.equal(cents(" 7.00 "), 700n);
  assert.equal(cents("+3.10"), 310n);
  assert.equal(cents("999999999999999.99"), 99999999999999999n); // beyond Number's 2^53
  for (const bad of ["", null, undefined, "1.005", "abc", "1e3", "1,000.00", ".5", "1."]) {
    assert.equal(cents(bad), null, String(bad));
  }
});

test("cents format back, grouped on request", () => {
  assert.equal(format(10125n), "101.25");
  assert.equal(format(5n), "0.05");
  assert.equal(format(-5n), "-0.05");
  assert.equal(format(10000000n, true), "100,000.00");
  assert.equal(format(-123456789n, true), "-1,234,567.89");
  assert.equal(format(null), "—");
  assert.equal(signed(150n), "+1.50");
  assert.equal(signed(-150n), "-1.50");
  assert.equal(signed(0n), "0.00");
});

test("arithmetic has no float error", () => {
  assert.equal(format(sum(cents("0.1"), cents("0.2"))), "0.30"); // 0.1 + 0.2 !== 0.3 in floats
  assert.equal(format(times(cents("101.25"), 25), true), "2,531.25");
  assert.equal(format(times(cents("0.07"), 3)), "0.21");
  assert.equal(times(cents("99999999999.99"), 10000), 99999999999990000n); // exact past 2^53
  assert.equal(minus(cents("10.00"), cents("10.01")), -1n);
  assert.equal(sum(1n, null), null);
  assert.equal(minus(null, 1n), null);
  assert.throws(() => times(100n, 1.5));
});

test("percentages round half away from zero, with a sign for gains", () => {
  assert.equal(percent(150n, 10000n), "+1.50");
  assert.equal(percent(-150n, 10000n), "-1.50");
  assert.equal(percent(1n, 3n), "+33.33");
  assert.equal(percent(2n, 3n), "+66.67");
  assert.equal(percent(-2n, 3n), "-66.67");
  assert.equal(percent(1n, 80000n), "0.00"); // 0.00125 % rounds to 0.00
  assert.equal(percent(5n, 0n), "0.00");
  assert.equal(percent(0n, 100n), "0.00");
});

test("the ticket's inputs are validated with the page's messages", () => {
  assert.deepEqual(parseLimit("101.25"), { value: "101.25", cents: 10125n });
  assert.deepEqual(parseLimit("1"), { value: "1.00", cents: 100n });
  assert.equal(parseLimit("1.005").error, "The limit price is a number with at most 2 decimals, like 101.25.");
  assert.equal(parseLimit("").error, "Enter the limit price, like 101.25.");
  assert.equal(parseLimit("0.00").error, "The limit price must be more than 0.");
  assert.equal(parseLimit("-1").error, "The limit price is a number with at most 2 decimals, like 101.25.");
  assert.deepEqual(parseQuantity("25", 10000), { value: 25 });
  assert.equal(parseQuantity("2.5", 10000).error, "Quantity must be a whole number of shares, like 10.");
  assert.equal(parseQuantity("", 10000).error, "Enter how many shares.");
  assert.match(parseQuantity("0", 10000).error, /^Quantity must be from 1 to 10.000\.$/);
});

test("chart labels round to the cent", () => {
  assert.equal(chartLabel(101.25), "101.25");
  assert.equal(chartLabel(0.1 + 0.2), "0.30");
});
