// One held interaction's tab panel: what it is and how long it has lasted, the working
// area of its medium, End, transfer, the wrap-up form once the conversation is over, and
// the customer's screen-pop and timeline beside it. Built once per interaction and
// updated in place, so a half-typed note survives every update.

import { formatDuration, h, replaceChildren } from "../lib/dom.js";
import { mediumLabel } from "./labels.js";
import { customerName, screenPopCard } from "./screen_pop.js";
import { CustomerTimeline } from "./timeline.js";
import { CallControls, DetailsView, TransferForm } from "./work_area.js";
import { WrapUpForm } from "./wrap_up_form.js";

let counter = 0;

export class InteractionPanel {
  /** actions: {complete(id), wrapUp(body), transfer(id, target)} → Promises */
  constructor({ interaction, reference, clock, actions }) {
    const n = ++counter;
    this.n = n;
    this.reference = reference;
    this.clock = clock;
    this.actions = actions;
    this.interaction = interaction;
    this.tabId = `tab-${n}`;
    this.panelId = `panel-${n}`;
    this.wrapUp = null;
    this.shownState = null;

    this.title = h("h2", { class: "panel-title", id: `panel-${n}-title` });
    this.timer = h("p", { class: "handling-time" });
    this.endError = h("p", { class: "form-error", role: "alert" });
    this.endButton = h(
      "button",
      {
        type: "button",
        class: "danger",
        "aria-keyshortcuts": "Alt+W",
        onclick: () => this.end(),
      },
      "End ",
      h("kbd", { "aria-hidden": "true" }, "Alt+W"),
    );
    this.calls = interaction.medium === "voice" ? new CallControls(interaction) : null;
    this.details = new DetailsView(reference);
    this.transfer = new TransferForm({
      interaction,
      reference,
      transfer: (target) => actions.transfer(interaction.id, target),
    });
    this.wrapHolder = h("div", { class: "wrap-holder" });
    this.popHolder = h("div", { class: "card pop-card" });
    this.pop = undefined;
    this.timeline = interaction.customerId
      ? new CustomerTimeline({
          contactId: interaction.customerId,
          reference,
          headingId: `panel-${n}-timeline`,
          currentId: interaction.id,
        })
      : null;

    this.el = h(
      "div",
      {
        class: "interaction-panel",
        role: "tabpanel",
        id: this.panelId,
        "aria-labelledby": this.tabId,
        tabindex: "-1",
      },
      h(
        "div",
        { class: "panel-main" },
        h(
          "header",
          { class: "panel-head" },
          h("div", {}, this.title, this.timer),
          h("div", { class: "panel-actions" }, this.endButton),
        ),
        this.endError,
        this.wrapHolder,
        this.calls?.el,
        h("div", { class: "card" }, this.details.el),
        this.transfer.el,
      ),
      h(
        "div",
        { class: "panel-side" },
        this.popHolder,
        this.timeline ? h("div", { class: "card" }, this.timeline.el) : null,
      ),
    );
    this.update(interaction);
  }

  /** The tab's label: medium, customer and where the interaction stands. */
  tabLabel() {
    return `${mediumLabel(this.interaction.medium)} · ${customerName(this.interaction.pop)}`;
  }

  /** Redraw from the store's copy; true when the interaction has just entered wrap-up. */
  update(interaction) {
    this.interaction = interaction;
    const entered = interaction.state === "wrap_up" && this.shownState !== "wrap_up";
    this.shownState = interaction.state;
    this.title.textContent = `${mediumLabel(interaction.medium)} · ${this.reference.queueName(interaction.queue)} · ${customerName(interaction.pop)}`;
    const wrapping = interaction.state === "wrap_up";
    this.endButton.hidden = wrapping;
    this.transfer.el.hidden = wrapping;
    if (wrapping && !this.wrapUp) {
      this.wrapUp = new WrapUpForm({
        interaction,
        reference: this.reference,
        submit: (body) => this.actions.wrapUp(body),
      });
      replaceChildren(this.wrapHolder, this.wrapUp.el);
    }
    // The conversation is over in wrap-up: no call left to hold or hang up.
    if (this.calls) this.calls.el.hidden = wrapping;
    this.calls?.update(interaction);
    this.details.update(interaction);
    if (this.pop !== interaction.pop) {
      this.pop = interaction.pop;
      replaceChildren(
        this.popHolder,
        screenPopCard(interaction.pop, this.reference, { headingLevel: 3 }),
      );
    }
    this.tick();
    return entered;
  }

  /** Time talking, or the wrap-up's time left when the queue's wrap-up is timed. */
  tick() {
    const it = this.interaction;
    const now = this.clock.now();
    if (it.state === "wrap_up") {
      this.timer.textContent = it.wrapUntil
        ? `Wrap-up · ends by itself in ${formatDuration(it.wrapUntil - now)}`
        : `Wrap-up${it.endedAt ? ` for ${formatDuration(now - it.endedAt)}` : ""} · finish it when you are done`;
    } else {
      this.timer.textContent = it.assignedAt
        ? `In progress for ${formatDuration(now - it.assignedAt)}`
        : "In progress";
    }
  }

  /** The state in a word for the tab. */
  stateWord() {
    const it = this.interaction;
    if (it.state !== "wrap_up") return "Active";
    return it.wrapUntil ? `Wrap-up ${formatDuration(it.wrapUntil - this.clock.now())}` : "Wrap-up";
  }

  async end() {
    this.endError.textContent = "";
    this.endButton.disabled = true;
    try {
      await this.actions.complete(this.interaction.id);
    } catch (err) {
      this.endError.textContent = `Could not end it: ${err?.message ?? err}`;
    } finally {
      this.endButton.disabled = false;
    }
  }

  /** Alt+W: end the conversation, or finish the wrap-up when it is already over. */
  wrapUpShortcut() {
    if (this.interaction.state === "wrap_up") {
      if (this.wrapUp) {
        if (this.el.contains(document.activeElement) && document.activeElement !== this.el) {
          this.wrapUp.submit();
        } else {
          this.wrapUp.focus();
        }
      }
    } else {
      this.end();
    }
  }

  focusWrapUp() {
    this.wrapUp?.focus();
  }
}
