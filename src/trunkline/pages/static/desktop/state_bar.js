// The state bar: what routing sees of the agent now (with time in state), the presence
// that applies once the work in hand is done, a wrap-up countdown, and the controls to go
// ready or not ready with a reason.

import { announce, formatDuration, h, replaceChildren } from "../lib/dom.js";
import { stateLabel } from "./labels.js";
import { everySecond } from "./ticker.js";

const WORK_STATES = new Set(["reserved", "busy", "wrap_up"]);

export class StateBar {
  /**
   * actions: {ready(), notReady(code), loginRouting()} — each returns a Promise and
   * reports its own errors.
   */
  constructor({ store, reference, clock, actions }) {
    this.store = store;
    this.reference = reference;
    this.clock = clock;
    this.actions = actions;
    this.lastAnnounced = "";

    this.stateText = h("span", { class: "state-name" });
    this.status = h(
      "p",
      { id: "agent-state", class: "state-pill", role: "status", "aria-label": "Your state" },
      this.stateText,
    );
    this.timeInState = h("span", { class: "state-time", id: "state-time" });
    this.countdown = h("span", { class: "wrap-countdown", id: "wrap-countdown" });

    this.readyButton = h(
      "button",
      {
        type: "button",
        class: "ok",
        id: "ready-button",
        "aria-keyshortcuts": "Alt+R",
        onclick: () => this.actions.ready(),
      },
      "Ready ",
      h("kbd", { "aria-hidden": "true" }, "Alt+R"),
    );
    this.loginButton = h(
      "button",
      {
        type: "button",
        class: "primary",
        hidden: true,
        onclick: () => this.actions.loginRouting(),
      },
      "Log in to routing",
    );
    this.menuButton = h(
      "button",
      {
        type: "button",
        id: "not-ready-button",
        "aria-haspopup": "menu",
        "aria-expanded": "false",
        "aria-controls": "not-ready-menu",
        "aria-keyshortcuts": "Alt+N",
        onclick: () => (this.menuOpen() ? this.closeMenu() : this.openMenu()),
      },
      "Not ready ▾ ",
      h("kbd", { "aria-hidden": "true" }, "Alt+N"),
    );
    this.menu = h("ul", {
      id: "not-ready-menu",
      class: "menu",
      role: "menu",
      "aria-label": "Not-ready reasons",
      hidden: true,
      onkeydown: (event) => this._menuKey(event),
    });
    this.menuWrap = h("div", { class: "menu-wrap" }, this.menuButton, this.menu);
    document.addEventListener("pointerdown", (event) => {
      if (this.menuOpen() && !this.menuWrap.contains(event.target)) this.closeMenu(false);
    });

    this.el = h(
      "section",
      { class: "state-bar", "aria-label": "Your routing state" },
      h("div", { class: "state-now" }, this.status, this.timeInState, this.countdown),
      h("div", { class: "state-controls" }, this.readyButton, this.menuWrap, this.loginButton),
    );

    store.addEventListener("change", () => this.render());
    everySecond(() => this.tick());
    this.render();
  }

  render() {
    const agent = this.store.agent;
    if (!agent) {
      this.stateText.textContent = "Connecting…";
      this.status.className = "state-pill";
      return;
    }
    const text = this.describe(agent);
    this.stateText.textContent = text;
    this.status.className = `state-pill state-${agent.state}`;
    if (text !== this.lastAnnounced && this.lastAnnounced) announce(`Your state: ${text}`);
    this.lastAnnounced = text;

    const loggedOut = agent.presence === "logged_out";
    this.loginButton.hidden = !loggedOut;
    this.readyButton.hidden = loggedOut;
    this.menuWrap.hidden = loggedOut;
    this.readyButton.disabled = agent.presence === "ready";
    this.readyButton.title =
      agent.presence === "ready" ? "You are ready" : "Be offered work (Alt+R)";
    this._renderMenu(agent);
    this.tick();
  }

  /** "Busy · then Not ready (Lunch)": the state routing sees, then what comes after. */
  describe(agent) {
    const reason = (code) => this.reference.reasonLabel(code);
    let now = stateLabel(agent.state);
    if (agent.state === "not_ready" && agent.reason) now += ` (${reason(agent.reason)})`;
    if (!WORK_STATES.has(agent.state)) return now;
    const then =
      agent.presence === "not_ready"
        ? `Not ready${agent.presence_reason ? ` (${reason(agent.presence_reason)})` : ""}`
        : stateLabel(agent.presence);
    return `${now} · then ${then}`;
  }

  tick() {
    const agent = this.store.agent;
    if (!agent) {
      this.timeInState.textContent = "";
      this.countdown.textContent = "";
      return;
    }
    this.timeInState.textContent = `for ${formatDuration(this.clock.now() - agent.since)}`;
    const deadline = this.store.wrapUpDeadline();
    this.countdown.textContent =
      deadline === null ? "" : `wrap-up ends in ${formatDuration(deadline - this.clock.now())}`;
  }

  // --------------------------------------------------------------- the menu

  _renderMenu(agent) {
    const current = agent.presence === "not_ready" ? agent.presence_reason : null;
    const reasons = this.reference.choosableReasons();
    replaceChildren(
      this.menu,
      reasons.map((r) =>
        h(
          "li",
          { role: "none" },
          h(
            "button",
            {
              type: "button",
              role: "menuitemradio",
              "aria-checked": r.code === current ? "true" : "false",
              tabindex: "-1",
              dataset: { reason: r.code },
              onclick: () => {
                this.closeMenu();
                this.actions.notReady(r.code);
              },
            },
            r.label,
          ),
        ),
      ),
      reasons.length ? null : h("li", { role: "none", class: "muted" }, "No reasons configured"),
    );
  }

  menuOpen() {
    return !this.menu.hidden;
  }

  openMenu() {
    if (this.menuWrap.hidden) return;
    this.menu.hidden = false;
    this.menuButton.setAttribute("aria-expanded", "true");
    const items = this._items();
    const checked = items.find((i) => i.getAttribute("aria-checked") === "true");
    (checked ?? items[0])?.focus();
  }

  closeMenu(focusButton = true) {
    this.menu.hidden = true;
    this.menuButton.setAttribute("aria-expanded", "false");
    if (focusButton) this.menuButton.focus();
  }

  _items() {
    return [...this.menu.querySelectorAll("[role=menuitemradio]")];
  }

  _menuKey(event) {
    const items = this._items();
    const at = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    } else if (event.key === "Home") {
      event.preventDefault();
      items[0]?.focus();
    } else if (event.key === "End") {
      event.preventDefault();
      items[items.length - 1]?.focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.closeMenu();
    } else if (event.key === "Tab") {
      this.closeMenu(false);
    }
  }
}
