// The queue tiles: live figures per queue, coloured by the queue's own thresholds, and
// drop targets for agents dragged from the grid (add to the queue) or for a queue chip
// dragged from one queue to another (move between queues).

import { announce, formatPercent, h, syncKeyed } from "../lib/dom.js";
import { DRAG_AGENT, DRAG_MEMBERSHIP, readDrag } from "./drag.js";
import {
  SHOWN_STATES,
  count,
  duration,
  idPart,
  mediumLabel,
  rebuildIfChanged,
  setExclusiveClass,
  setText,
  shortSeconds,
  stateLabel,
} from "./format.js";
import { LEVELS, LEVEL_CUES, queueLevels, serviceLevels, worst } from "./levels.js";

const FIGURES = [
  ["waiting", "Waiting"],
  ["longest", "Longest wait"],
  ["sl", "Service level today"],
  ["answered", "Answered"],
  ["abandoned", "Abandoned"],
  ["expected", "Expected wait"],
  ["needed", "Agents needed"],
];

export class QueueTiles {
  /**
   * `actions.addToQueue(agentId, queueId)`, `actions.moveBetweenQueues(agentId, from, to)`
   * are called on drops.
   */
  constructor(container, store, actions) {
    this.container = container;
    this.store = store;
    this.actions = actions;
    this.tiles = new Map(); // queue id -> {root, figs, ...}
    this.lastLevel = new Map(); // queue id -> tile level, to announce a worsening
  }

  render() {
    const snapshot = this.store.snapshot;
    if (!snapshot) return;
    this.container.querySelector(".empty")?.remove();
    syncKeyed(this.container, this.tiles, snapshot.queues, {
      build: (queue) => this._build(queue),
      update: (tile, queue) => this._update(tile, queue),
      element: (tile) => tile.root,
    });
    if (!snapshot.queues.length) {
      this.container.append(h("p", { class: "empty muted" }, "No queues are configured."));
    }
  }

  /** Every second: the longest wait grows while someone waits. */
  tick() {
    for (const queue of this.store.snapshot?.queues || []) {
      const tile = this.tiles.get(queue.id);
      if (tile) this._updateLongest(tile, queue);
    }
  }

  _build(queue) {
    const key = idPart(queue.id);
    const nameId = `tile-${key}-name`;
    const figs = {};
    const groups = FIGURES.map(([fig, label]) => {
      // Tests find a figure by its tile (region) and data-testid: dd has no accessible
      // name in Playwright's role engine, though screen readers pair it with its dt.
      const dd = h("dd", { class: "fig-value", dataset: { testid: fig } }, "–");
      const note = fig === "sl" || fig === "expected" ? h("dd", { class: "fig-note" }) : null;
      const group = h("div", { class: `fig fig-${fig}` }, h("dt", {}, label), dd, note);
      figs[fig] = { group, dd, note };
      return group;
    });
    const level = h("span", { class: "tile-level badge" });
    const states = h("p", { class: "tile-states" });
    const media = h("div", { class: "tile-media" });
    const root = h(
      "section",
      { class: "tile card", "aria-labelledby": nameId, dataset: { queue: queue.id } },
      h(
        "header",
        { class: "tile-head" },
        h("h3", { id: nameId }, queue.name),
        level,
        h("span", { class: "stale-mark", "aria-hidden": "true" }, "not live"),
      ),
      h("dl", { class: "tile-figures" }, groups),
      states,
      media,
      h("p", { class: "drop-hint", "aria-hidden": "true" }, `Drop to add to ${queue.name}`),
    );
    this._wireDrop(root, queue.id);
    return { root, figs, level, states, media, name: root.querySelector("h3") };
  }

