/* The words the scripts show, in the page's language (docs/protocol.md section 16).
 *
 * `t("Send")` is the text for the English key "Send"; `t("{count} online",
 * {count: 3})` fills in `{name}` placeholders. The keys are the English texts,
 * so English needs no catalogue and a missing entry shows English, never a key.
 *
 * Where the page says which language: `<html lang>`, set by the server
 * (i18n.py: the account's choice, else Accept-Language, else English). The
 * catalogue of that language (static/i18n/<lang>.json) is embedded by
 * base.html as `<script type="application/json" id="i18n-catalogue">`: data,
 * not a script, so the CSP's `script-src 'self'` is untouched and no request
 * waits before the first string is shown.
 *
 * Keys are string literals at the call (`t("...")`, never a variable):
 * tests/unit/test_js_i18n.py reads the sources to check that every key has a
 * zh-CN entry. Text goes to the page through textContent only, as everywhere.
 *
 * Under Node (tests/js/) there is no document: English, unless a test calls
 * `setCatalogue`.
 */

let lang = "en";
let catalogue = {};

function fromPage() {
  if (typeof document === "undefined") return;
  lang = document.documentElement.getAttribute("lang") || "en";
  const node = document.getElementById("i18n-catalogue");
  if (!node) return;
  try {
    const data = JSON.parse(node.textContent || "{}");
    if (data && typeof data === "object" && !Array.isArray(data)) catalogue = data;
  } catch (_) {
    catalogue = {}; // a broken catalogue shows English, it does not break the page
  }
}
fromPage();

/** `{name}` -> params.name (as text); a placeholder without a value stays as written. */
export function interpolate(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
}

/** The text for English `key` in the page's language, placeholders filled in. */
export function t(key, params) {
  const found = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : null;
  return interpolate(typeof found === "string" && found ? found : key, params);
}

/** The page's language tag ("en", "zh-CN"), for Intl formatters. */
export function pageLang() {
  return lang;
}

/** For tests (and nothing else): use this language and catalogue. */
export function setCatalogue(tag, entries) {
  lang = tag;
  catalogue = entries || {};
}

const formatters = new Map();

/**
 * A date or time in the page's language and the browser's time zone
 * (Intl.DateTimeFormat with no timeZone: the browser's own). `options` are
 * Intl's; formatters are kept per options, they are not cheap to build.
 */
export function formatDate(date, options) {
  const key = lang + JSON.stringify(options || {});
  let fmt = formatters.get(key);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat(lang, options);
    } catch (_) {
      fmt = new Intl.DateTimeFormat(undefined, options);
    }
    formatters.set(key, fmt);
  }
  return fmt.format(date instanceof Date ? date : new Date(date));
}

/** A number in the page's language (grouping, decimal sign). */
export function formatNumber(value, options) {
  try {
    return new Intl.NumberFormat(lang, options).format(value);
  } catch (_) {
    return String(value);
  }
}
