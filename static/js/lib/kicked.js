/* A kick (docs/protocol.md section 15): the server refuses the user's
 * connects for KICK_BLOCK_SECONDS with connect_error
 * {code: "forbidden", reason: "kicked", retry_after}. The page says so and
 * tries again when the block ends, not before (an attempt before would only
 * be refused again) and only a moment after (up to 1 s of jitter, so the
 * user's tabs do not all come back in the same millisecond).
 *
 * No DOM here: tests/js/kicked.test.js runs it under `node --test`.
 */
import { t } from "./i18n.js";

/** True for the refusal of a kicked user. */
export function isKicked(data) {
  return !!data && data.code === "forbidden" && data.reason === "kicked" && Number(data.retry_after) > 0;
}

/** "14:03:09" (24-hour, local time) for a time in ms. */
export function clock(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/**
 * When to retry and what to say.
 * @returns {{ms: number, at: number, text: string}}
 */
export function kickedRetry(retryAfter, now = Date.now(), random = Math.random) {
  const ms = Math.max(1, Number(retryAfter) || 1) * 1000 + Math.round(Math.min(Math.max(Number(random()) || 0, 0), 1) * 1000);
  const at = now + ms;
  return { ms, at, text: t("An administrator disconnected you; retrying at {time}", { time: clock(at) }) };
}
