/* Money as whole cents, in BigInt: never a float.
 *
 * Amounts arrive as decimal strings ("101.25", "-3.50"; the server quantizes
 * to cents, blueprints/market/service.py). They become BigInt cents here, all
 * arithmetic (value = price x quantity, P/L, equity) stays in BigInt, and
 * format() turns cents back into text. A Number would be exact only up to
 * 2^53 cents and invites `0.1 + 0.2`; BigInt makes a float impossible to mix
 * in (mixing throws). The chart alone uses toChartNumber(): display only.
 *
 * No DOM here: tests/js/money.test.js runs it under `node --test`.
 */
import { t, formatNumber } from "../lib/i18n.js";

const MONEY_RE = /^([+-]?)(\d{1,15})(?:\.(\d{1,2}))?$/;
const LIMIT_RE = /^(0|[1-9]\d{0,9})(\.\d{1,2})?$/;

/** "101.25" -> 10125n, "-0.5" -> -50n; null when not an amount with at most 2 decimals. */
export function cents(text) {
  if (typeof text === "bigint") return text;
  const m = MONEY_RE.exec(String(text === null || text === undefined ? "" : text).trim());
  if (!m) return null;
  const value = BigInt(m[2]) * 100n + BigInt((m[3] || "").padEnd(2, "0"));
  return m[1] === "-" ? -value : value;
}

/** 10125n -> "101.25"; with group, thousands separators ("1,234.50"); null -> "—". */
export function format(c, group = false) {
  if (c === null || c === undefined) return "—";
  const v = BigInt(c);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  let whole = (abs / 100n).toString();
  if (group) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = (abs % 100n).toString().padStart(2, "0");
  return (neg ? "-" : "") + whole + "." + frac;
}

/** With an explicit sign for gains: "+1,234.50", "-3.00", "0.00". */
export function signed(c) {
  if (c === null || c === undefined) return "—";
  return (BigInt(c) > 0n ? "+" : "") + format(c, true);
}

/** Price x whole quantity (shares are integers). */
export function times(c, quantity) {
  if (c === null || c === undefined) return null;
  if (!Number.isSafeInteger(quantity) && typeof quantity !== "bigint") {
    throw new TypeError("quantity must be a whole number");
  }
  return BigInt(c) * BigInt(quantity);
}

/** Sum of cents, null when any is null (an unknown part makes the total unknown). */
export function sum(...values) {
  let total = 0n;
  for (const v of values) {
    if (v === null || v === undefined) return null;
    total += BigInt(v);
  }
  return total;
}

/** a - b, null when either is unknown. */
export function minus(a, b) {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  return BigInt(a) - BigInt(b);
}

/**
 * part / whole as a percentage with 2 decimals and a sign for gains
 * ("+12.35", "-0.50", "0.00"), rounded half away from zero; "0.00" for whole 0.
 */
export function percent(part, whole) {
  if (part === null || whole === null || part === undefined || whole === undefined) return "—";
  const p = BigInt(part);
  const w = BigInt(whole);
  if (w === 0n) return "0.00";
  const num = p * 10000n; // basis points x whole
  const neg = (num < 0n) !== (w < 0n);
  const an = num < 0n ? -num : num;
  const aw = w < 0n ? -w : w;
  let bp = an / aw;
  if ((an % aw) * 2n >= aw) bp += 1n;
  const text = format(bp, false);
  if (bp === 0n) return "0.00";
  return (neg ? "-" : "+") + text;
}

/** The limit price a person typed: {value: "101.25", cents} or {error}. */
export function parseLimit(raw) {
  const text = String(raw === null || raw === undefined ? "" : raw).trim();
  if (text === "") return { error: t("Enter the limit price, like 101.25.") };
  if (!LIMIT_RE.test(text)) return { error: t("The limit price is a number with at most 2 decimals, like 101.25.") };
  const c = cents(text);
  if (c <= 0n) return { error: t("The limit price must be more than 0.") };
  return { value: format(c, false), cents: c };
}

/** A whole number of shares from 1 to max: {value} or {error}. */
export function parseQuantity(raw, max) {
  const text = String(raw === null || raw === undefined ? "" : raw).trim();
  if (text === "") return { error: t("Enter how many shares.") };
  if (!/^\d+$/.test(text)) return { error: t("Quantity must be a whole number of shares, like 10.") };
  const n = Number(text);
  if (n < 1 || n > max) return { error: t("Quantity must be from 1 to {max}.", { max: formatNumber(max) }) };
  return { value: n };
}

/** Cents as a plain number of currency units, for drawing a chart only. */
export function toChartNumber(c) {
  return c === null || c === undefined ? null : Number(c) / 100;
}

/** The chart's axis value back to text (display rounding to the cent). */
export function chartLabel(units) {
  return format(BigInt(Math.round(units * 100)), false);
}
