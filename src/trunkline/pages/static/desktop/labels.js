// Words the desktop shows for the server's codes: agent states, media, not-ready reasons,
// dispositions and queues. The reference lists are read once at start-up.

import { api } from "../lib/api.js";

export const STATE_LABELS = {
  logged_out: "Logged out",
  not_ready: "Not ready",
  ready: "Ready",
  reserved: "Offer ringing",
  busy: "Busy",
  wrap_up: "Wrap-up",
};

export const MEDIUM_LABELS = {
  voice: "Voice call",
  chat: "Chat",
  email: "E-mail",
  callback: "Callback",
  fax: "Fax",
  voicemail: "Voicemail",
};

// Reasons the engine sets that are not in the configured list.
const BUILT_IN_REASONS = { login: "Just logged in" };

export const CASE_PRIORITIES = ["low", "normal", "high", "urgent"];

export function stateLabel(state) {
  return STATE_LABELS[state] ?? state;
}

export function mediumLabel(medium) {
  return MEDIUM_LABELS[medium] ?? medium;
}

/** The configured codes and names, with fallbacks so an unknown code still shows. */
export class Reference {
  constructor() {
    this.reasons = []; // [{code, label, system}]
    this.wrapUpCodes = []; // [{code, label, resolved}]
    this.queues = []; // [{id, name}]
  }

  async load() {
    const [reasons, codes, queues] = await Promise.all([
      api.get("/api/v1/not-ready-reasons"),
      api.get("/api/v1/wrap-up-codes"),
      api.get("/api/v1/queues"),
    ]);
    this.reasons = reasons.not_ready_reasons;
    this.wrapUpCodes = codes.wrap_up_codes;
    this.queues = queues.queues.map((q) => ({ id: q.id, name: q.name }));
  }

  /** The reasons an agent may choose (system ones are facts the server records). */
  choosableReasons() {
    return this.reasons.filter((r) => !r.system);
  }

  reasonLabel(code) {
    if (!code) return "";
    return this.reasons.find((r) => r.code === code)?.label ?? BUILT_IN_REASONS[code] ?? code;
  }

  dispositionLabel(code) {
    if (!code) return "";
    return this.wrapUpCodes.find((c) => c.code === code)?.label ?? code;
  }

  queueName(id) {
    return this.queues.find((q) => q.id === id)?.name ?? id;
  }
}
