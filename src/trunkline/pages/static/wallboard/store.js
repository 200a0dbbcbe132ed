// Everything the wallboard shows, from its two sockets and a few REST reads:
//  - /api/v1/wallboard/ws: the live figures (a snapshot, then deltas);
//  - /api/v1/events/ws: the open interactions and the agents' profiles (skills), as a
//    hello then every routing event;
//  - GET /api/v1/queues (targets and colour thresholds), /skills, /not-ready-reasons.
// Views listen for "figures", "interactions", "agents", "config" and "live" events.

import { api } from "../lib/api.js";
import { applyDelta } from "./delta.js";
import { SyncedClock } from "./clock.js";
import { foldEvent, fromHello } from "./interactions.js";

export class WallboardStore extends EventTarget {
  constructor() {
    super();
    this.clock = new SyncedClock();
    this.snapshot = null; // the live figures, as the last message made them
    this.updatedAt = null; // server time of the figures shown (their generated_at)
    this.longestAt = new Map(); // queue id -> generated_at its longest_wait_s was taken at
    this.queueConfig = new Map(); // queue id -> GET /api/v1/queues entry
    this.agentViews = new Map(); // agent id -> AgentView (skills, connected, presence)
    this.interactions = new Map(); // open interactions, id -> view
    this.skills = []; // configured skill ids
    this.reasons = []; // not-ready reasons a person may choose
    this.allReasons = []; // every not-ready reason, for labels
    this.timezone = null; // the centre's IANA zone (GET /api/v1/me)
    // A feed is fresh once its socket is open and its first message (snapshot / hello)
    // has arrived; until both are, nothing on screen is live.
    this.fresh = { figures: false, events: false };
  }

  get live() {
    return this.fresh.figures && this.fresh.events;
  }

  // -- the wallboard socket ----------------------------------------------------------------

  onFiguresMessage(message) {
    if (message.type === "snapshot") {
      const { type: _type, ...snapshot } = message;
      this.clock.reset();
      this.snapshot = snapshot;
      this.longestAt = new Map(snapshot.queues.map((q) => [q.id, snapshot.generated_at]));
      this._figuresChanged(snapshot.generated_at, { rebuilt: true });
      this._setFresh("figures", true);
    } else if (message.type === "delta" && this.snapshot) {
      this.snapshot = applyDelta(this.snapshot, message);
      for (const [id, change] of Object.entries(message.queues || {})) {
        if (change && "longest_wait_s" in change) this.longestAt.set(id, message.generated_at);
      }
      this._figuresChanged(message.generated_at, { rebuilt: false });
    }
  }

  _figuresChanged(generatedAt, detail) {
    this.clock.observe(generatedAt);
    this.updatedAt = generatedAt;
    this.dispatchEvent(new CustomEvent("figures", { detail }));
  }

  /** A queue's longest wait now: the figure grows by the time since it was taken. */
  longestWait(queue) {
    if (!queue.waiting) return 0;
    const base = queue.longest_wait_s || 0;
    if (!this.live) return base; // stale: show the figure as it was, never extrapolated
    const at = this.longestAt.get(queue.id) ?? this.snapshot.generated_at;
    return base + Math.max(0, this.clock.now() - at);
  }

  // -- the supervisor events socket --------------------------------------------------------

  onEventsMessage(message) {
    if (message.type === "hello") {
      this.interactions = fromHello(message.interactions);
      this.agentViews = new Map((message.agents || []).map((a) => [a.id, a]));
      this.dispatchEvent(new CustomEvent("interactions"));
      this.dispatchEvent(new CustomEvent("agents"));
      this._setFresh("events", true);
      return;
    }
    if (message.type !== "event" || !message.event) return;
    const event = message.event;
    if (typeof event.at === "number") this.clock.observe(event.at);
    if (foldEvent(this.interactions, event)) {
      this.dispatchEvent(new CustomEvent("interactions"));
    }
    if (event.type === "agent_profile_changed") {
      const view = this.agentViews.get(event.agent_id);
      if (view) {
        view.skills = { ...event.skills };
        view.queues = [...event.queues];
        this.dispatchEvent(new CustomEvent("agents", { detail: { id: event.agent_id } }));
      }
    } else if (event.type === "agent_state_changed" || event.type === "agent_logged_in") {
      const view = this.agentViews.get(event.agent_id);
      if (view && event.type === "agent_state_changed") {
        view.state = event.new;
        view.reason = event.reason;
        view.since = event.at;
      }
    } else if (event.type === "broadcast_sent") {
      this.dispatchEvent(new CustomEvent("broadcast", { detail: event }));
    } else if (event.type === "config_reloaded") {
      this.loadReference().catch(() => {});
      this.refreshAgentViews().catch(() => {});
    }
  }

  // -- connection state --------------------------------------------------------------------

  socketStatus(feed, status) {
    // A socket that is not open any more has stopped updating what is on screen.
    if (status !== "open") this._setFresh(feed, false);
  }

  /** The browser says it is offline: nothing is coming in, whatever the sockets think. */
  markStale() {
    this._setFresh("figures", false);
    this._setFresh("events", false);
  }

  _setFresh(feed, value) {
    if (this.fresh[feed] === value) return;
    const wasLive = this.live;
    this.fresh[feed] = value;
    if (wasLive !== this.live) this.dispatchEvent(new CustomEvent("live", { detail: this.live }));
  }

  // -- reference data ----------------------------------------------------------------------

  async loadReference() {
    const [queues, skills, reasons, me] = await Promise.all([
      api.get("/api/v1/queues"),
      api.get("/api/v1/skills"),
      api.get("/api/v1/not-ready-reasons"),
      api.get("/api/v1/me"),
    ]);
    this.timezone = me?.centre?.timezone || this.timezone;
    this.queueConfig = new Map(queues.queues.map((q) => [q.id, q]));
    this.skills = Object.keys(skills.skills || {}).sort();
    this.allReasons = reasons.not_ready_reasons || [];
    // "missed" and "disconnected" are recorded by the system; nobody may choose them.
    this.reasons = this.allReasons.filter((r) => !r.system);
    this.dispatchEvent(new CustomEvent("config"));
  }

  async refreshAgentViews() {
    const answer = await api.get("/api/v1/agents");
    this.agentViews = new Map(answer.agents.map((a) => [a.id, a]));
    this.dispatchEvent(new CustomEvent("agents"));
  }

  // -- lookups -----------------------------------------------------------------------------

  queueName(id) {
    const fromFigures = this.snapshot?.queues.find((q) => q.id === id)?.name;
    return this.queueConfig.get(id)?.name || fromFigures || id;
  }

  queueIds() {
    const ids = new Set(this.queueConfig.keys());
    for (const q of this.snapshot?.queues || []) ids.add(q.id);
    return [...ids];
  }

  agent(id) {
    return this.snapshot?.agents.find((a) => a.id === id) || null;
  }

  agentName(id) {
    return this.agent(id)?.name || this.agentViews.get(id)?.name || id;
  }

  reasonLabel(code) {
    if (!code) return "";
    return this.allReasons.find((r) => r.code === code)?.label || code;
  }
}
