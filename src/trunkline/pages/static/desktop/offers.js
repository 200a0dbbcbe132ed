// Incoming offers as cards: medium, queue, the attached data that matters (who calls),
// a ring countdown, Accept / Reject and the customer's screen-pop. A card lives exactly
// as long as the store lists its offer: one taken elsewhere disappears at once.

import { errorText, formatDuration, h, replaceChildren } from "../lib/dom.js";
import { mediumLabel } from "./labels.js";
import { screenPopCard } from "./screen_pop.js";
import { everySecond } from "./ticker.js";

// Attached data worth showing on the card itself, in this order, when present.
const HEADLINE_DATA = [
  ["caller_id", "Caller"],
  ["from", "From"],
  ["subject", "Subject"],
  ["visitor", "Visitor"],
];

let cardCounter = 0;

export class OfferList {
  /** actions: {accept(id) → Promise, reject(id) → Promise} */
  constructor({ store, reference, clock, actions }) {
    this.store = store;
    this.reference = reference;
    this.clock = clock;
    this.actions = actions;
    this.cards = new Map(); // offer id -> {el, countdown, progress, total, popHolder, pop}
    this.list = h("div", { class: "offer-cards" });
    this.empty = h(
      "p",
      { class: "muted empty" },
      "No offers. When one arrives you will hear a tone and see the customer here.",
    );
    this.heading = h("h2", { id: "offers-heading" }, "Offers");
    this.el = h(
      "section",
      { class: "offers", "aria-labelledby": "offers-heading" },
      this.heading,
      this.empty,
      this.list,
    );
    store.addEventListener("change", () => this.render());
    everySecond(() => this.tick());
    this.render();
  }

  render() {
    const offers = this.store.offerList();
    const ids = new Set(offers.map((o) => o.id));
    for (const [id, card] of this.cards) {
      if (!ids.has(id)) {
        card.el.remove();
        this.cards.delete(id);
      }
    }
    offers.forEach((offer, index) => {
      let card = this.cards.get(offer.id);
      if (!card) {
        card = this._card(offer);
        this.cards.set(offer.id, card);
      }
      this._update(card, offer);
      // Ring order; a card already in place is not moved, so it keeps keyboard focus.
      const here = this.list.children[index];
      if (here !== card.el) this.list.insertBefore(card.el, here ?? null);
    });
    this.empty.hidden = offers.length > 0;
    this.heading.textContent = offers.length ? `Offers (${offers.length})` : "Offers";
    this.tick();
  }

  /** The first card (the one that has rung longest): what Alt+A and Alt+X act on. */
  first() {
    return this.store.offerList()[0] ?? null;
  }

  _card(offer) {
    const n = ++cardCounter;
    const headingId = `offer-${n}-title`;
    const nameId = `offer-${n}-customer`;
    const countdown = h("span", { class: "ring-countdown" });
    const progress = h("progress", {
      max: "100",
      value: "100",
      "aria-label": "Time left to answer",
    });
    const facts = h("dl", { class: "facts offer-facts" });
    const error = h("p", { class: "form-error", role: "alert" });
    const accept = h(
      "button",
      {
        type: "button",
        class: "ok",
        "aria-keyshortcuts": "Alt+A",
        "aria-describedby": `${headingId} ${nameId}`,
        onclick: () => this._act(card, "accept"),
      },
      "Accept ",
      h("kbd", { "aria-hidden": "true" }, "Alt+A"),
    );
    const reject = h(
      "button",
      {
        type: "button",
        class: "danger",
        "aria-keyshortcuts": "Alt+X",
        "aria-describedby": `${headingId} ${nameId}`,
        onclick: () => this._act(card, "reject"),
      },
      "Reject ",
      h("kbd", { "aria-hidden": "true" }, "Alt+X"),
    );
    const title = h("h3", { id: headingId, class: "offer-title" });
    const popHolder = h("div", { class: "offer-pop" });
    const el = h(
      "article",
      {
        class: "card offer-card",
        "aria-labelledby": `${headingId} ${nameId}`,
        dataset: { offerId: offer.id },
      },
      h("header", { class: "offer-head" }, title, countdown),
      progress,
      facts,
      h("div", { class: "offer-actions" }, accept, reject),
      error,
      popHolder,
    );
    const card = {
      el,
      title,
      countdown,
      progress,
      facts,
      error,
      accept,
      reject,
      popHolder,
      nameId,
      pop: undefined,
      offer,
    };
    return card;
  }

  _update(card, offer) {
    card.offer = offer;
    card.title.textContent = `${mediumLabel(offer.medium)} · ${this.reference.queueName(offer.queue)}`;
    const facts = HEADLINE_DATA.filter(
      ([key]) => offer.data?.[key] !== undefined && offer.data[key] !== "",
    );
    replaceChildren(
      card.facts,
      facts.map(([key, label]) => [h("dt", {}, label), h("dd", {}, String(offer.data[key]))]),
    );
    card.facts.hidden = facts.length === 0;
    if (card.pop !== offer.pop) {
      card.pop = offer.pop;
      replaceChildren(
        card.popHolder,
        screenPopCard(offer.pop, this.reference, {
          headingLevel: 4,
          historyLimit: 3,
          nameId: card.nameId,
        }),
      );
    }
  }

  async _act(card, what) {
    card.accept.disabled = true;
    card.reject.disabled = true;
    card.error.textContent = "";
    try {
      await this.actions[what](card.offer.id);
    } catch (err) {
      card.error.textContent = `Could not ${what}: ${errorText(err)}`;
      card.accept.disabled = false;
      card.reject.disabled = false;
    }
  }

  acceptFirst() {
    const offer = this.first();
    if (offer) this._act(this.cards.get(offer.id), "accept");
    return offer !== null;
  }

  rejectFirst() {
    const offer = this.first();
    if (offer) this._act(this.cards.get(offer.id), "reject");
    return offer !== null;
  }

  tick() {
    const now = this.clock.now();
    for (const card of this.cards.values()) {
      const { expiresAt, offeredAt } = card.offer;
      if (!expiresAt) {
        card.countdown.textContent = "";
        continue;
      }
      const left = Math.max(0, expiresAt - now);
      card.countdown.textContent = `rings ${formatDuration(left)} more`;
      // Without the offer's start (a hello does not carry it) the bar counts from now on.
      if (card.total === undefined) card.total = offeredAt ? expiresAt - offeredAt : left || 1;
      card.progress.value = String(Math.round((100 * left) / (card.total || 1)));
      card.el.classList.toggle("urgent", left <= 10);
    }
  }
}
