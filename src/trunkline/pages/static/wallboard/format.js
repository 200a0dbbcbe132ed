// Words and small DOM helpers the wallboard's views share.

import { formatDuration, replaceChildren } from "../lib/dom.js";

export const STATE_LABELS = {
  logged_out: "Logged out",
  not_ready: "Not ready",
  ready: "Ready",
  reserved: "Offered",
  busy: "Busy",
  wrap_up: "Wrap-up",
};

// The states a tile counts, in the order a supervisor reads them.
export const SHOWN_STATES = ["ready", "reserved", "busy", "wrap_up", "not_ready"];

export const PHASE_LABELS = {
  new: "arriving",
  waiting: "waiting",
  offered: "offered",
  handling: "in progress",
  wrap_up: "wrap-up",
};

export const INTERACTION_STATE_LABELS = {
  new: "Arriving",
  queued: "Waiting",
  offered: "Offered",
  assigned: "In progress",
  wrap_up: "Wrap-up",
};

export { mediumLabel } from "../lib/media.js";
export const stateLabel = (s) => STATE_LABELS[s] || s || "";

/** Seconds as "0:42" / "1:02:05"; missing as a dash. */
export function duration(seconds) {
  return seconds === null || seconds === undefined ? "–" : formatDuration(seconds);
}

/** Seconds for a wait target or an estimate: "30 s", "4 min", "4 h". */
export function shortSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

export function count(value) {
  return value === null || value === undefined ? "–" : String(value);
}

/**
 * A server time as a clock in the centre shows it: in the centre's zone once known
 * (GET /api/v1/me), else the browser's.
 */
export function clockTime(epochSeconds, timezone, { seconds = false } = {}) {
  const options = { hour: "2-digit", minute: "2-digit" };
  if (seconds) options.second = "2-digit";
  const date = new Date(epochSeconds * 1000);
  try {
    return date.toLocaleTimeString(undefined, { ...options, timeZone: timezone || undefined });
  } catch {
    return date.toLocaleTimeString(undefined, options); // a zone this browser does not know
  }
}

/** Set text only when it changed: no needless layout, no screen-reader chatter. */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** Set a class among a group (e.g. level-ok|warn|alarm) on `el`. */
export function setExclusiveClass(el, prefix, value, values) {
  for (const v of values) el.classList.toggle(`${prefix}${v}`, v === value);
}

/**
 * Rebuild `el`'s children with `build()` when `signature` differs from the last one, and
 * give focus back to the control that had it (matched by data-focus-key): a live update
 * must not yank the keyboard away from a supervisor editing a row.
 */
export function rebuildIfChanged(el, signature, build) {
  if (el.dataset.signature === signature) return false;
  const active = document.activeElement;
  const focusKey = active && el.contains(active) ? active.dataset.focusKey : undefined;
  el.dataset.signature = signature;
  replaceChildren(el, build());
  if (focusKey) {
    const again = el.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
    if (again) again.focus();
  }
  return true;
}

/** A stable id fragment for DOM ids built from server ids. */
export function idPart(value) {
  return String(value).replace(/[^A-Za-z0-9_-]/g, "_");
}
