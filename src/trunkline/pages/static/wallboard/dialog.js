// A modal form in a native <dialog>: the browser traps focus inside, Escape cancels, and
// focus returns to the button that opened it.

import { h } from "../lib/dom.js";

/**
 * Show a modal form. `body` is an array of nodes (labelled controls); `submit(form)` runs
 * on the submit button and returns true to close (false keeps the dialog open, e.g. after
 * an error it reported). Resolves with true when submitted and closed, false if cancelled.
 */
export function openFormDialog({ title, body, submitLabel, submit, danger = false }) {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
    const error = h("p", { class: "form-error", role: "alert" });
    const submitButton = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitLabel);
    const cancel = h("button", { type: "button" }, "Cancel");
    const form = h(
      "form",
      { method: "dialog", class: "dialog-form" },
      h("h2", { id: titleId }, title),
      body,
      error,
      h("div", { class: "dialog-buttons" }, cancel, submitButton),
    );
    const dialog = h("dialog", { class: "wb-dialog", "aria-labelledby": titleId }, form);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("close", () => finish(false));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      submitButton.disabled = true;
      try {
        const ok = await submit(form, (text) => {
          error.textContent = text;
        });
        if (ok) finish(true);
      } finally {
        submitButton.disabled = false;
      }
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = form.querySelector("input, select, textarea");
    (first || submitButton).focus();
  });
}
