/* Short messages at the corner of the page; text only, never HTML. */

const KEEP = 4;
const SHOW_MS = 6000;

export function toast(container, text, kind) {
  if (!container) return;
  const node = document.createElement("div");
  node.className = "toast" + (kind ? " toast-" + kind : "");
  node.setAttribute("role", kind === "error" ? "alert" : "status");
  node.textContent = text;
  container.appendChild(node);
  while (container.children.length > KEEP) container.firstElementChild.remove();
  window.setTimeout(() => {
    node.classList.add("leaving");
    window.setTimeout(() => node.remove(), 400);
  }, SHOW_MS);
}

/** toast() bound to one container: `const say = toaster($("toasts")); say("hi")`. */
export function toaster(container) {
  return (text, kind) => toast(container, text, kind);
}
