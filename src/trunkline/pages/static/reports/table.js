// The report as a table: one body per period with figures, headed by the period; a
// period total when a period has several rows; a range total when several periods have
// figures. Periods without figures are left out (the chart shows them as zero).

import { h } from "../lib/dom.js";
import { QUEUE_COLUMNS, agentColumns, cellText } from "./columns.js";
import { periodText } from "./dates.js";
import { mediumLabel } from "./format.js";
import { combine } from "./totals.js";

function headerCell(column) {
  return h("th", { scope: "col", class: "num", title: column.title || column.key }, column.label);
}

function figureCells(columns, row) {
  return columns.map((c) => {
    const attrs = { class: "num" };
    if (c.key === "sl_answered" && typeof row.sl_met === "boolean") {
      // The colour repeats what the title says, for those who cannot tell colours apart.
      attrs.class = `num ${row.sl_met ? "level-ok" : "level-alarm"}`;
      attrs.title = row.sl_met ? "target met" : "below target";
    }
    return h("td", attrs, cellText(c, row));
  });
}

function periodRow(text, width) {
  return h("tr", {}, h("th", { scope: "rowgroup", colspan: String(width), class: "period" }, text));
}

function wrap(caption, headers, bodies, foot) {
  return h(
    "div",
    { class: "table-scroll", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      { class: "report-table" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers)),
      bodies,
      foot,
    ),
  );
}

/**
 * The queue report `report` as a table. `names`: queue id -> name. `all`: show every
 * figure. Returns null when no period has figures.
 */
export function queueTable(report, { names, all }) {
  const columns = QUEUE_COLUMNS.filter((c) => all || !c.more);
  const width = columns.length + 2;
  const filled = report.groups.filter((g) => g.rows.length > 0);
  if (filled.length === 0) return null;
  const bodies = filled.map((group) => {
    const rows = group.rows.map((row) =>
      h(
        "tr",
        {},
        h("td", {}, names.get(row.queue) ?? row.queue),
        h("td", {}, mediumLabel(row.medium)),
        figureCells(columns, row),
      ),
    );
    if (group.rows.length > 1) {
      rows.push(
        h(
          "tr",
          { class: "total" },
          h("td", { colspan: "2" }, "Period total"),
          figureCells(columns, group.total),
        ),
      );
    }
    return h("tbody", {}, periodRow(periodText(report.group, group), width), rows);
  });
  const foot =
    filled.length > 1
      ? h(
          "tfoot",
          {},
          h(
            "tr",
            { class: "total" },
            h("td", { colspan: "2" }, "Range total"),
            figureCells(columns, combine(filled.map((g) => g.total))),
          ),
        )
      : null;
  const headers = [
    h("th", { scope: "col" }, "Queue"),
    h("th", { scope: "col" }, "Medium"),
    columns.map(headerCell),
  ];
  return wrap("Queue figures per period", headers, bodies, foot);
}

/** The agent report as a table; `names`: agent id -> name, `reasons`: code -> label. */
export function agentTable(report, { names, reasons, all }) {
  const filled = report.groups.filter((g) => g.rows.length > 0);
  if (filled.length === 0) return null;
  const codes = [
    ...new Set(filled.flatMap((g) => g.rows.flatMap((r) => Object.keys(r.not_ready_s || {})))),
  ].sort();
  const columns = agentColumns(codes.map((c) => [c, reasons.get(c) ?? c])).filter(
    (c) => all || !c.more,
  );
  const bodies = filled.map((group) =>
    h(
      "tbody",
      {},
      periodRow(periodText(report.group, group), columns.length + 1),
      group.rows.map((row) =>
        h(
          "tr",
          {},
          h("td", {}, names.get(row.agent_id) ?? row.agent_id),
          figureCells(columns, row),
        ),
      ),
    ),
  );
  const headers = [h("th", { scope: "col" }, "Agent"), columns.map(headerCell)];
  return wrap("Agent figures per period", headers, bodies, null);
}
