// Small DOM helpers. Text always goes in as text nodes, never as HTML: customer data
// (names, notes, subjects) can hold anything, and the pages never parse it as markup.

/**
 * h("button", {class: "primary", onclick: fn, "aria-label": "Accept"}, "Accept")
 * Attributes: `class`, `dataset` (object), `on<event>` (listener), booleans (set when
 * true, omitted when false), anything else as an attribute. Children: nodes, strings,
 * numbers, arrays, null/undefined/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "value" && "value" in el) el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Keep `parent`'s children in step with `items`, one view per item in their order: views
 * of ids gone are removed, new items get `build(item)`, each view's `element(view)` is
 * moved into place and `update(view, item)` refreshes it. `views` (id -> view) is kept
 * current, so unchanged rows keep their focus and half-typed input.
 */
export function syncKeyed(parent, views, items, { build, update, element }) {
  const ids = new Set(items.map((item) => item.id));
  for (const [id, view] of views) {
    if (!ids.has(id)) {
      element(view).remove();
      views.delete(id);
    }
  }
  items.forEach((item, index) => {
    let view = views.get(item.id);
    if (!view) {
      view = build(item);
      views.set(item.id, view);
    }
    const el = element(view);
    if (parent.children[index] !== el) parent.insertBefore(el, parent.children[index] || null);
    update(view, item);
  });
}

/** 75 -> "1:15", 3725 -> "1:02:05"; negative or missing -> "0:00". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

/** Epoch seconds -> local date and time, short. */
export function formatTime(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined) return "";
  return new Date(epochSeconds * 1000).toLocaleString(undefined, {
    dateStyle: "short",
    timeStyle: "short",
  });
}

export function formatPercent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value)} %`;
}

/** The server clock's offset from ours, so time-in-state agrees with the server's. */
export class ServerClock {
  constructor() {
    this.offset = 0;
  }

  sync(serverEpochSeconds) {
    if (typeof serverEpochSeconds === "number") this.offset = serverEpochSeconds - Date.now() / 1000;
  }

  now() {
    return Date.now() / 1000 + this.offset;
  }
}

/** Show a short message in the page's live region (announced by screen readers). */
export function announce(text) {
  let region = document.getElementById("tl-announcer");
  if (!region) {
    region = h("div", { id: "tl-announcer", class: "visually-hidden", "aria-live": "polite" });
    document.body.appendChild(region);
  }
  region.textContent = text;
}

/** A transient toast for errors and confirmations. */
export function toast(text, { kind = "info", ms = 5000 } = {}) {
  let tray = document.getElementById("tl-toasts");
  if (!tray) {
    tray = h("div", { id: "tl-toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(tray);
  }
  const item = h("div", { class: `toast toast-${kind}` }, text);
  tray.appendChild(item);
  setTimeout(() => item.remove(), ms);
}

/** An API or socket error as one line a person can read. */
export function errorText(err) {
  if (!err) return "unknown error";
  if (err.message && err.errorId) return `${err.message} (${err.errorId})`;
  if (err.message && err.error_id) return `${err.message} (${err.error_id})`;
  return String(err.message || err);
}
