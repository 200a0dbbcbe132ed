// The reports page: historical queue and agent figures for a date range as a chart and
// a table, their CSV, and the per-interaction export. Supervisors see everything; an
// agent sees only their own agent report (the API enforces the same).

import { api, hasRole } from "../lib/api.js";
import { errorText, h, replaceChildren } from "../lib/dom.js";
import { reloadOnLogout, requireLogin } from "../lib/login.js";
import { clearChart, drawChart } from "./chart.js";
import { rangeText, todayIn } from "./dates.js";
import { download, sizeText } from "./download.js";
import { MEDIA } from "./format.js";
import { GROUPS, KINDS, buildForm } from "./form.js";
import { agentTable, queueTable } from "./table.js";
import { topbar } from "./topbar.js";

const ENDPOINTS = {
  queues: "/api/v1/reports/queues",
  agents: "/api/v1/reports/agents",
  interactions: "/api/v1/reports/interactions",
};

const root = document.getElementById("app");
const session = await requireLogin(root, { role: "agent", title: "Reports" });
// Only now: a login refused for its role logs out, and that must not reload the form away.
reloadOnLogout();
const supervisor = hasRole(session, "supervisor");

const status = h("p", { class: "status", role: "status", "aria-live": "polite" }, "Loading…");
const failure = h("div", { class: "report-error", role: "alert" });
const heading = h("h2", { id: "results-title" }, "Report");
const canvas = h("canvas", { role: "img", "aria-label": "Chart of the report" });
const chartCard = h(
  "figure",
  { class: "card chart-card", hidden: true },
  h("div", { class: "chart-box" }, canvas),
);
const tableCard = h("div", { class: "table-card", hidden: true });
const note = h("p", { class: "muted scope-note" });
const results = h(
  "section",
  { class: "results", "aria-labelledby": "results-title" },
  heading,
  note,
  status,
  failure,
  chartCard,
  tableCard,
);
const main = h("main", { id: "main", class: "reports-main" }, h("h1", {}, "Reports"));
replaceChildren(root, topbar(session, "/reports"), main);

/** What the page needs before the form: the centre's time zone and the filter names. */
async function loadContext() {
  // No endpoint gives agents and supervisors the centre's time zone, but every report
  // names it: a one-day agent report (an agent reads their own) is the cheapest.
  const probeDay = new Date().toISOString().slice(0, 10);
  const [probe, queues, agents, reasons] = await Promise.all([
    api.get(ENDPOINTS.agents, { from: probeDay, to: probeDay, group: "day" }),
    supervisor ? api.get("/api/v1/queues") : { queues: [] },
    api.get("/api/v1/agents"),
    api.get("/api/v1/not-ready-reasons"),
  ]);
  return {
    timezone: probe.timezone,
    queues: new Map(queues.queues.map((q) => [q.id, q.name || q.id])),
    agents: new Map(agents.agents.map((a) => [a.id, a.name || a.id])),
    reasons: new Map(reasons.not_ready_reasons.map((r) => [r.code, r.label])),
  };
}

let context;
try {
  context = await loadContext();
} catch (err) {
  const retry = h("button", { type: "button", onclick: () => location.reload() }, "Try again");
  replaceChildren(failure, `Cannot load the reports page: ${errorText(err)} `, retry);
  main.append(failure);
  // Nothing below can work without the context: stop here, without an uncaught error.
  await new Promise(() => {});
}

const today = () => todayIn(context.timezone);
const kinds = KINDS.filter((k) => hasRole(session, k.role));

const form = buildForm({
  kinds,
  queues: [...context.queues],
  agents: supervisor ? [...context.agents] : [],
  timezone: context.timezone,
  today,
  onShow: show,
  onDownload: save,
});
main.append(form.element, results);
if (!supervisor) {
  note.textContent = "As an agent you see your own figures only.";
}

/** The selection in the address bar, or the default: today's queues (own figures for agents). */
function initialSelection() {
  const params = new URLSearchParams(location.search);
  const pick = (name, allowed, fallback) =>
    allowed.includes(params.get(name)) ? params.get(name) : fallback;
  const t = today();
  return {
    kind: pick(
      "kind",
      kinds.map((k) => k.id),
      kinds[0].id,
    ),
    from: /^\d{4}-\d{2}-\d{2}$/.test(params.get("from") || "") ? params.get("from") : t,
    to: /^\d{4}-\d{2}-\d{2}$/.test(params.get("to") || "") ? params.get("to") : t,
    group: pick(
      "group",
      GROUPS.map((g) => g.id),
      "day",
    ),
    queue: pick("queue", [...context.queues.keys()], ""),
    medium: pick(
      "medium",
      MEDIA.map((m) => m.id),
      "",
    ),
    agent: supervisor ? pick("agent", [...context.agents.keys()], "") : "",
    all: params.get("all") === "1",
  };
}

