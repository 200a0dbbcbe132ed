// The working area of an interaction: for voice the call controls, for every medium the
// details (attached data, customer, times) until each channel brings its own pane, and
// the transfer form.

import { api } from "../lib/api.js";
import { errorText, formatTime, h, replaceChildren } from "../lib/dom.js";
import { mediumLabel } from "./labels.js";

let counter = 0;

/** The SIP call attached to an interaction by the voice channel, if any. */
export function sipCallOf(interaction) {
  const data = interaction.data ?? {};
  return data.sip_call_id ?? data.sip?.call_id ?? null;
}

/**
 * Hold, resume and hang up drive the SIP call, which only the voice channel can do. The
 * buttons stay visible (the agent knows where they will be) but say why they do nothing.
 */
export class CallControls {
  constructor(interaction) {
    const n = ++counter;
    this.noteId = `call-note-${n}`;
    this.note = h("p", { class: "notice", id: this.noteId });
    const control = (label) =>
      h(
        "button",
        {
          type: "button",
          "aria-disabled": "true",
          "aria-describedby": this.noteId,
          class: "call-button",
          onclick: () => this.note.classList.add("flash"),
        },
        label,
      );
    this.hold = control("Hold");
    this.hangUp = control("Hang up");
    this.el = h(
      "section",
      { class: "call-controls", "aria-label": "Call controls" },
      h("div", { class: "button-row" }, this.hold, this.hangUp),
      this.note,
    );
    this.update(interaction);
  }

  update(interaction) {
    const call = sipCallOf(interaction);
    this.note.textContent = call
      ? `Hold and hang up need the voice channel: call ${call} is attached, but the desktop cannot drive it yet. Use End when the conversation is over.`
      : "Hold and hang up need the voice channel: no SIP call is attached to this interaction. Use End when the conversation is over.";
  }
}

function dataValue(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Medium, queue, times, customer and attached data, as a definition list. */
export class DetailsView {
  constructor(reference) {
    this.reference = reference;
    this.facts = h("dl", { class: "facts details" });
    this.data = h("dl", { class: "facts attached-data" });
    this.el = h(
      "section",
      { class: "details-view", "aria-label": "Interaction details" },
      this.facts,
      h("h4", {}, "Attached data"),
      this.data,
    );
  }

  update(interaction) {
    const facts = [
      ["Medium", mediumLabel(interaction.medium)],
      ["Queue", this.reference.queueName(interaction.queue)],
      ["Arrived", interaction.createdAt ? formatTime(interaction.createdAt) : "–"],
      ["Accepted", interaction.assignedAt ? formatTime(interaction.assignedAt) : "–"],
      ["Customer record", interaction.customerId ?? "none", "id"],
      ["Interaction id", interaction.id, "id"],
    ];
    replaceChildren(
      this.facts,
      facts.map(([term, value, kind]) => [h("dt", {}, term), h("dd", { class: kind }, value)]),
    );
    const entries = Object.entries(interaction.data ?? {});
    replaceChildren(
      this.data,
      entries.length
        ? entries.map(([key, value]) => [h("dt", {}, key), h("dd", {}, dataValue(value))])
        : h("dd", { class: "muted" }, interaction.detailsLoaded ? "None." : "Loading…"),
    );
  }
}

/** Hand the interaction to a queue or to a named agent. */
export class TransferForm {
  /** transfer(target) → Promise; target is {queue} or {agent}. */
  constructor({ interaction, reference, transfer }) {
    const n = ++counter;
    const id = (name) => `transfer-${n}-${name}`;
    this.transferFn = transfer;
    this.queue = h(
      "select",
      { id: id("queue"), name: "queue" },
      reference.queues.map((q) =>
        h("option", { value: q.id, selected: q.id === interaction.queue }, q.name),
      ),
    );
    this.agent = h("input", {
      id: id("agent"),
      name: "agent",
      autocomplete: "off",
      list: id("agents"),
      "aria-describedby": id("agent-hint"),
    });
    // Colleagues to pick from, read when the form opens so their states are current.
    this.directory = h("datalist", { id: id("agents") });
    this.error = h("p", { class: "form-error", role: "alert" });
    this.button = h("button", { type: "submit" }, "Transfer");
    const radio = (value, label, checked) =>
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: id("to"), value, checked, onchange: () => this._show() }),
        " ",
        label,
      );
    this.queuePart = h(
      "div",
      { class: "field" },
      h("label", { for: id("queue") }, "Queue"),
      this.queue,
    );
    this.agentPart = h(
      "div",
      { class: "field", hidden: true },
      h("label", { for: id("agent") }, "Agent id"),
      this.agent,
      this.directory,
      h("span", { class: "muted", id: id("agent-hint") }, "Pick a colleague or type their login"),
    );
    this.form = h(
      "form",
      {
        class: "transfer-form",
        onsubmit: (event) => {
          event.preventDefault();
          this.submit();
        },
      },
      h(
        "fieldset",
        {},
        h("legend", {}, "Transfer to"),
        radio("queue", "a queue", true),
        radio("agent", "an agent", false),
      ),
      this.queuePart,
      this.agentPart,
      this.button,
      this.error,
    );
    this.el = h("details", { class: "transfer" }, h("summary", {}, "Transfer…"), this.form);
    this.el.addEventListener("toggle", () => {
      if (this.el.open) this._loadDirectory();
    });
  }

  async _loadDirectory() {
    try {
      const { agents } = await api.get("/api/v1/directory/agents");
      replaceChildren(
        this.directory,
        agents
          .filter((a) => a.state !== "logged_out")
          .map((a) => h("option", { value: a.id }, `${a.name} · ${a.team || "no team"} · ${a.state}`)),
      );
    } catch {
      // The list is a convenience: typing the id still works without it.
    }
  }

  _to() {
    return this.form.querySelector("input[type=radio]:checked")?.value ?? "queue";
  }

  _show() {
    this.queuePart.hidden = this._to() !== "queue";
    this.agentPart.hidden = this._to() !== "agent";
  }

  async submit() {
    this.error.textContent = "";
    const target =
      this._to() === "queue" ? { queue: this.queue.value } : { agent: this.agent.value.trim() };
    if (target.agent === "") {
      this.error.textContent = "Give the agent's id.";
      this.agent.focus();
      return;
    }
    this.button.disabled = true;
    try {
      await this.transferFn(target);
    } catch (err) {
      this.error.textContent = `Not transferred: ${errorText(err)}`;
    } finally {
      this.button.disabled = false;
    }
  }
}
