// The wrap-up form: disposition, notes, and a case — link one of the customer's open
// cases or open a new one. Sent over the socket (`wrap_up`); the server's refusal is
// shown next to the form, and the form is kept as typed so nothing is lost.

import { api } from "../lib/api.js";
import { errorText, h, replaceChildren } from "../lib/dom.js";
import { CASE_PRIORITIES } from "./labels.js";

let counter = 0;

export class WrapUpForm {
  /** submit(body) → Promise; body is the ws wrap_up message without type and id. */
  constructor({ interaction, reference, submit }) {
    this.interaction = interaction;
    this.reference = reference;
    this.submitFn = submit;
    const n = ++counter;
    const id = (name) => `wrap-${n}-${name}`;

    const codes = reference.wrapUpCodes;
    this.disposition = h(
      "select",
      { id: id("disposition"), name: "disposition", required: codes.length > 0 },
      h(
        "option",
        { value: "" },
        codes.length ? "Choose a disposition" : "No dispositions configured",
      ),
      codes.map((c) => h("option", { value: c.code }, c.label)),
    );
    this.notes = h("textarea", {
      id: id("notes"),
      name: "notes",
      rows: "3",
      maxlength: "4000",
    });
    this.error = h("div", { class: "form-error", role: "alert", id: id("error") });
    this.submitButton = h(
      "button",
      { type: "submit", class: "primary", "aria-keyshortcuts": "Alt+W" },
      "Finish wrap-up ",
      h("kbd", { "aria-hidden": "true" }, "Alt+W"),
    );
    this.caseFields = this._caseFields(id);

    this.el = h(
      "form",
      {
        class: "wrap-up-form card",
        "aria-labelledby": id("title"),
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          this.submit();
        },
      },
      h("h3", { id: id("title") }, "Wrap-up"),
      h(
        "div",
        { class: "field" },
        h("label", { for: id("disposition") }, "Disposition"),
        this.disposition,
      ),
      h("div", { class: "field" }, h("label", { for: id("notes") }, "Notes"), this.notes),
      this.caseFields,
      h("div", { class: "form-actions" }, this.submitButton),
      this.error,
    );
  }

  _caseFields(id) {
    const customerId = this.interaction.customerId;
    if (!customerId) {
      return h(
        "p",
        { class: "muted" },
        "No customer record: a case cannot be linked to this interaction.",
      );
    }
    const name = id("case");
    const choice = (value, label, checked = false) =>
      h(
        "label",
        { class: "choice" },
        h("input", {
          type: "radio",
          name,
          value,
          checked,
          onchange: () => this._showCaseChoice(),
        }),
        " ",
        label,
      );
    this.caseSelect = h("select", { id: id("case-id"), name: "case_id" });
    this.caseStatus = h("span", { class: "muted" }, "Loading open cases…");
    this.subject = h("input", { id: id("subject"), name: "subject", maxlength: "200" });
    this.priority = h(
      "select",
      { id: id("priority"), name: "priority" },
      CASE_PRIORITIES.map((p) => h("option", { value: p, selected: p === "normal" }, p)),
    );
    this.linkPart = h(
      "div",
      { class: "field", hidden: true },
      h("label", { for: id("case-id") }, "Case to link"),
      this.caseSelect,
      this.caseStatus,
    );
    this.newPart = h(
      "div",
      { class: "new-case", hidden: true },
      h(
        "div",
        { class: "field" },
        h("label", { for: id("subject") }, "Case subject"),
        this.subject,
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: id("priority") }, "Case priority"),
        this.priority,
      ),
    );
    this.caseChoices = h(
      "fieldset",
      { class: "case-choice" },
      h("legend", {}, "Case"),
      choice("none", "No case", true),
      choice("link", "Link to an open case"),
      choice("new", "Open a new case"),
      this.linkPart,
      this.newPart,
    );
    this._loadCases(customerId);
    return this.caseChoices;
  }

  async _loadCases(customerId) {
    try {
      const page = await api.get("/api/v1/crm/cases", {
        contact_id: customerId,
        status: "open,pending",
        limit: 50,
      });
      replaceChildren(
        this.caseSelect,
        page.cases.map((c) =>
          h("option", { value: String(c.id) }, `#${c.id} ${c.subject} (${c.status})`),
        ),
      );
      this.caseStatus.textContent = page.cases.length ? "" : "This customer has no open case.";
      this.caseSelect.disabled = page.cases.length === 0;
    } catch (err) {
      this.caseStatus.textContent = `Open cases could not be read: ${errorText(err)}`;
      this.caseSelect.disabled = true;
    }
  }

  _caseChoice() {
    return this.caseChoices?.querySelector("input[type=radio]:checked")?.value ?? "none";
  }

  _showCaseChoice() {
    const choice = this._caseChoice();
    this.linkPart.hidden = choice !== "link";
    this.newPart.hidden = choice !== "new";
  }

  focus() {
    this.disposition.focus();
  }

  /** Check what the server would refuse anyway, naming the field to fix. */
  _problem() {
    if (this.disposition.required && !this.disposition.value) {
      return [this.disposition, "Choose a disposition."];
    }
    const choice = this._caseChoice();
    if (choice === "link" && !this.caseSelect.value)
      return [this.caseSelect, "Choose the case to link."];
    if (choice === "new" && !this.subject.value.trim())
      return [this.subject, "Give the new case a subject."];
    return null;
  }

  async submit() {
    if (this.submitButton.disabled) return;
    this.error.textContent = "";
    for (const el of this.el.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const problem = this._problem();
    if (problem) {
      const [field, message] = problem;
      field.setAttribute("aria-invalid", "true");
      this.error.textContent = message;
      field.focus();
      return;
    }
    const body = {
      interaction_id: this.interaction.id,
      disposition: this.disposition.value || null,
      notes: this.notes.value,
    };
    const choice = this._caseChoice();
    if (choice === "link") body.case_id = Number(this.caseSelect.value);
    if (choice === "new") {
      body.new_case = { subject: this.subject.value.trim(), priority: this.priority.value };
    }
    this.submitButton.disabled = true;
    try {
      await this.submitFn(body);
      // The interaction_completed event removes the tab; nothing more to do here.
    } catch (err) {
      const fields = (err?.details?.errors ?? []).map((e) => `${e.field}: ${e.message}`);
      this.error.textContent = `The wrap-up was not saved: ${errorText(err)}${fields.length ? ` (${fields.join("; ")})` : ""}`;
    } finally {
      this.submitButton.disabled = false;
    }
  }
}