function remember(sel) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(sel)) {
    if (value === "" || value === false) continue;
    params.set(key, value === true ? "1" : value);
  }
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

function apiQuery(sel) {
  if (sel.kind === "queues") {
    return { from: sel.from, to: sel.to, group: sel.group, queue: sel.queue, medium: sel.medium };
  }
  if (sel.kind === "agents") {
    return {
      from: sel.from,
      to: sel.to,
      group: sel.group,
      agent: supervisor ? sel.agent : session.agent_id,
    };
  }
  return { from: sel.from, to: sel.to };
}

function title(sel) {
  const kind = KINDS.find((k) => k.id === sel.kind).label;
  if (sel.kind === "interactions") return `${kind} · ${rangeText(sel.from, sel.to)}`;
  const group = GROUPS.find((g) => g.id === sel.group).label.toLowerCase();
  return `${kind} · ${rangeText(sel.from, sel.to)} · by ${group}`;
}

let showing = 0; // the newest request: an older answer arriving late is dropped

async function show(sel) {
  const mine = ++showing;
  remember(sel);
  heading.textContent = title(sel);
  failure.textContent = "";
  if (sel.kind === "interactions") {
    clearChart();
    chartCard.hidden = true;
    tableCard.hidden = true;
    status.textContent =
      "The interaction detail lists every event of every interaction created in the range " +
      "(CSV: one row per event; NDJSON: one interaction per line). Choose a download format.";
    return;
  }
  status.textContent = "Loading report…";
  results.setAttribute("aria-busy", "true");
  form.setBusy(true);
  try {
    const report = await api.get(ENDPOINTS[sel.kind], apiQuery(sel));
    if (mine !== showing) return;
    render(sel, report);
  } catch (err) {
    if (mine !== showing) return;
    clearChart();
    chartCard.hidden = true;
    tableCard.hidden = true;
    status.textContent = "";
    failure.textContent = `Cannot load the report: ${errorText(err)}`;
  } finally {
    if (mine === showing) {
      results.setAttribute("aria-busy", "false");
      form.setBusy(false);
    }
  }
}

function render(sel, report) {
  const table =
    sel.kind === "queues"
      ? queueTable(report, { names: context.queues, all: sel.all })
      : agentTable(report, { names: context.agents, reasons: context.reasons, all: sel.all });
  if (table === null) {
    clearChart();
    chartCard.hidden = true;
    tableCard.hidden = true;
    status.textContent = "No data for this selection.";
    return;
  }
  replaceChildren(tableCard, table);
  tableCard.hidden = false;
  chartCard.hidden = false;
  canvas.setAttribute(
    "aria-label",
    sel.kind === "queues"
      ? "Chart of offered, answered and abandoned interactions and service level per period; the table below has the figures."
      : "Chart of interactions handled and completed and occupancy per period; the table below has the figures.",
  );
  if (!drawChart(canvas, sel.kind, report)) {
    chartCard.hidden = true;
    status.textContent = "The chart library did not load; the table has the figures.";
    return;
  }
  const periods = report.groups.filter((g) => g.rows.length > 0).length;
  status.textContent =
    report.groups.length === 1
      ? "Figures for the whole range."
      : `${periods} of ${report.groups.length} periods have figures; periods without any are left out of the table.`;
}

async function save(sel, format) {
  const query = { ...apiQuery(sel), format };
  form.setDownloading(true, "Preparing the download…");
  failure.textContent = "";
  try {
    const file = await download(ENDPOINTS[sel.kind], query, {
      fallbackName: `trunkline-${sel.kind}-${sel.from}-${sel.to}.${format}`,
      onProgress: (bytes) => form.setDownloading(true, `Downloading… ${sizeText(bytes)}`),
    });
    form.setDownloading(false, `Downloaded ${file.name} (${sizeText(file.bytes)}).`);
  } catch (err) {
    form.setDownloading(false, "");
    failure.textContent = `Cannot download: ${errorText(err)}`;
  }
}

const first = initialSelection();
form.write(first);
show(first);
