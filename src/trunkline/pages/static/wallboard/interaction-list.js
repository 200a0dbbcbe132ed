// The open interactions, waiting first, with "Move…" for a waiting one (to another queue
// and/or a named agent).

import { h, replaceChildren } from "../lib/dom.js";
import { openFormDialog } from "./dialog.js";
import {
  INTERACTION_STATE_LABELS,
  duration,
  idPart,
  mediumLabel,
  rebuildIfChanged,
  setText,
  stateLabel,
} from "./format.js";
import { WAITING, customerLabel, ordered, subjectOf } from "./interactions.js";

export class InteractionList {
  constructor(container, store, actions) {
    this.store = store;
    this.actions = actions;
    this.body = h("tbody");
    this.summary = h("p", { class: "muted list-summary" });
    this.empty = h("p", { class: "muted empty" }, "Nothing waiting or in progress.");
    this.ages = new Map(); // interaction id -> age cell
    replaceChildren(
      container,
      this.summary,
      h(
        "div",
        { class: "table-scroll interactions-scroll" },
        h(
          "table",
          { class: "interaction-list compact" },
          h("caption", { class: "visually-hidden" }, "Interactions waiting and in progress"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Customer", "Medium", "Queue", "State", "Agent", "Age", ""].map((c, i) =>
                h("th", { scope: "col", class: i === 5 ? "num" : undefined }, c || h("span", { class: "visually-hidden" }, "Actions")),
              ),
            ),
          ),
          this.body,
        ),
      ),
      this.empty,
    );
  }

  render() {
    const list = ordered(this.store.interactions);
    const waiting = list.filter((it) => WAITING.has(it.state) || it.state === "new").length;
    setText(this.summary, `${waiting} waiting · ${list.length - waiting} in progress`);
    this.empty.hidden = list.length > 0;
    // Rebuilt whole on each change (a handful of rows; events come in bursts at most a
    // few per second), but only when something shown changed, and keeping focus.
    const signature = JSON.stringify(
      list.map((it) => [it.id, it.state, it.queue, it.agent_id, it.medium]).concat([
        [...this.store.queueIds()],
      ]),
    );
    const build = () => {
      this.ages = new Map();
      return list.map((it) => this._row(it));
    };
    if (rebuildIfChanged(this.body, signature, build)) this.tick();
  }

  tick() {
    const now = this.store.live ? this.store.clock.now() : this.store.updatedAt;
    for (const [id, cell] of this.ages) {
      const it = this.store.interactions.get(id);
      if (it && now) setText(cell, duration(now - it.created_at));
    }
  }

  _row(it) {
    const age = h("td", { class: "num" });
    this.ages.set(it.id, age);
    const customer = customerLabel(it);
    const subject = subjectOf(it);
    const agent = it.agent_id ? this.store.agentName(it.agent_id) : "–";
    const waiting = WAITING.has(it.state);
    return h(
      "tr",
      { class: waiting ? "waiting" : "in-progress", dataset: { interaction: it.id } },
      h("td", {}, h("span", { class: "customer" }, customer), subject ? h("span", { class: "subject muted" }, ` ${subject}`) : null),
      h("td", {}, mediumLabel(it.medium)),
      h("td", {}, this.store.queueName(it.queue)),
      h("td", {}, INTERACTION_STATE_LABELS[it.state] || it.state),
      h("td", {}, agent),
      age,
      h(
        "td",
        {},
        waiting
          ? h(
              "button",
              {
                type: "button",
                class: "small",
                "aria-label": `Move ${customer}'s ${mediumLabel(it.medium).toLowerCase()}…`,
                dataset: { focusKey: `move-${it.id}` },
                onclick: () => this.move(it.id),
              },
              "Move…",
            )
          : null,
      ),
    );
  }

  move(interactionId) {
    const it = this.store.interactions.get(interactionId);
    if (!it) return;
    const key = idPart(interactionId);
    const queue = h(
      "select",
      { id: `move-queue-${key}` },
      h("option", { value: "" }, `Keep in ${this.store.queueName(it.queue)}`),
      this.store
        .queueIds()
        .filter((q) => q !== it.queue)
        .map((q) => h("option", { value: q }, this.store.queueName(q))),
    );
    // Only agents who take work now can be named: the server refuses anyone not ready.
    const agents = [...(this.store.snapshot?.agents || [])]
      .filter((a) => {
        const presence = this.store.agentViews.get(a.id)?.presence;
        return presence ? presence === "ready" : !["logged_out", "not_ready"].includes(a.state);
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    const agent = h(
      "select",
      { id: `move-agent-${key}` },
      h("option", { value: "" }, "Any agent of the queue"),
      agents.map((a) => h("option", { value: a.id }, `${a.name} (${stateLabel(a.state).toLowerCase()})`)),
    );
    openFormDialog({
      title: `Move ${customerLabel(it)}'s ${mediumLabel(it.medium).toLowerCase()}`,
      body: [
        h(
          "p",
          { class: "muted" },
          `Waiting in ${this.store.queueName(it.queue)}. A pending offer is withdrawn first; a named agent gets it first.`,
        ),
        h(
          "div",
          { class: "form-grid" },
          h("label", { for: `move-queue-${key}` }, "To queue"),
          queue,
          h("label", { for: `move-agent-${key}` }, "To agent"),
          agent,
        ),
      ],
      submitLabel: "Move",
      submit: async (_form, showError) => {
        if (!queue.value && !agent.value) {
          showError("Choose another queue, an agent, or both.");
          return false;
        }
        if (!this.store.interactions.has(interactionId) || !WAITING.has(this.store.interactions.get(interactionId).state)) {
          showError("This interaction is no longer waiting.");
          return false;
        }
        return this.actions.moveInteraction(interactionId, { queue: queue.value, agent: agent.value });
      },
    });
  }
}
