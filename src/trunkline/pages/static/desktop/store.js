// What the desktop knows: the agent, their offers and the interactions they hold, folded
// from the socket's hello (a full rebuild) and events (changes). Views listen for
// "change" and redraw from here; nothing else keeps its own copy of server state.
//
// Events it dispatches (CustomEvent detail in brackets):
//   "change"        any change at all
//   "offer-added"   [offer] a new offer (sound and notification)
//   "offer-removed" [{id, reason}] an offer gone: accepted, rejected, timed out, withdrawn
//   "interaction-ended" [{id, reason, disposition}] a held interaction left the desktop
//   "broadcast"     [message] a supervisor's message

const PRESENCE_STATES = new Set(["ready", "not_ready", "logged_out"]);

function fromView(view) {
  return {
    id: view.id,
    medium: view.medium,
    queue: view.queue,
    state: view.state,
    data: view.data ?? {},
    customerId: view.customer_id ?? view.screen_pop?.contact?.id ?? null,
    createdAt: view.created_at ?? null,
    expiresAt: view.offer_expires_at ?? null,
    wrapUntil: view.wrap_until ?? null,
    pop: view.screen_pop ?? null,
    // Not in the view: the socket's events give them; a hello leaves them unknown.
    offeredAt: null,
    assignedAt: null,
    endedAt: null,
    detailsLoaded: view.data !== undefined,
  };
}

