// Keyboard shortcuts and their help overlay (opened with "?"). Alt combinations work
// everywhere, even while typing notes; single keys never fire inside a text field.
// Keys are matched on `event.code` so Alt+letter works on layouts where Alt types
// another character (macOS Option).

import { h } from "../lib/dom.js";
import { isTyping } from "./tabs.js";

export const SHORTCUTS = [
  { keys: "Alt+A", code: "KeyA", action: "accept", text: "Accept the offer that has rung longest" },
  { keys: "Alt+X", code: "KeyX", action: "reject", text: "Reject the offer that has rung longest" },
  { keys: "Alt+R", code: "KeyR", action: "ready", text: "Go ready" },
  {
    keys: "Alt+N",
    code: "KeyN",
    action: "notReady",
    text: "Open the not-ready reasons (arrows, Enter)",
  },
  {
    keys: "Alt+W",
    code: "KeyW",
    action: "wrapUp",
    text: "End the interaction shown; in wrap-up go to the form, press again to finish",
  },
  { keys: "Alt+1 … Alt+9", action: null, text: "Show the first … ninth interaction tab" },
  { keys: "?", action: null, text: "Show this help" },
  { keys: "Esc", action: null, text: "Close a menu or this help" },
];

export class Shortcuts {
  /** handlers: {accept, reject, ready, notReady, wrapUp, tab(n)} */
  constructor(handlers) {
    this.handlers = handlers;
    this.dialog = this._dialog();
    document.body.appendChild(this.dialog);
    document.addEventListener("keydown", (event) => this._key(event));
  }

  _dialog() {
    const close = h(
      "button",
      { type: "button", class: "small", onclick: () => this.dialog.close() },
      "Close",
    );
    return h(
      "dialog",
      { class: "help-dialog", "aria-labelledby": "help-title" },
      h("h2", { id: "help-title" }, "Keyboard shortcuts"),
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h("tr", {}, h("th", { scope: "col" }, "Keys"), h("th", { scope: "col" }, "Does")),
        ),
        h(
          "tbody",
          {},
          SHORTCUTS.map((s) => h("tr", {}, h("td", {}, h("kbd", {}, s.keys)), h("td", {}, s.text))),
        ),
      ),
      h(
        "p",
        { class: "muted" },
        "Alt shortcuts work even while you type notes; other keys do not fire in text fields.",
      ),
      h("div", { class: "form-actions" }, close),
    );
  }

  showHelp() {
    if (!this.dialog.open) this.dialog.showModal();
  }

  _key(event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const shortcut = SHORTCUTS.find((s) => s.code === event.code);
      if (shortcut) {
        event.preventDefault();
        if (this.dialog.open) this.dialog.close();
        this.handlers[shortcut.action]();
        return;
      }
      const digit = /^Digit([1-9])$/.exec(event.code);
      if (digit) {
        event.preventDefault();
        this.handlers.tab(Number(digit[1]) - 1);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?" && !isTyping(event.target)) {
      event.preventDefault();
      this.showHelp();
    }
  }
}
