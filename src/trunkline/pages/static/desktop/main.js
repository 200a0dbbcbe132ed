// The agent desktop: log in, join routing, open the agent socket and wire the views to
// the store. Every command goes over the socket (accept, reject, ready, not ready, end,
// wrap-up) except transfer, which is a REST call.

import { api, logout } from "../lib/api.js";
import { announce, errorText, h, replaceChildren, ServerClock, toast } from "../lib/dom.js";
import { reloadOnLogout, requireLogin } from "../lib/login.js";
import { LiveSocket, reconnectOnline } from "../lib/socket.js";
import { OfferAlerts } from "./alerts.js";
import { BroadcastBanners } from "./broadcasts.js";
import { mediumLabel, Reference } from "./labels.js";
import { OfferList } from "./offers.js";
import { customerName } from "./screen_pop.js";
import { Shortcuts } from "./shortcuts.js";
import { StateBar } from "./state_bar.js";
import { DesktopStore } from "./store.js";
import { InteractionTabs } from "./tabs.js";

const root = document.getElementById("app");

const OFFER_GONE = {
  rejected: "Offer rejected",
  timed_out: "The offer rang out: you are now not ready (missed)",
  abandoned: "The customer left before you answered",
  cancelled: "The offer was withdrawn",
  moved: "A supervisor moved the offer elsewhere",
  disconnected: "The offer was withdrawn while you were disconnected",
  gone: "The offer is no longer yours",
};

const ENDED = {
  completed: "Interaction finished",
  auto_completed: "Wrap-up time ran out: interaction finished",
  cancelled: "The interaction was cancelled",
  abandoned: "The customer left",
  gone: "The interaction is no longer yours",
};

function fatal(title, detail, ...actions) {
  replaceChildren(
    root,
    h(
      "main",
      { class: "login-page" },
      h(
        "div",
        { class: "login-form", role: "alert" },
        h("h1", {}, title),
        h("p", {}, detail),
        actions,
      ),
    ),
  );
}

function logoutButton() {
  return h("button", { type: "button", class: "primary", onclick: () => logout() }, "Log out");
}

/** Routing needs the agent logged in; the desktop does it rather than ask (not ready). */
async function joinRouting(agentId) {
  const agent = await api.get(`/api/v1/agents/${encodeURIComponent(agentId)}`);
  if (agent.presence === "logged_out") {
    return api.post(`/api/v1/agents/${encodeURIComponent(agentId)}/login`, { ready: false });
  }
  return agent;
}

async function start() {
  reloadOnLogout();
  const session = await requireLogin(root, { role: "agent", title: "Agent desktop" });
  if (!session.agent_id) {
    fatal(
      "This login is not an agent",
      `${session.name} (${session.user_id}) is a ${session.role} without an agent profile, so no work can be routed to this login. Log in as an agent, or use the wallboard.`,
      h(
        "div",
        { class: "form-actions" },
        logoutButton(),
        h("a", { href: "/wallboard", class: "button" }, "Wallboard"),
      ),
    );
    return;
  }
  replaceChildren(root, h("p", { class: "muted loading", role: "status" }, "Joining routing…"));
  const reference = new Reference();
  try {
    await Promise.all([reference.load(), joinRouting(session.agent_id)]);
  } catch (err) {
    fatal(
      "The desktop cannot start",
      errorText(err),
      h(
        "div",
        { class: "form-actions" },
        h(
          "button",
          { type: "button", class: "primary", onclick: () => location.reload() },
          "Try again",
        ),
        logoutButton(),
      ),
    );
    return;
  }
  new Desktop(session, reference).mount();
}

class Desktop {
  constructor(session, reference) {
    this.session = session;
    this.agentId = session.agent_id;
    this.reference = reference;
    this.clock = new ServerClock();
    this.store = new DesktopStore(this.agentId, this.clock);
    this.socket = new LiveSocket("/api/v1/agent/ws");
    this.alerts = new OfferAlerts();
    this.everConnected = false;
    // Open is not enough: until the hello arrives the page still shows the old truth.
    this.synced = false;
    this.leaving = false;
  }

  // ----------------------------------------------------------------- commands

  command(message) {
    return this.socket.send(message);
  }

  async ready() {
    this._askNotifications();
    if (this.store.agent?.presence === "ready") {
      announce("You are already ready");
      return;
    }
    try {
      await this.command({ type: "ready" });
      this.store.presenceChosen("ready");
    } catch (err) {
      toast(`Could not go ready: ${errorText(err)}`, { kind: "error" });
    }
  }

  async notReady(reason) {
    try {
      await this.command({ type: "not_ready", reason });
      this.store.presenceChosen("not_ready", reason);
    } catch (err) {
      toast(`Could not go not ready: ${errorText(err)}`, { kind: "error" });
    }
  }

