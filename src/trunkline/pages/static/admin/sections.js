// The running configuration (GET /api/v1/config) as readable sections: one function per
// part of the file, each returning a <section> with an id the page's contents link to.

import { h } from "../lib/dom.js";
import { duration, mediumLabel, percent } from "../reports/format.js";

const NONE = "–";

function section(id, title, ...body) {
  return h(
    "section",
    { id, class: "card config-section", "aria-labelledby": `${id}-title`, tabindex: "-1" },
    h("h2", { id: `${id}-title` }, title),
    body,
  );
}

function table(caption, headers, rows, { empty = "None configured." } = {}) {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((x) => h("th", { scope: "col" }, x)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((cells) =>
          h(
            "tr",
            {},
            cells.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c))),
          ),
        ),
      ),
    ),
  );
}

/** {english: 3, billing: 2} -> "english 3, billing 2" */
function levels(map) {
  const entries = Object.entries(map || {});
  return entries.length ? entries.map(([k, v]) => `${k} ${v}`).join(", ") : NONE;
}

function list(items) {
  return items.length ? items.join(", ") : NONE;
}

function definitions(pairs) {
  return h(
    "dl",
    { class: "definitions" },
    pairs.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))),
  );
}

export function centreSection(config) {
  const c = config.centre;
  return section(
    "centre",
    "Centre",
    definitions([
      ["Name", c.name || NONE],
      ["Time zone", c.timezone],
      ["Priority unit", `${duration(c.priority_unit_s)} per priority step`],
      ["Preferred agent head start", duration(c.preferred_head_start_s)],
      ["Disconnect grace", duration(c.disconnect_grace_s)],
      ["Configuration file", h("code", {}, config.source || "none (built-in defaults)")],
    ]),
  );
}

function escalationStep(step) {
  const parts = [];
  if (Object.keys(step.lower_skills).length) parts.push(`lower ${levels(step.lower_skills)}`);
  if (step.drop_skills.length) parts.push(`drop ${list(step.drop_skills)}`);
  if (step.add_queues.length) parts.push(`add queues ${list(step.add_queues)}`);
  if (step.raise_priority) parts.push(`raise priority by ${step.raise_priority}`);
  return h("li", {}, `After ${duration(step.after_s)}: ${parts.join("; ") || "no change"}`);
}

function wrapUpText({ mode, seconds }) {
  if (mode === "timed") return `timed: ends after ${duration(seconds)}`;
  if (mode === "manual") return "manual: until the agent submits it";
  return mode === "none" ? "none: the agent is free when handling ends" : mode;
}

function queueCard(q) {
  const sl = Object.entries(q.service_level);
  const w = q.wallboard;
  const closed =
    q.closed_action === "overflow" && q.closed_overflow_queue
      ? `overflow to ${q.closed_overflow_queue}`
      : q.closed_action;
  return h(
    "article",
    { class: "queue-card", "aria-labelledby": `queue-${q.id}-title` },
    h(
      "h3",
      { id: `queue-${q.id}-title` },
      q.name,
      " ",
      h("span", { class: "muted id" }, `(${q.id})`),
    ),
    definitions([
      ["Strategy", q.strict_priority ? `${q.strategy}, strict priority` : q.strategy],
      ["Hours", `${q.hours}; when closed: ${closed}`],
      ["Offer timeout", duration(q.offer_timeout_s)],
      ["Wrap-up", wrapUpText(q.wrap_up)],
      ["Transfer head start", duration(q.transfer_head_start_s)],
      [
        "Service level",
        sl.length
          ? h(
              "ul",
              { class: "plain" },
              sl.map(([m, t]) =>
                h(
                  "li",
                  {},
                  `${mediumLabel(m)}: ${percent(t.percent)} in ${duration(t.threshold_s)}`,
                ),
              ),
            )
          : "defaults",
      ],
      [
        "Escalation",
        q.escalation.length
          ? h("ol", { class: "plain" }, q.escalation.map(escalationStep))
          : "none",
      ],
      [
        "Wallboard",
        h(
          "ul",
          { class: "plain" },
          h("li", {}, `Waiting: amber at ${w.waiting_warn}, red at ${w.waiting_alarm}`),
          h(
            "li",
            {},
            `Longest wait: amber at ${duration(w.longest_wait_warn_s)}, red at ${duration(w.longest_wait_alarm_s)}`,
          ),
          h("li", {}, `Service level: red ${percent(w.service_level_margin_percent)} below target`),
        ),
      ],
    ]),
  );
}

