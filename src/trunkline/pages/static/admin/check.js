// The configuration file check: GET /api/v1/config/check validates the file as it is on
// disk now (nothing applied), and "Reload configuration" applies it. A refused reload
// (422) lists the same file:line errors and the running configuration stays as it was.

import { ApiError, api } from "../lib/api.js";
import { errorText, h, replaceChildren } from "../lib/dom.js";

function clock() {
  return new Date().toLocaleTimeString(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** The file's errors as a table: where (file:line), field, problem. */
function errorTable(errors, caption) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "config-errors" },
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Where"),
          h("th", { scope: "col" }, "Field"),
          h("th", { scope: "col" }, "Problem"),
        ),
      ),
      h(
        "tbody",
        {},
        errors.map((e) => {
          const name = (e.file || "").split("/").pop() || "configuration";
          const where = e.line === null || e.line === undefined ? name : `${name}:${e.line}`;
          return h(
            "tr",
            {},
            h("td", {}, h("code", { title: e.file || "" }, where)),
            h("td", {}, e.field ? h("code", {}, e.field) : "–"),
            h("td", {}, e.message),
          );
        }),
      ),
    ),
  );
}

function countText(n) {
  return n === 1 ? "1 error" : `${n} errors`;
}

/**
 * The check panel. `onReloaded()` is called after a reload was applied, so the page
 * shows the new configuration.
 */
export function checkPanel({ onReloaded }) {
  const source = h("p", { class: "source" });
  const verdict = h(
    "div",
    { class: "verdict", role: "status", "aria-live": "polite" },
    "Checking the file…",
  );
  const checkButton = h("button", { type: "button" }, "Check again");
  const reloadButton = h("button", { type: "button", class: "primary" }, "Reload configuration");
  const outcome = h("div", { class: "reload-outcome", role: "alert" });

  let checking = false;

  async function check() {
    if (checking) return;
    checking = true;
    checkButton.disabled = true;
    verdict.setAttribute("aria-busy", "true");
    try {
      const result = await api.get("/api/v1/config/check");
      if (result.source === null) {
        replaceChildren(source, "This server runs without a configuration file.");
        replaceChildren(verdict, h("p", {}, "There is no file to check or reload."));
        reloadButton.disabled = true;
        return;
      }
      replaceChildren(source, "File on disk: ", h("code", {}, result.source));
      reloadButton.disabled = false;
      if (result.valid) {
        replaceChildren(
          verdict,
          h(
            "p",
            {},
            h("span", { class: "badge level-ok" }, "Valid"),
            ` The file on disk is valid (checked at ${clock()}).`,
          ),
        );
      } else {
        replaceChildren(
          verdict,
          h(
            "p",
            {},
            h("span", { class: "badge level-alarm" }, countText(result.errors.length)),
            ` The file on disk has ${countText(result.errors.length)} (checked at ${clock()}); a reload would be refused.`,
          ),
          errorTable(result.errors, "Errors in the configuration file"),
        );
      }
    } catch (err) {
      replaceChildren(
        verdict,
        h("p", { class: "form-error" }, `Cannot check the file: ${errorText(err)}`),
      );
    } finally {
      checking = false;
      checkButton.disabled = false;
      verdict.setAttribute("aria-busy", "false");
    }
  }

  async function reload() {
    reloadButton.disabled = true;
    replaceChildren(outcome, h("p", {}, "Reloading…"));
    try {
      const result = await api.post("/api/v1/config/reload");
      replaceChildren(
        outcome,
        h(
          "p",
          { class: "outcome level-ok" },
          `Reloaded at ${clock()}: ${result.queues} queues, ${result.agents} agents, ${result.users} users.`,
        ),
      );
      await onReloaded();
    } catch (err) {
      const errors = err instanceof ApiError ? err.details?.errors : null;
      replaceChildren(
        outcome,
        h(
          "p",
          { class: "outcome level-alarm" },
          Array.isArray(errors)
            ? `Reload refused at ${clock()}: the file has ${countText(errors.length)}. The running configuration is unchanged.`
            : `Reload failed: ${errorText(err)}. The running configuration is unchanged.`,
        ),
        Array.isArray(errors) ? errorTable(errors, "Errors that refused the reload") : null,
      );
    } finally {
      reloadButton.disabled = false;
      await check();
    }
  }

  checkButton.addEventListener("click", check);
  reloadButton.addEventListener("click", reload);
  // An admin edits the file in another window and comes back: check it again then.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });

  const element = h(
    "section",
    { id: "check", class: "card config-section", "aria-labelledby": "check-title", tabindex: "-1" },
    h("h2", { id: "check-title" }, "Configuration file check"),
    source,
    verdict,
    h("div", { class: "actions" }, checkButton, reloadButton),
    outcome,
  );
  return { element, check };
}
