// The supervisor wallboard: logs in, opens the two live feeds and wires the views.
// State lives in the store; views render from it when it says something changed.

import { logout } from "../lib/api.js";
import { errorText, formatPercent, h, replaceChildren, toast } from "../lib/dom.js";
import { reloadOnLogout, requireLogin } from "../lib/login.js";
import { LiveSocket, reconnectOnline } from "../lib/socket.js";
import { Actions } from "./actions.js";
import { AgentGrid } from "./agents.js";
import {
  fitBigScreen,
  isBigScreen,
  keepBigScreenFitting,
  setBigScreen,
  watchBigScreen,
} from "./big-screen.js";
import { BroadcastForm } from "./broadcast.js";
import { DRAG_MEMBERSHIP, readDrag } from "./drag.js";
import { SHOWN_STATES, clockTime, setText, stateLabel } from "./format.js";
import { InteractionList } from "./interaction-list.js";
import { IntervalChart } from "./interval-chart.js";
import { WallboardStore } from "./store.js";
import { QueueTiles } from "./tiles.js";

const root = document.getElementById("app");
reloadOnLogout();
document.body.classList.toggle("big", isBigScreen());
const session = await requireLogin(root, { role: "supervisor", title: "Wallboard" });

const store = new WallboardStore();
const actions = new Actions(store);

// -- layout ---------------------------------------------------------------------------------

const clockText = h("span", { class: "centre-clock", title: "Server time" });
// A polite live region, named so it can be found; the stale banner (an alert) says what a
// lost connection means for the figures.
const connection = h(
  "span",
  { class: "connection", "data-status": "connecting", role: "status", "aria-label": "Connection" },
  "Connecting…",
);
const updated = h("span", { class: "updated muted" });
// Two buttons rather than one toggle: big-screen mode hides every control but its way out.
const bigToggle = h("button", { type: "button", class: "controls" }, "Big screen");
const exitBig = h("button", { type: "button", class: "exit-big" }, "Exit big screen");
const staleBanner = h("div", { class: "stale-banner", role: "alert", hidden: true });
const centreSummary = h("p", { class: "centre-summary" });
const tilesBox = h("div", { class: "tiles" });
const agentsBox = h("div");
const interactionsBox = h("div");
const broadcastBox = h("div");
const chartBox = h("div");
const removeBin = h("div", { class: "remove-bin", "aria-hidden": "true" }, "Drop here to remove from this queue");

const section = (id, title, cls, ...content) =>
  h("section", { class: cls, "aria-labelledby": id }, h("h2", { id }, title), ...content);

replaceChildren(
  root,
  h(
    "header",
    { class: "topbar wb-top" },
    h("h1", {}, "Wallboard"),
    clockText,
    connection,
    updated,
    h("span", { class: "spacer" }),
    h(
      "nav",
      { class: "controls", "aria-label": "Other pages" },
      h("a", { href: "/reports" }, "Reports"),
    ),
    bigToggle,
    h("span", { class: "controls muted user" }, session.name || session.user_id),
    h("button", { type: "button", class: "controls", onclick: () => logout() }, "Log out"),
    exitBig,
  ),
  staleBanner,
  h(
    "main",
    { class: "wb-main" },
    section("queues-title", "Queues", "wb-queues", centreSummary, tilesBox),
    section("agents-title", "Agents", "wb-agents card controls", agentsBox),
    h(
      "div",
      { class: "wb-columns controls" },
      h(
        "div",
        { class: "wb-stack" },
        section("interactions-title", "Interactions", "card wb-interactions", interactionsBox),
        section("broadcast-title", "Broadcast to agents", "card wb-broadcast", broadcastBox),
      ),
      section("chart-title", "Today by 15 minutes", "card wb-chart", chartBox),
    ),
  ),
  removeBin,
);

const tiles = new QueueTiles(tilesBox, store, actions);
const grid = new AgentGrid(agentsBox, store, actions);
const list = new InteractionList(interactionsBox, store, actions);
const broadcast = new BroadcastForm(broadcastBox, store, actions);
const chart = new IntervalChart(chartBox, store);

// -- dropping a queue chip outside any tile removes the membership ---------------------------

removeBin.addEventListener("dragover", (event) => {
  if (![...event.dataTransfer.types].includes(DRAG_MEMBERSHIP)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
});
removeBin.addEventListener("drop", (event) => {
  const drag = readDrag(event);
  if (drag?.kind !== "membership") return;
  event.preventDefault();
  document.body.classList.remove("dragging-membership");
  actions.removeFromQueue(drag.agent, drag.queue);
});

// -- big screen --------------------------------------------------------------------------------

bigToggle.addEventListener("click", () => {
  setBigScreen(true);
  exitBig.focus();
});
exitBig.addEventListener("click", () => {
  setBigScreen(false);
  bigToggle.focus();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.body.classList.contains("big") && !document.querySelector("dialog[open]")) {
    setBigScreen(false);
    bigToggle.focus();
  }
});
watchBigScreen();

