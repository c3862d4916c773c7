// static/js/lib/api.js: one envelope for every outcome of a fetch.
import test from "node:test";
import assert from "node:assert/strict";
import { api, csrfToken } from "../../static/js/lib/api.js";

function stub(status, body) {
  const calls = [];
  const fetch = async (path, init) => {
    calls.push({ path, init });
    return { ok: status >= 200 && status < 300, status, json: async () => { if (body === undefined) throw new Error("no body"); return body; } };
  };
  return { fetch, calls };
}

test("a JSON body is sent with the CSRF header and the answer comes back as data", async () => {
  const s = stub(201, { id: 3, token: "sbp_x" });
  const reply = await api("/api/tokens", { method: "POST", body: { name: "n" }, csrf: "c1", fetch: s.fetch });
  assert.deepEqual(reply, { ok: true, status: 201, data: { id: 3, token: "sbp_x" } });
  assert.equal(s.calls[0].init.method, "POST");
  assert.equal(s.calls[0].init.headers["X-CSRFToken"], "c1");
  assert.equal(s.calls[0].init.headers["Content-Type"], "application/json");
  assert.equal(s.calls[0].init.body, JSON.stringify({ name: "n" }));
});

test("204 has no body", async () => {
  const reply = await api("/api/tokens/1", { method: "DELETE", fetch: stub(204).fetch });
  assert.deepEqual(reply, { ok: true, status: 204, data: null });
});

test("an error envelope passes through; a bodiless error gets one", async () => {
  const r1 = await api("/x", { fetch: stub(409, { error: { code: "conflict", message: "too many" } }).fetch });
  assert.deepEqual(r1, { ok: false, status: 409, error: { code: "conflict", message: "too many" } });
  const r2 = await api("/x", { fetch: stub(502).fetch });
  assert.equal(r2.ok, false);
  assert.equal(r2.error.code, "internal");
});

test("a network failure resolves, never rejects", async () => {
  const reply = await api("/x", { fetch: async () => { throw new TypeError("offline"); } });
  assert.equal(reply.ok, false);
  assert.equal(reply.error.code, "network");
});

test("csrfToken reads the meta tag", () => {
  const doc = { querySelector: (sel) => (sel === 'meta[name="csrf-token"]' ? { getAttribute: () => "tok" } : null) };
  assert.equal(csrfToken(doc), "tok");
  assert.equal(csrfToken({ querySelector: () => null }), "");
});