  _wireDrop(root, queueId) {
    const accepts = (event) => {
      const types = [...(event.dataTransfer?.types || [])];
      return types.includes(DRAG_AGENT) || types.includes(DRAG_MEMBERSHIP);
    };
    root.addEventListener("dragenter", (event) => {
      if (!accepts(event)) return;
      event.preventDefault();
      root.classList.add("drop-over");
    });
    root.addEventListener("dragover", (event) => {
      if (!accepts(event)) return;
      event.preventDefault();
      // Must be one the source allows, or the browser refuses the drop.
      const moving = [...event.dataTransfer.types].includes(DRAG_MEMBERSHIP);
      event.dataTransfer.dropEffect = moving ? "move" : "copy";
    });
    root.addEventListener("dragleave", (event) => {
      if (!root.contains(event.relatedTarget)) root.classList.remove("drop-over");
    });
    root.addEventListener("drop", (event) => {
      root.classList.remove("drop-over");
      const drag = readDrag(event);
      if (!drag) return;
      event.preventDefault();
      if (drag.kind === "agent") this.actions.addToQueue(drag.agent, queueId);
      else if (drag.queue !== queueId) this.actions.moveBetweenQueues(drag.agent, drag.queue, queueId);
    });
  }

  _update(tile, queue) {
    const config = this.store.queueConfig.get(queue.id);
    setText(tile.name, this.store.queueName(queue.id));
    setText(tile.figs.waiting.dd, count(queue.waiting));
    const today = queue.today || {};
    setText(tile.figs.answered.dd, count(today.answered));
    setText(tile.figs.abandoned.dd, count(today.abandoned));

    const levels = serviceLevels(queue, config);
    setText(tile.figs.sl.dd, formatPercent(today.sl_answered));
    setText(tile.figs.sl.note, targetNote(levels, config));

    const estimate = headlineEstimate(queue.estimate);
    setText(tile.figs.expected.dd, estimate.wait);
    setText(tile.figs.expected.note, estimate.note);
    setText(tile.figs.needed.dd, estimate.needed);

    const agents = queue.agents || {};
    const parts = SHOWN_STATES.map((s) => `${agents[s] ?? 0} ${stateLabel(s).toLowerCase()}`);
    setText(tile.states, `Agents: ${parts.join(" · ")}`);

    rebuildIfChanged(tile.media, JSON.stringify([levels, queue.estimate, config?.service_level]), () =>
      mediaTable(queue, levels, config),
    );
    this._updateLongest(tile, queue);
  }

  _updateLongest(tile, queue) {
    const config = this.store.queueConfig.get(queue.id);
    const longest = this.store.longestWait(queue);
    setText(tile.figs.longest.dd, queue.waiting ? duration(longest) : "–");
    const levels = queueLevels(queue, config, longest);
    setExclusiveClass(tile.figs.waiting.group, "level-", levels.waiting, LEVELS);
    setExclusiveClass(tile.figs.longest.group, "level-", levels.longest, LEVELS);
    setExclusiveClass(tile.figs.sl.group, "level-", levels.serviceLevel, LEVELS);
    setExclusiveClass(tile.root, "tile-level-", levels.tile, LEVELS);
    setExclusiveClass(tile.level, "level-", levels.tile, LEVELS);
    const why = [
      levels.waiting !== "ok" && "waiting",
      levels.longest !== "ok" && "longest wait",
      levels.serviceLevel !== "ok" && "service level",
    ].filter(Boolean);
    const cue = LEVEL_CUES[levels.tile];
    setText(tile.level, why.length ? `${cue.icon} ${cue.text}: ${why.join(", ")}` : `${cue.icon} ${cue.text}`);
    const before = this.lastLevel.get(queue.id);
    this.lastLevel.set(queue.id, levels.tile);
    if (before && before !== levels.tile && worst(before, levels.tile) === levels.tile) {
      announce(`${this.store.queueName(queue.id)}: ${cue.text.toLowerCase()}, ${why.join(", ")}`);
    }
  }
}

/**
 * The tile's target line: each medium with contacts today against its target, or the
 * targets themselves before the first contact. It stands on its own (big-screen mode has
 * no table of media).
 */
