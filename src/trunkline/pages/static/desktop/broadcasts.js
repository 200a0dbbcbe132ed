// Supervisors' broadcast messages as banners the agent dismisses. A reconnect's hello
// repeats the last hour's messages, so dismissed ones are remembered for this tab.

import { formatTime, h } from "../lib/dom.js";

const DISMISSED_KEY = "trunkline.desktop.dismissed-broadcasts";

function keyOf(message) {
  return `${message.at}|${message.from}|${message.text}`;
}

function loadDismissed() {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(DISMISSED_KEY) || "[]"));
  } catch {
    return new Set();
  }
}

export class BroadcastBanners {
  constructor({ store, reference }) {
    this.store = store;
    this.reference = reference;
    this.dismissed = loadDismissed();
    this.shown = new Map(); // key -> element
    // Polite: a new message is read out without cutting off what the agent is hearing.
    this.el = h("section", {
      class: "broadcasts",
      "aria-label": "Messages from supervisors",
      "aria-live": "polite",
    });
    store.addEventListener("change", () => this.render());
    this.render();
  }

  render() {
    const wanted = this.store.broadcasts.filter((m) => !this.dismissed.has(keyOf(m)));
    const keys = new Set(wanted.map(keyOf));
    for (const [key, el] of this.shown) {
      if (!keys.has(key)) {
        el.remove();
        this.shown.delete(key);
      }
    }
    for (const message of wanted) {
      const key = keyOf(message);
      if (this.shown.has(key)) continue;
      const el = this._banner(message, key);
      this.shown.set(key, el);
      this.el.appendChild(el);
    }
    this.el.hidden = this.shown.size === 0;
  }

  _banner(message, key) {
    const scope = message.queue
      ? ` to ${this.reference.queueName(message.queue)}`
      : " to all agents";
    return h(
      "div",
      { class: "broadcast", role: "note" },
      h("span", { class: "broadcast-label" }, "Broadcast"),
      h(
        "div",
        { class: "broadcast-body" },
        h("p", { class: "broadcast-meta" }, `${message.from}${scope} · ${formatTime(message.at)}`),
        h("p", { class: "broadcast-text" }, message.text),
      ),
      h(
        "button",
        {
          type: "button",
          class: "small",
          "aria-label": `Dismiss the message from ${message.from}`,
          onclick: () => this.dismiss(key),
        },
        "Dismiss",
      ),
    );
  }

  dismiss(key) {
    this.dismissed.add(key);
    try {
      sessionStorage.setItem(DISMISSED_KEY, JSON.stringify([...this.dismissed].slice(-50)));
    } catch {
      // storage full or off: it only means a reconnect may show the banner again
    }
    this.render();
  }
}
