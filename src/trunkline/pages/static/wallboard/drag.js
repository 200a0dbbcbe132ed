// Drag-and-drop payloads between the agent grid and the queue tiles. Dragging is a
// shortcut only: every drop has a keyboard equivalent (the "Queues…" editor, the remove
// buttons on queue chips).

export const DRAG_AGENT = "application/x-trunkline-agent";
export const DRAG_MEMBERSHIP = "application/x-trunkline-membership";

/** Make `el` drag an agent (dropped on a tile: add them to that queue). */
export function dragAgent(el, agentId, label) {
  el.draggable = true;
  el.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData(DRAG_AGENT, agentId);
    event.dataTransfer.setData("text/plain", label);
    event.dataTransfer.effectAllowed = "copyMove";
    document.body.classList.add("dragging-agent");
  });
  el.addEventListener("dragend", () => document.body.classList.remove("dragging-agent"));
}

/** Make `el` drag one queue membership (onto another tile: move; onto the bin: remove). */
export function dragMembership(el, agentId, queueId, label) {
  el.draggable = true;
  el.addEventListener("dragstart", (event) => {
    event.stopPropagation(); // not the row's agent drag
    event.dataTransfer.setData(DRAG_MEMBERSHIP, JSON.stringify({ agent: agentId, queue: queueId }));
    event.dataTransfer.setData("text/plain", label);
    event.dataTransfer.effectAllowed = "move";
    document.body.classList.add("dragging-membership");
  });
  el.addEventListener("dragend", () => document.body.classList.remove("dragging-membership"));
}

/** The payload of a drop: {kind: "agent", agent} | {kind: "membership", agent, queue} | null. */
export function readDrag(event) {
  const data = event.dataTransfer;
  if (!data) return null;
  const membership = data.getData(DRAG_MEMBERSHIP);
  if (membership) {
    try {
      const { agent, queue } = JSON.parse(membership);
      if (typeof agent === "string" && typeof queue === "string") {
        return { kind: "membership", agent, queue };
      }
    } catch {
      return null;
    }
    return null;
  }
  const agent = data.getData(DRAG_AGENT);
  return agent ? { kind: "agent", agent } : null;
}
