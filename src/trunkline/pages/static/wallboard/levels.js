// Colour levels of a queue tile from the queue's own thresholds (GET /api/v1/queues:
// `wallboard` and `service_level`). Pure functions: the tiles call them on every update
// and every tick (the longest wait grows between updates).

export const LEVELS = ["ok", "warn", "alarm"];

// Never colour alone: each level also has a symbol and a word.
export const LEVEL_CUES = {
  ok: { icon: "✓", text: "OK" },
  warn: { icon: "▲", text: "Warning" },
  alarm: { icon: "✖", text: "Alarm" },
};

const DEFAULT_THRESHOLDS = {
  waiting_warn: null,
  waiting_alarm: null,
  longest_wait_warn_s: null,
  longest_wait_alarm_s: null,
  service_level_margin_percent: 10,
};

export function worst(...levels) {
  let index = 0;
  for (const level of levels) index = Math.max(index, LEVELS.indexOf(level));
  return LEVELS[index];
}

/** Amber at >= warn, red at >= alarm; a threshold left out never fires. */
export function thresholdLevel(value, warn, alarm) {
  if (value === null || value === undefined) return "ok";
  if (alarm !== null && alarm !== undefined && value >= alarm) return "alarm";
  if (warn !== null && warn !== undefined && value >= warn) return "warn";
  return "ok";
}

/** Amber below the target, red below target − margin; no figure yet is not a problem. */
export function serviceLevelLevel(percent, target, marginPercent) {
  if (percent === null || percent === undefined || target === null || target === undefined) {
    return "ok";
  }
  if (percent >= target) return "ok";
  if (percent >= target - (marginPercent ?? 0)) return "warn";
  return "alarm";
}

/**
 * The targets of each medium with figures today: [{medium, percent, target, threshold_s,
 * level}], in the order the snapshot lists them. The configured target (GET /api/v1/queues)
 * wins over the one the snapshot carries, which is fixed at server start.
 */
export function serviceLevels(queue, config) {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...(config?.wallboard || {}) };
  const out = [];
  for (const [medium, figures] of Object.entries(queue.today_by_medium || {})) {
    if (!figures) continue;
    const configured = config?.service_level?.[medium];
    const target = configured?.percent ?? figures.sl_target_percent ?? null;
    const thresholdS = configured?.threshold_s ?? figures.sl_threshold_s ?? null;
    const percent = figures.sl_answered ?? null;
    out.push({
      medium,
      percent,
      target,
      threshold_s: thresholdS,
      level: serviceLevelLevel(percent, target, thresholds.service_level_margin_percent),
    });
  }
  return out;
}

/** {waiting, longest, serviceLevel, tile}: the level of each figure and of the tile. */
export function queueLevels(queue, config, longestWaitS) {
  const t = { ...DEFAULT_THRESHOLDS, ...(config?.wallboard || {}) };
  const waiting = thresholdLevel(queue.waiting, t.waiting_warn, t.waiting_alarm);
  const longest = thresholdLevel(
    queue.waiting > 0 ? longestWaitS : 0,
    t.longest_wait_warn_s,
    t.longest_wait_alarm_s,
  );
  const serviceLevel = worst(...serviceLevels(queue, config).map((s) => s.level));
  return { waiting, longest, serviceLevel, tile: worst(waiting, longest, serviceLevel) };
}
