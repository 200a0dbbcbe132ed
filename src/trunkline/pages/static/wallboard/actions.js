// What a supervisor changes from the wallboard, as API calls. Each one reports its outcome
// in a toast (a live region, so screen readers hear it too); the screen itself changes only when the live feeds
// say so, so it never shows a change the server did not make.

import { api } from "../lib/api.js";
import { errorText, toast } from "../lib/dom.js";

export class Actions {
  constructor(store) {
    this.store = store;
  }

  // Toasts sit in a polite live region: screen readers hear them without a second announce.
  _ok(text) {
    toast(text, { kind: "ok" });
  }

  _fail(what, err) {
    toast(`${what} failed: ${errorText(err)}`, { kind: "error", ms: 8000 });
  }

  /**
   * The agent's current profile, read fresh: a PATCH sends the whole list, so it must
   * start from what the server has now, not from what the screen last heard.
   */
  async _profile(agentId) {
    const view = await api.get(`/api/v1/agents/${encodeURIComponent(agentId)}`);
    return { queues: [...view.queues], skills: { ...view.skills } };
  }

  async _setQueues(agentId, change, message) {
    const name = this.store.agentName(agentId);
    try {
      const { queues } = await this._profile(agentId);
      const next = change(new Set(queues));
      if (next === null) return false;
      await api.patch(`/api/v1/agents/${encodeURIComponent(agentId)}/profile`, {
        queues: [...next].sort(),
      });
      this._ok(message(name));
      return true;
    } catch (err) {
      this._fail(`Changing ${name}'s queues`, err);
      return false;
    }
  }

  addToQueue(agentId, queueId) {
    const queue = this.store.queueName(queueId);
    return this._setQueues(
      agentId,
      (set) => {
        if (set.has(queueId)) {
          toast(`${this.store.agentName(agentId)} is already in ${queue}.`);
          return null;
        }
        return set.add(queueId);
      },
      (name) => `${name} added to ${queue}.`,
    );
  }

  removeFromQueue(agentId, queueId) {
    const queue = this.store.queueName(queueId);
    return this._setQueues(
      agentId,
      (set) => (set.delete(queueId) ? set : null),
      (name) => `${name} removed from ${queue}.`,
    );
  }

  moveBetweenQueues(agentId, fromQueue, toQueue) {
    const to = this.store.queueName(toQueue);
    const from = this.store.queueName(fromQueue);
    return this._setQueues(
      agentId,
      (set) => {
        set.delete(fromQueue);
        return set.add(toQueue);
      },
      (name) => `${name} moved from ${from} to ${to}.`,
    );
  }

  setQueues(agentId, queueIds) {
    return this._setQueues(
      agentId,
      () => new Set(queueIds),
      (name) =>
        queueIds.length
          ? `${name} now in ${queueIds.map((q) => this.store.queueName(q)).join(", ")}.`
          : `${name} is in no queue now.`,
    );
  }

  /** Change one skill (level 1–5) or remove it (level null); other skills stay. */
  async setSkill(agentId, skill, level) {
    const name = this.store.agentName(agentId);
    try {
      const { skills } = await this._profile(agentId);
      if (level === null) delete skills[skill];
      else skills[skill] = level;
      await api.patch(`/api/v1/agents/${encodeURIComponent(agentId)}/profile`, { skills });
      this._ok(level === null ? `${name}: ${skill} removed.` : `${name}: ${skill} set to ${level}.`);
      return true;
    } catch (err) {
      this._fail(`Changing ${name}'s skills`, err);
      return false;
    }
  }

  async forceState(agentId, state, reason) {
    const name = this.store.agentName(agentId);
    try {
      const body = state === "ready" ? { state } : { state, reason };
      await api.put(`/api/v1/agents/${encodeURIComponent(agentId)}/state`, body);
      const what = state === "ready" ? "ready" : `not ready (${this.store.reasonLabel(reason)})`;
      this._ok(`${name} set ${what}.`);
      return true;
    } catch (err) {
      this._fail(`Setting ${name}'s state`, err);
      return false;
    }
  }

  async forceLogout(agentId) {
    const name = this.store.agentName(agentId);
    try {
      await api.post(`/api/v1/agents/${encodeURIComponent(agentId)}/logout`, {
        force: true,
        reason: "supervisor",
      });
      this._ok(`${name} logged out.`);
      return true;
    } catch (err) {
      this._fail(`Logging ${name} out`, err);
      return false;
    }
  }

  /** Move a waiting interaction to another queue and/or a named agent. */
  async moveInteraction(interactionId, { queue, agent }) {
    const body = {};
    if (queue) body.queue = queue;
    if (agent) body.agent = agent;
    try {
      await api.post(`/api/v1/interactions/${encodeURIComponent(interactionId)}/move`, body);
      const where = [queue && this.store.queueName(queue), agent && this.store.agentName(agent)]
        .filter(Boolean)
        .join(", ");
      this._ok(`Interaction moved to ${where}.`);
      return true;
    } catch (err) {
      this._fail("Moving the interaction", err);
      return false;
    }
  }

  /** Returns the server's answer ({recipients, ...}) or null. */
  async broadcast(text, queue) {
    try {
      const answer = await api.post("/api/v1/broadcasts", { text, queue: queue || null });
      const n = answer?.recipients?.length ?? 0;
      const to = queue ? `${this.store.queueName(queue)} agents` : "all agents";
      this._ok(`Broadcast sent to ${to} (${n} logged in).`);
      return answer;
    } catch (err) {
      this._fail("Sending the broadcast", err);
      return null;
    }
  }
}
