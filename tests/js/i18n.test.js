// static/js/lib/i18n.js: the scripts' words in the page's language. Under Node
// there is no document, so English until a test sets a catalogue.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { t, interpolate, setCatalogue, pageLang, formatDate, formatNumber } from "../../static/js/lib/i18n.js";
import { parseQuantity } from "../../static/js/market/money.js";
import { roomHeading } from "../../static/js/chat/format.js";
import { errorText } from "../../static/js/lib/rpc.js";

const zh = JSON.parse(readFileSync(new URL("../../static/i18n/zh-CN.json", import.meta.url), "utf8"));

test("English needs no catalogue: the key is the text", (t_) => {
  t_.after(() => setCatalogue("en", {}));
  setCatalogue("en", {});
  assert.equal(pageLang(), "en");
  assert.equal(t("Pick a symbol."), "Pick a symbol.");
  assert.equal(t("{name} is typing…", { name: "ann" }), "ann is typing…");
});

test("placeholders: filled as text, left as written when no value is given", () => {
  assert.equal(interpolate("{a} and {b}", { a: 1, b: "<b>" }), "1 and <b>");
  assert.equal(interpolate("{a} and {b}", { a: 1 }), "1 and {b}");
  assert.equal(interpolate("no params"), "no params");
  assert.equal(interpolate("{toString}", {}), "{toString}"); // no prototype lookups
});

test("zh-CN: translated, with placeholders, and the modules' messages follow", (t_) => {
  t_.after(() => setCatalogue("en", {}));
  setCatalogue("zh-CN", zh);
  assert.equal(pageLang(), "zh-CN");
  assert.equal(t("{name} is typing…", { name: "ann" }), "ann 正在输入…");
  assert.equal(parseQuantity("", 10000).error, "请输入股数。");
  assert.equal(parseQuantity("0", 10000).error, "数量必须在 1 到 10,000 之间。");
  assert.deepEqual(roomHeading({ id: 1, name: "general", kind: "public", members: [{ id: 1 }, { id: 2 }] }, { id: 1 }),
    { title: "# general", meta: "公开房间 · 2 位成员" });
  assert.equal(errorText({ ok: false, error: { code: "x" } }), "出错了。");
  // A key missing from the catalogue shows English, never nothing.
  assert.equal(t("A string nobody translated"), "A string nobody translated");
});

test("dates and numbers in the page's language", (t_) => {
  t_.after(() => setCatalogue("en", {}));
  const d = new Date(2026, 10, 20, 9, 5);
  setCatalogue("zh-CN", zh);
  assert.match(formatDate(d, { month: "short", day: "numeric" }), /11月20日/);
  assert.equal(formatNumber(12345), "12,345");
  setCatalogue("en", {});
  assert.match(formatDate(d, { month: "short", day: "numeric" }), /Nov 20/);
});
