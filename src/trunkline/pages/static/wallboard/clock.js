// The server's clock as seen from the browser, for everything that ticks between updates
// (time in state, longest wait, interaction age). Times on the wallboard all come from the
// server (`since`, `generated_at`, events' `at`); a laptop clock a minute off must not make
// an agent look a minute longer in their state.

export class SyncedClock {
  constructor() {
    this.offset = 0;
    this._synced = false;
  }

  /** Start over (a fresh snapshot after a reconnect). */
  reset() {
    this._synced = false;
  }

  /**
   * Learn from a server timestamp taken at or before now. A snapshot can be computed up to
   * a second before it is sent, so each stamp is a lower bound of the server's time: keep
   * the largest offset seen since the last reset.
   */
  observe(serverEpochSeconds) {
    if (typeof serverEpochSeconds !== "number" || !Number.isFinite(serverEpochSeconds)) return;
    const offset = serverEpochSeconds - Date.now() / 1000;
    if (!this._synced || offset > this.offset) this.offset = offset;
    this._synced = true;
  }

  /** The server's time now, epoch seconds. */
  now() {
    return Date.now() / 1000 + this.offset;
  }
}
