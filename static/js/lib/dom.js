/* A few DOM helpers. Text goes in through textContent / text nodes only:
 * there is deliberately no way to pass HTML (no innerHTML anywhere). */

import { formatDate } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

const FORBIDDEN = new Set(["innerHTML", "outerHTML", "srcdoc"]);

/**
 * h("td", {className: "num", dataset: {id: 3}, onClick: fn}, "text", node, ...)
 * Strings and numbers become text nodes; null/false/undefined are skipped;
 * arrays are flattened. `on<Event>` functions become listeners.
 */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (FORBIDDEN.has(name)) throw new Error("h(): " + name + " is not allowed (text only)");
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "className") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (/^on[A-Z]/.test(name) && typeof value === "function") {
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** An inline error (an element with role=alert): shown with its text, or hidden and emptied. */
export function showError(node, text) {
  node.textContent = text;
  node.hidden = false;
}

export function hideError(node) {
  node.hidden = true;
  node.textContent = "";
}

/** The .up / .down colour classes for a signed value. */
export function trend(node, value) {
  node.classList.toggle("up", value > 0);
  node.classList.toggle("down", value < 0);
}

/** The per-page data the template put in data-* attributes of `root`. */
export function pageData(root) {
  return root ? { ...root.dataset } : {};
}

/** "14:03:09" in the page's language and the browser's time zone, "" for a bad timestamp. */
export function clockTime(ts) {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? "" : formatDate(d, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
