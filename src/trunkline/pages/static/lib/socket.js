// A websocket that reconnects by itself: exponential back-off with jitter, a ping every
// 15 s so a dead link is noticed, and request/answer matching by message id.
//
// Events (EventTarget): "status" {detail: "connecting" | "open" | "closed"}, "message"
// {detail: the parsed server message}. After each reconnect the server sends a fresh
// hello/snapshot, so a page rebuilds its state from it instead of patching old state.

import { currentSession, forgetSession } from "./api.js";

const PING_EVERY_MS = 15000;
const PONG_TIMEOUT_MS = 10000;
const MAX_BACKOFF_MS = 10000;

export class LiveSocket extends EventTarget {
  constructor(path) {
    super();
    this.path = path;
    this.status = "closed";
    this._ws = null;
    this._attempt = 0;
    this._nextId = 1;
    this._pending = new Map(); // id -> {resolve, reject, timer}
    this._pingTimer = null;
    this._pongTimer = null;
    this._retryTimer = null;
    this._stopped = true;
  }

  start() {
    this._stopped = false;
    this._connect();
  }

  stop() {
    this._stopped = true;
    clearTimeout(this._retryTimer);
    this._teardown();
    if (this._ws) this._ws.close(1000, "page closed");
    this._setStatus("closed");
  }

  /** Reconnect now (after the network came back, or to force a fresh hello). */
  reconnect() {
    clearTimeout(this._retryTimer);
    if (this._ws) this._ws.close(4000, "reconnect");
    else if (!this._stopped) this._connect();
  }

  /**
   * Send a command; resolves with the server's `result`, rejects with its `error`
   * (an object {error_id, message, details}) or after `timeoutMs`.
   */
  send(message, { timeoutMs = 10000 } = {}) {
    return new Promise((resolve, reject) => {
      if (!this._ws || this._ws.readyState !== WebSocket.OPEN) {
        reject({ error_id: "not_connected", message: "not connected to the server" });
        return;
      }
      const id = this._nextId++;
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject({ error_id: "timeout", message: "the server did not answer in time" });
      }, timeoutMs);
      this._pending.set(id, { resolve, reject, timer });
      this._ws.send(JSON.stringify({ ...message, id }));
    });
  }

  _connect() {
    const session = currentSession();
    if (!session) {
      forgetSession();
      return;
    }
    this._setStatus("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}${this.path}?token=${encodeURIComponent(session.token)}`;
    const ws = new WebSocket(url);
    this._ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== this._ws) return;
      this._attempt = 0;
      this._setStatus("open");
      this._pingTimer = setInterval(() => this._ping(), PING_EVERY_MS);
    });
    ws.addEventListener("message", (event) => {
      if (ws !== this._ws) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "pong") {
        clearTimeout(this._pongTimer);
        return;
      }
      if ((message.type === "result" || message.type === "error") && this._pending.has(message.id)) {
        const waiting = this._pending.get(message.id);
        this._pending.delete(message.id);
        clearTimeout(waiting.timer);
        if (message.type === "result") waiting.resolve(message);
        else waiting.reject(message);
        return;
      }
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this._ws) return;
      this._ws = null;
      this._teardown();
      this._setStatus("closed");
      // 4401-style refusals come back as an HTTP 401 before the upgrade, which the browser
      // reports as close code 1006; check the session before trying again.
      if (this._stopped) return;
      if (!currentSession()) {
        forgetSession();
        return;
      }
      const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this._attempt);
      this._attempt += 1;
      const delay = backoff / 2 + Math.random() * (backoff / 2);
      this._retryTimer = setTimeout(() => this._connect(), event.code === 4000 ? 0 : delay);
    });
  }

  _ping() {
    if (!this._ws || this._ws.readyState !== WebSocket.OPEN) return;
    this._ws.send(JSON.stringify({ type: "ping" }));
    clearTimeout(this._pongTimer);
    // No pong in time: the link is dead even if the browser has not noticed yet.
    this._pongTimer = setTimeout(() => this._ws && this._ws.close(4001, "no pong"), PONG_TIMEOUT_MS);
  }

  _teardown() {
    clearInterval(this._pingTimer);
    clearTimeout(this._pongTimer);
    for (const waiting of this._pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject({ error_id: "not_connected", message: "the connection was lost" });
    }
    this._pending.clear();
  }

  _setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }
}

// Come back at once when the browser says the network is back.
export function reconnectOnline(socket) {
  window.addEventListener("online", () => socket.reconnect());
}
