// The figures each report shows, named as docs/metrics.md names them (the metric id is
// the header's tooltip), and how each is written. `more: true` columns appear with
// "Show all figures".

import { count, duration, money, percent, target } from "./format.js";

export const QUEUE_COLUMNS = [
  { key: "offered", label: "Offered", format: count },
  { key: "answered", label: "Answered", format: count },
  { key: "abandoned", label: "Abandoned", format: count },
  { key: "short_abandoned", label: "Short abandons", format: count },
  {
    key: "sl_answered",
    label: "Service level (answered)",
    title: "sl_answered: answers within the threshold ÷ (offered − short abandons)",
    format: percent,
  },
  {
    key: "sl_with_abandons",
    label: "Service level (with abandons)",
    title:
      "sl_with_abandons: (answers + abandons within the threshold) ÷ (offered − short abandons)",
    format: percent,
  },
  {
    key: "sl_target_percent",
    label: "Target",
    title: "sl_target_percent in sl_threshold_s: the queue's service-level target for the medium",
    value: (row) => target(row.sl_target_percent, row.sl_threshold_s),
  },
  { key: "abandon_rate", label: "Abandon rate", format: percent },
  { key: "asa_s", label: "ASA", title: "asa_s: average speed of answer", format: duration },
  { key: "avg_wait_s", label: "Average wait", format: duration },
  { key: "longest_wait_s", label: "Longest wait", format: duration },
  {
    key: "aht_s",
    label: "AHT",
    title: "aht_s: average handle time (handling + wrap-up)",
    format: duration,
  },
  { key: "fcr", label: "FCR", title: "fcr: first-contact resolution", format: percent },
  { key: "cost", label: "Cost", format: money },
  { key: "transferred_in", label: "Transferred in", format: count, more: true },
  { key: "transferred", label: "Transferred out", format: count, more: true },
  {
    key: "refused",
    label: "Refused",
    title: "refused: queue closed, never offered",
    format: count,
    more: true,
  },
  { key: "cancelled", label: "Cancelled", format: count, more: true },
  { key: "handled", label: "Handled", format: count, more: true },
  { key: "completed", label: "Completed", format: count, more: true },
  { key: "answered_in_sl", label: "Answered in SL", format: count, more: true },
  { key: "abandoned_in_sl", label: "Abandoned in SL", format: count, more: true },
  { key: "avg_handle_s", label: "Average handle", format: duration, more: true },
  { key: "avg_wrap_s", label: "Average wrap-up", format: duration, more: true },
  { key: "cost_per_contact", label: "Cost per contact", format: money, more: true },
];

const STATES = [
  ["ready", "Ready"],
  ["reserved", "Reserved"],
  ["busy", "Busy"],
  ["wrap_up", "Wrap-up"],
  ["not_ready", "Not ready"],
];

/**
 * The agent report's columns; one "Not ready: <reason>" column per reason that occurs
 * (`reasons`: [code, label] pairs).
 */
export function agentColumns(reasons) {
  return [
    {
      key: "staffed_s",
      label: "Staffed",
      title: "staffed_s: all logged-in time",
      format: duration,
    },
    ...STATES.map(([state, label]) => ({
      key: `state_s.${state}`,
      label,
      title: `state_s.${state}`,
      value: (row) => duration(row.state_s?.[state] ?? 0),
    })),
    ...reasons.map(([code, label]) => ({
      key: `not_ready_s.${code}`,
      label: `Not ready: ${label}`,
      title: `not_ready_s.${code}`,
      value: (row) => duration(row.not_ready_s?.[code] ?? 0),
      more: true,
    })),
    {
      key: "occupancy",
      label: "Occupancy",
      title: "occupancy: (busy + wrap-up) ÷ (busy + wrap-up + ready + reserved)",
      format: percent,
    },
    {
      key: "utilisation",
      label: "Utilisation",
      title: "utilisation: (busy + wrap-up) ÷ staffed",
      format: percent,
    },
    { key: "handled", label: "Handled", format: count },
    { key: "completed", label: "Completed", format: count },
    { key: "avg_handle_s", label: "Average handle", format: duration },
    { key: "avg_wrap_s", label: "Average wrap-up", format: duration },
    {
      key: "aht_s",
      label: "AHT",
      title: "aht_s: average handle time (handling + wrap-up)",
      format: duration,
    },
  ];
}

export function cellText(column, row) {
  if (column.value) return column.value(row);
  return column.format(row[column.key]);
}
