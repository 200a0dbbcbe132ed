// Telling the agent an offer arrived when they may not be looking: a short tone made with
// WebAudio (no sound file to ship) and a browser notification. Browsers allow sound and
// the notification prompt only after a user gesture, so both are unlocked on one.

const SOUND_KEY = "trunkline.desktop.sound";

export class OfferAlerts {
  constructor() {
    this.audio = null;
    this.soundOn = localStorage.getItem(SOUND_KEY) !== "off";
    this.notifications = new Map(); // offer id -> Notification
    const unlock = () => this._unlock();
    window.addEventListener("pointerdown", unlock, { capture: true });
    window.addEventListener("keydown", unlock, { capture: true });
  }

  get notificationsSupported() {
    return "Notification" in window;
  }

  get notificationPermission() {
    return this.notificationsSupported ? Notification.permission : "unsupported";
  }

  setSound(on) {
    this.soundOn = on;
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  }

  /** Ask for notifications; must run inside a click handler. Never throws. */
  async askNotificationPermission() {
    if (!this.notificationsSupported || Notification.permission !== "default") {
      return this.notificationPermission;
    }
    try {
      return await Notification.requestPermission();
    } catch {
      return this.notificationPermission;
    }
  }

  _unlock() {
    if (this.audio) {
      if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
      return;
    }
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      this.audio = new Context();
    } catch {
      this.audio = null;
    }
  }

  /** Two short rising tones, like a desk phone's ring, at a modest volume. */
  ring() {
    if (!this.soundOn) return;
    if (!this.audio) this._unlock();
    const ctx = this.audio;
    if (!ctx || ctx.state === "closed") return;
    try {
      const start = ctx.currentTime + 0.02;
      [0, 0.28].forEach((offset, i) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = i === 0 ? 660 : 880;
        // Ramps avoid the click of a tone switched on and off abruptly.
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.22);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start + offset);
        osc.stop(start + offset + 0.25);
      });
    } catch {
      // No sound is better than a broken desktop.
    }
  }

  /** A notification for the offer, closed again when the offer goes away. */
  notify(offer, title, body) {
    if (this.notificationPermission !== "granted") return;
    try {
      const notification = new Notification(title, { body, tag: `offer-${offer.id}` });
      notification.onclick = () => {
        window.focus();
        notification.close();
      };
      this.notifications.set(offer.id, notification);
    } catch {
      // Some browsers allow notifications only from a service worker: skip silently.
    }
  }

  offerGone(id) {
    const notification = this.notifications.get(id);
    if (notification) {
      notification.close();
      this.notifications.delete(id);
    }
  }
}
