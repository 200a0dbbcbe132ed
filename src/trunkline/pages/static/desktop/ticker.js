// One clock tick a second for everything that counts time (time in state, ring and
// wrap-up countdowns), so the figures on screen change together.

const listeners = new Set();
let timer = null;

function tick() {
  for (const fn of listeners) {
    try {
      fn();
    } catch (err) {
      console.warn("tick listener failed", err);
    }
  }
}

/** Call `fn` now and every second; returns a function that stops it. */
export function everySecond(fn) {
  listeners.add(fn);
  if (timer === null) timer = setInterval(tick, 1000);
  fn();
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0) {
      clearInterval(timer);
      timer = null;
    }
  };
}
