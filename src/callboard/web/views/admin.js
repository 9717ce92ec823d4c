// The admin console: a left nav of the center's areas (#/admin/<area>), the workspace they edit, and the
// overview with the links and workspaces. Each area is a module of its own (admin_*.js).
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api } from "../api.js";
import { t } from "../i18n.js";
import { ErrorBox } from "./error.js";
import { NumbersPage } from "./admin_numbers.js";
import { SchedulesPage } from "./admin_schedules.js";
import { PromptsPage } from "./admin_prompts.js";
import { FlowsPage } from "./admin_flows.js";
import { QueuesPage } from "./admin_queues.js";
import { WorkflowsPage } from "./admin_workflows.js";
import { ActivitiesPage, DispositionsPage } from "./admin_codes.js";
import { UsersPage } from "./admin_users.js";
import { WorkersPage } from "./admin_workers.js";
import { CenterPage } from "./admin_center.js";

const LINKS = [
  ["#/wallboard", "admin.wallboard", "admin.wallboardHint"],
  ["#/supervisor", "adm.supervisor", "adm.supervisorHint"],
  ["/docs", "admin.docs", "admin.docsHint"],
  ["/metrics", "admin.metrics", "admin.metricsHint"],
  ["/healthz", "admin.health", "admin.healthHint"],
];

// [area, text key, page, group]; the groups split the nav.
const AREAS = [
  ["overview", "adm.nav.overview", Overview, "adm.group.center"],
  ["numbers", "adm.nav.numbers", NumbersPage, "adm.group.ivr"],
  ["schedules", "adm.nav.schedules", SchedulesPage, "adm.group.ivr"],
  ["prompts", "adm.nav.prompts", PromptsPage, "adm.group.ivr"],
  ["flows", "adm.nav.flows", FlowsPage, "adm.group.ivr"],
  ["queues", "adm.nav.queues", QueuesPage, "adm.group.routing"],
  ["workflows", "adm.nav.workflows", WorkflowsPage, "adm.group.routing"],
  ["activities", "adm.nav.activities", ActivitiesPage, "adm.group.routing"],
  ["dispositions", "adm.nav.dispositions", DispositionsPage, "adm.group.routing"],
  ["agents", "adm.nav.agents", WorkersPage, "adm.group.people"],
  ["users", "adm.nav.users", UsersPage, "adm.group.people"],
  ["center", "adm.nav.center", CenterPage, "adm.group.center"],
];
const GROUPS = ["adm.group.center", "adm.group.ivr", "adm.group.routing", "adm.group.people"];
const WS_KEY = "callboard.admin.workspace";

const areaOf = () => location.hash.replace(/^#\/?/, "").split(/[/?]/)[1] || "overview";

function Overview({ workspaces }) {
  return html`<div class="admin-body">
    <div class="admin-head"><div><h1>${t("admin.title")}</h1><p class="muted small">${t("adm.intro")}</p></div></div>
    <div class="link-grid">
      ${LINKS.map(
        ([href, title, hint]) => html`<a class="card link-card" href=${href}>
          <strong>${t(title)}</strong>
          <span class="muted small">${t(hint)}</span>
        </a>`,
      )}
    </div>
    <section class="card">
      <h2>${t("admin.workspaces")}</h2>
      <ul class="plain" data-testid="workspaces">
        ${workspaces.map((w) => html`<li><strong>${w.friendly_name}</strong> <code class="muted">${w.sid}</code></li>`)}
      </ul>
    </section>
  </div>`;
}

export function Admin({ user, lang, onSignedOut }) {
  const [area, setArea] = useState(areaOf());
  const [workspaces, setWorkspaces] = useState(null);
  const [ws, setWs] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    const changed = () => setArea(areaOf());
    addEventListener("hashchange", changed);
    const fail = (exc) => (exc.status === 401 ? onSignedOut() : setError(exc));
    // Only admins may open the console: others are told so by the API itself (403).
    const allowed = user.role === "admin" ? Promise.resolve() : api.get("/users?page_size=1");
    allowed
      .then(() => all("/workspaces"))
      .then((items) => {
        setWorkspaces(items);
        const kept = localStorage.getItem(WS_KEY);
        setWs((items.find((w) => w.sid === kept) || items[0] || {}).sid || null);
      })
      .catch(fail);
    return () => removeEventListener("hashchange", changed);
  }, []);

  if (error) return html`<main class="page"><${ErrorBox} error=${error} /></main>`;
  if (!workspaces) return html`<main class="page"><div class="splash">${t("common.loading")}</div></main>`;

  const pick = (sid) => {
    localStorage.setItem(WS_KEY, sid);
    setWs(sid);
  };
  const current = AREAS.find(([name]) => name === area) || AREAS[0];
  const Page = current[2];
  return html`<main class="console" data-testid="admin-console">
    <nav class="side-nav" aria-label=${t("admin.title")}>
      ${workspaces.length > 1
        ? html`<label class="side-ws">
            <span class="muted small">${t("wall.workspace")}</span>
            <select data-testid="admin-workspace" value=${ws} onChange=${(e) => pick(e.target.value)}>
              ${workspaces.map((w) => html`<option value=${w.sid}>${w.friendly_name}</option>`)}
            </select>
          </label>`
        : null}
      ${GROUPS.map(
        (group) => html`<div class="side-group">
          <div class="side-title">${t(group)}</div>
          ${AREAS.filter((a) => a[3] === group).map(
            ([name, label]) => html`<a
              href=${`#/admin/${name}`}
              class=${name === current[0] ? "active" : ""}
              aria-current=${name === current[0] ? "page" : null}
              data-testid=${`nav-${name}`}
              >${t(label)}</a
            >`,
          )}
        </div>`,
      )}
    </nav>
    <section class="console-main">
      ${ws || current[0] === "overview" || current[0] === "users" || current[0] === "center"
        ? html`<${Page} key=${`${current[0]}-${ws}`} ws=${ws} user=${user} lang=${lang} workspaces=${workspaces} />`
        : html`<div class="empty">${t("adm.noWorkspace")}</div>`}
    </section>
  </main>`;
}
