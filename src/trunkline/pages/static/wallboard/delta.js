// Applying the wallboard socket's deltas to the last snapshot, as the server's
// `trunkline.reporting.live.delta()` defines them:
//  - top-level lists of objects with an `id` (queues, agents, media) arrive as a map
//    id -> changed fields (a whole object for a new id); ids gone are listed under
//    `removed: {key: [ids]}`;
//  - inside objects only changed keys arrive, recursively; a key that disappeared is null;
//  - anything else (numbers, strings, nested lists) arrives whole and replaces the old value;
//  - `generated_at` is always present.
// The server never sends a patch for a value that was not an object, so an object patch
// over a non-object (or a list) simply replaces it.

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** True for a list the server diffs by id (every item an object with an `id`). */
function isKeyed(value) {
  return Array.isArray(value) && value.every((item) => isObject(item) && "id" in item);
}

/** `old` patched with `change` (a nested diff of changed keys), as a new value. */
export function patch(old, change) {
  if (!isObject(change) || !isObject(old)) return clone(change);
  const out = { ...old };
  for (const [key, value] of Object.entries(change)) {
    out[key] = key in old ? patch(old[key], value) : clone(value);
  }
  return out;
}

function patchKeyed(list, changes, gone) {
  const goneIds = new Set((gone || []).map(String));
  const byId = new Map(list.map((item) => [String(item.id), item]));
  const out = [];
  for (const item of list) {
    const id = String(item.id);
    if (goneIds.has(id)) continue;
    out.push(id in (changes || {}) ? patch(item, changes[id]) : item);
  }
  // New ids come whole; the server lists them in its own order after the known ones.
  for (const [id, value] of Object.entries(changes || {})) {
    if (!byId.has(id)) out.push(clone(value));
  }
  return out;
}

/** The snapshot that `delta` turns `snapshot` into (neither argument is modified). */
export function applyDelta(snapshot, delta) {
  const out = { ...snapshot };
  const removed = delta.removed || {};
  for (const [key, value] of Object.entries(delta)) {
    if (key === "type" || key === "removed") continue;
    const old = snapshot[key];
    if (isKeyed(old) && isObject(value)) {
      out[key] = patchKeyed(old, value, removed[key]);
    } else if (key in snapshot) {
      out[key] = patch(old, value);
    } else {
      out[key] = clone(value);
    }
  }
  // A keyed list can lose ids without any other change to it.
  for (const [key, ids] of Object.entries(removed)) {
    if (key in delta) continue;
    if (isKeyed(out[key])) out[key] = patchKeyed(out[key], {}, ids);
  }
  return out;
}

function clone(value) {
  return value === undefined ? null : structuredClone(value);
}
