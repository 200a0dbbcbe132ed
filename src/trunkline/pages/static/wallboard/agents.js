// The agent grid: who is doing what and for how long, filterable by queue and team, with
// the supervisor's controls per agent — queue membership (drag, chips, "Queues…"), skill
// levels edited in place, and forcing a state or a logout.

import { h, replaceChildren, syncKeyed } from "../lib/dom.js";
import { openFormDialog } from "./dialog.js";
import { dragAgent, dragMembership } from "./drag.js";
import {
  PHASE_LABELS,
  STATE_LABELS,
  duration,
  idPart,
  mediumLabel,
  rebuildIfChanged,
  setExclusiveClass,
  setText,
  stateLabel,
} from "./format.js";

const STATES = Object.keys(STATE_LABELS);
const LEVELS = [1, 2, 3, 4, 5];
// Arrow keys change a closed <select> at once; wait for the supervisor to settle on a
// level before routing follows each step.
const SKILL_SETTLE_MS = 700;

export class AgentGrid {
  constructor(container, store, actions) {
    this.store = store;
    this.actions = actions;
    this.rows = new Map(); // agent id -> row parts
    this.filters = { queue: "", team: "", loggedOut: true };
    this.queueFilter = h("select", { id: "agent-filter-queue" });
    this.teamFilter = h("select", { id: "agent-filter-team" });
    this.loggedOut = h("input", { type: "checkbox", id: "agent-filter-logged-out", checked: true });
    this.summary = h("p", { class: "muted grid-summary", "aria-live": "polite" });
    this.queueFilter.addEventListener("change", () => this._filter("queue", this.queueFilter.value));
    this.teamFilter.addEventListener("change", () => this._filter("team", this.teamFilter.value));
    this.loggedOut.addEventListener("change", () => this._filter("loggedOut", this.loggedOut.checked));
    this.body = h("tbody");
    this.empty = h("p", { class: "muted empty", hidden: true }, "No agent matches these filters.");
    replaceChildren(
      container,
      h(
        "div",
        { class: "grid-filters", role: "group", "aria-label": "Filter agents" },
        h("label", { for: "agent-filter-queue" }, "Queue"),
        this.queueFilter,
        h("label", { for: "agent-filter-team" }, "Team"),
        this.teamFilter,
        h("span", { class: "check" }, this.loggedOut, h("label", { for: "agent-filter-logged-out" }, "Logged out")),
        this.summary,
      ),
      h(
        "div",
        { class: "table-scroll" },
        h(
          "table",
          { class: "agent-grid" },
          h("caption", { class: "visually-hidden" }, "Agents, their state and work"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Agent", "Team", "State", "In state", "Work", "Queues", "Skills", "Force state"].map((c) =>
                h("th", { scope: "col" }, c),
              ),
            ),
          ),
          this.body,
        ),
      ),
      this.empty,
    );
  }

  _filter(key, value) {
    this.filters[key] = value;
    this.render();
  }

  /** Refill the filter choices from the queues and teams known now, keeping the choice. */
  _filterOptions(agents) {
    const queues = this.store.queueIds();
    const teams = [...new Set(agents.map((a) => a.team || this._view(a.id)?.team).filter(Boolean))].sort();
    rebuildIfChanged(this.queueFilter, JSON.stringify(queues.map((q) => [q, this.store.queueName(q)])), () => [
      h("option", { value: "" }, "All queues"),
      queues.map((q) => h("option", { value: q }, this.store.queueName(q))),
    ]);
    rebuildIfChanged(this.teamFilter, JSON.stringify(teams), () => [
      h("option", { value: "" }, "All teams"),
      teams.map((t) => h("option", { value: t }, t)),
    ]);
    this.queueFilter.value = queues.includes(this.filters.queue) ? this.filters.queue : "";
    this.teamFilter.value = teams.includes(this.filters.team) ? this.filters.team : "";
  }

  _view(id) {
    return this.store.agentViews.get(id);
  }

  _matches(agent) {
    const { queue, team, loggedOut } = this.filters;
    if (queue && !agent.queues.includes(queue)) return false;
    if (team && (agent.team || this._view(agent.id)?.team || "") !== team) return false;
    if (!loggedOut && agent.state === "logged_out") return false;
    return true;
  }

  render() {
    const agents = [...(this.store.snapshot?.agents || [])].sort(
      (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
    );
    this._filterOptions(agents);
    const shown = agents.filter((a) => this._matches(a));
    syncKeyed(this.body, this.rows, shown, {
      build: (agent) => this._buildRow(agent),
      update: (row, agent) => this._updateRow(row, agent),
      element: (row) => row.tr,
    });
    this.empty.hidden = shown.length > 0 || agents.length === 0;
    setText(this.summary, `Showing ${shown.length} of ${agents.length} agents`);
  }

  /** Every second: time in state (frozen at the last update while not live). */
  tick() {
    const now = this.store.live ? this.store.clock.now() : this.store.updatedAt;
    const agents = new Map((this.store.snapshot?.agents || []).map((a) => [a.id, a]));
    for (const [id, row] of this.rows) {
      const agent = agents.get(id);
      if (agent) setText(row.time, agent.since && agent.state !== "logged_out" ? duration(now - agent.since) : "–");
    }
  }

  _buildRow(agent) {
    const cells = {
      name: h("td", { class: "agent-name" }),
      team: h("td"),
      state: h("td"),
      time: h("td", { class: "num" }),
      work: h("td", { class: "agent-work" }),
      queues: h("td", { class: "agent-queues" }),
      skills: h("td", { class: "agent-skills" }),
      force: h("td", { class: "agent-force" }),
    };
    const tr = h("tr", { dataset: { agent: agent.id } }, Object.values(cells));
    dragAgent(tr, agent.id, agent.name);
    const handle = h("span", { class: "drag-handle", "aria-hidden": "true", title: "Drag onto a queue tile" }, "⠿");
    const name = h("span", { class: "name" });
    replaceChildren(cells.name, handle, name);
    return { tr, ...cells, nameText: name, id: agent.id };
  }

  _updateRow(row, agent) {
    const view = this._view(agent.id);
    setText(row.nameText, agent.name);
    setText(row.team, agent.team || view?.team || "–");
    const loggedIn = agent.state !== "logged_out";
    rebuildIfChanged(
      row.state,
      JSON.stringify([agent.state, agent.reason, loggedIn && view && !view.connected]),
      () => {
        const badge = h("span", { class: "badge" }, stateLabel(agent.state));
        setExclusiveClass(badge, "state-", agent.state, STATES);
        const reason = agent.reason && agent.state !== "ready" ? this.store.reasonLabel(agent.reason) : "";
        return [
          badge,
          reason ? h("span", { class: "reason" }, ` ${reason}`) : null,
          loggedIn && view && !view.connected
            ? h("span", { class: "disconnected" }, " ⚠ desktop disconnected")
            : null,
        ];
      },
    );
    row.tr.classList.toggle("logged-out", !loggedIn);
    const now = this.store.live ? this.store.clock.now() : this.store.updatedAt;
    setText(row.time, agent.since && loggedIn ? duration(now - agent.since) : "–");
    rebuildIfChanged(row.work, JSON.stringify(agent.interactions), () =>
      agent.interactions.length
        ? h(
            "ul",
            { class: "plain" },
            agent.interactions.map((it) =>
              h(
                "li",
                {},
                h("span", { class: `medium medium-${it.medium}` }, mediumLabel(it.medium)),
                ` · ${this.store.queueName(it.queue)} · ${PHASE_LABELS[it.phase] || it.phase}`,
              ),
            ),
          )
        : h("span", { class: "muted" }, "–"),
    );
    rebuildIfChanged(
      row.queues,
      JSON.stringify([agent.queues.map((q) => [q, this.store.queueName(q)]), agent.name]),
      () => this._queuesCell(agent),
    );
    rebuildIfChanged(
      row.skills,
      JSON.stringify([view?.skills ?? null, this.store.skills, agent.name]),
      () => this._skillsCell(agent, view),
    );
    rebuildIfChanged(
      row.force,
      JSON.stringify([loggedIn, this.store.reasons, agent.name]),
      () => this._forceCell(agent, loggedIn),
    );
  }

  _queuesCell(agent) {
    const chips = agent.queues.map((q) => {
      const name = this.store.queueName(q);
      const chip = h(
        "li",
        { class: "chip", title: `Drag onto another queue tile to move ${agent.name}` },
        h("span", {}, name),
        h(
          "button",
          {
            type: "button",
            class: "chip-remove",
            "aria-label": `Remove ${agent.name} from ${name}`,
            dataset: { focusKey: `remove-${q}` },
            onclick: () => this.actions.removeFromQueue(agent.id, q),
          },
          "×",
        ),
      );
      dragMembership(chip, agent.id, q, `${agent.name} in ${name}`);
      return chip;
    });
    return [
      chips.length ? h("ul", { class: "chips" }, chips) : h("span", { class: "muted" }, "no queue "),
      h(
        "button",
        {
          type: "button",
          class: "small",
          "aria-label": `Queues of ${agent.name}…`,
          dataset: { focusKey: "queues" },
          onclick: () => this.editQueues(agent.id),
        },
        "Queues…",
      ),
    ];
  }

  /** The keyboard way to change memberships: a checkbox per queue. */
  editQueues(agentId) {
    const agent = this.store.agent(agentId);
    if (!agent) return;
    const boxes = this.store.queueIds().map((q) => {
      const id = `queue-edit-${idPart(q)}`;
      const box = h("input", { type: "checkbox", id, value: q, checked: agent.queues.includes(q) });
      return h("li", { class: "check" }, box, h("label", { for: id }, this.store.queueName(q)));
    });
    openFormDialog({
      title: `Queues of ${agent.name}`,
      body: h(
        "fieldset",
        {},
        h("legend", {}, "Member of"),
        h("ul", { class: "plain" }, boxes),
      ),
      submitLabel: "Save queues",
      submit: async (form) => {
        const chosen = [...form.querySelectorAll("input[type=checkbox]:checked")].map((b) => b.value);
        return this.actions.setQueues(agentId, chosen);
      },
    });
  }

  _skillsCell(agent, view) {
    if (!view) return h("span", { class: "muted" }, "…");
    const skills = Object.entries(view.skills || {}).sort(([a], [b]) => a.localeCompare(b));
    const items = skills.map(([skill, level]) => {
      const select = h(
        "select",
        {
          "aria-label": `${skill} level for ${agent.name}`,
          dataset: { focusKey: `skill-${skill}` },
        },
        LEVELS.map((l) => h("option", { value: String(l) }, String(l))),
      );
      select.value = String(level);
      let timer = null;
      const apply = () => {
        clearTimeout(timer);
        timer = null;
        const chosen = Number(select.value);
        if (chosen !== level) this.actions.setSkill(agent.id, skill, chosen);
      };
      select.addEventListener("change", () => {
        clearTimeout(timer);
        timer = setTimeout(apply, SKILL_SETTLE_MS);
      });
      select.addEventListener("blur", () => timer && apply());
      return h(
        "li",
        { class: "skill" },
        h("span", { class: "skill-name", "aria-hidden": "true" }, skill),
        select,
        h(
          "button",
          {
            type: "button",
            class: "chip-remove",
            "aria-label": `Remove skill ${skill} from ${agent.name}`,
            dataset: { focusKey: `skill-remove-${skill}` },
            onclick: () => this.actions.setSkill(agent.id, skill, null),
          },
          "×",
        ),
      );
    });
    const missing = this.store.skills.filter((s) => !(s in (view.skills || {})));
    return [
      items.length ? h("ul", { class: "skills" }, items) : h("span", { class: "muted" }, "no skills "),
      missing.length
        ? h(
            "button",
            {
              type: "button",
              class: "small",
              "aria-label": `Add a skill to ${agent.name}…`,
              dataset: { focusKey: "skill-add" },
              onclick: () => this.addSkill(agent.id, missing),
            },
            "+ Skill",
          )
        : null,
    ];
  }

  addSkill(agentId, missing) {
    const agent = this.store.agent(agentId);
    const skill = h("select", { id: "add-skill-name", required: true }, missing.map((s) => h("option", { value: s }, s)));
    const level = h("select", { id: "add-skill-level" }, LEVELS.map((l) => h("option", { value: String(l) }, String(l))));
    level.value = "3";
    openFormDialog({
      title: `Add a skill to ${agent?.name || agentId}`,
      body: h(
        "div",
        { class: "form-grid" },
        h("label", { for: "add-skill-name" }, "Skill"),
        skill,
        h("label", { for: "add-skill-level" }, "Level (1–5)"),
        level,
      ),
      submitLabel: "Add skill",
      submit: () => this.actions.setSkill(agentId, skill.value, Number(level.value)),
    });
  }

  _forceCell(agent, loggedIn) {
    if (!loggedIn) return h("span", { class: "muted" }, "–");
    const key = idPart(agent.id);
    const select = h(
      "select",
      { id: `force-${key}`, "aria-label": `New state for ${agent.name}`, dataset: { focusKey: "force-state" } },
      h("option", { value: "" }, "Set state…"),
      h("option", { value: "ready" }, "Ready"),
      this.store.reasons.map((r) => h("option", { value: `not_ready:${r.code}` }, `Not ready – ${r.label}`)),
      h("option", { value: "logout" }, "Log out"),
    );
    const apply = h(
      "button",
      {
        type: "button",
        class: "small",
        "aria-label": `Apply state for ${agent.name}`,
        dataset: { focusKey: "force-apply" },
        onclick: async () => {
          const choice = select.value;
          if (!choice) {
            select.focus();
            return;
          }
          if (choice === "logout") await this.confirmLogout(agent.id);
          else if (choice === "ready") await this.actions.forceState(agent.id, "ready");
          else await this.actions.forceState(agent.id, "not_ready", choice.slice("not_ready:".length));
          select.value = "";
        },
      },
      "Apply",
    );
    return h("div", { class: "force" }, select, apply);
  }

  confirmLogout(agentId) {
    const name = this.store.agentName(agentId);
    const held = this.store.agent(agentId)?.interactions.length || 0;
    return openFormDialog({
      title: `Log ${name} out?`,
      body: h(
        "p",
        {},
        held
          ? `${name} holds ${held} interaction(s); a forced logout withdraws pending offers. Work already accepted must be finished first.`
          : `${name} will stop receiving offers until they log in again.`,
      ),
      submitLabel: "Log out",
      danger: true,
      submit: () => this.actions.forceLogout(agentId),
    });
  }
}