export class DesktopStore extends EventTarget {
  constructor(agentId, clock) {
    super();
    this.agentId = agentId;
    this.clock = clock;
    this.agent = null;
    this.offers = new Map();
    this.interactions = new Map();
    this.broadcasts = [];
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _changed() {
    this._emit("change");
  }

  /** A fresh hello: the whole truth, replacing whatever was known before. */
  applyHello(message) {
    const agent = message.agent;
    this.agent = { ...agent };
    // The hello has no server time; the agent's `since` cannot be in the server's future.
    if (typeof agent.since === "number" && agent.since > this.clock.now()) {
      this.clock.sync(agent.since);
    }
    const oldOffers = this.offers;
    const oldInteractions = this.interactions;
    this.offers = new Map();
    for (const view of message.offers ?? []) {
      const offer = fromView(view);
      const known = oldOffers.get(offer.id);
      offer.offeredAt = known?.offeredAt ?? null;
      this.offers.set(offer.id, offer);
      if (!known) this._emit("offer-added", offer);
    }
    this.interactions = new Map();
    for (const view of message.interactions ?? []) {
      const it = fromView(view);
      const known = oldInteractions.get(it.id);
      if (known) {
        it.assignedAt = known.assignedAt;
        it.endedAt = known.endedAt;
      }
      this.interactions.set(it.id, it);
    }
    for (const id of oldOffers.keys()) {
      if (this.offers.has(id)) continue;
      // Answered while the socket was down (a supervisor for the agent) or taken away.
      const reason = this.interactions.has(id) ? "accepted" : "gone";
      this._emit("offer-removed", { id, reason });
    }
    for (const id of oldInteractions.keys()) {
      if (!this.interactions.has(id)) {
        this._emit("interaction-ended", { id, reason: "gone" });
      }
    }
    if (Array.isArray(message.broadcasts)) {
      this.broadcasts = [...message.broadcasts];
    }
    this._changed();
  }

  /** Fill in an offer's or interaction's full view (the offered event carries no data). */
  applyView(view) {
    for (const map of [this.offers, this.interactions]) {
      const known = map.get(view.id);
      if (!known) continue;
      known.data = view.data ?? known.data;
      known.customerId = view.customer_id ?? known.customerId;
      known.createdAt = view.created_at ?? known.createdAt;
      known.detailsLoaded = true;
      this._changed();
    }
  }

  applyBroadcast(message) {
    this.clock.sync(message.at);
    this.broadcasts.push(message);
    this._emit("broadcast", message);
    this._changed();
  }

  /** The agent chose a presence and the server said yes (agent_presence_changed follows). */
  presenceChosen(presence, reason = "") {
    if (!this.agent) return;
    this.agent.presence = presence;
    this.agent.presence_reason = reason;
    this._changed();
  }

  applyEvent(event, extra = {}) {
    if (typeof event.at === "number") this.clock.sync(event.at);
    const handler = this[`_on_${event.type}`];
    if (typeof handler === "function") {
      handler.call(this, event, extra);
      this._changed();
    }
  }

  // ------------------------------------------------------------------- agent

  _on_agent_state_changed(event) {
    if (!this.agent || event.agent_id !== this.agentId) return;
    this.agent.state = event.new;
    this.agent.reason = event.reason ?? "";
    this.agent.since = event.at;
    // ready / not ready / logged out are the presence itself; work states overlay it.
    if (PRESENCE_STATES.has(event.new)) {
      this.agent.presence = event.new;
      this.agent.presence_reason = event.new === "not_ready" ? (event.reason ?? "") : "";
    }
  }

  // A presence chosen while busy (by the agent, or forced by a supervisor): shown as
  // "Busy · then Not ready (Lunch)" until the work in hand is done.
  _on_agent_presence_changed(event) {
    if (!this.agent || event.agent_id !== this.agentId) return;
    this.agent.presence = event.presence;
    this.agent.presence_reason = event.reason ?? "";
  }

  _on_agent_logged_out(event) {
    if (!this.agent || event.agent_id !== this.agentId) return;
    this.agent.presence = "logged_out";
    this.agent.presence_reason = "";
  }

  _on_agent_profile_changed(event) {
    if (!this.agent || event.agent_id !== this.agentId) return;
    this.agent.skills = event.skills;
    this.agent.queues = event.queues;
  }

  // ------------------------------------------------------------------ offers

  _on_interaction_offered(event, extra) {
    if (event.agent_id !== this.agentId) return;
    const known = this.offers.get(event.interaction_id);
    if (known) {
      // Already listed by the hello: refresh, without ringing a second time.
      known.expiresAt = event.expires_at;
      known.pop = extra.screen_pop ?? known.pop;
      return;
    }
    const offer = {
      id: event.interaction_id,
      medium: event.medium,
      queue: event.queue,
      state: "offered",
      data: {},
      customerId: extra.screen_pop?.contact?.id ?? null,
      createdAt: null,
      expiresAt: event.expires_at,
      wrapUntil: null,
      pop: extra.screen_pop ?? null,
      offeredAt: event.at,
      assignedAt: null,
      endedAt: null,
      detailsLoaded: false,
    };
    this.offers.set(offer.id, offer);
    this._emit("offer-added", offer);
  }

  _removeOffer(id, reason) {
    if (this.offers.delete(id)) this._emit("offer-removed", { id, reason });
  }

  _on_offer_accepted(event) {
    if (event.agent_id !== this.agentId) return;
    const offer = this.offers.get(event.interaction_id);
    this.offers.delete(event.interaction_id);
    this._emit("offer-removed", { id: event.interaction_id, reason: "accepted" });
    const it =
      offer ?? fromView({ id: event.interaction_id, medium: event.medium, queue: event.queue });
    it.state = "assigned";
    it.expiresAt = null;
    it.assignedAt = event.at;
    this.interactions.set(it.id, it);
  }

  _on_offer_rejected(event) {
    this._removeOffer(event.interaction_id, "rejected");
  }

  _on_offer_timed_out(event) {
    this._removeOffer(event.interaction_id, "timed_out");
    // The engine makes an agent who let an offer ring out not ready ("missed").
    if (this.agent) {
      this.agent.presence = "not_ready";
      this.agent.presence_reason = "missed";
    }
  }

  _on_offer_revoked(event) {
    this._removeOffer(event.interaction_id, event.reason || "revoked");
  }

  _on_interaction_abandoned(event) {
    this._removeOffer(event.interaction_id, "abandoned");
    this._endInteraction(event.interaction_id, "abandoned");
  }

  _on_interaction_cancelled(event) {
    this._removeOffer(event.interaction_id, "cancelled");
    this._endInteraction(event.interaction_id, "cancelled");
  }

  // ------------------------------------------------------------ interactions

  _endInteraction(id, reason, extra = {}) {
    if (this.interactions.delete(id)) this._emit("interaction-ended", { id, reason, ...extra });
  }

  _on_handling_ended(event) {
    const it = this.interactions.get(event.interaction_id);
    if (!it) return;
    it.state = "wrap_up";
    it.wrapUntil = event.wrap_up_until ?? null;
    it.endedAt = event.at;
  }

  _on_interaction_completed(event) {
    this._endInteraction(event.interaction_id, event.auto ? "auto_completed" : "completed", {
      disposition: event.disposition,
    });
  }

  _on_interaction_transferred(event) {
    if (event.from_agent === this.agentId) {
      this._endInteraction(event.interaction_id, "transferred", {
        toQueue: event.to_queue,
        toAgent: event.to_agent,
      });
    }
  }

  // ------------------------------------------------------------------ queries

  /** Offers oldest first: the one Alt+A answers is the one that has rung longest. */
  offerList() {
    return [...this.offers.values()].sort(
      (a, b) => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity),
    );
  }

  interactionList() {
    return [...this.interactions.values()];
  }

  /** The soonest timed wrap-up end among held interactions, or null. */
  wrapUpDeadline() {
    let soonest = null;
    for (const it of this.interactions.values()) {
      if (it.state === "wrap_up" && it.wrapUntil && (soonest === null || it.wrapUntil < soonest)) {
        soonest = it.wrapUntil;
      }
    }
    return soonest;
  }
}
