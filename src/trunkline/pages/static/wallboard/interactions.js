// The open interactions as the supervisor socket tells them: the hello's list, then every
// routing event folded in. Pure: `foldEvent(map, event)` changes `map` (id -> interaction)
// and says whether anything a supervisor sees changed.

export const WAITING = new Set(["queued", "offered"]);
export const IN_PROGRESS = new Set(["assigned", "wrap_up"]);
const ENDED = new Set([
  "interaction_completed",
  "interaction_abandoned",
  "interaction_cancelled",
  "interaction_refused",
]);

/** The hello's interactions (InteractionView dicts) as the map the list keeps. */
export function fromHello(views) {
  const map = new Map();
  for (const view of views || []) {
    if (WAITING.has(view.state) || IN_PROGRESS.has(view.state)) map.set(view.id, { ...view });
  }
  return map;
}

/** Fold one event (its JSON form, {type, at, interaction_id, ...}); true if the list changed. */
export function foldEvent(map, event) {
  const id = event.interaction_id;
  if (!id) return false;
  if (ENDED.has(event.type)) return map.delete(id);
  let it = map.get(id);
  switch (event.type) {
    case "interaction_created":
      map.set(id, {
        id,
        medium: event.medium,
        queue: event.queue,
        queues: [event.queue],
        state: "new",
        priority: event.priority,
        skills: event.skills || {},
        data: event.data || {},
        customer_id: event.customer_id ?? null,
        customer: event.customer || {},
        created_at: event.created_at ?? event.at,
        agent_id: null,
      });
      return true;
    case "interaction_queued":
      it = it || recovered(event);
      Object.assign(it, {
        state: "queued",
        queue: event.queue,
        medium: event.medium ?? it.medium,
        priority: event.priority ?? it.priority,
        skills: event.skills || it.skills,
        agent_id: null,
        offer_expires_at: null,
        preferred_agent: event.preferred_agent ?? null,
        preferred_until: event.preferred_until ?? null,
      });
      map.set(id, it);
      return true;
    case "interaction_offered":
      it = it || recovered(event);
      Object.assign(it, {
        state: "offered",
        agent_id: event.agent_id,
        queue: event.queue ?? it.queue,
        offer_expires_at: event.expires_at ?? null,
      });
      map.set(id, it);
      return true;
    case "offer_accepted":
      it = it || recovered(event);
      Object.assign(it, { state: "assigned", agent_id: event.agent_id, offer_expires_at: null });
      map.set(id, it);
      return true;
    case "offer_rejected":
    case "offer_timed_out":
    case "offer_revoked":
      // The interaction goes back to waiting (an interaction_queued usually follows).
      if (!it) return false;
      Object.assign(it, { state: "queued", agent_id: null, offer_expires_at: null });
      return true;
    case "interaction_transferred":
      if (!it) return false;
      Object.assign(it, { state: "queued", queue: event.to_queue, agent_id: null });
      return true;
    case "interaction_moved":
      if (!it) return false;
      if (event.to_queue) it.queue = event.to_queue;
      return true;
    case "interaction_escalated":
      if (!it) return false;
      Object.assign(it, {
        queue: event.queue ?? it.queue,
        queues: event.queues?.length ? event.queues : it.queues,
        skills: event.skills || it.skills,
        priority: event.priority ?? it.priority,
      });
      return true;
    case "handling_ended":
      if (!it) return false;
      Object.assign(it, { state: "wrap_up", agent_id: event.agent_id ?? it.agent_id });
      return true;
    default:
      return false;
  }
}

// An event about an interaction the hello did not list cannot happen (the socket subscribes
// as it takes the hello), but a half-known row beats a missing one.
function recovered(event) {
  return {
    id: event.interaction_id,
    medium: event.medium ?? "",
    queue: event.queue ?? "",
    queues: [],
    state: "queued",
    priority: 0,
    skills: {},
    data: {},
    customer_id: null,
    created_at: event.at,
    agent_id: null,
  };
}

/** Waiting first (oldest first), then in progress (oldest first). */
export function ordered(map) {
  const rank = (it) => (WAITING.has(it.state) || it.state === "new" ? 0 : 1);
  return [...map.values()].sort(
    (a, b) => rank(a) - rank(b) || a.created_at - b.created_at || a.id.localeCompare(b.id),
  );
}

/** Who the customer is, from what the channel attached (nothing is trusted as markup). */
export function customerLabel(it) {
  const data = it.data || {};
  for (const key of ["name", "customer_name", "caller_name", "from_name", "caller_id", "email", "from", "chat_identity"]) {
    if (typeof data[key] === "string" && data[key].trim()) return data[key].trim();
  }
  return it.customer_id ? `customer ${it.customer_id}` : "unknown customer";
}

export function subjectOf(it) {
  const subject = it.data?.subject;
  return typeof subject === "string" ? subject : "";
}