// -- rendering ---------------------------------------------------------------------------------

let renderQueued = false;
const dirty = new Set();
function queueRender(...parts) {
  for (const part of parts) dirty.add(part);
  if (renderQueued) return;
  renderQueued = true;
  // One render per burst of messages, after they are all folded in.
  setTimeout(() => {
    renderQueued = false;
    const parts = new Set(dirty);
    dirty.clear();
    if (store.snapshot) {
      if (parts.has("figures") || parts.has("config")) {
        const before = tilesBox.querySelectorAll(".tile").length;
        tiles.render();
        renderCentre();
        chart.render();
        if (tilesBox.querySelectorAll(".tile").length !== before) fitBigScreen();
        else keepBigScreenFitting();
      }
      if (parts.has("figures") || parts.has("agents") || parts.has("config")) grid.render();
      if (parts.has("interactions") || parts.has("config") || parts.has("figures")) list.render();
    }
    if (parts.has("config")) broadcast.render();
    renderConnection();
  }, 0);
}

function renderCentre() {
  const centre = store.snapshot?.centre;
  if (!centre) return;
  const states = SHOWN_STATES.map((s) => `${centre.agents?.[s] ?? 0} ${stateLabel(s).toLowerCase()}`).join(" · ");
  const today = centre.today || {};
  setText(
    centreSummary,
    `Centre today: ${today.offered ?? 0} offered · ${today.answered ?? 0} answered · ` +
      `${today.abandoned ?? 0} abandoned · service level ${formatPercent(today.sl_answered)}  —  Agents: ${states}`,
  );
}

const timeOfDay = (epochSeconds, { seconds = true } = {}) =>
  clockTime(epochSeconds, store.timezone, { seconds });

let socketStatus = { figures: "connecting", events: "connecting" };
function renderConnection() {
  const live = store.live;
  document.body.classList.toggle("is-stale", !live);
  let status = "open";
  let text = "Live";
  if (!live) {
    const anyConnecting = Object.values(socketStatus).some((s) => s === "connecting");
    status = anyConnecting ? "connecting" : "closed";
    text = navigator.onLine === false ? "Offline — not live" : anyConnecting ? "Reconnecting — not live" : "Disconnected — not live";
  }
  connection.dataset.status = status;
  setText(connection, text);
  // While live the figures are current even when nothing changed (no delta is sent then);
  // only stale figures need their age.
  setText(updated, !live && store.updatedAt ? `Last update ${timeOfDay(store.updatedAt)}` : "");
  staleBanner.hidden = live || !store.snapshot;
  if (!live && store.snapshot) {
    setText(
      staleBanner,
      `Not live: the connection to the server is down. The figures below are from ` +
        `${timeOfDay(store.updatedAt)} and are not updating. Reconnecting by itself…`,
    );
  }
}

store.addEventListener("figures", () => queueRender("figures"));
store.addEventListener("agents", () => queueRender("agents"));
store.addEventListener("interactions", () => queueRender("interactions"));
store.addEventListener("config", () => queueRender("config"));
store.addEventListener("live", () => queueRender("figures", "interactions"));

setInterval(() => {
  if (store.live) {
    tiles.tick();
    grid.tick();
    list.tick();
  }
  if (store.snapshot) setText(clockText, timeOfDay(store.clock.now(), { seconds: false }));
}, 1000);

// -- the feeds ---------------------------------------------------------------------------------

async function loadReference() {
  try {
    await store.loadReference();
  } catch (err) {
    toast(`Cannot read the queues' targets: ${errorText(err)}`, { kind: "error" });
  }
}

const figures = new LiveSocket("/api/v1/wallboard/ws");
const events = new LiveSocket("/api/v1/events/ws");
for (const [feed, socket] of [
  ["figures", figures],
  ["events", events],
]) {
  socket.addEventListener("status", (event) => {
    socketStatus = { ...socketStatus, [feed]: event.detail };
    store.socketStatus(feed, event.detail);
    renderConnection();
  });
  reconnectOnline(socket);
}
let snapshots = 0;
figures.addEventListener("message", (event) => {
  const message = event.detail;
  store.onFiguresMessage(message);
  // A reconnect's fresh snapshot: targets and thresholds may have changed meanwhile.
  if (message.type === "snapshot" && ++snapshots > 1) loadReference();
});
events.addEventListener("message", (event) => store.onEventsMessage(event.detail));

// Without a network, nothing on screen is live, whatever the sockets have noticed yet.
window.addEventListener("offline", () => {
  store.markStale();
  figures.reconnect();
  events.reconnect();
});

await loadReference();
figures.start();
events.start();
