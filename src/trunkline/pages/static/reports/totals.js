// Totals over several periods of a queue report, rebuilt from each period's figures with
// the formulas of docs/metrics.md. Counts add; an average times its count gives back its
// sum, so averages and service levels combine exactly. FCR cannot be combined (the API
// does not return resolved / with-disposition counts), so its total stays null.

const COUNTS = [
  "offered",
  "transferred_in",
  "answered",
  "abandoned",
  "short_abandoned",
  "refused",
  "cancelled",
  "transferred",
  "handled",
  "completed",
  "answered_in_sl",
  "abandoned_in_sl",
];

const ratio = (num, den, scale = 1) => (den > 0 ? (scale * num) / den : null);

/** The figures of `totals` (each a period's `total`) as one period. */
export function combine(totals) {
  const sum = Object.fromEntries(COUNTS.map((k) => [k, 0]));
  let waitAnswered = 0;
  let waitAll = 0;
  let handle = 0;
  let wrap = 0;
  let cost = 0;
  let longest = null;
  for (const t of totals) {
    for (const k of COUNTS) sum[k] += t[k] || 0;
    waitAnswered += (t.asa_s ?? 0) * t.answered;
    waitAll += (t.avg_wait_s ?? 0) * (t.answered + t.abandoned);
    handle += (t.avg_handle_s ?? 0) * t.handled;
    wrap += (t.avg_wrap_s ?? 0) * t.completed;
    cost += t.cost || 0;
    if (t.longest_wait_s !== null && t.longest_wait_s !== undefined) {
      longest = Math.max(longest ?? 0, t.longest_wait_s);
    }
  }
  const base = sum.offered - sum.short_abandoned;
  const avgHandle = ratio(handle, sum.handled);
  const avgWrap = ratio(wrap, sum.completed);
  return {
    ...sum,
    sl_answered: ratio(sum.answered_in_sl, base, 100),
    sl_with_abandons: ratio(sum.answered_in_sl + sum.abandoned_in_sl, base, 100),
    abandon_rate: ratio(sum.abandoned, base, 100),
    asa_s: ratio(waitAnswered, sum.answered),
    avg_wait_s: ratio(waitAll, sum.answered + sum.abandoned),
    longest_wait_s: longest,
    avg_handle_s: avgHandle,
    avg_wrap_s: avgWrap,
    aht_s: avgHandle === null ? null : avgHandle + (avgWrap ?? 0),
    fcr: null,
    cost,
    cost_per_contact: ratio(cost, sum.completed),
  };
}

/** Sums of an agent report's rows of one period, for the chart: work and occupancy. */
export function agentPeriod(rows) {
  let handled = 0;
  let completed = 0;
  let working = 0;
  let available = 0;
  for (const row of rows) {
    handled += row.handled;
    completed += row.completed;
    const s = row.state_s || {};
    working += (s.busy || 0) + (s.wrap_up || 0);
    available += (s.ready || 0) + (s.reserved || 0);
  }
  return { handled, completed, occupancy: ratio(working, working + available, 100) };
}
