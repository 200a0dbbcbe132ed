// The customer's timeline: interactions, notes and case entries, newest first, a page at a
// time ("Load more" follows the server's cursor, so nothing is shown twice or skipped).

import { api } from "../lib/api.js";
import { errorText, formatTime, h } from "../lib/dom.js";
import { mediumLabel } from "./labels.js";

const PAGE = 10;

const CASE_KINDS = {
  opened: "opened",
  updated: "updated",
  status: "status changed",
  comment: "comment",
  linked: "interaction linked",
};

export class CustomerTimeline {
  constructor({ contactId, reference, headingId, currentId = null }) {
    this.contactId = contactId;
    this.currentId = currentId;
    this.reference = reference;
    this.cursor = null;
    this.loading = false;
    this.list = h("ol", { class: "timeline-items" });
    this.status = h("p", { class: "muted", role: "status" });
    this.more = h(
      "button",
      { type: "button", hidden: true, onclick: () => this.load() },
      "Load more",
    );
    this.el = h(
      "section",
      { class: "timeline", "aria-labelledby": headingId },
      h(
        "div",
        { class: "section-head" },
        h("h3", { id: headingId }, "Customer timeline"),
        h("button", { type: "button", class: "small", onclick: () => this.reload() }, "Refresh"),
      ),
      this.list,
      this.status,
      this.more,
    );
    this.load();
  }

  reload() {
    this.cursor = null;
    this.list.replaceChildren();
    this.load();
  }

  async load() {
    if (this.loading) return;
    this.loading = true;
    this.more.disabled = true;
    this.status.textContent = "Loading…";
    try {
      const page = await api.get(
        `/api/v1/crm/contacts/${encodeURIComponent(this.contactId)}/timeline`,
        { limit: PAGE, before: this.cursor },
      );
      for (const item of page.items) this.list.appendChild(this._item(item));
      this.cursor = page.next_cursor;
      this.more.hidden = !this.cursor;
      this.status.textContent = this.list.children.length ? "" : "Nothing recorded yet.";
    } catch (err) {
      this.status.textContent = `The timeline could not be read: ${errorText(err)}`;
    } finally {
      this.loading = false;
      this.more.disabled = false;
    }
  }

  _item(item) {
    const when = h("time", { class: "when" }, formatTime(item.at));
    if (item.type === "interaction") {
      return h(
        "li",
        { class: "timeline-item kind-interaction" },
        when,
        h(
          "span",
          { class: "what" },
          `${mediumLabel(item.medium)} · ${this.reference.queueName(item.queue)}`,
          item.agent_id ? ` · ${item.agent_id}` : "",
          item.id === this.currentId ? " · this interaction" : "",
        ),
        h(
          "span",
          { class: "outcome" },
          item.id === this.currentId
            ? "in progress"
            : item.disposition
              ? this.reference.dispositionLabel(item.disposition)
              : item.state,
        ),
        item.notes ? h("span", { class: "notes" }, item.notes) : null,
      );
    }
    if (item.type === "note") {
      return h(
        "li",
        { class: "timeline-item kind-note" },
        when,
        h("span", { class: "what" }, `Note by ${item.author}`),
        h("span", { class: "notes" }, item.text),
      );
    }
    if (item.type === "case") {
      return h(
        "li",
        { class: "timeline-item kind-case" },
        when,
        h(
          "span",
          { class: "what" },
          `Case #${item.case_id} ${item.subject ?? ""} · ${CASE_KINDS[item.kind] ?? item.kind} by ${item.by}`,
        ),
        item.text ? h("span", { class: "notes" }, item.text) : null,
      );
    }
    return h("li", { class: "timeline-item" }, when, h("span", { class: "what" }, item.type));
  }
}
