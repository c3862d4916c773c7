/* The header's menu button and the chat page's drawers (narrow screens).
 *
 * Loaded by base.html on every page; it does nothing where its elements are
 * missing. Both are disclosure widgets: a <button aria-expanded aria-controls>
 * toggles the panel it names; Esc closes it and gives focus back to the
 * button. What is open is a class on the panel ("is-open"); the CSS decides
 * that the class matters only on narrow screens, so on a wide screen the nav
 * and the sidebars stay where they always were whatever the class says.
 */

function setupMenu() {
  const button = document.getElementById("menu-button");
  const panel = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!button || !panel) return;

  const isOpen = () => button.getAttribute("aria-expanded") === "true";
  const close = (refocus) => {
    if (!isOpen()) return;
    button.setAttribute("aria-expanded", "false");
    panel.classList.remove("is-open");
    if (refocus) button.focus();
  };
  const open = () => {
    button.setAttribute("aria-expanded", "true");
    panel.classList.add("is-open");
    const first = panel.querySelector("a[href], button:not([disabled])");
    if (first) first.focus();
  };

  button.addEventListener("click", () => (isOpen() ? close(true) : open()));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && isOpen()) close(panel.contains(document.activeElement));
  });
  // A click or focus outside closes it (the panel lies over the page).
  document.addEventListener("click", (e) => {
    if (isOpen() && !panel.contains(e.target) && !button.contains(e.target)) close(false);
  });
  panel.addEventListener("focusout", (e) => {
    if (isOpen() && e.relatedTarget && !panel.contains(e.relatedTarget) && e.relatedTarget !== button) close(false);
  });
}

function setupDrawers() {
  const buttons = Array.from(document.querySelectorAll("button[data-drawer]"));
  if (!buttons.length) return;
  const backdrop = document.getElementById("drawer-backdrop");
  let current = null; // {button, panel}

  const close = (refocus) => {
    if (!current) return;
    const { button, panel } = current;
    current = null;
    button.setAttribute("aria-expanded", "false");
    panel.classList.remove("is-open");
    if (backdrop) backdrop.hidden = true;
    document.body.classList.remove("drawer-open");
    if (refocus) button.focus();
  };
  const open = (button) => {
    const panel = document.getElementById(button.getAttribute("aria-controls"));
    if (!panel) return;
    close(false);
    current = { button, panel };
    button.setAttribute("aria-expanded", "true");
    panel.classList.add("is-open");
    if (backdrop) backdrop.hidden = false;
    document.body.classList.add("drawer-open");
    // Focus into the drawer: the active room if there is one, else the panel.
    const target = panel.querySelector("li.room.active") || panel.querySelector("li.room, [tabindex], a[href], button, input");
    (target || panel).focus({ preventScroll: true });
  };

  for (const button of buttons) {
    const panel = document.getElementById(button.getAttribute("aria-controls"));
    if (!panel) continue;
    if (!panel.hasAttribute("tabindex")) panel.setAttribute("tabindex", "-1");
    button.addEventListener("click", () => (current && current.button === button ? close(true) : open(button)));
  }
  // Picking a room (or a person to message, or creating a room) is what the
  // drawer was opened for: chat/main.js says when a room opens, and the drawer
  // closes, focus back on its button.
  document.addEventListener("switchboard:room-opened", () => close(true));
  for (const panel of document.querySelectorAll("[data-drawer-close]")) {
    panel.addEventListener("click", () => close(true));
  }
  if (backdrop) backdrop.addEventListener("click", () => close(true));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && current) close(true);
  });
  // Growing past the breakpoint while open: nothing left to close by hand.
  window.addEventListener("resize", () => {
    if (current && getComputedStyle(current.button).display === "none") close(false);
  });
}

setupMenu();
setupDrawers();
