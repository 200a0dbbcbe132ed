// The top bar of the reports and admin pages: the product name, links to the pages this
// login may open, who is logged in and a log-out button.

import { hasRole, logout } from "../lib/api.js";
import { h } from "../lib/dom.js";

// Each page with the least role that may open it (the server enforces the same roles).
const PAGES = [
  { path: "/desktop", label: "Desktop", role: "agent" },
  { path: "/wallboard", label: "Wallboard", role: "supervisor" },
  { path: "/reports", label: "Reports", role: "agent" },
  { path: "/admin", label: "Admin", role: "admin" },
];

/** A `<header>` for `session`, marking `current` (a page path) as the page shown. */
export function topbar(session, current) {
  // The desktop is for logins that are agents (a supervisor may also be one).
  const may = (p) => (p.path === "/desktop" ? Boolean(session.agent_id) : hasRole(session, p.role));
  const links = PAGES.filter(may).map((p) =>
    h("a", { href: p.path, "aria-current": p.path === current ? "page" : null }, p.label),
  );
  const logoutButton = h("button", { type: "button", class: "topbar-logout" }, "Log out");
  logoutButton.addEventListener("click", async () => {
    logoutButton.disabled = true;
    // logout() fires "trunkline:logged-out"; the page reloads and shows the login form.
    await logout().catch(() => undefined);
  });
  return h(
    "header",
    { class: "topbar" },
    h("span", { class: "brand" }, "Trunkline"),
    h("nav", { "aria-label": "Pages", class: "topbar-pages" }, links),
    h("span", { class: "spacer" }),
    h("span", { class: "who" }, `${session.name || session.user_id} · ${session.role}`),
    logoutButton,
  );
}