function targetNote(levels, config) {
  if (levels.length === 1) {
    const [sl] = levels;
    return `target ${formatPercent(sl.target)} in ${shortSeconds(sl.threshold_s)} (${mediumLabel(sl.medium)})`;
  }
  if (levels.length > 1) {
    return levels
      .map((sl) => `${mediumLabel(sl.medium)} ${formatPercent(sl.percent)} of ${formatPercent(sl.target)}`)
      .join(" · ");
  }
  const targets = Object.entries(config?.service_level || {});
  if (!targets.length) return "no target set";
  if (targets.length === 1) {
    const [medium, t] = targets[0];
    return `target ${formatPercent(t.percent)} in ${shortSeconds(t.threshold_s)} (${mediumLabel(medium)})`;
  }
  return `targets: ${targets.map(([m, t]) => `${mediumLabel(m)} ${formatPercent(t.percent)}`).join(" · ")}`;
}

/**
 * One expected wait and staffing figure per tile: the medium that needs most. The
 * estimates of the media are separate queues sharing the same agents, so the largest
 * (not the sum) is what the queue needs; the table below gives each medium's.
 */
function headlineEstimate(estimate) {
  if (!estimate) return { wait: "–", needed: "–", note: "no estimate" };
  const rows = Object.entries(estimate).filter(([, e]) => e);
  if (!rows.length) return { wait: "–", needed: "–", note: "no estimate" };
  const busy = rows.filter(([, e]) => e.traffic_erlangs > 0);
  const pool = busy.length ? busy : rows;
  let wait = 0;
  let needed = 0;
  let unstable = false;
  let unreachable = false;
  for (const [, e] of pool) {
    if (e.expected_wait_s === null) unstable = true;
    else wait = Math.max(wait, e.expected_wait_s);
    if (e.agents_needed === null) unreachable = true;
    else needed = Math.max(needed, e.agents_needed);
  }
  return {
    wait: unstable ? "∞" : shortSeconds(wait),
    needed: unreachable ? "out of reach" : String(needed),
    // An infinite wait means the queue grows without end: say why, not just the symbol.
    note: unstable ? "too few agents" : "",
  };
}

function mediaTable(queue, levels, config) {
  const estimate = queue.estimate || {};
  // Every medium with a target, and any other that had contacts or traffic today.
  const media = new Set(Object.keys(config?.service_level || {}));
  for (const l of levels) media.add(l.medium);
  for (const [medium, e] of Object.entries(estimate)) if (e && e.traffic_erlangs > 0) media.add(medium);
  if (!media.size) return h("p", { class: "muted tile-quiet" }, "No contacts yet today.");
  const rows = [...media].map((medium) => {
    const sl = levels.find((l) => l.medium === medium);
    const target = config?.service_level?.[medium];
    const e = estimate[medium];
    const level = sl ? sl.level : "ok";
    const percent = sl?.target ?? target?.percent;
    const threshold = sl?.threshold_s ?? target?.threshold_s;
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, mediumLabel(medium)),
      h(
        "td",
        { class: `num level-text-${level}` },
        sl ? formatPercent(sl.percent) : "–",
        sl && level !== "ok" ? h("span", { class: "cue" }, ` ${LEVEL_CUES[level].icon}`) : null,
      ),
      h("td", { class: "num" }, percent !== undefined ? `${formatPercent(percent)} in ${shortSeconds(threshold)}` : "–"),
      h("td", { class: "num" }, e ? (e.expected_wait_s === null ? "∞" : shortSeconds(e.expected_wait_s)) : "–"),
      h("td", { class: "num" }, e ? count(e.agents_needed) : "–"),
    );
  });
  return h(
    "table",
    { class: "compact" },
    h("caption", { class: "visually-hidden" }, `${queue.name} by medium`),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Medium"),
        h("th", { scope: "col", class: "num" }, "SL"),
        h("th", { scope: "col", class: "num" }, "Target"),
        h("th", { scope: "col", class: "num" }, "Exp. wait"),
        h("th", { scope: "col", class: "num" }, "Needed"),
      ),
    ),
    h("tbody", {}, rows),
  );
}
