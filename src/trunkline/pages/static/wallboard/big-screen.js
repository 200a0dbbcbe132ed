// Big-screen mode for a wall display (/wallboard?mode=big): no controls, only the queue
// tiles and the centre's key figures, in type sized to fill the screen.

const PARAM = "mode";

export function isBigScreen() {
  return new URLSearchParams(location.search).get(PARAM) === "big";
}

/** Switch mode, keeping the URL in step so a reload (or a bookmark) stays in it. */
export function setBigScreen(on) {
  const url = new URL(location.href);
  if (on) url.searchParams.set(PARAM, "big");
  else url.searchParams.delete(PARAM);
  history.replaceState(null, "", url);
  document.body.classList.toggle("big", on);
  fitBigScreen();
}

const MIN_FONT = 12;
const MAX_FONT = 120;

/**
 * Choose the tile grid (columns, figures per row) and the type size that make the tiles as large as the
 * screen allows without scrolling. Each candidate is laid out and measured (a few dozen
 * layouts, only on resize or when the number of queues changes), so it holds for any
 * queue names and figures.
 */
export function fitBigScreen() {
  const board = document.querySelector(".tiles");
  if (!board) return;
  const root = document.documentElement;
  if (!document.body.classList.contains("big")) {
    board.style.removeProperty("--big-cols");
    board.style.removeProperty("--fig-cols");
    root.style.removeProperty("--big-font");
    return;
  }
  const n = Math.max(1, board.querySelectorAll(".tile").length);
  const available = () => window.innerHeight - board.getBoundingClientRect().top - 12;
  const fits = ({ cols, figCols }, font) => {
    board.style.setProperty("--big-cols", String(cols));
    board.style.setProperty("--fig-cols", String(figCols));
    root.style.setProperty("--big-font", `${font}px`);
    if (board.getBoundingClientRect().height > available()) return false;
    if (root.scrollWidth > root.clientWidth) return false;
    // A figure wider than its box would be cut off (values do not wrap).
    for (const fig of board.querySelectorAll(".fig")) {
      if (fig.scrollWidth > fig.clientWidth + 1) return false;
    }
    return true;
  };
  // Figures per tile row: 4 (two rows of figures) suits tall tiles, 7 (one row) wide ones.
  let best = { cols: Math.min(n, 2), figCols: 4, font: MIN_FONT };
  for (let cols = 1; cols <= n; cols += 1) {
    for (const figCols of [4, 7]) {
      const layout = { cols, figCols };
      let low = MIN_FONT;
      let high = MAX_FONT;
      if (!fits(layout, low)) continue;
      while (high - low > 1) {
        const mid = Math.floor((low + high) / 2);
        if (fits(layout, mid)) low = mid;
        else high = mid;
      }
      if (low > best.font) best = { ...layout, font: low };
    }
  }
  board.style.setProperty("--big-cols", String(best.cols));
  board.style.setProperty("--fig-cols", String(best.figCols));
  root.style.setProperty("--big-font", `${best.font}px`);
}

/** After figures change: refit only if something no longer fits (cheap to check). */
export function keepBigScreenFitting() {
  if (!document.body.classList.contains("big")) return;
  const board = document.querySelector(".tiles");
  if (!board) return;
  const overflowing =
    board.getBoundingClientRect().bottom > window.innerHeight ||
    [...board.querySelectorAll(".fig")].some((fig) => fig.scrollWidth > fig.clientWidth + 1);
  if (overflowing) fitBigScreen();
}

export function watchBigScreen() {
  window.addEventListener("resize", fitBigScreen);
  // Figures that shrank leave room to grow into: refit now and then.
  setInterval(() => document.body.classList.contains("big") && fitBigScreen(), 60_000);
}
