// The report's chart, drawn with the vendored Chart.js (window.Chart, loaded by a classic
// script tag): counts as bars on the left axis, percentages as lines on the right. The
// table below the chart holds the same figures as text, for those who cannot see it.

import { periodTick } from "./dates.js";
import { agentPeriod } from "./totals.js";

const COLOURS = {
  offered: "#1f5fbf",
  answered: "#1d7a3a",
  abandoned: "#b3261e",
  sl: "#8a5a00",
  slAbandons: "#5b2c83",
  handled: "#1f5fbf",
  completed: "#1d7a3a",
  occupancy: "#8a5a00",
};

let current = null;

function bars(label, data, colour) {
  return {
    type: "bar",
    label,
    data,
    backgroundColor: colour,
    maxBarThickness: 56,
    yAxisID: "y",
    order: 2,
  };
}

function line(label, data, colour, dashed = false) {
  return {
    type: "line",
    label,
    data,
    borderColor: colour,
    backgroundColor: colour,
    borderDash: dashed ? [6, 4] : [],
    pointRadius: 3,
    // A period with no base (nothing offered) has no service level: a gap, not a 0.
    spanGaps: false,
    yAxisID: "percent",
    order: 1,
  };
}

function datasets(kind, report) {
  if (kind === "queues") {
    const totals = report.groups.map((g) => g.total);
    return [
      bars(
        "Offered",
        totals.map((t) => t.offered),
        COLOURS.offered,
      ),
      bars(
        "Answered",
        totals.map((t) => t.answered),
        COLOURS.answered,
      ),
      bars(
        "Abandoned",
        totals.map((t) => t.abandoned),
        COLOURS.abandoned,
      ),
      line(
        "Service level (answered) %",
        totals.map((t) => t.sl_answered),
        COLOURS.sl,
      ),
      line(
        "Service level (with abandons) %",
        totals.map((t) => t.sl_with_abandons),
        COLOURS.slAbandons,
        true,
      ),
    ];
  }
  const sums = report.groups.map((g) => agentPeriod(g.rows));
  return [
    bars(
      "Handled",
      sums.map((s) => s.handled),
      COLOURS.handled,
    ),
    bars(
      "Completed",
      sums.map((s) => s.completed),
      COLOURS.completed,
    ),
    line(
      "Occupancy %",
      sums.map((s) => s.occupancy),
      COLOURS.occupancy,
    ),
  ];
}

/** Draw `report` of `kind` ("queues" | "agents") on `canvas`; false when no Chart.js. */
export function drawChart(canvas, kind, report) {
  clearChart();
  const Chart = window.Chart;
  if (typeof Chart !== "function") return false;
  const oneDay = report.from === report.to;
  const labels = report.groups.map((g) => periodTick(report.group, g, oneDay));
  current = new Chart(canvas, {
    data: { labels, datasets: datasets(kind, report) },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      // No animation: figures appear at once, and screenshots show them as they are.
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        // Listed in the order the datasets are given (counts first), not drawing order.
        legend: { position: "bottom", labels: { sort: (a, b) => a.datasetIndex - b.datasetIndex } },
      },
      scales: {
        x: { ticks: { autoSkip: true, maxRotation: 0 } },
        y: {
          beginAtZero: true,
          position: "left",
          title: {
            display: true,
            text: kind === "queues" ? "Interactions" : "Interactions handled",
          },
          ticks: { precision: 0 },
        },
        percent: {
          beginAtZero: true,
          suggestedMax: 100,
          position: "right",
          title: { display: true, text: "%" },
          grid: { drawOnChartArea: false },
        },
      },
    },
  });
  return true;
}

export function clearChart() {
  if (current) {
    current.destroy();
    current = null;
  }
}
