// Today's 15-minute intervals: offered / answered / abandoned as bars and the service level
// as a line, from the interval rollups (GET /api/v1/reports/queues?group=interval), drawn
// with the vendored Chart.js. The same figures are available as a table for anyone who
// cannot see the chart.

import { api } from "../lib/api.js";
import { errorText, formatPercent, h, replaceChildren } from "../lib/dom.js";
import { clockTime, rebuildIfChanged, setText } from "./format.js";

const REFRESH_MS = 60_000;
// When today's totals move, refresh sooner, but not more often than this.
const EAGER_MS = 10_000;
// Always show at least the last two hours, so a quiet morning still has an axis.
const MIN_INTERVALS = 8;

// Colours with 3:1 contrast against the white chart area, told apart by more than hue:
// bars side by side in a fixed order, the service level as a line with points.
const COLOURS = { offered: "#1f5fbf", answered: "#1d7a3a", abandoned: "#b3261e", sl: "#6b3fa0" };

let chartLibrary = null;
async function loadChartJs() {
  if (!chartLibrary) {
    // The UMD build sets globalThis.Chart when it runs (see vendor/README.md).
    chartLibrary = import("../vendor/chart.umd.js").then(() => globalThis.Chart);
  }
  return chartLibrary;
}

/** YYYY-MM-DD of an epoch in UTC. */
function utcDate(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}

/** YYYY-MM-DD of a local midnight in `timezone` (en-CA writes dates as YYYY-MM-DD). */
function localDate(midnight, timezone) {
  try {
    if (timezone) return new Date(midnight * 1000).toLocaleDateString("en-CA", { timeZone: timezone });
  } catch {
    // a zone this browser does not know: guess below
  }
  return utcDate(midnight + 43200);
}

export class IntervalChart {
  constructor(container, store) {
    this.store = store;
    this.queue = "";
    this.dates = new Map(); // day_start -> the centre's local date (YYYY-MM-DD)
    this.chart = null;
    this.lastTotals = "";
    this.lastFetch = 0;
    this.pending = null;
    this.select = h("select", { id: "chart-queue" });
    this.select.addEventListener("change", () => {
      this.queue = this.select.value;
      this.refresh();
    });
    this.status = h("p", { class: "muted chart-status", role: "status" });
    this.canvas = h("canvas", { id: "interval-chart", role: "img", "aria-label": "Today by 15 minutes: loading" });
    this.table = h("div", { class: "table-scroll chart-table" });
    replaceChildren(
      container,
      h(
        "div",
        { class: "chart-controls" },
        h("label", { for: "chart-queue" }, "Queue"),
        this.select,
        this.status,
      ),
      h("div", { class: "chart-box" }, this.canvas),
      h("details", { class: "chart-details" }, h("summary", {}, "Figures as a table"), this.table),
    );
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    // Connected (again): the intervals may have moved on meanwhile.
    store.addEventListener("live", (event) => event.detail && this.refresh());
  }

  render() {
    const queues = this.store.queueIds();
    rebuildIfChanged(this.select, JSON.stringify(queues.map((q) => [q, this.store.queueName(q)])), () => [
      h("option", { value: "" }, "All queues"),
      queues.map((q) => h("option", { value: q }, this.store.queueName(q))),
    ]);
    this.select.value = queues.includes(this.queue) ? this.queue : "";
    // Today's totals moved: the rollups will have the new contact within a second or so.
    const today = this.store.snapshot?.centre?.today;
    const totals = today ? `${today.offered}/${today.answered}/${today.abandoned}` : "";
    if (totals && totals !== this.lastTotals) {
      const first = !this.lastTotals;
      this.lastTotals = totals;
      if (first) this.refresh();
      else this._soon();
    }
  }

