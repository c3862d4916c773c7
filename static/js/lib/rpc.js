/* Calls with an acknowledgement, as one envelope (docs/protocol.md section 3).
 *
 * `call(socket, event, payload)` resolves, never rejects, to what the server
 * answered ({ok: true, ...} or {ok: false, error: {code, message, ...}}), or,
 * with no answer, to {ok: false, error: {code: "timeout" | "disconnected"}}.
 * Callers then branch on `ack.ok` only; `isLost(ack)` tells "no answer" (the
 * page's connect handler redoes what matters) from a refusal to show.
 *
 * No DOM here: tests/js/rpc.test.js runs it under `node --test`.
 */

import { t } from "./i18n.js";

export const TIMEOUT = "timeout";
export const DISCONNECTED = "disconnected";
export const CALL_TIMEOUT_MS = 20000;

/**
 * The envelope for one `socket.timeout(ms).emit(..., (err, ack) => ...)`
 * callback. socket.io-client reports both "operation has timed out" and
 * "socket has been disconnected" as `err`: the message tells which.
 */
export function envelope(err, ack) {
  if (err) {
    const message = String((err && err.message) || "");
    const code = /disconnect/i.test(message) ? DISCONNECTED : TIMEOUT;
    return { ok: false, error: { code, message: t("No answer from the server.") } };
  }
  if (!ack || typeof ack !== "object" || typeof ack.ok !== "boolean") {
    return { ok: false, error: { code: "internal", message: t("Bad reply from the server.") } };
  }
  if (!ack.ok && (!ack.error || typeof ack.error !== "object")) {
    return { ok: false, error: { code: "internal", message: t("Bad reply from the server.") } };
  }
  return ack;
}

/** Emit with an ack and a timeout; resolves to the envelope, never throws. */
export function call(socket, event, payload, timeoutMs = CALL_TIMEOUT_MS) {
  return new Promise((resolve) => {
    try {
      socket.timeout(timeoutMs).emit(event, payload === undefined ? {} : payload,
        (err, ack) => resolve(envelope(err, ack)));
    } catch (err) {
      resolve(envelope(err || new Error("emit failed"), null));
    }
  });
}

/** A bound `call` for one socket: `const rpc = caller(socket); await rpc("x", {})`. */
export function caller(socket, timeoutMs = CALL_TIMEOUT_MS) {
  return (event, payload) => call(socket, event, payload, timeoutMs);
}

/** True when the server never answered (the call may or may not have been done). */
export function isLost(ack) {
  const code = ack && !ack.ok && ack.error && ack.error.code;
  return code === TIMEOUT || code === DISCONNECTED;
}

/** The text to show people for a failed envelope (the server wrote its
 * message in the connection's language, docs/protocol.md section 16). */
export function errorText(ack, fallback) {
  return (ack && ack.error && ack.error.message) || fallback || t("Something went wrong.");
}
