// The login form every page shows until there is a session with the role it needs.

import { ApiError, currentSession, hasRole, login, logout } from "./api.js";
import { h, replaceChildren } from "./dom.js";

/**
 * Resolve with a session that has `role`; until then show a login form in `root`.
 * `title` names the page ("Agent desktop").
 */
export function requireLogin(root, { role, title }) {
  const existing = currentSession();
  if (existing && hasRole(existing, role)) return Promise.resolve(existing);
  return new Promise((resolve) => {
    const error = h("p", { class: "form-error", role: "alert", id: "login-error" });
    const username = h("input", {
      id: "login-username",
      name: "username",
      autocomplete: "username",
      required: true,
      autofocus: true,
    });
    const password = h("input", {
      id: "login-password",
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    });
    const submit = h("button", { type: "submit", class: "primary" }, "Log in");
    const form = h(
      "form",
      { class: "login-form", "aria-describedby": "login-error" },
      h("h1", {}, title),
      h("label", { for: "login-username" }, "User name"),
      username,
      h("label", { for: "login-password" }, "Password"),
      password,
      submit,
      error,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.textContent = "";
      try {
        const session = await login(username.value.trim(), password.value);
        if (!hasRole(session, role)) {
          await logout();
          error.textContent = `This page needs the ${role} role; ${session.user_id} is ${session.role}.`;
          return;
        }
        resolve(session);
      } catch (err) {
        error.textContent =
          err instanceof ApiError && err.status === 401
            ? "Unknown user or wrong password."
            : `Cannot log in: ${err.message}`;
        password.select();
      } finally {
        submit.disabled = false;
      }
    });
    replaceChildren(root, h("main", { class: "login-page" }, form));
    username.focus();
  });
}

/** Reload the page when the session ends (logout, expiry): it shows the form again. */
export function reloadOnLogout() {
  window.addEventListener("trunkline:logged-out", () => location.reload());
}
