// How report figures are written. A missing figure (the API's null: a ratio over zero)
// is "–", never 0: "nobody was answered" is not "answered in 0 seconds".

import { formatDuration } from "../lib/dom.js";

export const NONE = "–";

const countFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percentFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const moneyFormat = new Intl.NumberFormat(undefined, {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

export function count(value) {
  return value === null || value === undefined ? NONE : countFormat.format(value);
}

export function percent(value) {
  return value === null || value === undefined ? NONE : `${percentFormat.format(value)} %`;
}

export function money(value) {
  return value === null || value === undefined ? NONE : moneyFormat.format(value);
}

/**
 * Seconds as a person reads a duration: "0.8 s" and "12 s" below a minute (short waits
 * matter in seconds), "4:05" and "1:02:05" above.
 */
export function duration(value) {
  if (value === null || value === undefined) return NONE;
  const s = Math.max(0, Number(value));
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  return formatDuration(Math.round(s));
}

/** A service-level target: "80 % in 20 s". */
export function target(percentValue, thresholdS) {
  if (percentValue === null || percentValue === undefined) return NONE;
  return `${percent(percentValue)} in ${duration(thresholdS)}`;
}

export { MEDIA, mediumLabel } from "../lib/media.js";
