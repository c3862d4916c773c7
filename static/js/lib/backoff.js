/* When to try connecting again after the server refused a connection.
 *
 * A refusal (connect_error with data.code) is not retried by socket.io-client
 * itself, so the page schedules the next attempt. The server's `retry_after`
 * (seconds) wins when given; otherwise a per-code base that doubles with each
 * refusal in a row, capped, plus up to 20 % jitter so that the tabs of one
 * user (the per-user cap counts them all) do not come back in step.
 *
 * No DOM here: tests/js/backoff.test.js runs it under `node --test`.
 */

export const BASE_MS = {
  too_many_connections: 15000, // a cap is reached: another tab or process must leave first
  rate_limited: 5000,
  forbidden: 15000,
};
export const DEFAULT_BASE_MS = 5000;
export const MAX_MS = 60000;
/** After the server itself closed the socket (logout elsewhere, age, kick): once, soon. */
export const SERVER_CLOSE_MS = 1000;

/**
 * @param {object} o
 * @param {string} [o.code]        connect_error data.code
 * @param {number|string} [o.retryAfter] the server's retry_after, in seconds
 * @param {number} [o.attempt]     refusals in a row before this one (0 for the first)
 * @param {() => number} [o.random] Math.random, injectable for tests
 * @returns {number} milliseconds to wait
 */
export function retryDelay({ code, retryAfter, attempt = 0, random = Math.random } = {}) {
  const given = Number(retryAfter);
  let ms;
  if (Number.isFinite(given) && given > 0) {
    ms = Math.min(given * 1000, MAX_MS * 10); // the server knows: no doubling, a sane cap
  } else {
    const base = BASE_MS[code] || DEFAULT_BASE_MS;
    const n = Math.max(0, Math.min(Math.floor(Number(attempt) || 0), 16));
    ms = Math.min(base * 2 ** n, MAX_MS);
  }
  const r = Math.min(Math.max(Number(random()) || 0, 0), 1);
  return Math.round(ms + ms * 0.2 * r);
}

/** Refusals that the page waits out and retries (any other code: see connection.js). */
export function isRefusal(code) {
  return typeof code === "string" && code !== "unauthorized";
}