  _soon() {
    if (this.pending) return;
    // The rollups fold new events within about a second of them.
    const wait = Math.max(1500, EAGER_MS - (Date.now() - this.lastFetch));
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, wait);
  }

  async refresh() {
    const dayStart = this.store.snapshot?.day_start;
    // Disconnected, the request would fail too; the chart keeps its "Updated" time.
    if (typeof dayStart !== "number" || !this.store.live) return;
    this.lastFetch = Date.now();
    try {
      const report = await this._todayReport(dayStart);
      await this._draw(report);
      setText(this.status, `Updated ${clockTime(this.store.clock.now(), this.store.timezone)}`);
    } catch (err) {
      setText(this.status, `Cannot load today's intervals: ${errorText(err)}`);
    }
  }

  /**
   * The report of the centre's "today". `day_start` is its local midnight; the date of that
   * midnight in the centre's zone is what the report takes. Read it in the centre's zone
   * when known (else guess from UTC noon after it), and correct the date once by the first
   * interval the server returns, so a wrong guess cannot show another day.
   */
  async _todayReport(dayStart) {
    let date = this.dates.get(dayStart) || localDate(dayStart, this.store.timezone);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const report = await api.get("/api/v1/reports/queues", {
        from: date,
        to: date,
        group: "interval",
        queue: this.queue || undefined,
      });
      const first = report.groups?.[0] ? Date.parse(report.groups[0].start) / 1000 : dayStart;
      const offDays = Math.round((dayStart - first) / 86400);
      if (offDays === 0) {
        this.dates.set(dayStart, date);
        return report;
      }
      date = utcDate(Date.parse(`${date}T12:00:00Z`) / 1000 + offDays * 86400);
    }
    throw new Error("the server's day does not match the wallboard's");
  }

  _rows(report) {
    const now = this.store.clock.now();
    const groups = (report.groups || []).filter((g) => Date.parse(g.start) / 1000 <= now);
    let first = groups.findIndex((g) => (g.total?.offered || 0) > 0 || (g.total?.answered || 0) > 0);
    if (first < 0) first = groups.length;
    first = Math.max(0, Math.min(first, groups.length - MIN_INTERVALS));
    return groups.slice(first).map((g) => ({
      label: g.start.slice(11, 16),
      offered: g.total?.offered ?? 0,
      answered: g.total?.answered ?? 0,
      abandoned: g.total?.abandoned ?? 0,
      sl: g.total?.sl_answered ?? null,
    }));
  }

  async _draw(report) {
    const rows = this._rows(report);
    this._table(rows);
    const busiest = rows.reduce((best, r) => (r.offered > (best?.offered ?? -1) ? r : best), null);
    const scope = this.queue ? this.store.queueName(this.queue) : "all queues";
    this.canvas.setAttribute(
      "aria-label",
      rows.length
        ? `Today by 15 minutes, ${scope}: ${rows.reduce((n, r) => n + r.offered, 0)} offered, ` +
            `${rows.reduce((n, r) => n + r.answered, 0)} answered, ` +
            `${rows.reduce((n, r) => n + r.abandoned, 0)} abandoned` +
            (busiest && busiest.offered ? `; busiest interval ${busiest.label} with ${busiest.offered} offered` : "") +
            ". The table below has each interval."
        : `Today by 15 minutes, ${scope}: no intervals yet.`,
    );
    const Chart = await loadChartJs();
    if (!Chart) return;
    const data = {
      labels: rows.map((r) => r.label),
      datasets: [
        { type: "bar", label: "Offered", data: rows.map((r) => r.offered), backgroundColor: COLOURS.offered, yAxisID: "y", order: 2 },
        { type: "bar", label: "Answered", data: rows.map((r) => r.answered), backgroundColor: COLOURS.answered, yAxisID: "y", order: 2 },
        { type: "bar", label: "Abandoned", data: rows.map((r) => r.abandoned), backgroundColor: COLOURS.abandoned, yAxisID: "y", order: 2 },
        {
          type: "line",
          label: "Service level %",
          data: rows.map((r) => r.sl),
          borderColor: COLOURS.sl,
          backgroundColor: COLOURS.sl,
          pointRadius: 3,
          spanGaps: true,
          yAxisID: "sl",
          order: 1,
        },
      ],
    };
    if (this.chart) {
      this.chart.data = data;
      this.chart.update("none");
      return;
    }
    this.chart = new Chart(this.canvas, {
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: {
            position: "bottom",
            // Bars first, as they stand in the chart, then the line.
            labels: { boxWidth: 12, sort: (a, b) => a.datasetIndex - b.datasetIndex },
          },
        },
        scales: {
          x: { grid: { display: false } },
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Contacts" } },
          sl: {
            position: "right",
            min: 0,
            max: 100,
            grid: { drawOnChartArea: false },
            title: { display: true, text: "Service level %" },
          },
        },
      },
    });
  }

  _table(rows) {
    replaceChildren(
      this.table,
      h(
        "table",
        { class: "compact" },
        h("caption", { class: "visually-hidden" }, "Today by 15 minutes"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Interval"),
            ["Offered", "Answered", "Abandoned", "Service level"].map((c) => h("th", { scope: "col", class: "num" }, c)),
          ),
        ),
        h(
          "tbody",
          {},
          rows.map((r) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, r.label),
              h("td", { class: "num" }, String(r.offered)),
              h("td", { class: "num" }, String(r.answered)),
              h("td", { class: "num" }, String(r.abandoned)),
              h("td", { class: "num" }, formatPercent(r.sl)),
            ),
          ),
        ),
      ),
    );
  }
}
