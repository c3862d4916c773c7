/* localStorage, guarded and keyed per user: `switchboard.<name>.<userId>`.
 *
 * Storage may be off (privacy mode), full, or throw on mere access (a
 * sandboxed frame): every call is wrapped, and the page then works without
 * it. Keys carry the user id so that two accounts on one browser never read
 * each other's data; `clear(names)` wipes a user's keys at logout.
 *
 * The Storage is injected (`createStore(userId, storage)`): tests/js/storage.test.js
 * runs this under `node --test` with an in-memory one.
 */

export function storageKey(name, userId) {
  return "switchboard." + name + "." + userId;
}

/** window.localStorage, or null when the browser refuses access. */
export function browserStorage() {
  try {
    return globalThis.localStorage || null;
  } catch (_) {
    return null;
  }
}

export function createStore(userId, storage = browserStorage()) {
  if (userId === undefined || userId === null || String(userId) === "") {
    throw new Error("storage: a user id is required (keys are per user)");
  }
  const key = (name) => storageKey(name, userId);
  return {
    key,
    /** The parsed JSON value, or `fallback` when absent, unreadable or storage is off. */
    get(name, fallback = null) {
      if (!storage) return fallback;
      try {
        const raw = storage.getItem(key(name));
        return raw === null ? fallback : JSON.parse(raw);
      } catch (_) {
        return fallback;
      }
    },
    /** Stores JSON; false when it could not (off, full). */
    set(name, value) {
      if (!storage) return false;
      try {
        storage.setItem(key(name), JSON.stringify(value));
        return true;
      } catch (_) {
        return false;
      }
    },
    remove(name) {
      if (!storage) return;
      try {
        storage.removeItem(key(name));
      } catch (_) { /* storage off */ }
    },
    clear(names) {
      for (const name of names) this.remove(name);
    },
  };
}