export function queuesSection(config) {
  return section(
    "queues",
    `Queues (${config.queues.length})`,
    config.queues.length
      ? h("div", { class: "queue-cards" }, config.queues.map(queueCard))
      : h("p", { class: "muted" }, "None configured."),
  );
}

export function skillsSection(config) {
  const rows = Object.entries(config.skills).map(([id, description]) => [id, description || NONE]);
  return section(
    "skills",
    `Skills (${rows.length})`,
    table("Skills", ["Skill", "Description"], rows),
  );
}

export function agentsSection(config) {
  const rows = config.agents.map((a) => [
    a.id,
    a.name,
    a.team || NONE,
    levels(a.skills),
    list(a.queues),
    a.capacity,
  ]);
  return section(
    "agents",
    `Agents (${rows.length})`,
    table(
      "Agents",
      ["Agent", "Name", "Team", "Skills (level 1–5)", "Queues", "Capacity profile"],
      rows,
    ),
  );
}

export function capacitySection(config) {
  const rows = Object.entries(config.capacity_profiles).map(([name, p]) => [
    name,
    levels(p.limits),
    list(p.exclusive),
    p.max_total ?? NONE,
  ]);
  return section(
    "capacity",
    "Capacity profiles",
    table(
      "Capacity profiles",
      ["Profile", "At once per medium", "Exclusive media", "Total at once"],
      rows,
    ),
  );
}

export function usersSection(config) {
  const rows = config.users.map((u) => [u.id, u.name, u.role, u.agent_id || NONE]);
  return section(
    "users",
    `Users (${rows.length})`,
    h("p", { class: "muted" }, "Password hashes are never sent to the browser."),
    table("Users", ["User", "Name", "Role", "Agent"], rows),
  );
}

export function wrapUpSection(config) {
  const rows = config.wrap_up_codes.map((c) => [c.code, c.label, c.resolved ? "yes" : "no"]);
  return section(
    "wrap-up-codes",
    "Wrap-up codes",
    table("Wrap-up codes", ["Code", "Label", "Counts as resolved (FCR)"], rows),
  );
}

export function notReadySection(config) {
  const rows = config.not_ready_reasons.map((r) => [
    r.code,
    r.label,
    r.system ? "system (set automatically)" : "agent",
  ]);
  return section(
    "not-ready-reasons",
    "Not-ready reasons",
    table("Not-ready reasons", ["Code", "Label", "Chosen by"], rows),
  );
}

export function rulesSection(config) {
  return section(
    "rules",
    `Routing rules (${config.rules.length})`,
    config.rules.length
      ? h(
          "ol",
          { class: "rules" },
          config.rules.map((name) => h("li", {}, name)),
        )
      : h(
          "p",
          { class: "muted" },
          "No routing rules: interactions keep the queue and skills they arrive with.",
        ),
  );
}

/** Every section in page order, with the label the contents list shows. */
export const SECTIONS = [
  ["centre", "Centre", centreSection],
  ["queues", "Queues", queuesSection],
  ["skills", "Skills", skillsSection],
  ["agents", "Agents", agentsSection],
  ["capacity", "Capacity profiles", capacitySection],
  ["users", "Users", usersSection],
  ["wrap-up-codes", "Wrap-up codes", wrapUpSection],
  ["not-ready-reasons", "Not-ready reasons", notReadySection],
  ["rules", "Routing rules", rulesSection],
];