  /** Wrap up; the case link happens after the completion the tab disappears on, so its
   * outcome is told here, whether or not the form is still on screen. */
  async wrapUp(body) {
    try {
      await this.command({ type: "wrap_up", ...body });
    } catch (err) {
      if (!this.store.interactions.has(body.interaction_id)) {
        toast(`Wrap-up: ${errorText(err)}`, { kind: "error", ms: 10000 });
      }
      throw err;
    }
    let text = "Wrap-up saved";
    if (body.disposition) text += ` · ${this.reference.dispositionLabel(body.disposition)}`;
    if (body.case_id) text += ` · linked to case #${body.case_id}`;
    if (body.new_case) text += " · new case opened";
    toast(text, { kind: "ok" }); // the toast tray is a live region: it is read out
  }

  async loginRouting() {
    try {
      await api.post(`/api/v1/agents/${encodeURIComponent(this.agentId)}/login`, { ready: false });
    } catch (err) {
      toast(`Could not log in to routing: ${errorText(err)}`, { kind: "error" });
    }
  }

  async logOut() {
    // Routing first, while the agent is still here to read a refusal (work in hand).
    try {
      if (this.store.agent && this.store.agent.presence !== "logged_out") {
        await api.post(`/api/v1/agents/${encodeURIComponent(this.agentId)}/logout`, {});
      }
    } catch (err) {
      toast(`You cannot log out yet: ${errorText(err)}`, { kind: "error", ms: 8000 });
      return;
    }
    this.leaving = true;
    this.socket.stop();
    await logout();
  }

  _askNotifications() {
    // Called from a click or key press: the only moment browsers allow the prompt.
    this.alerts.askNotificationPermission().then(() => this._renderNotificationButton());
  }

  // -------------------------------------------------------------------- view

  mount() {
    const actions = {
      ready: () => this.ready(),
      notReady: (code) => this.notReady(code),
      loginRouting: () => this.loginRouting(),
      accept: (id) => this.command({ type: "accept", interaction_id: id }),
      reject: (id) => this.command({ type: "reject", interaction_id: id }),
      complete: (id) => this.command({ type: "complete", interaction_id: id }),
      wrapUp: (body) => this.wrapUp(body),
      transfer: (id, target) =>
        api.post(`/api/v1/interactions/${encodeURIComponent(id)}/transfer`, target),
    };
    const context = { store: this.store, reference: this.reference, clock: this.clock, actions };
    this.stateBar = new StateBar(context);
    this.offers = new OfferList(context);
    this.tabs = new InteractionTabs(context);
    this.broadcasts = new BroadcastBanners(context);

    this.connection = h(
      "span",
      {
        class: "connection",
        role: "status",
        "aria-label": "Connection",
        "data-status": "connecting",
      },
      "Connecting…",
    );
    this.connectionBanner = h(
      "div",
      { class: "connection-banner", role: "alert", hidden: true },
      "Connection to the server lost. Reconnecting… Offers and states on this page may be out of date until it is back.",
    );
    this.soundButton = h("button", {
      type: "button",
      class: "small",
      onclick: () => {
        this.alerts.setSound(!this.alerts.soundOn);
        this._renderSoundButton();
        if (this.alerts.soundOn) this.alerts.ring();
      },
    });
    this.notificationButton = h(
      "button",
      { type: "button", class: "small", onclick: () => this._askNotifications() },
      "Turn on notifications",
    );
    this._renderSoundButton();
    this._renderNotificationButton();

    const header = h(
      "header",
      { class: "desktop-header" },
      h(
        "div",
        { class: "topbar" },
        h("h1", { class: "brand" }, "Trunkline ", h("span", { class: "muted" }, "Agent desktop")),
        h("span", { class: "agent-name" }, `${this.session.name} (${this.agentId})`),
        h("span", { class: "spacer" }),
        this.connection,
        this.soundButton,
        this.notificationButton,
        h(
          "button",
          {
            type: "button",
            class: "small",
            "aria-keyshortcuts": "?",
            onclick: () => this.shortcuts.showHelp(),
          },
          "Shortcuts ",
          h("kbd", { "aria-hidden": "true" }, "?"),
        ),
        h("button", { type: "button", class: "small", onclick: () => this.logOut() }, "Log out"),
      ),
      this.stateBar.el,
    );
    replaceChildren(
      root,
      header,
      this.connectionBanner,
      this.broadcasts.el,
      h("main", { class: "desktop-main", id: "main" }, this.offers.el, this.tabs.el),
    );

    this.shortcuts = new Shortcuts({
      accept: () => this.offers.acceptFirst() || announce("No offer to accept"),
      reject: () => this.offers.rejectFirst() || announce("No offer to reject"),
      ready: () => this.ready(),
      notReady: () => this.stateBar.openMenu(),
      wrapUp: () => {
        const panel = this.tabs.current();
        if (panel) panel.wrapUpShortcut();
        else announce("No interaction to wrap up");
      },
      tab: (n) => {
        const id = [...this.tabs.entries.keys()][n];
        if (id !== undefined) this.tabs.select(id);
      },
    });

    this._wireStore();
    this._wireSocket();
  }

