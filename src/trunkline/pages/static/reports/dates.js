// Calendar dates of the centre's time zone (reports take local dates YYYY-MM-DD there)
// and readable labels for the report's periods. Dates are handled as plain "YYYY-MM-DD"
// strings with UTC arithmetic, so the browser's own time zone never shifts a day.

/** Today's date in `timeZone` as YYYY-MM-DD. */
export function todayIn(timeZone) {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date());
}

function toUtc(isoDate) {
  const [y, m, d] = isoDate.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

function fromUtc(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(isoDate, days) {
  const date = toUtc(isoDate);
  date.setUTCDate(date.getUTCDate() + days);
  return fromUtc(date);
}

/** Inclusive days from `from` to `to`. */
export function daysBetween(from, to) {
  return Math.round((toUtc(to) - toUtc(from)) / 86400000) + 1;
}

export function isIsoDate(text) {
  return (
    typeof text === "string" &&
    /^\d{4}-\d{2}-\d{2}$/.test(text) &&
    !Number.isNaN(toUtc(text).getTime())
  );
}

/** The quick picks: label -> [from, to] for a given local today. Weeks start on Monday. */
export const QUICK_PICKS = [
  { id: "today", label: "Today", range: (t) => [t, t] },
  { id: "yesterday", label: "Yesterday", range: (t) => [addDays(t, -1), addDays(t, -1)] },
  {
    id: "this-week",
    label: "This week",
    range: (t) => [addDays(t, -((toUtc(t).getUTCDay() + 6) % 7)), t],
  },
  { id: "last-7-days", label: "Last 7 days", range: (t) => [addDays(t, -6), t] },
  { id: "this-month", label: "This month", range: (t) => [`${t.slice(0, 8)}01`, t] },
];

// The API labels periods with local ISO 8601 times and their offset
// ("2026-03-29T01:00:00+01:00"): the text is read as it is, never converted.
const dateOnly = (label) => label.slice(0, 10);
const timeOnly = (label) => label.slice(11, 16);

function dayText(isoDate, options) {
  return toUtc(isoDate).toLocaleDateString(undefined, { timeZone: "UTC", ...options });
}

const LONG_DAY = { weekday: "short", day: "numeric", month: "short", year: "numeric" };
const SHORT_DAY = { day: "numeric", month: "short" };

/** The last day a period covers: its end is exclusive (the next midnight). */
function lastDay(end) {
  return timeOnly(end) === "00:00" ? addDays(dateOnly(end), -1) : dateOnly(end);
}

/** A period as a table cell shows it. */
export function periodText(group, { start, end }) {
  if (group === "interval") {
    return `${dayText(dateOnly(start), SHORT_DAY)} ${timeOnly(start)}–${timeOnly(end)}`;
  }
  if (group === "day") return dayText(dateOnly(start), LONG_DAY);
  const first = dateOnly(start);
  const last = lastDay(end);
  if (first === last) return dayText(first, LONG_DAY);
  return `${dayText(first, SHORT_DAY)} – ${dayText(last, { ...SHORT_DAY, year: "numeric" })}`;
}

/** A period as a chart axis shows it: short, and without the date when it is one day. */
export function periodTick(group, { start, end }, oneDay) {
  if (group === "interval") {
    return oneDay ? timeOnly(start) : `${dayText(dateOnly(start), SHORT_DAY)} ${timeOnly(start)}`;
  }
  if (group === "day") return dayText(dateOnly(start), { weekday: "short", ...SHORT_DAY });
  if (group === "month" && dateOnly(start).endsWith("-01")) {
    return dayText(dateOnly(start), { month: "short", year: "numeric" });
  }
  return `${dayText(dateOnly(start), SHORT_DAY)}–${dayText(lastDay(end), SHORT_DAY)}`;
}

/** The range as one line ("Sun 22 Nov 2026" or "16 Nov – 22 Nov 2026"). */
export function rangeText(from, to) {
  if (from === to) return dayText(from, LONG_DAY);
  return `${dayText(from, SHORT_DAY)} – ${dayText(to, { ...SHORT_DAY, year: "numeric" })}`;
}
