// The interactions in hand as tabs (an agent may hold several within their capacity).
// Tabs follow the ARIA tabs pattern: arrow keys move between them, each panel is kept
// alive while its interaction lasts.

import { announce, h } from "../lib/dom.js";
import { InteractionPanel } from "./panel.js";
import { everySecond } from "./ticker.js";

export class InteractionTabs {
  constructor({ store, reference, clock, actions }) {
    this.store = store;
    this.reference = reference;
    this.clock = clock;
    this.actions = actions;
    this.entries = new Map(); // interaction id -> {panel, tab, label, badge}
    this.selected = null;
    this.tablist = h("div", {
      class: "tablist",
      role: "tablist",
      "aria-label": "Your interactions",
      onkeydown: (event) => this._tabKey(event),
    });
    this.panels = h("div", { class: "panels" });
    this.empty = h(
      "div",
      { class: "empty-work" },
      h("p", {}, "No interaction in hand."),
      h("p", { class: "muted" }, "Accepted offers open here as tabs, one per interaction."),
    );
    this.el = h(
      "section",
      { class: "work", "aria-labelledby": "work-heading" },
      h("h2", { id: "work-heading", class: "visually-hidden" }, "Interactions in hand"),
      this.tablist,
      this.empty,
      this.panels,
    );
    store.addEventListener("change", () => this.render());
    everySecond(() => this.tick());
    this.render();
  }

  render() {
    const list = this.store.interactionList();
    const ids = new Set(list.map((it) => it.id));
    let lostFocus = false;
    for (const [id, entry] of this.entries) {
      if (!ids.has(id)) {
        lostFocus ||=
          entry.panel.el.contains(document.activeElement) || entry.tab === document.activeElement;
        entry.tab.remove();
        entry.panel.el.remove();
        this.entries.delete(id);
      }
    }
    let added = null;
    for (const it of list) {
      let entry = this.entries.get(it.id);
      if (!entry) {
        entry = this._entry(it);
        this.entries.set(it.id, entry);
        entry.panel.el.hidden = true; // until selected
        this.tablist.appendChild(entry.tab);
        this.panels.appendChild(entry.panel.el);
        added = it.id;
      }
      const enteredWrapUp = entry.panel.update(it);
      entry.label.textContent = entry.panel.tabLabel();
      if (enteredWrapUp && this.selected === it.id) {
        // The conversation just ended here: take the agent straight to the form, unless
        // they are typing somewhere else.
        if (!isTyping(document.activeElement)) entry.panel.focusWrapUp();
      }
    }
    if (added && (!this.selected || !this._busyInSelected())) this.select(added, false);
    if (!this.entries.has(this.selected)) {
      const first = this.entries.keys().next();
      this.selected = null;
      if (!first.done) this.select(first.value, false);
    }
    // Focus must not fall to the page's start when the agent's tab goes away under it.
    if (lostFocus) this.entries.get(this.selected)?.tab.focus();
    this.empty.hidden = this.entries.size > 0;
    this.tablist.hidden = this.entries.size === 0;
    this.tick();
  }

  _entry(it) {
    const panel = new InteractionPanel({
      interaction: it,
      reference: this.reference,
      clock: this.clock,
      actions: this.actions,
    });
    const label = h("span", { class: "tab-label" });
    const badge = h("span", { class: "tab-state" });
    const tab = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: panel.tabId,
        "aria-controls": panel.panelId,
        "aria-selected": "false",
        tabindex: "-1",
        class: "tab",
        onclick: () => this.select(it.id),
      },
      label,
      badge,
    );
    return { panel, tab, label, badge };
  }

  _busyInSelected() {
    const entry = this.entries.get(this.selected);
    return (
      entry !== undefined &&
      entry.panel.el.contains(document.activeElement) &&
      isTyping(document.activeElement)
    );
  }

  select(id, focus = true) {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.selected = id;
    for (const [otherId, other] of this.entries) {
      const on = otherId === id;
      other.tab.setAttribute("aria-selected", on ? "true" : "false");
      other.tab.tabIndex = on ? 0 : -1;
      other.panel.el.hidden = !on;
    }
    if (focus) entry.tab.focus();
    announce(`Showing ${entry.panel.tabLabel()}`);
  }

  current() {
    return this.entries.get(this.selected)?.panel ?? null;
  }

  _tabKey(event) {
    const ids = [...this.entries.keys()];
    const at = ids.indexOf(this.selected);
    let next = null;
    if (event.key === "ArrowRight") next = ids[(at + 1) % ids.length];
    else if (event.key === "ArrowLeft") next = ids[(at - 1 + ids.length) % ids.length];
    else if (event.key === "Home") next = ids[0];
    else if (event.key === "End") next = ids[ids.length - 1];
    if (next !== null && next !== undefined) {
      event.preventDefault();
      this.select(next);
    }
  }

  tick() {
    for (const entry of this.entries.values()) {
      entry.panel.tick();
      entry.badge.textContent = entry.panel.stateWord();
      entry.tab.classList.toggle("wrapping", entry.panel.interaction.state === "wrap_up");
    }
  }
}

/** Whether the element takes typed text (shortcuts other than Alt combos stay out of it). */
export function isTyping(el) {
  if (!el) return false;
  if (el.isContentEditable) return true;
  if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  if (el.tagName !== "INPUT") return false;
  return !["button", "checkbox", "radio", "submit", "reset", "range", "color"].includes(el.type);
}
