// The report selection form: kind, date range with quick picks, grouping and filters.
// It knows nothing of the API; it reads and writes a plain selection object.

import { h } from "../lib/dom.js";
import { QUICK_PICKS, daysBetween, isIsoDate } from "./dates.js";
import { MEDIA } from "./format.js";

export const KINDS = [
  { id: "queues", label: "Queues", role: "supervisor" },
  { id: "agents", label: "Agents", role: "agent" },
  { id: "interactions", label: "Interaction detail (export)", role: "supervisor" },
];

export const GROUPS = [
  { id: "interval", label: "15 minutes" },
  { id: "day", label: "Day" },
  { id: "week", label: "Week" },
  { id: "month", label: "Month" },
];

// The API's longest range per grouping (api_reports.MAX_DAYS): checked here first so the
// user hears why at once, in words about the form.
const MAX_DAYS = { interval: 31, day: 366, week: 731, month: 3660 };

function select(id, label, options) {
  return [
    h("label", { for: id }, label),
    h(
      "select",
      { id, name: id },
      options.map(([value, text]) => h("option", { value }, text)),
    ),
  ];
}

function field(cls, ...children) {
  return h("div", { class: `field ${cls}` }, children);
}

/**
 * Build the form. `kinds`: the report kinds this login may use; `queues`, `agents`:
 * [id, name] pairs for the filters (agents empty: no agent filter). Callbacks:
 * `onShow(selection)` (also on a quick pick and on a choice from a list),
 * `onDownload(selection, format)`.
 */