  _renderSoundButton() {
    const on = this.alerts.soundOn;
    this.soundButton.textContent = on ? "Sound on" : "Sound off";
    this.soundButton.setAttribute("aria-pressed", on ? "true" : "false");
    this.soundButton.title = on ? "A tone plays on each new offer" : "New offers arrive silently";
  }

  _renderNotificationButton() {
    // Only while the browser would still ask; granted or denied needs no button.
    this.notificationButton.hidden = this.alerts.notificationPermission !== "default";
  }

  _wireStore() {
    // The browser tab's title tells an agent working in another window what is waiting.
    this.store.addEventListener("change", () => {
      const offers = this.store.offers.size;
      const state = this.store.agent ? this.stateBar.describe(this.store.agent) : "";
      const ringing = offers ? `(${offers} offer${offers > 1 ? "s" : ""}) ` : "";
      document.title = `${ringing}${state} · Agent desktop · Trunkline`;
    });
    this.store.addEventListener("offer-added", (event) => {
      const offer = event.detail;
      const what = `${mediumLabel(offer.medium)} from ${customerName(offer.pop)}`;
      this.alerts.ring();
      this.alerts.notify(
        offer,
        `New offer: ${mediumLabel(offer.medium)}`,
        `${customerName(offer.pop)} · ${this.reference.queueName(offer.queue)}`,
      );
      announce(`New offer: ${what}. Alt+A to accept, Alt+X to reject.`);
      if (!offer.detailsLoaded) this._loadView(offer.id);
    });
    this.store.addEventListener("offer-removed", (event) => {
      const { id, reason } = event.detail;
      this.alerts.offerGone(id);
      if (reason !== "accepted" && reason !== "rejected") {
        toast(OFFER_GONE[reason] ?? `The offer was withdrawn (${reason})`);
      }
    });
    this.store.addEventListener("interaction-ended", (event) => {
      const { reason, disposition, toQueue, toAgent } = event.detail;
      // A wrap-up the agent sent is confirmed by its own result (see wrapUp).
      if (reason === "completed") return;
      if (reason === "transferred") {
        const to = toAgent ? `agent ${toAgent}` : this.reference.queueName(toQueue);
        toast(`Transferred to ${to}`, { kind: "ok" });
        return;
      }
      let text = ENDED[reason] ?? `The interaction ended (${reason})`;
      if (disposition) text += ` · ${this.reference.dispositionLabel(disposition)}`;
      toast(text);
    });
  }

  async _loadView(id) {
    try {
      this.store.applyView(await api.get(`/api/v1/interactions/${encodeURIComponent(id)}`));
    } catch {
      // Gone meanwhile (taken elsewhere): its removal event is on its way.
    }
  }

  /** "Connected" only once the socket is open and its hello has rebuilt the page. */
  _renderConnection() {
    const status = this.socket.status;
    const live = status === "open" && this.synced;
    this.connection.dataset.status = live ? "open" : status === "closed" ? "closed" : "connecting";
    this.connection.textContent = live
      ? "Connected"
      : status === "closed"
        ? "Disconnected"
        : "Connecting…";
    const lost = !live && this.everConnected && !this.leaving;
    this.connectionBanner.hidden = !lost;
    document.body.classList.toggle("stale", lost);
  }

  _wireSocket() {
    this.socket.addEventListener("status", () => {
      this.synced = false;
      this._renderConnection();
    });
    this.socket.addEventListener("message", (event) => {
      const message = event.detail;
      switch (message.type) {
        case "hello":
          this.store.applyHello(message);
          this.synced = true;
          if (this.everConnected) announce("Reconnected");
          this.everConnected = true;
          this._renderConnection();
          break;
        case "event":
          this.store.applyEvent(message.event, { screen_pop: message.screen_pop });
          break;
        case "broadcast":
          // The banners' region is live: the message is read out from there.
          this.store.applyBroadcast(message);
          break;
        default:
          break;
      }
    });
    reconnectOnline(this.socket);
    // The browser knows the network is gone before a ping times out: do not keep showing
    // "connected" on a socket that cannot deliver anything.
    window.addEventListener("offline", () => this.socket.reconnect());
    this.socket.start();
  }
}

start();
