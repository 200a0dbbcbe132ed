// The broadcast form: a short message to every logged-in agent or to one queue's agents,
// shown as a banner on their desktops. Sent messages of this session are listed below.

import { h, replaceChildren } from "../lib/dom.js";
import { clockTime, rebuildIfChanged } from "./format.js";

const MAX_LENGTH = 500;

export class BroadcastForm {
  constructor(container, store, actions) {
    this.store = store;
    this.actions = actions;
    this.text = h("textarea", {
      id: "broadcast-text",
      rows: 2,
      maxlength: MAX_LENGTH,
      required: true,
      "aria-describedby": "broadcast-count",
    });
    this.to = h("select", { id: "broadcast-to" });
    this.count = h("span", { id: "broadcast-count", class: "muted" }, `0 / ${MAX_LENGTH}`);
    this.send = h("button", { type: "submit", class: "primary" }, "Send broadcast");
    this.sent = h("ul", { class: "plain sent-broadcasts", "aria-labelledby": "sent-broadcasts-title" });
    this.sentTitle = h("h3", { id: "sent-broadcasts-title", class: "sent-title", hidden: true }, "Sent while this page is open");
    // Every supervisor's broadcasts, as the server records them (not only this page's).
    store.addEventListener("broadcast", (event) => this._sent(event.detail));
    this.text.addEventListener("input", () => {
      this.count.textContent = `${this.text.value.length} / ${MAX_LENGTH}`;
    });
    const form = h(
      "form",
      { class: "broadcast-form" },
      h("label", { for: "broadcast-text" }, "Message"),
      this.text,
      h(
        "div",
        { class: "broadcast-row" },
        h("label", { for: "broadcast-to" }, "To"),
        this.to,
        this.count,
        this.send,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._submit();
    });
    replaceChildren(container, form, this.sentTitle, this.sent);
  }

  render() {
    const queues = this.store.queueIds();
    const chosen = this.to.value;
    rebuildIfChanged(this.to, JSON.stringify(queues.map((q) => [q, this.store.queueName(q)])), () => [
      h("option", { value: "" }, "All agents"),
      queues.map((q) => h("option", { value: q }, `${this.store.queueName(q)} agents`)),
    ]);
    this.to.value = queues.includes(chosen) ? chosen : "";
  }

  /** One broadcast_sent event: {at, sender, text, queue, recipients}. */
  _sent(event) {
    const to = event.queue ? `${this.store.queueName(event.queue)} agents` : "All agents";
    const n = event.recipients?.length ?? 0;
    const at = clockTime(event.at, this.store.timezone);
    this.sentTitle.hidden = false;
    this.sent.prepend(
      h(
        "li",
        {},
        h("span", { class: "muted" }, `${at} · ${event.sender || event.by} to ${to} · ${n} received: `),
        event.text,
      ),
    );
    while (this.sent.children.length > 5) this.sent.lastElementChild.remove();
  }

  async _submit() {
    const text = this.text.value.trim();
    if (!text) {
      this.text.focus();
      return;
    }
    this.send.disabled = true;
    try {
      const queue = this.to.value || null;
      const answer = await this.actions.broadcast(text, queue);
      if (!answer) return;
      this.text.value = "";
      this.count.textContent = `0 / ${MAX_LENGTH}`;
    } finally {
      this.send.disabled = false;
    }
  }
}