export function buildForm({ kinds, queues, agents, timezone, today, onShow, onDownload }) {
  const kindField = h(
    "fieldset",
    { class: "kinds" },
    h("legend", {}, "Report"),
    kinds.map((k) =>
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: "kind", value: k.id }),
        ` ${k.label}`,
      ),
    ),
  );
  // One kind only (an agent's own report): nothing to choose, the heading names it.
  kindField.hidden = kinds.length < 2;
  const from = h("input", { type: "date", id: "report-from", name: "from", required: true });
  const to = h("input", { type: "date", id: "report-to", name: "to", required: true });
  const picks = QUICK_PICKS.map((p) =>
    h(
      "button",
      { type: "button", class: "pick", dataset: { pick: p.id }, "aria-pressed": "false" },
      p.label,
    ),
  );
  const rangeField = h(
    "fieldset",
    { class: "range" },
    h("legend", {}, "Dates"),
    h(
      "div",
      { class: "range-inputs" },
      field("", h("label", { for: "report-from" }, "From"), from),
      field("", h("label", { for: "report-to" }, "To"), to),
      h("div", { class: "picks", role: "group", "aria-label": "Quick picks" }, picks),
    ),
    h(
      "p",
      { class: "hint muted", id: "tz-hint" },
      "Days and times are in the centre's time zone, ",
      h("strong", { class: "timezone" }, timezone),
      ".",
    ),
  );
  const groupField = field(
    "group",
    ...select(
      "report-group",
      "Group by",
      GROUPS.map((g) => [g.id, g.label]),
    ),
  );
  const queueField = field(
    "queue",
    ...select("report-queue", "Queue", [["", "All queues"], ...queues]),
  );
  const mediumField = field(
    "medium",
    ...select("report-medium", "Medium", [["", "All media"], ...MEDIA.map((m) => [m.id, m.label])]),
  );
  const agentField = field(
    "agent",
    ...select("report-agent", "Agent", [["", "All agents"], ...agents]),
  );
  agentField.hidden = agents.length === 0;
  const allBox = h("input", { type: "checkbox", id: "report-all", name: "all" });
  const allField = h(
    "div",
    { class: "field check" },
    allBox,
    h("label", { for: "report-all" }, "Show all figures"),
  );
  const error = h("p", { class: "form-error", id: "report-form-error", role: "alert" });

  const showButton = h("button", { type: "submit", class: "primary" }, "Show report");
  const csvButton = h("button", { type: "button", dataset: { format: "csv" } }, "Download CSV");
  const ndjsonButton = h(
    "button",
    { type: "button", dataset: { format: "ndjson" } },
    "Download NDJSON",
  );
  const saving = h("p", { class: "download-status muted", role: "status", "aria-live": "polite" });

  const form = h(
    "form",
    {
      class: "card report-form",
      "aria-label": "Report selection",
      "aria-describedby": "report-form-error",
      novalidate: true,
    },
    kindField,
    rangeField,
    h(
      "div",
      { class: "filters" },
      groupField,
      queueField,
      mediumField,
      agentField,
      allField,
      h("div", { class: "actions" }, showButton, csvButton, ndjsonButton),
    ),
    saving,
    error,
  );
  const control = (name) => form.elements.namedItem(name);

  function read() {
    return {
      kind: form.querySelector("input[name=kind]:checked")?.value ?? kinds[0].id,
      from: from.value,
      to: to.value,
      group: control("report-group").value,
      queue: control("report-queue").value,
      medium: control("report-medium").value,
      agent: agents.length ? control("report-agent").value : "",
      all: allBox.checked,
    };
  }

  function markPick() {
    for (const button of picks) {
      const [a, b] = QUICK_PICKS.find((p) => p.id === button.dataset.pick).range(today());
      button.setAttribute("aria-pressed", String(a === from.value && b === to.value));
    }
  }

  function showKind() {
    const kind = read().kind;
    groupField.hidden = kind === "interactions";
    queueField.hidden = kind !== "queues";
    mediumField.hidden = kind !== "queues";
    agentField.hidden = kind !== "agents" || agents.length === 0;
    allField.hidden = kind === "interactions";
    showButton.hidden = kind === "interactions";
    ndjsonButton.hidden = kind !== "interactions";
  }

  /** The selection's problem in words, or "" when the API will take it. */
  function problem(sel) {
    if (!isIsoDate(sel.from) || !isIsoDate(sel.to)) return "Enter both dates.";
    if (sel.to < sel.from) return "The end date is before the start date.";
    const days = daysBetween(sel.from, sel.to);
    if (sel.kind !== "interactions" && days > MAX_DAYS[sel.group]) {
      const group = GROUPS.find((g) => g.id === sel.group).label.toLowerCase();
      return `Grouped by ${group}, a report covers at most ${MAX_DAYS[sel.group]} days; this range has ${days}.`;
    }
    return "";
  }

  function checked() {
    const sel = read();
    error.textContent = problem(sel);
    return error.textContent ? null : sel;
  }

  // A choice from a list is one deliberate act: show its report at once. Dates are typed
  // piece by piece, so they wait for "Show report" (or a quick pick).
  const APPLY_ON_CHANGE = new Set([
    "kind",
    "report-group",
    "report-queue",
    "report-medium",
    "report-agent",
    "all",
  ]);
  form.addEventListener("change", (event) => {
    markPick();
    if (!APPLY_ON_CHANGE.has(event.target.name)) return;
    if (event.target.name === "kind") showKind();
    const sel = checked();
    if (sel) onShow(sel);
  });
  form.addEventListener("input", markPick);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const sel = checked();
    if (sel) onShow(sel);
  });
  for (const button of picks) {
    button.addEventListener("click", () => {
      const [a, b] = QUICK_PICKS.find((p) => p.id === button.dataset.pick).range(today());
      from.value = a;
      to.value = b;
      markPick();
      const sel = checked();
      if (sel) onShow(sel);
    });
  }
  for (const button of [csvButton, ndjsonButton]) {
    button.addEventListener("click", () => {
      const sel = checked();
      if (sel) onDownload(sel, button.dataset.format);
    });
  }

  return {
    element: form,
    read,
    /** Put `sel` into the controls. */
    write(sel) {
      for (const radio of form.querySelectorAll("input[name=kind]"))
        radio.checked = radio.value === sel.kind;
      from.value = sel.from;
      to.value = sel.to;
      control("report-group").value = sel.group;
      control("report-queue").value = sel.queue;
      control("report-medium").value = sel.medium;
      if (agents.length) control("report-agent").value = sel.agent;
      allBox.checked = sel.all;
      showKind();
      markPick();
    },
    setBusy(busy) {
      showButton.disabled = busy;
      form.setAttribute("aria-busy", String(busy));
    },
    setDownloading(busy, text) {
      csvButton.disabled = busy;
      ndjsonButton.disabled = busy;
      saving.textContent = text;
    },
  };
}
