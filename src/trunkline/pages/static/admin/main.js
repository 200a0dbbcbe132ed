// The admin page: the running configuration in readable sections, the validation of the
// file on disk, and reloading it. Admins only (the API refuses everyone else).

import { api, currentSession, hasRole } from "../lib/api.js";
import { errorText, h, replaceChildren } from "../lib/dom.js";
import { reloadOnLogout, requireLogin } from "../lib/login.js";
import { topbar } from "../reports/topbar.js";
import { checkPanel } from "./check.js";
import { SECTIONS } from "./sections.js";

const root = document.getElementById("app");
const earlier = currentSession();
const loggedIn = requireLogin(root, { role: "admin", title: "Administration" });
if (earlier && !hasRole(earlier, "admin")) {
  // Arriving from another page with a supervisor's session: say why the form is shown.
  root
    .querySelector(".login-form h1")
    ?.after(
      h(
        "p",
        { class: "muted" },
        `You are logged in as ${earlier.user_id} (${earlier.role}); this page needs an admin login.`,
      ),
    );
}
const session = await loggedIn;
// Only now: a login refused for its role logs out, and that must not reload the form away.
reloadOnLogout();

const contents = h(
  "nav",
  { class: "admin-contents", "aria-label": "Sections" },
  h("h2", { class: "contents-title" }, "On this page"),
  h(
    "ul",
    {},
    [["check", "File check"], ...SECTIONS].map(([id, label]) =>
      h("li", {}, h("a", { href: `#${id}` }, label)),
    ),
  ),
);
const sections = h("div", { class: "config-sections" });
const status = h("p", { class: "status", role: "status" }, "Loading the configuration…");
const panel = checkPanel({ onReloaded: load });
const main = h(
  "main",
  { id: "main", class: "admin-main" },
  h("h1", {}, "Configuration"),
  h(
    "p",
    { class: "muted intro" },
    "The configuration the server runs now. Edit the file and reload it to change it.",
  ),
  status,
  panel.element,
  sections,
);
replaceChildren(
  root,
  topbar(session, "/admin"),
  h("div", { class: "admin-layout" }, contents, main),
);

async function load() {
  try {
    const config = await api.get("/api/v1/config");
    replaceChildren(
      sections,
      SECTIONS.map(([, , render]) => render(config)),
    );
    status.textContent = "";
  } catch (err) {
    status.textContent = `Cannot load the configuration: ${errorText(err)}`;
    status.classList.add("form-error");
  }
}

await Promise.all([load(), panel.check()]);
// A link to a section (/admin#agents) works once the sections exist.
if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
