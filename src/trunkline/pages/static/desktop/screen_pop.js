// The customer card of a screen-pop: who is calling, how they were recognised, their
// class, account owner, open cases and last interactions, and the external CRM's part.
// Every customer value goes in as text (h() never parses markup).

import { formatTime, h } from "../lib/dom.js";
import { mediumLabel } from "./labels.js";

const IDENTITY_LABELS = {
  phone: "Phone",
  email: "E-mail",
  account: "Account",
  visitor: "Chat visitor",
};
const EXTERNAL_MISSING = {
  timeout: "did not answer in time",
  error: "answered with an error",
  not_found: "has no record of this customer",
  skipped: "was not asked",
};

function identityText(identity) {
  return `${IDENTITY_LABELS[identity.kind] ?? identity.kind} ${identity.value}`;
}

function classBadge(customerClass) {
  if (!customerClass) return null;
  const known = customerClass.toLowerCase();
  const kind = known === "vip" ? "vip" : known === "gold" ? "gold" : "";
  return h("span", { class: `badge ${kind}`.trim() }, customerClass.toUpperCase());
}

function caseLine(c) {
  return h(
    "li",
    {},
    h("span", { class: "case-id" }, `#${c.id}`),
    " ",
    c.subject,
    " ",
    h("span", { class: `badge priority-${c.priority}` }, c.priority),
    c.status !== "open" ? h("span", { class: "badge" }, c.status) : null,
  );
}

function historyLine(past, reference) {
  return h(
    "li",
    {},
    h(
      "span",
      { class: "history-head" },
      `${formatTime(past.created_at)} · ${mediumLabel(past.medium)} · ${reference.queueName(past.queue)}`,
      past.agent_id ? ` · ${past.agent_id}` : "",
    ),
    h(
      "span",
      { class: "history-outcome" },
      past.disposition ? reference.dispositionLabel(past.disposition) : past.state,
    ),
    past.notes ? h("span", { class: "history-notes" }, past.notes) : null,
  );
}

function externalPart(external, sub) {
  if (!external || external.status === "disabled") return null;
  const parts = [h(sub, {}, "External CRM")];
  if (external.url) {
    parts.push(
      h(
        "a",
        {
          class: "button external-link",
          href: external.url,
          target: "_blank",
          rel: "noopener noreferrer",
        },
        "Open in external CRM",
      ),
    );
  }
  if (external.status === "ok") {
    const entries = Object.entries(external.record ?? {});
    if (entries.length) {
      parts.push(
        h(
          "dl",
          { class: "facts external-record" },
          entries.map(([key, value]) => [
            h("dt", {}, key),
            h("dd", {}, typeof value === "object" ? JSON.stringify(value) : String(value)),
          ]),
        ),
      );
    }
  } else {
    const why = EXTERNAL_MISSING[external.status] ?? external.status;
    parts.push(
      h(
        "p",
        { class: "notice warn" },
        `The external CRM ${why}`,
        external.message ? `: ${external.message}` : ".",
      ),
    );
  }
  return h("div", { class: "external" }, parts);
}

/**
 * The screen-pop as a card. `headingLevel` keeps the page's outline right where the card
 * sits; `historyLimit` shortens the list on an offer card.
 */
export function screenPopCard(pop, reference, { headingLevel = 3, historyLimit = 5, nameId } = {}) {
  const heading = `h${headingLevel}`;
  const sub = `h${Math.min(headingLevel + 1, 6)}`;
  const name = (text) => h(heading, { class: "customer-name", id: nameId }, text);
  if (!pop) {
    return h(
      "section",
      { class: "screen-pop", "aria-label": "Customer: unknown" },
      name("Unknown customer"),
      h("p", { class: "muted" }, "No customer record came with this interaction."),
    );
  }
  const contact = pop.contact;
  const children = [];
  if (contact) {
    children.push(
      h(
        "div",
        { class: "customer-head" },
        name(contact.name || "(no name)"),
        classBadge(contact.class),
        contact.provisional
          ? h(
              "span",
              { class: "badge provisional", title: "Created from an unknown caller" },
              "Provisional record",
            )
          : null,
      ),
    );
    if (contact.organisation)
      children.push(h("p", { class: "organisation" }, contact.organisation));
    const facts = [];
    if (pop.recognised_by) facts.push(["Recognised by", identityText(pop.recognised_by)]);
    if (contact.identities?.length) {
      facts.push(["Identities", contact.identities.map(identityText).join(", ")]);
    }
    facts.push(["Account owner", contact.owner || "none"]);
    if (contact.language) facts.push(["Language", contact.language]);
    children.push(
      h(
        "dl",
        { class: "facts" },
        facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
      ),
    );
  } else {
    children.push(name("Unknown customer"));
    children.push(
      h(
        "p",
        { class: "muted" },
        pop.recognised_by
          ? `No record matches ${identityText(pop.recognised_by)}.`
          : "The customer was not recognised.",
      ),
    );
  }
  if (pop.error) {
    children.push(
      h("p", { class: "notice alarm" }, `The customer record could not be read: ${pop.error}`),
    );
  }
  const cases = pop.open_cases ?? [];
  children.push(
    h(sub, {}, `Open cases (${cases.length})`),
    cases.length
      ? h("ul", { class: "cases" }, cases.map(caseLine))
      : h("p", { class: "muted" }, "None."),
  );
  const history = (pop.history ?? []).slice(0, historyLimit);
  children.push(
    h(sub, {}, "Last interactions"),
    history.length
      ? h(
          "ul",
          { class: "history" },
          history.map((p) => historyLine(p, reference)),
        )
      : h("p", { class: "muted" }, "None before this one."),
  );
  children.push(externalPart(pop.external, sub));
  return h(
    "section",
    { class: "screen-pop", "aria-label": `Customer: ${customerName(pop)}` },
    children,
  );
}

/** A short name for tabs and notifications. */
export function customerName(pop) {
  return pop?.contact?.name || (pop?.recognised_by ? pop.recognised_by.value : "Unknown customer");
}
